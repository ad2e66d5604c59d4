"""The engine ceiling: a Scrapy spider that requests the index, follows its links and does
nothing with the pages, under the production settings minus the politeness delays.

``python -m bench.minimal_spider URL [--concurrency 32]`` prints one JSON line with Scrapy's
response counts and the crawl's elapsed seconds. Everything ``modelcat refresh`` does beyond
this (parsing, staging, building, publishing) is what the two throughputs differ by.
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import scrapy
from scrapy.crawler import AsyncCrawlerProcess
from scrapy.http import Response
from scrapy.settings import Settings

from crawler.__main__ import crawl_settings
from crawler.spec import CrawlOptions, crawl_spec
from transforms.contract.layout import DataDir, RunDir

# The markdown links of the index; the same targets the production spider follows.
LINK = re.compile(r"\]\(\s*<?([^)\s>]+\.md)>?\s*\)")


class MinimalSpider(scrapy.Spider):
    name = "minimal"

    def __init__(self, index_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.index_url = index_url

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield scrapy.Request(self.index_url, callback=self.parse)

    def parse(self, response: Response, **kwargs: Any) -> Iterator[scrapy.Request]:
        for link in LINK.findall(response.text):
            yield response.follow(link, callback=self.page)

    def page(self, response: Response, **kwargs: Any) -> None:
        """The page is fetched; that is all this spider is for."""


def settings(concurrency: int, scratch: Path) -> Settings:
    """The settings ``modelcat refresh --delay 0 --concurrency N`` crawls with (built by the
    same code), but for the pipelines: this spider hands no page on."""
    options = CrawlOptions(delay=0, concurrency=concurrency)
    _, result = crawl_settings(crawl_spec(options, DataDir(scratch), RunDir(scratch)))
    result.set("ITEM_PIPELINES", {}, priority="cmdline")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="minimal-spider-") as scratch:
        process = AsyncCrawlerProcess(settings(args.concurrency, Path(scratch)))
        crawler = process.create_crawler(MinimalSpider)
        process.crawl(crawler, index_url=args.url)
        process.start()
        stats = crawler.stats.get_stats() if crawler.stats else {}
    print(
        json.dumps(
            {
                "responses": stats.get("downloader/response_count", 0),
                "status_200": stats.get("downloader/response_status_count/200", 0),
                "elapsed_s": stats.get("elapsed_time_seconds"),
                "finish_reason": stats.get("finish_reason"),
            }
        )
    )


if __name__ == "__main__":
    main()
