"""Write the crawl to a staged run directory, streaming, so no body is held for long.

Every body is also put in the page archive (``MODELCAT_ARCHIVE_DIR``), when one is set.
A staged run is what ``transforms`` reads:
- ``pages.jsonl``: one line per URL touched (``PageItem`` without body and parsed page);
- ``page_values.parquet``: every value of every model page, as written (``Page.cells()``);
- ``crawl_stats.json``: Scrapy's stats when the spider closed, with its finish reason.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

import pyarrow as pa
import pyarrow.parquet as pq
from scrapy import signals
from scrapy.crawler import Crawler

from crawler.archive import PageArchive
from crawler.items import PageItem
from crawler.parse import Page

PAGES_FILE = "pages.jsonl"
PAGE_VALUES_FILE = "page_values.parquet"
CRAWL_STATS_FILE = "crawl_stats.json"

PAGE_VALUES_SCHEMA = pa.schema(
    [
        ("page_url", pa.string()),
        ("content_sha256", pa.string()),
        ("section", pa.string()),
        ("row_number", pa.int32()),
        ("row_label", pa.string()),
        ("column_label", pa.string()),
        ("raw_value", pa.string()),
    ]
)
_BATCH_PAGES = 500


class StagingWriter:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.run_dir = Path(crawler.settings["MODELCAT_RUN_DIR"] or default_run_dir())
        archive = crawler.settings.get("MODELCAT_ARCHIVE_DIR")
        self.archive = PageArchive(Path(archive)) if archive else None
        self.batch: list[tuple[str, str | None, Page]] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        writer = cls(crawler)
        crawler.signals.connect(writer.write_stats, signal=signals.spider_closed)
        return writer

    def open_spider(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.pages = (self.run_dir / PAGES_FILE).open("w", encoding="utf-8")
        self.values = pq.ParquetWriter(
            self.run_dir / PAGE_VALUES_FILE, PAGE_VALUES_SCHEMA, compression="zstd"
        )

    def process_item(self, item: PageItem) -> PageItem:
        if self.archive is not None and item.body is not None and item.content_sha256:
            self.archive.put(item.content_sha256, item.body)
        self.pages.write(json.dumps(page_record(item), ensure_ascii=False) + "\n")
        if item.page is not None:
            self.batch.append((item.final_url or item.url, item.content_sha256, item.page))
            if len(self.batch) >= _BATCH_PAGES:
                self.flush()
        # The body and parsed page are written; drop them so the item costs no memory.
        item.body = item.page = None
        return item

    def flush(self) -> None:
        if self.batch:
            self.values.write_table(page_values_table(self.batch))
            self.batch = []

    def close_spider(self) -> None:
        self.flush()
        self.values.close()
        self.pages.close()

    def write_stats(self, spider: Any, reason: str) -> None:
        stats = dict(self.crawler.stats.get_stats())
        stats["finish_reason"] = reason
        (self.run_dir / CRAWL_STATS_FILE).write_text(
            json.dumps(stats, default=str, indent=2, sort_keys=True), encoding="utf-8"
        )


def page_values_table(pages: Iterable[tuple[str, str | None, Page]]) -> pa.Table:
    """Every value of the given (url, body hash, parsed page) as ``page_values`` rows."""
    columns: dict[str, list[Any]] = {name: [] for name in PAGE_VALUES_SCHEMA.names}
    for url, sha256, page in pages:
        for cell in page.cells():
            columns["page_url"].append(url)
            columns["content_sha256"].append(sha256)
            columns["section"].append(cell.section)
            columns["row_number"].append(cell.row)
            columns["row_label"].append(cell.row_label)
            columns["column_label"].append(cell.column)
            columns["raw_value"].append(cell.raw)
    return pa.table(columns, schema=PAGE_VALUES_SCHEMA)


def default_run_dir() -> Path:
    """Where a plain ``scrapy crawl pipellm`` stages its run."""
    return Path("data") / "runs" / datetime.now(UTC).strftime("scrapy-%Y%m%dT%H%M%SZ")


def page_record(item: PageItem) -> dict[str, Any]:
    return {
        "url": item.url,
        "final_url": item.final_url,
        "http_status": item.http_status,
        "outcome": str(item.outcome),
        "content_type": item.content_type,
        "error": item.error,
        "fetched_at": item.fetched_at.isoformat(),
        "retries": item.retries,
        "content_sha256": item.content_sha256,
        "problems": item.problems,
    }
