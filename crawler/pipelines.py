"""The Scrapy side of staging: the item pipeline and the stats extension.

- ``StagingWriter`` (a plain ``scrapy crawl pipellm``): stage the run in this process. A
  refresh's crawl has no item pipeline: its spider hands each page to the parent process,
  which stages the run on the second core (``crawler.handover``);
- ``StatsFile``: write Scrapy's stats and finish reason to the run directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Self

from scrapy import signals
from scrapy.crawler import Crawler

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
