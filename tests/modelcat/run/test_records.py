"""Run records (``modelcat.run.records``): run ids, ``summary.json`` written whole, the
``runs`` table made of the summaries, and ``reconcile``, which gives every run a summary that
agrees with the published catalog.

The runs are real: ``two_runs`` published two runs from saved pages (``tests.support.runs``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from modelcat.run import records
from modelcat.run.publishing import runs_table, timed
from modelcat.run.records import RUN_ID, RunSummary, reconcile
from tests.support.runs import publish_run
from tests.support.staging import BASE, failed, fetched
from transforms.contract.casting import to_arrow
from transforms.contract.layout import DataDir, RunDir
from transforms.contract.tables import TABLES
from transforms.contract.vocabulary import Step
from transforms.pages.log import PageLogWriter, read_page_log

# The fields of a summary the runs table holds, and so restores.
RESTORED = [
    "run_id",
    "started_at",
    "start_urls",
    "status",
    "message",
    "finished_at",
    "pages_seen",
    "pages_fetched",
    "pages_retried",
    "models_published",
    "models_carried_forward",
    "quality_issues_by_kind",
    "changes_by_kind",
]


def run_ids(data_dir: DataDir) -> list[str]:
    return [run.run_id for run in records.run_dirs(data_dir)]


def summary(data_dir: DataDir, run_id: str) -> dict[str, Any]:
    return json.loads(data_dir.run(run_id).summary.read_text())


def files(data_dir: DataDir) -> dict[str, bytes]:
    return {
        str(p.relative_to(data_dir.root)): p.read_bytes()
        for p in sorted(data_dir.runs.rglob("*"))
        if p.is_file()
    }


def test_a_run_id_is_a_sortable_utc_time_unique_in_its_data_directory(tmp_path: Path) -> None:
    data_dir = DataDir(tmp_path)
    ids = []
    for _ in range(20):  # faster than the clock's milliseconds: each waits for a new one
        ids.append(records.new_run_id(data_dir))
        data_dir.run(ids[-1]).path.mkdir(parents=True)
    assert all(RUN_ID.fullmatch(run_id) for run_id in ids)
    assert ids == sorted(set(ids))


def test_a_summary_is_written_whole(tmp_path: Path) -> None:
    run_dir = RunDir(tmp_path / "runs" / "20260101T000000000Z")
    written = RunSummary("20260101T000000000Z", "2026-01-01T00:00:00.000+00:00", ["http://x/"])
    written.write(run_dir)
    written.status, written.message = "refused", "the run found no models"
    written.write(run_dir)  # replaced, never appended to
    assert json.loads(run_dir.summary.read_text()) == asdict(written)
    assert sorted(p.name for p in run_dir.path.iterdir()) == ["summary.json"]  # no .partial


def test_summaries_are_read_oldest_first_and_unreadable_ones_left_out(tmp_path: Path) -> None:
    data_dir = DataDir(tmp_path)
    ids = ["20260103T000000000Z", "20260101T000000000Z", "20260102T000000000Z"]
    for run_id in ids:
        RunSummary(run_id, "2026-01-01T00:00:00.000+00:00", None).write(data_dir.run(run_id))
    damaged = {
        "20260104T000000000Z": "{not json",
        "20260105T000000000Z": "[]",
        "20260106T000000000Z": json.dumps({"run_id": "x", "status": "published"}),
    }
    for run_id, text in damaged.items():
        data_dir.run(run_id).path.mkdir()
        data_dir.run(run_id).summary.write_text(text)
    data_dir.run("20260107T000000000Z").path.mkdir()  # killed before it wrote one
    (data_dir.runs / "manual").mkdir()  # ``scrapy crawl`` staged by hand: not a run
    (data_dir.runs / "20260108T000000000Z").write_text("a file")

    assert run_ids(data_dir) == [*sorted(ids), *sorted(damaged), "20260107T000000000Z"]
    assert [s["run_id"] for s in records.read_summaries(data_dir)] == sorted(ids)
    assert records.run_dirs(DataDir(tmp_path / "nothing")) == []


def test_a_summary_replaced_after_it_was_read_is_read_again(tmp_path: Path) -> None:
    """Summaries are read once per process and then known by their stat: a summary written
    again (reconcile restores, a run rewrites its own) is never served from memory."""
    data_dir = DataDir(tmp_path)
    run_id = "20260101T000000000Z"
    first = RunSummary(run_id, "2026-01-01T00:00:00.000+00:00", None, status="failed")
    first.write(data_dir.run(run_id))
    (read,) = records.read_summaries(data_dir)
    assert read["status"] == "failed"
    read["status"] = "mutated by a caller"  # a caller's copy is its own
    assert records.read_summaries(data_dir)[0]["status"] == "failed"

    # The same size, written within the same clock tick: a new file, so a new inode.
    RunSummary(run_id, first.started_at, None, status="FAILED").write(data_dir.run(run_id))
    assert records.read_summaries(data_dir)[0]["status"] == "FAILED"

    data_dir.run(run_id).summary.write_text("{damaged", encoding="utf-8")  # in place
    assert records.read_summaries(data_dir) == []
    data_dir.run(run_id).summary.unlink()
    assert records.read_summaries(data_dir) == []


def test_pages_are_counted_from_the_page_log(tmp_path: Path) -> None:
    run_dir = RunDir(tmp_path / "run")
    body = b"---\ncontent_type: model-detail-page\n---\n# M\n"
    quarantined = fetched(BASE + "wall.md", b"<!doctype html><html></html>")
    retried = fetched(BASE + "b.md", body)
    retried.retries = 1
    items = [fetched(BASE + "a.md", body), retried, failed(BASE + "c.md", 503), quarantined]
    log = PageLogWriter(run_dir)
    for item in items:
        log.write(item)
    log.close()

    counted = RunSummary("r", "2026-01-01T00:00:00.000+00:00", None)
    counted.count_pages(read_page_log(run_dir)[0])
    assert (counted.pages_seen, counted.pages_fetched, counted.pages_retried) == (4, 3, 2)
    assert counted.pages_by_outcome == {"model": 2, "failed": 1, "quarantined": 1}
    assert counted.failed_pages == [
        {"url": BASE + "c.md", "outcome": "failed", "error": "HTTP 503"},
        {"url": BASE + "wall.md", "outcome": "quarantined", "error": quarantined.error},
    ]


def test_the_runs_table_is_every_summary_in_the_types_of_the_contract(two_runs: DataDir) -> None:
    first, second = (summary(two_runs, run_id) for run_id in run_ids(two_runs))
    this = RunSummary("29990101T000000000Z", "2999-01-01T00:00:00.000+00:00", ["http://x/"])
    this.status, this.message = "refused", "the run found no models"
    this.pages_by_outcome = {"skipped": 1, "failed": 2}
    table = runs_table(two_runs, this)

    to_arrow(table, TABLES["runs"])  # the contract's columns and types, or it raises
    assert list(table.columns) == TABLES["runs"].names
    assert table["run_id"].tolist() == [first["run_id"], second["run_id"], this.run_id]
    assert table["status"].tolist() == ["published", "published", "refused"]
    mine = table.iloc[-1]
    assert mine["finished_at"] is not None  # this run ends now, if it said nothing
    assert (mine["pages_failed"], mine["pages_skipped"], mine["pages_not_modified"]) == (2, 1, 0)
    assert mine["message"] == "the run found no models"
    assert dict(table.iloc[1]["changes_by_kind"]) == second["changes_by_kind"] != {}
    assert table.iloc[1]["pages_not_modified"] == second["pages_by_outcome"]["not_modified"]


def test_the_catalog_carries_the_row_of_each_run_as_its_summary_says(two_runs: DataDir) -> None:
    """A published run's row is committed with the catalog, and is its summary's."""
    snapshot = two_runs.published_snapshot()
    assert snapshot is not None
    published = snapshot.read("runs").to_pandas()
    last = RunSummary(**summary(two_runs, run_ids(two_runs)[-1]))
    again = runs_table(two_runs, last)
    pd.testing.assert_frame_equal(
        again.astype(object).where(again.notna(), None).reset_index(drop=True),
        published.astype(object).where(published.notna(), None).reset_index(drop=True),
        check_dtype=False,
    )


def restored_fields(record: dict[str, Any]) -> dict[str, Any]:
    return {field: record[field] for field in RESTORED}


DAMAGE: dict[str, tuple[Callable[[Path], object], str]] = {
    # kill -9 between the commit and the summary
    "missing": (Path.unlink, "{name} was missing"),
    "truncated": (
        lambda path: path.write_text(path.read_text()[:100]),
        "{name} could not be read (kept as summary.unreadable.json)",
    ),
    "not a summary": (
        lambda path: path.write_text('{"status": "published"}'),
        "{name} could not be read (kept as summary.unreadable.json)",
    ),
    "says failed": (
        lambda path: path.write_text(
            json.dumps({**json.loads(path.read_text()), "status": "failed"})
        ),
        "{name} said 'failed', but the catalog was committed by it",
    ),
}


@pytest.mark.parametrize("which", [-1, 0], ids=["the last run", "the run before"])
@pytest.mark.parametrize("damage", DAMAGE)
def test_a_lost_summary_is_restored_from_the_catalog(
    own_copy: DataDir, damage: str, which: int
) -> None:
    run_id = run_ids(own_copy)[which]
    path = own_copy.run(run_id).summary
    before = summary(own_copy, run_id)
    harm, problem = DAMAGE[damage]
    harm(path)
    damaged = path.read_bytes() if path.exists() else None
    if damage == "says failed" and which == 0:
        # Only the run that committed the catalog is published whatever its summary says:
        # an older run's summary is its own word.
        assert reconcile(own_copy) == []
        return

    name = f"runs/{run_id}/summary.json"
    assert reconcile(own_copy) == [
        problem.format(name=name) + ": restored from the catalog's runs table"
    ]
    restored = summary(own_copy, run_id)
    assert restored_fields(restored) == restored_fields(before)
    # The counted outcomes: the runs table has no column for "model".
    assert restored["pages_by_outcome"] == {
        k: v for k, v in before["pages_by_outcome"].items() if k != "model"
    }
    assert restored["crawl_finish_reason"] == "finished"
    assert restored["recovered"] == ["this summary was restored from the catalog's runs table"]
    kept = own_copy.run(run_id).unreadable_summary
    assert (kept.read_bytes() if kept.exists() else None) == (
        damaged if "could not be read" in problem else None
    )
    assert reconcile(own_copy) == []  # and it holds


def test_a_run_killed_before_its_summary_is_recorded_as_failed(own_copy: DataDir) -> None:
    killed = "20000101T000000000Z"
    log = PageLogWriter(own_copy.run(killed))
    log.write(fetched(BASE + "a.md", b"---\ncontent_type: model-detail-page\n---\n"))
    log.write(failed(BASE + "b.md", 500))
    log.file.write('{"url": "http://x/c')  # the line it was writing when it died
    log.close()
    untouched = files(own_copy)

    assert reconcile(own_copy) == [
        f"runs/{killed}/summary.json was missing: "
        "the run ended before writing it; recorded as failed"
    ]
    record = summary(own_copy, killed)
    assert (record["status"], record["pages_seen"]) == ("failed", 2)
    assert record["started_at"] == "2000-01-01T00:00:00.000+00:00"
    assert record["pages_by_outcome"] == {"model": 1, "failed": 1}
    assert "killed" in record["message"]
    assert record["failed_pages"] == [
        {"url": BASE + "b.md", "outcome": "failed", "error": "HTTP 500"}
    ]
    changed = {name for name, data in files(own_copy).items() if untouched.get(name) != data}
    assert changed == {f"runs/{killed}/summary.json"}


def test_runs_that_agree_with_the_catalog_are_left_alone(own_copy: DataDir) -> None:
    refused = publish_run(own_copy, {BASE + "only.md": 404})  # finds no models: refused
    assert refused.status == "refused"
    untouched = files(own_copy)
    assert reconcile(own_copy) == []
    assert files(own_copy) == untouched


def test_a_run_never_starts_before_the_last_one_whatever_the_clock_says(tmp_path: Path) -> None:
    """A clock behind the last run (here: a run from 2999) gives the last run's time plus a
    millisecond; the clock's reading is kept apart, and the run ends no earlier than it starts."""
    data_dir = DataDir(tmp_path)
    data_dir.run("29990101T000000999Z").path.mkdir(parents=True)
    data_dir.run("29990101T000001000Z").path.mkdir(parents=True)  # taken: the next one
    summary = records.start(data_dir, None)
    assert summary.run_id == "29990101T000001001Z"
    assert summary.started_at == "2999-01-01T00:00:01.001+00:00"
    assert summary.clock_started_at is not None
    assert summary.clock_started_at < "2999"
    assert records.finish_time(summary) == summary.started_at


def test_a_run_on_a_clock_that_is_right_starts_at_the_clock(tmp_path: Path) -> None:
    data_dir = DataDir(tmp_path)
    data_dir.run("20000101T000000000Z").path.mkdir(parents=True)
    summary = records.start(data_dir, None)
    assert summary.started_at == records.iso_time(records.run_time(summary.run_id))
    started = records.timestamp(summary.started_at)
    assert abs(started - records.timestamp(summary.clock_started_at)) < timedelta(seconds=1)
    assert records.finish_time(summary) >= summary.started_at


def test_a_step_timed_in_parts_is_recorded_as_their_sum() -> None:
    # A refresh plans its build, then builds: both are the build step's time.
    summary = RunSummary("20260101T000000000Z", "2026-01-01T00:00:00.000+00:00", None)
    with timed(summary, Step.BUILD):
        time.sleep(0.05)
    with timed(summary, Step.HISTORY):
        pass
    with timed(summary, Step.BUILD):
        time.sleep(0.05)
    assert summary.seconds[Step.BUILD] >= 0.1
    assert summary.seconds[Step.HISTORY] < 0.05
