"""A refresh: crawl -> stage -> build -> validate -> publish, and its summary.

One refresh per process (Twisted's reactor cannot be restarted) and one per data directory
at a time (an ``flock`` that the kernel releases if the process dies). Each run starts by
putting right what a crash or damage left in the data directory (``recover``), and stops
cleanly on SIGINT or SIGTERM (``modelcat.interrupts``).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pickle
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from crawler.archive import PageArchive
from crawler.items import PageItem
from crawler.site import DEFAULT_START_URLS
from crawler.staging import Stager
from modelcat.interrupts import Interrupted, StopSignals, stop_signals
from modelcat.recovery import check_validators, recover
from modelcat.runs import RunSummary, now, read_summaries, runs_table, timestamp
from transforms.catalog import Staged, build_catalog, read_pages, stage
from transforms.history import Observation, advance_catalog
from transforms.layout import (
    CATALOG_VALUES_FILE,
    CRAWL_LOG_FILE,
    CRAWL_STATS_FILE,
    PAGE_VALUES_FILE,
    DataDir,
)
from transforms.publish import discard, publish
from transforms.schema import HISTORY_TABLES, TABLES, empty, to_frame
from transforms.vocabulary import RunStatus, ValueOrigin

CHILD_GRACE_SECONDS = 5  # how long a crawl being stopped may take to close before it is killed


class RefreshLocked(RuntimeError):
    """Another refresh holds this data directory."""


def _seconds(text: str) -> float:
    """seconds, from 0 to a day"""
    value = float(text)
    if not 0 <= value < 86_400:
        raise ValueError
    return value


def _count(text: str) -> int:
    """a whole number from 0"""
    value = int(text)
    if not 0 <= value <= 2**40:
        raise ValueError
    return value


def _flag(text: str) -> bool:
    """true or false"""
    return {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}[
        text.strip().lower()
    ]


def _statuses(text: str) -> list[int]:
    """HTTP status codes from 400 to 599, comma-separated"""
    codes = [int(code) for code in text.replace(",", " ").split()]
    if not all(400 <= code <= 599 for code in codes):
        raise ValueError
    return codes


def _log_level(text: str) -> str:
    """DEBUG, INFO, WARNING, ERROR or CRITICAL"""
    if text.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        raise ValueError
    return text.upper()


def _header_text(text: str) -> str:
    """printable ASCII text"""
    if not text or not text.isprintable() or not text.isascii():
        raise ValueError
    return text


# What ``--set`` may change: the network, retries, politeness, timeouts, size caps and the
# log level, each read by its own reader. Anything else (pipelines, extensions,
# middlewares, spider modules, file paths, the telnet console, robots.txt) would let a
# command line load code, write files or drop a promise, so it is refused.
USER_SETTINGS: dict[str, Callable[[str], Any]] = {
    "DOWNLOAD_TIMEOUT": _seconds,
    "DNS_TIMEOUT": _seconds,
    "DOWNLOAD_DELAY": _seconds,
    "RANDOMIZE_DOWNLOAD_DELAY": _flag,
    "CONCURRENT_REQUESTS": _count,
    "CONCURRENT_REQUESTS_PER_DOMAIN": _count,
    "AUTOTHROTTLE_ENABLED": _flag,
    "AUTOTHROTTLE_START_DELAY": _seconds,
    "AUTOTHROTTLE_MAX_DELAY": _seconds,
    "AUTOTHROTTLE_TARGET_CONCURRENCY": _seconds,
    "RETRY_ENABLED": _flag,
    "RETRY_TIMES": _count,
    "RETRY_HTTP_CODES": _statuses,
    "RETRY_BACKOFF_BASE": _seconds,
    "RETRY_BACKOFF_MAX": _seconds,
    "DOWNLOAD_MAXSIZE": _count,
    "DOWNLOAD_WARNSIZE": _count,
    "USER_AGENT": _header_text,
    "LOG_LEVEL": _log_level,
}


def user_setting(name: str, value: Any) -> Any:
    """A ``--set NAME=VALUE`` as the crawl takes it; ValueError says why it is refused."""
    reader = USER_SETTINGS.get(name)
    if reader is None:
        raise ValueError(f"{name} cannot be set; settable: {', '.join(sorted(USER_SETTINGS))}")
    try:
        return reader(str(value))
    except (ValueError, KeyError):
        raise ValueError(f"{name}={value!r}: expected {reader.__doc__}") from None


@dataclass
class CrawlOptions:
    start_urls: list[str] = field(default_factory=lambda: list(DEFAULT_START_URLS))
    delay: float | None = None  # seconds between requests to a host; None = polite default
    concurrency: int | None = None  # requests in flight; None = polite default
    settings: dict[str, Any] = field(default_factory=dict)  # of USER_SETTINGS only

    def overrides(self, data_dir: DataDir, run_dir: Path) -> dict[str, Any]:
        """The Scrapy settings a run sets on top of ``crawler/settings.py``."""
        values: dict[str, Any] = {
            "MODELCAT_RUN_DIR": str(run_dir),
            "MODELCAT_ARCHIVE_DIR": str(data_dir.archive),
            "MODELCAT_VALIDATORS_FILE": str(data_dir.validators),
            "LOG_FILE": str(run_dir / CRAWL_LOG_FILE),
        }
        if self.delay is not None:
            # AutoThrottle only ever slows down; with no delay asked for, it has no job.
            values |= {
                "DOWNLOAD_DELAY": self.delay,
                "AUTOTHROTTLE_START_DELAY": self.delay,
                "AUTOTHROTTLE_ENABLED": self.delay > 0,
            }
        if self.concurrency is not None:
            values |= {
                "CONCURRENT_REQUESTS": self.concurrency,
                "CONCURRENT_REQUESTS_PER_DOMAIN": self.concurrency,
            }
        return values | {name: user_setting(name, value) for name, value in self.settings.items()}

    def scrapy_settings(self, data_dir: DataDir, run_dir: Path) -> Any:
        """The settings the crawling process runs with."""
        from scrapy.settings import Settings

        settings = Settings()
        settings.setmodule("crawler.settings", priority="project")
        settings.update(self.overrides(data_dir, run_dir), priority="cmdline")
        return settings


def new_run_id(data_dir: DataDir) -> str:
    """A UTC timestamp, sortable and unique within the data directory."""
    while True:
        now = datetime.now(UTC)
        run_id = now.strftime("%Y%m%dT%H%M%S") + f"{now.microsecond // 1000:03d}Z"
        if not data_dir.run(run_id).exists():
            return run_id
        time.sleep(0.001)


@contextmanager
def locked(data_dir: DataDir) -> Iterator[None]:
    data_dir.root.mkdir(parents=True, exist_ok=True)
    with (data_dir.root / ".lock").open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise RefreshLocked(
                f"{data_dir.root} is being refreshed by {holder}; try again when it is done"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} since {datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}\n")
        handle.flush()
        yield


def crawl(
    data_dir: DataDir,
    run_dir: Path,
    options: CrawlOptions,
    on_page: Callable[[PageItem], None],
    stop: StopSignals | None = None,
) -> dict:
    """Crawl into ``run_dir``; returns Scrapy's stats (empty if the crawl never reported).

    Scrapy runs in a child process (``python -I -m crawler``: isolated, so it imports only
    the installed code, never a module of the working directory) and hands each page over
    a pipe; this process stages them (``crawler.staging.Stager``). Parsing, archiving and
    staging so use the second core, and the crawl's memory is gone when it ends.

    Stopped early (a stop signal, an error while staging), the crawl is asked to end and
    killed if it has not within CHILD_GRACE_SECONDS; the pages staged so far stay, and the
    validator store learns from them without forgetting what the crawl did not reach.
    """
    stop = stop or StopSignals()
    run_dir.mkdir(parents=True, exist_ok=True)
    read_end, write_end = os.pipe()
    stream = os.fdopen(read_end, "rb")
    settings = options.overrides(data_dir, run_dir) | {
        "ITEM_PIPELINES": {"crawler.pipelines.ForwardToParent": 300},
        "MODELCAT_STREAM_FD": write_end,
    }
    spec = json.dumps({"start_urls": options.start_urls, "settings": settings})
    command = [sys.executable, "-I", "-m", "crawler", spec]
    stager = Stager(run_dir, PageArchive(data_dir.archive), data_dir.validators)
    child: subprocess.Popen | None = None
    stats: dict = {}
    finished = False
    try:
        with stop.held(), (run_dir / CRAWL_LOG_FILE).open("ab") as log:  # no child left unowned
            try:
                child = subprocess.Popen(
                    command,
                    pass_fds=(write_end,),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                )
            finally:
                os.close(write_end)
        while True:
            try:
                item = pickle.load(stream)
            except EOFError:
                break
            with stop.held():  # a page is staged whole, or not at all
                stager.add(item)
                on_page(item)
        finished = True
    finally:
        with stop.held():
            stream.close()
            if child is not None:
                _end(child, stopping=not finished)
            stats = _read_stats(run_dir / CRAWL_STATS_FILE)
            stager.close()
    return stats


def _end(child: subprocess.Popen, *, stopping: bool) -> None:
    """Wait for the crawl to exit; one being stopped is asked to (SIGTERM), then killed."""
    if not stopping:
        child.wait()
        return
    if child.poll() is None:
        child.terminate()
    try:
        child.wait(timeout=CHILD_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def _read_stats(path: Path) -> dict:
    """The crawl's stats; none when it never wrote them whole (it was killed)."""
    try:
        stats = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return stats if isinstance(stats, dict) else {}


def _return_freed_memory() -> None:
    """Arrow's default allocator (mimalloc) keeps what it frees; jemalloc gives it back to
    the system, which took ~100 MB off the peak of a 10,000-page refresh."""
    with contextlib.suppress(NotImplementedError):  # builds of pyarrow without jemalloc
        pa.set_memory_pool(pa.jemalloc_memory_pool())


def refresh(
    data_dir: DataDir,
    options: CrawlOptions,
    on_page: Callable[[PageItem], None] = lambda _item: None,
    *,
    allow_shrink: bool = False,
    keep: int | None = None,
    on_stage: Callable[[str], None] = lambda _stage: None,
) -> RunSummary:
    """Crawl, build and publish one run; never half-publishes.

    ``on_page`` sees every page as the crawl stages it; ``on_stage`` is told when each stage
    (crawl, build, history, publish) begins.

    Raises ``RefreshLocked``, ``BrokenState`` (local state past repair) and ``Interrupted``
    (SIGINT or SIGTERM before the run began to commit: nothing published, run recorded).
    """
    _return_freed_memory()
    with stop_signals() as stop, locked(data_dir):
        recovered = recover(data_dir)
        run_id = new_run_id(data_dir)
        run_dir = data_dir.run(run_id)
        summary = RunSummary(run_id, now(), list(options.start_urls), recovered=recovered)
        step = "checking the validator store"
        try:
            with stop.held():
                summary.recovered += check_validators(data_dir, run_dir)
            step, started = "crawling", time.perf_counter()
            on_stage("crawl")
            stats = crawl(data_dir, run_dir, options, on_page, stop)
            summary.seconds["crawl"] = round(time.perf_counter() - started, 3)
            summary.crawl_finish_reason = stats.get("finish_reason")
            step = "building the catalog"
            previous = data_dir.current_snapshot()
            on_stage("build")
            staged = stage(run_dir, previous, PageArchive(data_dir.archive))
            _finish(
                data_dir, staged, previous, summary, on_stage, allow_shrink=allow_shrink, stop=stop
            )
        except Interrupted as interrupt:
            summary.status = RunStatus.INTERRUPTED
            summary.message = (
                f"stopped by {interrupt.signal_name} while {step}; nothing was published "
                "(the pages it saw are archived, and the validator store kept what it knew)"
            )
            interrupt.summary = summary
            raise
        except Exception as error:
            summary.status, summary.message = RunStatus.FAILED, f"{type(error).__name__}: {error}"
            raise
        finally:
            stop.settle()  # the run's record is written whole, whatever arrives now
            if not summary.pages_by_outcome:
                summary.count_staged_pages(run_dir)
            summary.finished_at = summary.finished_at or now()
            summary.write(run_dir)
        # A stop signal that came while the run committed waits no longer than that.
        if keep is not None and summary.status == RunStatus.PUBLISHED and stop.received is None:
            prune(data_dir, keep)
        return summary


def rebuild(
    data_dir: DataDir,
    first_run_id: str | None = None,
    on_stage: Callable[[str], None] = lambda _stage: None,
) -> list[RunSummary]:
    """Re-derive published runs from the page archive with today's parser and transforms.

    Starts at ``first_run_id`` (default: the latest published run) and replays every later
    published run in order, on top of the history published before it, so a parser fix
    reaches the runs it concerns and everything that follows from them. No network.
    Interrupted, it removes the snapshots it wrote and leaves the catalog as it was.
    """
    _return_freed_memory()
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
        previous = data_dir.snapshot_of(ids[start - 1]) if start else None
        if start and previous is None:
            raise ValueError(f"the snapshot before {first} was pruned; rebuild from an earlier run")
        archive = PageArchive(data_dir.archive)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        summaries = []
        try:
            for original in published[start:]:
                run_id = original["run_id"]
                summary = RunSummary(run_id, original["started_at"], original["start_urls"])
                summary.recovered, recovered = recovered, []
                summary.finished_at = original.get("finished_at")
                summary.crawl_finish_reason = original.get("crawl_finish_reason")
                on_stage("build")
                staged = stage(data_dir.run(run_id), previous, archive, reparse=True)
                snapshot = _finish(
                    data_dir,
                    staged,
                    previous,
                    summary,
                    on_stage,
                    allow_shrink=True,  # the shrink was accepted when the run was published
                    publication=f"{run_id}.rebuilt-{stamp}",
                    commit=run_id == ids[-1],
                    stop=stop,
                )
                previous = snapshot
                summaries.append(summary)
        except Interrupted:
            with stop.held():
                discard(data_dir, f"*.rebuilt-{stamp}")
            raise
        return summaries


def _finish(
    data_dir: DataDir,
    staged: Staged,
    previous: Path | None,
    summary: RunSummary,
    on_stage: Callable[[str], None],
    *,
    allow_shrink: bool,
    publication: str | None = None,
    commit: bool = True,
    stop: StopSignals | None = None,
) -> Path | None:
    """Build, check and publish a staged run; records the outcome in ``summary``.

    From the moment a committing run starts to publish, ``stop`` no longer interrupts it.
    """
    started = time.perf_counter()
    tables = build_catalog(staged, summary.run_id)
    summary.seconds["build"] = round(time.perf_counter() - started, 3)
    models = tables["models"]
    carried = set(
        models.loc[
            models["page_url"].isin(
                staged.sources.loc[
                    staged.sources["origin"] == ValueOrigin.CARRIED_FORWARD, "page_url"
                ]
            ),
            "model_id",
        ]
    )
    summary.models_carried_forward = len(carried)
    _count(summary, tables)

    refusal = _refusal(summary, models, previous, allow_shrink)
    if refusal:
        summary.status, summary.message = RunStatus.REFUSED, refusal
        return None

    started = time.perf_counter()
    on_stage("history")
    observation = Observation(summary.run_id, timestamp(summary.started_at))
    tables |= advance_catalog(_history(previous), tables, observation, carried)
    summary.changes_by_kind = dict(
        Counter(tables["changes"].loc[tables["changes"]["run_id"] == summary.run_id, "kind"])
    )
    summary.seconds["history"] = round(time.perf_counter() - started, 3)
    started = time.perf_counter()
    on_stage("publish")
    summary.status = RunStatus.PUBLISHED
    summary.models_published = len(models)
    # The catalog carries its run's row: the record is committed with it, and is the same.
    summary.finished_at = summary.finished_at or now()
    tables["runs"] = runs_table(data_dir, summary)
    if commit and stop is not None:
        stop.settle()
    snapshot = publish(tables, data_dir, publication or summary.run_id, commit=commit)
    summary.seconds["publish"] = round(time.perf_counter() - started, 3)
    return snapshot


SHRINK_LIMIT = 0.25  # share of the previous catalog's models a run may lose unasked


def _refusal(
    summary: RunSummary, models: pd.DataFrame, previous: Path | None, allow_shrink: bool
) -> str | None:
    """Why this run must not be published, or None."""
    if summary.crawl_finish_reason != "finished":
        reason = summary.crawl_finish_reason or "none reported; see crawl.log"
        return f"the crawl did not finish (finish reason: {reason})"
    if models.empty:
        return "the run found no models"
    if previous is None or allow_shrink:
        return None
    previous_models = pq.read_table(previous / "models.parquet", columns=["model_id"])
    before = set(previous_models["model_id"].to_pylist())
    lost = before - set(models["model_id"])
    if before and len(lost) > SHRINK_LIMIT * len(before):
        return (
            f"the run lost {len(lost)} of the previous catalog's {len(before)} models "
            f"({len(lost) / len(before):.0%}; the guard allows {SHRINK_LIMIT:.0%}): a site "
            "outage, a login wall or a truncated index? If the site really dropped them, "
            "refresh again with --allow-shrink"
        )
    return None


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


def prune(data_dir: DataDir, keep: int) -> dict[str, int]:
    """Keep the last ``keep`` published runs rebuildable; prune older raw pages, never history.

    Those runs keep their archived bodies and snapshots, and so does the snapshot just before
    them (a rebuild starts from it). History tables, run summaries and page logs always
    stay; older runs' bodies, snapshots and staged page values go.
    """
    summaries = read_summaries(data_dir)
    published = [s["run_id"] for s in summaries if s["status"] == RunStatus.PUBLISHED]
    kept = published[-keep:] if keep > 0 else []
    base = published[-keep - 1 : -keep] if keep > 0 else []
    wanted: set[str] = set()
    for run_id in kept:
        pages, _ = read_pages(data_dir.run(run_id))
        wanted |= set(pages["content_sha256"].dropna())
    current = data_dir.current_snapshot()
    if current is not None:
        values = pq.read_table(current / "page_values.parquet", columns=["content_sha256"])
        wanted |= set(values["content_sha256"].drop_null().to_pylist())
    removed = {"bodies": PageArchive(data_dir.archive).prune(wanted), "snapshots": 0}
    for snapshot in sorted(data_dir.snapshots.iterdir()) if data_dir.snapshots.exists() else []:
        run_id = snapshot.name.split(".")[0]
        if run_id not in kept and run_id not in base and snapshot != current:
            removed["snapshots"] += discard(data_dir, snapshot.name)
    for run_id in published[: len(published) - len(kept)]:
        for staged in (PAGE_VALUES_FILE, CATALOG_VALUES_FILE):
            (data_dir.run(run_id) / staged).unlink(missing_ok=True)
    return removed


def _count(summary: RunSummary, tables: dict[str, pd.DataFrame]) -> None:
    summary.count_pages(tables["pages"])
    summary.official_prices = len(tables["official_prices"])
    summary.provider_offers = len(tables["provider_offers"])
    summary.quality_issues_by_kind = dict(Counter(tables["quality_issues"]["kind"].astype(str)))
