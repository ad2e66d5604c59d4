"""The steps after the crawl, which a refresh and a rebuild share: build the run's tables,
guard, advance the history, publish. Each step's time goes into the run's summary."""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict

import pandas as pd

from modelcat.run.guards import refusal
from modelcat.run.interrupts import StopSignals
from modelcat.run.records import (
    COUNTED_OUTCOMES,
    RunSummary,
    finish_time,
    read_summaries,
    timestamp,
)
from transforms.build.ahead import BuildAhead
from transforms.build.issues import Issues
from transforms.build.plan import BuildPlan
from transforms.build.tables import build_tables
from transforms.contract.casting import conform, empty, to_arrow, to_frame
from transforms.contract.layout import DataDir, Snapshot
from transforms.contract.tables import HISTORY_TABLES, TABLES
from transforms.contract.vocabulary import RunStatus, Step, TableName
from transforms.history import Observation, advance_catalog
from transforms.pages.archive import PageArchive
from transforms.publish.history_rows import Appended, Closed, split
from transforms.publish.shared_history import share_history
from transforms.publish.snapshot import Given, publish
from transforms.references.log import read_reference_log
from transforms.references.tables import reference_tables


@contextlib.contextmanager
def timed(summary: RunSummary, step: Step) -> Iterator[None]:
    """Add how long this part of ``step`` took to the step's time in the run's summary."""
    started = time.perf_counter()
    yield
    spent = summary.seconds.get(step, 0.0) + time.perf_counter() - started
    summary.seconds[step] = round(spent, 3)


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
    ahead: BuildAhead | None = None,
) -> Snapshot | None:
    """Build, guard, advance the history and publish a planned run; records the outcome in
    ``summary``. ``on_step`` is told when history and publish begin (the caller, which
    plans the build, tells it of the build). From the moment a committing run starts to
    publish, ``stop`` no longer interrupts it. ``ahead`` holds the chunks of the run's own
    pages that were built while it crawled."""
    with timed(summary, Step.BUILD):
        built = build_tables(plan, summary.run_id, ahead)
    summary.count_built(built)
    summary.pages_built_ahead = ahead.pages_taken if ahead is not None else 0
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
        open_rows, closed = _history(plan.previous, data_dir.published_snapshot())
        tables: dict[str, Given] = {
            **built.tables(),
            **references.tables(),
            **advance_catalog(
                open_rows,
                built.current_tables() | references.tables(),
                observation,
                built.carried_forward,
                unread_attributes=built.unread_attributes,
                unavailable_references=[r.source for r in references.reports if r.unavailable],
            ),
        }
        del open_rows  # advanced: held on, they would count again in publishing's peak
        tables[TableName.QUALITY_ISSUES] = _with_issues(
            built.quality_issues, references.issues, summary.run_id
        )
        changes = tables[TableName.CHANGES]
        assert isinstance(changes, pd.DataFrame)
        summary.changes_by_kind = dict(
            Counter(changes.loc[changes["run_id"] == summary.run_id, "kind"])
        )
        for name, rows in closed.items():  # the closed rows go over as they are
            advanced = tables[name]
            assert isinstance(advanced, pd.DataFrame)
            tables[name] = Appended(rows, to_arrow(advanced, TABLES[name]))
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
            share_history(data_dir, carried=closed)
        return snapshot


def _history(
    previous: Snapshot | None, published: Snapshot | None
) -> tuple[dict[str, pd.DataFrame], dict[str, Closed]]:
    """The open rows of the previous snapshot's history tables (empty ones on a first run),
    and where the closed rows of each are: they are carried over, never loaded
    (``transforms.publish.history_rows``)."""
    rows, closed = {}, {}
    for name in HISTORY_TABLES:
        held = split(previous, name, published) if previous is not None else None
        if held is None:
            rows[name] = empty(TABLES[name])
            continue
        rows[name] = to_frame(held[0])
        if held[1] is not None:
            closed[name] = held[1]
    return rows, closed


def _with_issues(quality: pd.DataFrame, more: Issues, run_id: str) -> pd.DataFrame:
    """The run's quality issues and ``more`` of them."""
    table = TABLES[TableName.QUALITY_ISSUES]
    added = more.frame().reindex(columns=table.names).assign(run_id=run_id)
    if added.empty:
        return quality
    return conform(pd.concat([quality, conform(added, table)], ignore_index=True), table)


def runs_table(data_dir: DataDir, this_run: RunSummary) -> pd.DataFrame:
    """Every run's summary, this one included, as the ``runs`` table."""
    rows = [s for s in read_summaries(data_dir) if s["run_id"] != this_run.run_id]
    rows.append({**asdict(this_run), "finished_at": this_run.finished_at or finish_time(this_run)})
    rows.sort(key=lambda row: row["run_id"])
    frame = pd.DataFrame(
        {
            "run_id": [r["run_id"] for r in rows],
            "started_at": [timestamp(r["started_at"]) for r in rows],
            # Before runs recorded the clock apart, the start was the clock's reading.
            "clock_started_at": [
                timestamp(r.get("clock_started_at") or r["started_at"]) for r in rows
            ],
            "finished_at": [timestamp(r.get("finished_at")) for r in rows],
            "start_urls": [r["start_urls"] for r in rows],
            "pages_seen": [r.get("pages_seen", 0) for r in rows],
            "models_published": [r.get("models_published", 0) for r in rows],
            "status": [r["status"] for r in rows],
            "message": [r.get("message") for r in rows],
            "pages_fetched": [r.get("pages_fetched") for r in rows],
            **{
                f"pages_{counted}": [r.get("pages_by_outcome", {}).get(counted, 0) for r in rows]
                for counted in COUNTED_OUTCOMES
            },
            "pages_retried": [r.get("pages_retried") for r in rows],
            "models_carried_forward": [r.get("models_carried_forward") for r in rows],
            "quality_issues_by_kind": [
                list(r.get("quality_issues_by_kind", {}).items()) for r in rows
            ],
            "changes_by_kind": [list(r.get("changes_by_kind", {}).items()) for r in rows],
        }
    )
    return conform(frame, TABLES[TableName.RUNS])
