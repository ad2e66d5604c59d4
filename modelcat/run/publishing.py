"""Build, check and publish one staged run: the steps a refresh and a rebuild share."""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from modelcat.run.guards import refusal
from modelcat.run.interrupts import StopSignals
from modelcat.run.records import RunSummary, now, runs_table, timestamp
from transforms.build.plan import BuildPlan
from transforms.build.tables import build_catalog
from transforms.contract import HISTORY_TABLES, TABLES, empty, to_frame
from transforms.contract.layout import DataDir
from transforms.contract.vocabulary import RunStatus
from transforms.history import Observation, advance_catalog
from transforms.publish import publish


def return_freed_memory() -> None:
    """Arrow's default allocator (mimalloc) keeps what it frees; jemalloc gives it back to
    the system, which took ~100 MB off the peak of a 10,000-page refresh."""
    with contextlib.suppress(NotImplementedError):  # builds of pyarrow without jemalloc
        pa.set_memory_pool(pa.jemalloc_memory_pool())


def build_and_publish(
    data_dir: DataDir,
    plan: BuildPlan,
    summary: RunSummary,
    on_stage: Callable[[str], None],
    *,
    allow_shrink: bool,
    publication: str | None = None,
    commit: bool = True,
    stop: StopSignals | None = None,
) -> Path | None:
    """Build, check and publish a planned run; records the outcome in ``summary``.

    From the moment a committing run starts to publish, ``stop`` no longer interrupts it.
    """
    started = time.perf_counter()
    built = build_catalog(plan, summary.run_id)
    summary.seconds["build"] = round(time.perf_counter() - started, 3)
    summary.count_built(built)

    refused = refusal(summary, built.models, plan.previous, allow_shrink)
    if refused:
        summary.status, summary.message = RunStatus.REFUSED, refused
        return None

    started = time.perf_counter()
    on_stage("history")
    observation = Observation(summary.run_id, timestamp(summary.started_at))
    tables = built.tables()
    tables |= advance_catalog(_history(plan.previous), tables, observation, built.carried_forward)
    summary.changes_by_kind = dict(
        Counter(tables["changes"].loc[tables["changes"]["run_id"] == summary.run_id, "kind"])
    )
    summary.seconds["history"] = round(time.perf_counter() - started, 3)
    started = time.perf_counter()
    on_stage("publish")
    summary.status = RunStatus.PUBLISHED
    summary.models_published = len(built.models)
    # The catalog carries its run's row: the record is committed with it, and is the same.
    summary.finished_at = summary.finished_at or now()
    tables["runs"] = runs_table(data_dir, summary)
    if commit and stop is not None:
        stop.settle()
    snapshot = publish(tables, data_dir, publication or summary.run_id, commit=commit)
    summary.seconds["publish"] = round(time.perf_counter() - started, 3)
    return snapshot


def _history(previous: Path | None) -> dict[str, pd.DataFrame]:
    """The history tables of the previous snapshot, or empty ones."""
    return {
        name: (
            to_frame(pq.read_table(previous / f"{name}.parquet"))
            if previous is not None and (previous / f"{name}.parquet").exists()
            else empty(TABLES[name])
        )
        for name in HISTORY_TABLES
    }
