"""The ``pipellm`` spider: walk a markdown mirror from its llms.txt index(es).

Every URL it touches becomes one ``PageItem`` - models, skipped pages and failures alike -
so the run can account for all of them. It follows markdown links to ``.md``/``.txt`` pages
on the start URLs' own hosts; the front matter's ``content_type`` decides what a page is.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.items import Outcome, PageItem
from crawler.parse import NotMarkdown, decode_markdown, parse_page

DEFAULT_START_URLS = ("https://www.pipellm.ai/llms.txt",)
FOLLOWED_SUFFIXES = (".md", ".txt")


class PipeLLMSpider(scrapy.Spider):
    name = "pipellm"

    def __init__(self, start_urls: str | list[str] | None = None, **kwargs: Any) -> None:
        """``start_urls`` is a list, or a comma/space separated string for ``-a start_urls=``."""
        super().__init__(**kwargs)
        if isinstance(start_urls, str):
            start_urls = start_urls.replace(",", " ").split()
        self.start_urls = list(start_urls or DEFAULT_START_URLS)
        self.hosts = {urlsplit(url).netloc for url in self.start_urls}
        # Scrapy's offsite check drops redirects that leave the site (by host name).
        self.allowed_domains = sorted({urlsplit(url).hostname or "" for url in self.start_urls})

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.start_urls:
            yield self.request(url)

    def request(self, url: str) -> scrapy.Request:
        return scrapy.Request(url, callback=self.parse, errback=self.failed)

    def parse(self, response: Response, **kwargs: Any) -> Iterator[PageItem | scrapy.Request]:
        item = self.page_item(response, Outcome.SKIPPED)
        try:
            text = decode_markdown(response.body, _header(response, "Content-Type"))
        except NotMarkdown as reason:
            item.outcome, item.error = Outcome.QUARANTINED, str(reason)
            yield item
            return
        page = parse_page(text, response.url)
        item.content_type = page.content_type
        if page.is_model:
            item.outcome, item.page, item.problems = Outcome.MODEL, page, page.problems
        yield item
        for link in page.links:
            if self.should_follow(link):
                yield self.request(link)

    def should_follow(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or parts.netloc not in self.hosts:
            self.crawler.stats.inc_value("modelcat/links/offsite")
            return False
        return parts.path.endswith(FOLLOWED_SUFFIXES)

    def page_item(self, response: Response, outcome: Outcome) -> PageItem:
        request = response.request
        meta = request.meta if request is not None else {}
        return PageItem(
            url=meta.get("redirect_urls", [response.url])[0],
            final_url=response.url,
            http_status=response.status,
            outcome=outcome,
            content_type=None,
            error=None,
            fetched_at=datetime.now(UTC),
            retries=meta.get("retry_times", 0),
            body=response.body,
            content_sha256=hashlib.sha256(response.body).hexdigest(),
        )

    def failed(self, failure: Failure) -> Iterator[PageItem]:
        request = failure.request  # type: ignore[attr-defined]
        url = request.meta.get("redirect_urls", [request.url])[0]
        item = PageItem(
            url=url,
            final_url=None,
            http_status=None,
            outcome=Outcome.FAILED,
            content_type=None,
            error=_describe(failure),
            fetched_at=datetime.now(UTC),
            retries=request.meta.get("retry_times", 0),
        )
        if failure.check(HttpError):
            response = failure.value.response
            item.final_url, item.http_status = response.url, response.status
        elif failure.check(IgnoreRequest):
            item.outcome = Outcome.DISALLOWED
        elif "max size" in item.error:
            item.outcome = Outcome.QUARANTINED
        yield item


def _header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def _describe(failure: Failure) -> str:
    if failure.check(HttpError):
        return f"HTTP {failure.value.response.status}"
    message = str(failure.value) or type(failure.value).__name__
    if "larger than download max size" in message:
        return "body over the size cap: " + message.split(" in request")[0]
    return f"{type(failure.value).__name__}: {message}"
