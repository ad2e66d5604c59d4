"""Write the crawl to a staged run directory, streaming, so no body is held for long.

A staged run is what ``transforms`` reads:
- ``pages.jsonl``: one line per URL touched (``PageItem`` without body and parsed page);
- ``page_values.parquet``: every value of every model page, as written (``Page.cells()``);
- ``crawl_stats.json``: Scrapy's stats when the spider closed, with its finish reason.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Self

import pyarrow as pa
import pyarrow.parquet as pq
from scrapy import signals
from scrapy.crawler import Crawler

from crawler.items import PageItem

PAGES_FILE = "pages.jsonl"
PAGE_VALUES_FILE = "page_values.parquet"
CRAWL_STATS_FILE = "crawl_stats.json"

PAGE_VALUES_SCHEMA = pa.schema(
    [
        ("page_url", pa.string()),
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
        self.run_dir = Path(crawler.settings["MODELCAT_RUN_DIR"])
        self.buffer: dict[str, list[Any]] = {name: [] for name in PAGE_VALUES_SCHEMA.names}
        self.buffered_pages = 0

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
        self.pages.write(json.dumps(page_record(item), ensure_ascii=False) + "\n")
        if item.page is not None:
            url = item.final_url or item.url
            for cell in item.page.cells():
                self.buffer["page_url"].append(url)
                self.buffer["section"].append(cell.section)
                self.buffer["row_number"].append(cell.row)
                self.buffer["row_label"].append(cell.row_label)
                self.buffer["column_label"].append(cell.column)
                self.buffer["raw_value"].append(cell.raw)
            self.buffered_pages += 1
            if self.buffered_pages >= _BATCH_PAGES:
                self.flush()
        # The body and parsed page are written; drop them so the item costs no memory.
        item.body = item.page = None
        return item

    def flush(self) -> None:
        if self.buffered_pages:
            self.values.write_table(pa.table(self.buffer, schema=PAGE_VALUES_SCHEMA))
            self.buffer = {name: [] for name in PAGE_VALUES_SCHEMA.names}
            self.buffered_pages = 0

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
