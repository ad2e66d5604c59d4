"""The steps after the crawl, which a refresh and a rebuild share: build the run's tables,
guard, advance the history, publish. Each step's time goes into the run's summary."""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Callable, Iterator

import pandas as pd
import pyarrow as pa

from modelcat.run.guards import refusal
from modelcat.run.interrupts import StopSignals
from modelcat.run.records import RunSummary, finish_time, runs_table, timestamp
from transforms.build.issues import Issues
from transforms.build.plan import BuildPlan
from transforms.build.tables import build_tables
from transforms.contract.casting import conform, empty, to_frame
from transforms.contract.layout import DataDir, Snapshot
from transforms.contract.tables import HISTORY_TABLES, TABLES
from transforms.contract.vocabulary import RunStatus, Step, TableName
from transforms.history import Observation, advance_catalog
from transforms.pages.archive import PageArchive
from transforms.publish.shared_history import read_history, share_history
from transforms.publish.snapshot import publish
from transforms.references.log import read_reference_log
from transforms.references.tables import reference_tables


def return_freed_memory() -> None:
    """Arrow's default allocator (mimalloc) keeps what it frees; jemalloc gives it back to
    the system, which took ~100 MB off the peak of a 10,000-page refresh."""
    with contextlib.suppress(NotImplementedError):  # builds of pyarrow without jemalloc
        pa.set_memory_pool(pa.jemalloc_memory_pool())


@contextlib.contextmanager
def timed(summary: RunSummary, step: Step) -> Iterator[None]:
    """Record how long ``step`` took in the run's summary."""
    started = time.perf_counter()
    yield
    summary.seconds[step] = round(time.perf_counter() - started, 3)


def build_and_publish(
    data_dir: DataDir,
    plan: BuildPlan,
    summary: RunSummary,
    on_step: Callable[[Step], None],
    *,
    allow_shrink: bool,
    publication: str | None = None,
    commit: bool = True,
    stop: StopSignals | None = None,
) -> Snapshot | None:
    """Build, guard, advance the history and publish a planned run; records the outcome in
    ``summary``. ``on_step`` is told when history and publish begin (the caller, which
    plans the build, tells it of the build). From the moment a committing run starts to
    publish, ``stop`` no longer interrupts it."""
    with timed(summary, Step.BUILD):
        built = build_tables(plan, summary.run_id)
    summary.count_built(built)
    started = time.perf_counter()
    references = reference_tables(
        read_reference_log(plan.run_dir.reference_log),
        PageArchive(data_dir.archive),
        plan.previous,
        built.current_tables(),
        timestamp(summary.started_at).date(),
    )
    summary.seconds["references"] = round(time.perf_counter() - started, 3)
    summary.count_references(references)

    refused = refusal(summary, built.models, plan.previous, allow_shrink)
    if refused:
        summary.status, summary.message = RunStatus.REFUSED, refused
        return None

    on_step(Step.HISTORY)
    with timed(summary, Step.HISTORY):
        observation = Observation(summary.run_id, timestamp(summary.started_at))
        tables = (
            built.tables()
            | references.tables()
            | advance_catalog(
                _history(plan.previous, data_dir.published_snapshot()),
                built.current_tables() | references.tables(),
                observation,
                built.carried_forward,
                unread_attributes=built.unread_attributes,
                unavailable_references=[r.source for r in references.reports if r.unavailable],
            )
        )
        tables[TableName.QUALITY_ISSUES] = _with_issues(
            built.quality_issues, references.issues, summary.run_id
        )
        changes = tables[TableName.CHANGES]
        assert isinstance(changes, pd.DataFrame)
        summary.changes_by_kind = dict(
            Counter(changes.loc[changes["run_id"] == summary.run_id, "kind"])
        )
    on_step(Step.PUBLISH)
    with timed(summary, Step.PUBLISH):
        summary.status = RunStatus.PUBLISHED
        summary.models_published = len(built.models)
        # The catalog carries its run's row: the record is committed with it, and is the same.
        summary.finished_at = summary.finished_at or finish_time(summary)
        tables[TableName.RUNS] = runs_table(data_dir, summary)
        if commit and stop is not None:
            stop.settle()
        snapshot = publish(tables, data_dir, publication or summary.run_id, commit=commit)
        if commit:
            share_history(data_dir)
        return snapshot


def _history(previous: Snapshot | None, published: Snapshot | None) -> dict[str, pd.DataFrame]:
    """The history tables of the previous snapshot (``published`` holds the rows it shares,
    ``transforms.publish.shared_history``), or empty ones."""
    history = {}
    for name in HISTORY_TABLES:
        held = read_history(previous, name, published) if previous is not None else None
        history[name] = to_frame(held) if held is not None else empty(TABLES[name])
    return history


def _with_issues(quality: pd.DataFrame, more: Issues, run_id: str) -> pd.DataFrame:
    """The run's quality issues and ``more`` of them."""
    table = TABLES[TableName.QUALITY_ISSUES]
    added = more.frame().reindex(columns=table.names).assign(run_id=run_id)
    if added.empty:
        return quality
    return conform(pd.concat([quality, conform(added, table)], ignore_index=True), table)
