"""A refresh: crawl -> stage -> build -> validate -> publish, and its summary.

One refresh per process (Twisted's reactor cannot be restarted) and one per data directory
at a time (an ``flock`` that the kernel releases if the process dies).
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from scrapy import signals
from scrapy.crawler import AsyncCrawlerProcess
from scrapy.settings import Settings

from crawler.items import PageItem
from crawler.pipelines import CRAWL_STATS_FILE
from crawler.spiders.pipellm import DEFAULT_START_URLS, PipeLLMSpider
from transforms.catalog import build_catalog
from transforms.publish import DataDir, publish
from transforms.schema import TABLES, conform

SUMMARY_FILE = "summary.json"
LOG_FILE = "crawl.log"


class RefreshLocked(RuntimeError):
    """Another refresh holds this data directory."""


@dataclass
class CrawlOptions:
    start_urls: list[str] = field(default_factory=lambda: list(DEFAULT_START_URLS))
    delay: float | None = None  # seconds between requests to a host; None = polite default
    concurrency: int | None = None  # requests in flight; None = polite default
    settings: dict[str, Any] = field(default_factory=dict)  # any other Scrapy setting

    def scrapy_settings(self, run_dir: Path) -> Settings:
        settings = Settings()
        settings.setmodule("crawler.settings", priority="project")
        settings.set("MODELCAT_RUN_DIR", str(run_dir), priority="cmdline")
        settings.set("LOG_FILE", str(run_dir / LOG_FILE), priority="cmdline")
        if self.delay is not None:
            settings.set("DOWNLOAD_DELAY", self.delay, priority="cmdline")
            settings.set("AUTOTHROTTLE_START_DELAY", self.delay, priority="cmdline")
            # AutoThrottle only ever slows down; with no delay asked for, it has no job.
            settings.set("AUTOTHROTTLE_ENABLED", self.delay > 0, priority="cmdline")
        if self.concurrency is not None:
            settings.set("CONCURRENT_REQUESTS", self.concurrency, priority="cmdline")
            settings.set("CONCURRENT_REQUESTS_PER_DOMAIN", self.concurrency, priority="cmdline")
        settings.update(self.settings, priority="cmdline")
        return settings


@dataclass
class RunSummary:
    run_id: str
    started_at: str
    start_urls: list[str]
    status: str = "failed"  # published, refused or failed
    message: str | None = None
    finished_at: str | None = None
    crawl_finish_reason: str | None = None
    pages_seen: int = 0
    pages_by_outcome: dict[str, int] = field(default_factory=dict)
    pages_retried: int = 0
    models_published: int = 0
    official_prices: int = 0
    provider_offers: int = 0
    quality_issues_by_kind: dict[str, int] = field(default_factory=dict)
    failed_pages: list[dict[str, str | None]] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    def write(self, run_dir: Path) -> None:
        (run_dir / SUMMARY_FILE).write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")


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


def crawl(run_dir: Path, options: CrawlOptions, on_page: Callable[[PageItem], None]) -> dict:
    """Run the spider into ``run_dir``; returns Scrapy's stats. Blocks until done."""
    run_dir.mkdir(parents=True, exist_ok=True)
    process = AsyncCrawlerProcess(options.scrapy_settings(run_dir))
    crawler = process.create_crawler(PipeLLMSpider)
    crawler.signals.connect(lambda item, **_: on_page(item), signal=signals.item_scraped)
    process.crawl(crawler, start_urls=options.start_urls)
    process.start()
    stats_file = run_dir / CRAWL_STATS_FILE
    return json.loads(stats_file.read_text()) if stats_file.exists() else {}


def refresh(
    data_dir: DataDir,
    options: CrawlOptions,
    on_page: Callable[[PageItem], None] = lambda _item: None,
) -> RunSummary:
    """Crawl, build and publish one run. Raises ``RefreshLocked``; never half-publishes."""
    with locked(data_dir):
        data_dir.repair()
        run_id = new_run_id(data_dir)
        run_dir = data_dir.run(run_id)
        summary = RunSummary(run_id, _now(), list(options.start_urls))
        try:
            started = time.perf_counter()
            stats = crawl(run_dir, options, on_page)
            summary.seconds["crawl"] = round(time.perf_counter() - started, 3)
            summary.crawl_finish_reason = stats.get("finish_reason")
            _build_and_publish(data_dir, run_dir, summary)
        except Exception as error:
            summary.status, summary.message = "failed", f"{type(error).__name__}: {error}"
            raise
        finally:
            summary.finished_at = _now()
            summary.write(run_dir)
        return summary


def _build_and_publish(data_dir: DataDir, run_dir: Path, summary: RunSummary) -> None:
    started = time.perf_counter()
    tables = build_catalog(run_dir, summary.run_id)
    summary.seconds["build"] = round(time.perf_counter() - started, 3)
    _count(summary, tables)

    if summary.crawl_finish_reason != "finished":
        summary.status = "refused"
        summary.message = f"crawl did not finish (finish reason: {summary.crawl_finish_reason})"
        return
    if tables["models"].empty:
        summary.status = "refused"
        summary.message = "the run found no models; the previous catalog is kept"
        return

    started = time.perf_counter()
    summary.status = "published"
    summary.models_published = len(tables["models"])
    tables["runs"] = runs_table(data_dir, summary)
    publish(tables, data_dir, summary.run_id)
    summary.seconds["publish"] = round(time.perf_counter() - started, 3)


def _count(summary: RunSummary, tables: dict[str, pd.DataFrame]) -> None:
    pages = tables["pages"]
    summary.pages_seen = len(pages)
    summary.pages_by_outcome = dict(Counter(pages["outcome"].astype(str)))
    summary.pages_retried = int((pages["retries"] > 0).sum())
    summary.official_prices = len(tables["official_prices"])
    summary.provider_offers = len(tables["provider_offers"])
    summary.quality_issues_by_kind = dict(Counter(tables["quality_issues"]["kind"].astype(str)))
    failed = pages[pages["outcome"].isin(["failed", "quarantined", "disallowed"])]
    summary.failed_pages = [
        {"url": url, "outcome": outcome, "error": error}
        for url, outcome, error in zip(
            failed["url"], failed["outcome"], failed["error"].astype(object), strict=True
        )
    ]


def runs_table(data_dir: DataDir, current: RunSummary) -> pd.DataFrame:
    """Every run's summary, this one included, as the ``runs`` table."""
    summaries = [
        json.loads(path.read_text())
        for path in sorted(data_dir.runs.glob(f"*/{SUMMARY_FILE}"))
        if path.parent.name != current.run_id
    ]
    rows = [*summaries, {**asdict(current), "finished_at": current.finished_at or _now()}]
    frame = pd.DataFrame(
        {
            "run_id": [r["run_id"] for r in rows],
            "started_at": [_timestamp(r["started_at"]) for r in rows],
            "finished_at": [_timestamp(r.get("finished_at")) for r in rows],
            "start_urls": [r["start_urls"] for r in rows],
            "pages_seen": [r.get("pages_seen", 0) for r in rows],
            "models_published": [r.get("models_published", 0) for r in rows],
            "status": [r["status"] for r in rows],
            "message": [r.get("message") for r in rows],
        }
    )
    return conform(frame, TABLES["runs"])


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _timestamp(text: str | None) -> datetime | None:
    if text is None:
        return None
    return datetime.fromisoformat(text).astimezone(UTC).replace(tzinfo=None)
