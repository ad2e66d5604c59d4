"""Stage the crawl: every page as it arrives, streamed to disk, so no body is held for long.

A staged run (``runs/RUN_ID/``) is what ``transforms`` reads:
- ``pages.jsonl``: one line per URL touched (``PageItem`` without its body);
- ``page_values.parquet``: every value of every model page, as written (``Page.cells()``),
  one row group per batch of whole pages;
- ``crawl_stats.json``: Scrapy's stats when the spider closed, with its finish reason.
Bodies go to the page archive, and what each URL was served with to the validator store.

The ``Stager`` does this work and knows nothing of Scrapy. It runs in the crawling process
behind ``StagingWriter`` for a plain ``scrapy crawl pipellm``; ``modelcat refresh`` runs it
in its own process instead, fed by ``ForwardToParent``, so parsing, archiving and staging
use the second core while the first one crawls.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any, Self

import pyarrow as pa
import pyarrow.parquet as pq
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider

from crawler.archive import PageArchive, Validator, Validators
from crawler.items import PageItem
from crawler.parse import NotMarkdown, Page, decode_markdown, parse_page, unreadable
from transforms.vocabulary import PageOutcome

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
# What a page that failed this time keeps of what we knew: a later 304 needs its entry.
_KEEPS_PREVIOUS = {PageOutcome.FAILED, PageOutcome.QUARANTINED, PageOutcome.DISALLOWED}


class Stager:
    """Stages one run from the crawl's items: archive, parse, page log, values, validators."""

    def __init__(
        self, run_dir: Path, archive: PageArchive | None, validators_file: Path | None
    ) -> None:
        self.run_dir = run_dir
        self.archive = archive
        self.validators_file = validators_file
        self.previous = Validators.load(validators_file)
        self.seen = Validators()
        self.batch: list[tuple[str, str | None, Page]] = []
        run_dir.mkdir(parents=True, exist_ok=True)
        self.pages = (run_dir / PAGES_FILE).open("w", encoding="utf-8")
        self.values = pq.ParquetWriter(
            run_dir / PAGE_VALUES_FILE, PAGE_VALUES_SCHEMA, compression="zstd"
        )

    def add(self, item: PageItem) -> None:
        if self.archive is not None and item.body is not None and item.content_sha256:
            self.archive.put(item.content_sha256, item.body)
        if item.outcome is PageOutcome.MODEL and item.body is not None:
            url = item.final_url or item.url
            try:
                page = parse_page(decode_markdown(item.body), url)
            except NotMarkdown as reason:  # the crawler has checked this already
                item.outcome, item.error = PageOutcome.QUARANTINED, str(reason)
            except Exception as error:  # whatever a page does, it ends as its own row
                item.outcome, item.error = PageOutcome.QUARANTINED, unreadable(error)
            else:
                item.problems = page.problems
                self.batch.append((url, item.content_sha256, page))
                if len(self.batch) >= _BATCH_PAGES:
                    self.flush()
        self.remember(item)
        item.body = None  # archived and parsed: the item now costs no memory
        self.pages.write(json.dumps(page_record(item), ensure_ascii=False) + "\n")

    def remember(self, item: PageItem) -> None:
        url = item.final_url or item.url
        if item.outcome in _KEEPS_PREVIOUS:
            return  # what we knew of the page stays (``close``): a later 304 needs it
        if item.outcome is not PageOutcome.REDIRECTED and item.content_sha256:
            self.seen[url] = Validator(
                etag=item.etag,
                last_modified=item.last_modified,
                content_sha256=item.content_sha256,
                content_type=item.content_type,
                links=item.links,
                problems=item.problems,
            )

    def flush(self) -> None:
        if self.batch:
            self.values.write_table(page_values_table(self.batch))
            self.batch = []

    def close(self) -> None:
        """Finish the run's files and write the validator store.

        The store learns what this run was served and keeps what it knew of the URLs the run
        did not answer for (failed, not reached when it was stopped, gone from the index)
        while the archive holds their bodies, so that a later 304 for them stays answerable:
        an outage or a Ctrl-C never costs the next run its conditional requests.
        """
        self.flush()
        self.values.close()
        self.pages.close()
        if self.validators_file is None:
            return
        # Every body ``seen`` names was archived above, before the store is written.
        kept = {
            url: known
            for url, known in self.previous.entries.items()
            if url not in self.seen.entries
            and self.archive is not None
            and self.archive.path(known.content_sha256).exists()
        }
        self.validators_file.parent.mkdir(parents=True, exist_ok=True)
        Validators(kept | self.seen.entries).save(self.validators_file)


class StagingWriter:
    """Scrapy pipeline: stage the run in the crawling process (a plain ``scrapy crawl``)."""

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        archive = settings.get("MODELCAT_ARCHIVE_DIR")
        validators = settings.get("MODELCAT_VALIDATORS_FILE")
        self.stager = Stager(
            run_dir(crawler),
            PageArchive(Path(archive)) if archive else None,
            Path(validators) if validators else None,
        )

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_item(self, item: PageItem) -> PageItem:
        self.stager.add(item)
        return item

    def close_spider(self) -> None:
        self.stager.close()


class ForwardToParent:
    """Scrapy pipeline: hand each item to the process that stages the run.

    Items go pickled down the pipe ``MODELCAT_STREAM_FD``, which both ends own: our code on
    both sides, so pickle is safe here. A full pipe blocks the crawl, which bounds memory.
    Each item is flushed at once, so the parent's progress moves page by page rather than a
    buffer at a time (one write per item: ~20 us, measured).
    """

    def __init__(self, crawler: Crawler) -> None:
        self.stream: IO[bytes] = os.fdopen(
            crawler.settings.getint("MODELCAT_STREAM_FD"), "wb", buffering=1 << 16
        )

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_item(self, item: PageItem) -> PageItem:
        try:
            pickle.dump(item, self.stream, protocol=pickle.HIGHEST_PROTOCOL)
            self.stream.flush()
        except BrokenPipeError:
            raise CloseSpider("the process staging this run is gone") from None
        item.body = None
        return item

    def close_spider(self) -> None:
        with contextlib.suppress(BrokenPipeError):
            self.stream.close()


class StatsFile:
    """Extension: write the crawl's stats and finish reason to the run directory."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.path = run_dir(crawler) / CRAWL_STATS_FILE

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        extension = cls(crawler)
        crawler.signals.connect(extension.write, signal=signals.spider_closed)
        return extension

    def write(self, spider: Any, reason: str) -> None:
        stats = dict(self.crawler.stats.get_stats())
        stats["finish_reason"] = reason
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(
            json.dumps(stats, default=str, indent=2, sort_keys=True), encoding="utf-8"
        )


def run_dir(crawler: Crawler) -> Path:
    return Path(crawler.settings["MODELCAT_RUN_DIR"])


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
