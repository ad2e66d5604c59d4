"""Stage a run: every page as it arrives, streamed to disk, so no body is held for long.

A staged run is what the build reads from the run's directory (``RunDir``): the page log
(one line per URL touched, ``transforms.pages.log``), the page values of every model page
fetched (``transforms.pages.values``) and the crawl's stats (``crawler.stats``). Bodies go
to the page archive, and what each URL was served with to the validator store.

The ``Stager`` knows nothing of Scrapy. ``modelcat refresh`` runs it in its own process, fed
by the crawl child over a pipe, so parsing, archiving and staging use the second core while
the first one crawls; a plain ``scrapy crawl pipellm`` runs it in the crawling process
(``crawler.pipelines.StagingWriter``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa

from transforms.contract.layout import RunDir
from transforms.contract.vocabulary import PageOutcome
from transforms.pages import outcome
from transforms.pages.archive import PageArchive, Validator, Validators
from transforms.pages.items import PageItem
from transforms.pages.log import PageLogWriter
from transforms.pages.parse import NotMarkdown, Page, decode_markdown, parse_page, unreadable
from transforms.pages.values import ValuesWriter, values_table

_BATCH_PAGES = 500


class Stager:
    """Stages one run from the crawl's items: archive, parse, page log, values, validators."""

    def __init__(
        self,
        run_dir: RunDir,
        archive: PageArchive | None,
        validators_file: Path | None,
        on_values: Callable[[pa.Table, list[dict[str, Any]]], None] | None = None,
        known: Validators | None = None,
    ) -> None:
        """``on_values`` is given each batch of page values as it is written, with the page
        log records of its pages (the build starts on them while the crawl goes on).
        ``known`` is ``validators_file`` as read already; it is then not read again."""
        self.archive = archive
        self.validators_file = validators_file
        self.on_values = on_values
        # The store as this run found it.
        self.known = known if known is not None else Validators.load(validators_file)
        self.seen = Validators()
        self.batch: list[tuple[str, str | None, Page]] = []
        self.batch_records: list[dict[str, Any]] = []
        self.log = PageLogWriter(run_dir)
        self.values = ValuesWriter(run_dir.page_values)

    def add(self, item: PageItem) -> None:
        if self.archive is not None and item.body is not None and item.content_sha256:
            self.archive.put(item.content_sha256, item.body)
        if not item.problems:
            item.problems = outcome.problems_of(outcome.Verdict(item.outcome, item.error))
        url, page = item.final_url or item.url, None
        if item.outcome is PageOutcome.MODEL and item.body is not None:
            try:
                page = parse_page(decode_markdown(item.body), url)
            except NotMarkdown as reason:  # the crawler has checked this already
                item.outcome, item.error = outcome.unreadable(str(reason))
            except Exception as error:  # whatever a page does, it ends as its own row
                item.outcome, item.error = outcome.unreadable(unreadable(error))
            else:
                item.problems = page.problems
        self.remember(item)
        item.body = None  # archived and parsed: the item now costs no memory
        record = self.log.write(item)
        if page is not None:
            self.batch.append((url, item.content_sha256, page))
            self.batch_records.append(record)
            if len(self.batch) >= _BATCH_PAGES:
                self.flush()

    def remember(self, item: PageItem) -> None:
        url = item.final_url or item.url
        if item.outcome in outcome.KEEPS_VALIDATOR:
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

    def keep_validator(self, url: str, validator: Validator) -> None:
        """What a URL fetched beside the pages (a reference catalog) was served, for the
        store: its body is archived by the caller."""
        self.seen[url] = validator

    def flush(self) -> None:
        if self.batch:
            table = values_table(self.batch)
            self.values.write(table)
            if self.on_values is not None:
                self.on_values(table, self.batch_records)
            self.batch, self.batch_records = [], []

    def close(self) -> None:
        """Finish the run's files and write the validator store.

        The store learns what this run was served and keeps what it knew of the URLs the run
        did not answer for (failed, not reached when it was stopped, gone from the index)
        while the archive holds their bodies, so that a later 304 for them stays answerable:
        an outage or a Ctrl-C never costs the next run its conditional requests.
        """
        self.flush()
        self.values.close()
        self.log.close()
        if self.archive is not None:
            self.archive.seal()
        if self.validators_file is None:
            return
        # Every body ``seen`` names was archived above, before the store is written.
        still_known = {
            url: entry
            for url, entry in self.known.entries.items()
            if url not in self.seen.entries
            and self.archive is not None
            and self.archive.holds(entry.content_sha256)
        }
        learnt = still_known | self.seen.entries
        # A run that learnt nothing new (every page answered 304) leaves a store it read
        # whole as it was: writing 10,000 URLs again took 0.07 s.
        if learnt == self.known.entries and self.known.whole and self.validators_file.exists():
            return
        self.validators_file.parent.mkdir(parents=True, exist_ok=True)
        Validators(learnt).save(self.validators_file)
