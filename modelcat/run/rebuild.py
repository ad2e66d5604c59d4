"""``modelcat rebuild``: re-derive published runs from the page archive. No network."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from modelcat.run.interrupts import Interrupted, stop_signals
from modelcat.run.lock import locked
from modelcat.run.memory import return_freed_memory
from modelcat.run.publishing import build_and_publish, timed
from modelcat.run.records import RunSummary, read_summaries
from modelcat.run.recovery import recover
from transforms.build.plan import plan_build
from transforms.contract.layout import REBUILT, DataDir
from transforms.contract.vocabulary import PageOutcome, RunStatus, Step
from transforms.pages.archive import PageArchive
from transforms.pages.log import read_page_log
from transforms.pages.parse import MODEL_CONTENT_TYPE
from transforms.pages.values import keys_held, page_key
from transforms.publish.history_rows import history_readable
from transforms.publish.snapshot import PublishFailed, discard


def rebuild(
    data_dir: DataDir,
    first_run_id: str | None = None,
    on_step: Callable[[Step], None] = lambda _step: None,
) -> list[RunSummary]:
    """Re-derive published runs from the page archive with today's parser and transforms.

    Starts at ``first_run_id`` (default: the latest published run) and replays every later
    published run in order, on top of the history published before it, so a parser fix
    reaches the runs it concerns and everything that follows from them. No network.
    Interrupted, or unable to write a file (``PublishFailed``), it removes the snapshots it
    wrote and leaves the catalog as it was.
    """
    return_freed_memory()
    with stop_signals() as stop, locked(data_dir):
        recovered = recover(data_dir, catalog_needed=False)
        published = [s for s in read_summaries(data_dir) if s["status"] == RunStatus.PUBLISHED]
        ids = [s["run_id"] for s in published]
        if not ids:
            raise ValueError("nothing to rebuild: no run has been published yet")
        first = first_run_id or ids[-1]
        if first not in ids:
            raise ValueError(f"run {first} was not published; published runs: {', '.join(ids)}")
        start = ids.index(first)
        archive = PageArchive(data_dir.archive)
        _check_rebuildable(data_dir, ids, start, archive)
        previous = data_dir.snapshot_of(ids[start - 1]) if start else None
        stamp = _stamp(data_dir)
        summaries = []
        try:
            for original in published[start:]:
                run_id = original["run_id"]
                summary = RunSummary(
                    run_id,
                    original["started_at"],
                    original["start_urls"],
                    clock_started_at=original.get("clock_started_at"),
                )
                summary.recovered, recovered = recovered, []
                summary.finished_at = original.get("finished_at")
                summary.crawl_finish_reason = original.get("crawl_finish_reason")
                on_step(Step.BUILD)
                with timed(summary, Step.BUILD):
                    plan = plan_build(
                        data_dir.run(run_id),
                        previous,
                        archive,
                        reparse=True,
                        published=data_dir.snapshot_of(run_id),
                    )
                snapshot = build_and_publish(
                    data_dir,
                    plan,
                    summary,
                    on_step,
                    allow_shrink=True,  # the shrink was accepted when the run was published
                    publication=f"{run_id}{REBUILT}{stamp}",
                    commit=run_id == ids[-1],
                    stop=stop,
                )
                previous = snapshot
                summaries.append(summary)
        except (Interrupted, PublishFailed):
            with stop.held():
                discard(data_dir, f"*{REBUILT}{stamp}")
            raise
        return summaries


class NotRebuildable(ValueError):
    """What a rebuild from the run asked for needs is gone (``--keep`` pruned it): names the
    oldest run a rebuild can start from."""


def _check_rebuildable(data_dir: DataDir, ids: list[str], start: int, archive: PageArchive) -> None:
    """Refuse a rebuild from ``ids[start]`` unless everything it needs is there: the snapshot
    before it (the history it builds on, and if it kept only its open rows, the published
    snapshot that holds the rest) and, for it and every later run, each model page's
    body in the archive or its values in the run's own snapshot. A rebuild without them
    would publish pages as gone and lose the history they held."""
    lacking = {run_id: _missing(data_dir, run_id, archive) for run_id in ids[start:]}
    published = data_dir.published_snapshot()

    def why(index: int) -> str | None:
        base = data_dir.snapshot_of(ids[index - 1]) if index else None
        if index and base is None:
            return f"the snapshot of the run before it ({ids[index - 1]}) was pruned"
        if base is not None and not history_readable(base, published):
            return (
                f"the snapshot of the run before it ({ids[index - 1]}) keeps only its open "
                "history rows, and the published snapshot that holds the rest is missing"
            )
        return next((lacking[run_id] for run_id in ids[index:] if lacking[run_id]), None)

    problem = why(start)
    if problem is None:
        return
    later = (ids[i] for i in range(start + 1, len(ids)) if why(i) is None)
    oldest = next(later, None)
    where = (
        f"the oldest run that can be rebuilt is {oldest} (modelcat rebuild --run {oldest})"
        if oldest is not None
        else "no published run can be rebuilt"
    )
    raise NotRebuildable(f"cannot rebuild from {ids[start]}: {problem}; {where}")


def _missing(data_dir: DataDir, run_id: str, archive: PageArchive) -> str | None:
    """What a rebuild of the run could not read, if anything: its page log, or model pages
    whose body is not in the archive and whose values the run's own snapshot does not hold."""
    run_dir = data_dir.run(run_id)
    if not run_dir.page_log.exists():
        return f"run {run_id} keeps only its summary (its page log was pruned by --keep)"
    pages, _ = read_page_log(run_dir)
    model = pages[
        pages["outcome"].isin([PageOutcome.MODEL, PageOutcome.NOT_MODIFIED])
        & (pages["content_type"] == MODEL_CONTENT_TYPE)
    ]
    url_column = model["final_url"].fillna(model["url"])
    lost = [
        page_key(url, sha)
        for url, sha in zip(url_column, model["content_sha256"], strict=True)
        if not isinstance(sha, str) or not archive.holds(sha)
    ]
    own = data_dir.snapshot_of(run_id)
    if lost and own is not None and own.has("page_values"):
        held = keys_held(own.table("page_values"))
        lost = [key for key in lost if key not in held]
    if not lost:
        return None
    return (
        f"the archive no longer holds {len(lost)} page bodies run {run_id} read, and no "
        "snapshot holds their values (pruned by --keep?)"
    )


STAMP = "%Y%m%dT%H%M%SZ"


def _stamp(data_dir: DataDir) -> str:
    """A rebuild's stamp: now, or a second after the latest rebuild's if the clock is behind
    it (``DataDir.snapshot_of`` takes the latest stamp as a run's newest snapshot)."""
    moment = datetime.now(UTC).replace(microsecond=0)
    for snapshot in data_dir.published_snapshots():
        _, rebuilt, stamp = snapshot.publication.partition(REBUILT)
        if rebuilt:
            earlier = datetime.strptime(stamp, STAMP).replace(tzinfo=UTC)
            moment = max(moment, earlier + timedelta(seconds=1))
    return moment.strftime(STAMP)
