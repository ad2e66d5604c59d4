"""The Scrapy side of staging: pipelines and the stats extension.

- ``ForwardToParent`` (what ``modelcat refresh`` runs): hand each item to the parent process,
  which stages the run (``transforms.pages.staging.Stager``) on the second core;
- ``StagingWriter`` (a plain ``scrapy crawl pipellm``): stage the run in this process;
- ``StatsFile``: write Scrapy's stats and finish reason to the run directory.
"""

from __future__ import annotations

import contextlib
import os
import pickle
from pathlib import Path
from typing import IO, Any, Self

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider

from crawler.stats import write_stats
from transforms.contract.layout import RunDir
from transforms.pages.archive import PageArchive
from transforms.pages.items import PageItem
from transforms.references.items import ReferenceItem
from transforms.references.log import stage_reference


class StagingWriter:
    """Scrapy pipeline: stage the run in the crawling process (a plain ``scrapy crawl``)."""

    def __init__(self, crawler: Crawler) -> None:
        # Imported here: a crawl that forwards its items never loads the stager's imports.
        from transforms.pages.staging import Stager

        settings = crawler.settings
        archive = settings.get("MODELCAT_ARCHIVE_DIR")
        validators = settings.get("MODELCAT_VALIDATORS_FILE")
        self.run_dir = run_dir(crawler)
        # Reference bodies are archived like pages (here, when the run has no archive).
        self.archive = PageArchive(Path(archive) if archive else self.run_dir.path / "archive")
        self.stager = Stager(
            run_dir(crawler),
            PageArchive(Path(archive)) if archive else None,
            Path(validators) if validators else None,
        )

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_item(self, item: PageItem | ReferenceItem) -> PageItem | ReferenceItem:
        if isinstance(item, ReferenceItem):
            stage_reference(item, self.run_dir.reference_log, self.archive)
        else:
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

    def process_item(self, item: PageItem | ReferenceItem) -> PageItem | ReferenceItem:
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
        self.path = run_dir(crawler).crawl_stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        extension = cls(crawler)
        crawler.signals.connect(extension.write, signal=signals.spider_closed)
        return extension

    def write(self, spider: Any, reason: str) -> None:
        write_stats(self.path, dict(self.crawler.stats.get_stats()), reason)


def run_dir(crawler: Crawler) -> RunDir:
    return RunDir(Path(crawler.settings["MODELCAT_RUN_DIR"]))
