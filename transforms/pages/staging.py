"""Stage a run: every page as it arrives, streamed to disk, so no body is held for long.

A staged run (``runs/RUN_ID/``, file names in ``transforms.contract.layout``) is what ``transforms``
reads:
- ``pages.jsonl``: one line per URL touched (``PageItem`` without its body);
- ``page_values.parquet``: every value of every model page, as written (``Page.cells()``),
  one row group per batch of whole pages, in ``transforms.contract.PAGE_VALUES_SCHEMA``;
- ``crawl_stats.json``: Scrapy's stats when the spider closed (``crawler.pipelines``).
Bodies go to the page archive, and what each URL was served with to the validator store.

The ``Stager`` knows nothing of Scrapy. ``modelcat refresh`` runs it in its own process, fed
by the crawl child over a pipe, so parsing, archiving and staging use the second core while
the first one crawls; a plain ``scrapy crawl pipellm`` runs it in the crawling process
(``crawler.pipelines.StagingWriter``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from transforms.contract import PAGE_VALUES_SCHEMA
from transforms.contract.layout import PAGE_VALUES_FILE, PAGES_FILE
from transforms.contract.vocabulary import PageOutcome
from transforms.pages.archive import PageArchive, Validator, Validators
from transforms.pages.items import PageItem
from transforms.pages.parse import NotMarkdown, Page, decode_markdown, parse_page, unreadable

_BATCH_PAGES = 500
# Outcomes after which the store's entry for a URL stands as it was: a later 304 needs it.
_ENTRY_STANDS = {PageOutcome.FAILED, PageOutcome.QUARANTINED, PageOutcome.DISALLOWED}


class Stager:
    """Stages one run from the crawl's items: archive, parse, page log, values, validators."""

    def __init__(
        self, run_dir: Path, archive: PageArchive | None, validators_file: Path | None
    ) -> None:
        self.run_dir = run_dir
        self.archive = archive
        self.validators_file = validators_file
        self.known = Validators.load(validators_file)  # the store as this run found it
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
        if item.outcome in _ENTRY_STANDS:
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
        still_known = {
            url: entry
            for url, entry in self.known.entries.items()
            if url not in self.seen.entries
            and self.archive is not None
            and self.archive.path(entry.content_sha256).exists()
        }
        self.validators_file.parent.mkdir(parents=True, exist_ok=True)
        Validators(still_known | self.seen.entries).save(self.validators_file)


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
