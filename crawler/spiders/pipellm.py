"""The ``pipellm`` spider: walk a markdown mirror from its llms.txt index(es).

Every URL it touches becomes one ``PageItem`` - models, skipped pages and failures alike -
so the run can account for all of them. It follows markdown links to ``.md``/``.txt`` pages
on the start URLs' own hosts; the front matter's ``content_type`` decides what a page is.

The spider follows redirects itself, so that each URL is one item and is fetched once: a
redirect is a ``redirected`` item whose ``final_url`` is its target, and the target, if it is on
those hosts, is crawled as a page of its own (Scrapy's redirect handling would fold the two
into one item, and drop without a trace a redirect to a URL crawled already or off the site).
An HTML page's meta refresh is not followed: a login wall is quarantined where it stands.

The reference catalogs of the run (``references``: source -> URL) are fetched in the same
crawl, with the same politeness, robots.txt, retries and size caps, each one a
``ReferenceItem``; redirects are followed for them (raw GitHub files move).

When ``MODELCAT_VALIDATORS_FILE`` is set, requests for pages seen before carry
``If-None-Match`` / ``If-Modified-Since``; a 304 answer is turned into a ``not_modified``
item from what the validator store remembers of the page, without reading or parsing it.

With ``MODELCAT_STREAM_FD`` set (a refresh's crawl child), items go down that pipe to the
process staging the run from the callback itself (``emit``), not through Scrapy's item path.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self, TypeVar
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.handover import ParentPipe
from crawler.site import DEFAULT_START_URLS, follows, on_site
from transforms.contract.vocabulary import PageOutcome
from transforms.pages import outcome
from transforms.pages.archive import PageArchive, Validators
from transforms.pages.items import PageItem
from transforms.pages.parse import NotMarkdown, decode_markdown, peek_page, unreadable
from transforms.references.items import ReferenceItem

REDIRECTS = (301, 302, 303, 307, 308)
Item = TypeVar("Item", PageItem, ReferenceItem)


class PipeLLMSpider(scrapy.Spider):
    name = "pipellm"

    def __init__(
        self,
        start_urls: str | list[str] | None = None,
        references: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        """``start_urls`` is a list, or a comma/space separated string for ``-a start_urls=``."""
        super().__init__(**kwargs)
        self.references = dict(references or {})
        if isinstance(start_urls, str):
            start_urls = start_urls.replace(",", " ").split()
        self.start_urls = list(start_urls or DEFAULT_START_URLS)
        # Links and redirects are followed only to these (host and port).
        self.hosts = {urlsplit(url).netloc for url in self.start_urls}
        self.known = Validators()  # what earlier runs were served; the stager updates it
        self.archive: PageArchive | None = None
        self.checked: dict[str, bool] = {}  # body hash -> intact in the archive
        self.parent: ParentPipe | None = None  # where items go, in a refresh's crawl child

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        if path := crawler.settings.get("MODELCAT_VALIDATORS_FILE"):
            spider.known = Validators.load(Path(path))
        if path := crawler.settings.get("MODELCAT_ARCHIVE_DIR"):
            spider.archive = PageArchive(Path(path))
        if (fd := crawler.settings.getint("MODELCAT_STREAM_FD", -1)) >= 0:
            spider.parent = ParentPipe(fd)
            # Closed once the spider is closed and the stats file written (``StatsFile``, on
            # spider_closed): the parent goes on building while this process shuts down.
            crawler.signals.connect(spider.parent.close, signal=signals.engine_stopped)
        return spider

    def emit(self, item: Item) -> Iterator[Item]:
        """Yield ``item`` to Scrapy's item pipeline, or hand it to the parent process."""
        if self.parent is None:
            yield item
            return
        self.parent.send(item)
        self.crawler.stats.inc_value("modelcat/items_handed_over")

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for source, url in self.references.items():
            known = self.known.get(url)
            # Revalidated only when the archive gives the body back, as for pages.
            headers = known.request_headers() if known and self.intact(known.content_sha256) else {}
            yield scrapy.Request(
                url,
                headers=headers,
                callback=self.reference,
                errback=self.reference_failed,
                cb_kwargs={"source": source},
                meta={"handle_httpstatus_list": [304] if headers else []},
                dont_filter=True,
            )
        for url in self.start_urls:
            yield self.request(url)

    def reference(self, response: Response, source: str) -> Iterator[ReferenceItem]:
        request = response.request
        url = request.url if request is not None else response.url
        item = ReferenceItem(
            source=source,
            url=url,
            fetched_at=datetime.now(UTC),
            http_status=response.status,
            error=None,
            body=response.body,
            content_sha256=hashlib.sha256(response.body).hexdigest(),
            retries=request.meta.get("retry_times", 0) if request is not None else 0,
            etag=_header(response, "ETag"),
            last_modified=_header(response, "Last-Modified"),
        )
        known = self.known.get(url)
        if response.status == 304 and known is not None:  # the archived body still holds
            item.body, item.content_sha256 = None, known.content_sha256
            item.etag = item.etag or known.etag
            item.last_modified = item.last_modified or known.last_modified
        yield from self.emit(item)

    def reference_failed(self, failure: Failure) -> Iterator[ReferenceItem]:
        request = failure.request  # type: ignore[attr-defined]
        status = failure.value.response.status if isinstance(failure.value, HttpError) else None
        item = ReferenceItem(
            source=request.cb_kwargs["source"],
            url=request.url,
            fetched_at=datetime.now(UTC),
            http_status=status,
            error=_describe(failure),
            retries=request.meta.get("retry_times", 0),
        )
        yield from self.emit(item)

    def request(self, url: str) -> scrapy.Request:
        headers: dict[str, str] = {}
        known = self.known.get(url)
        # Revalidate only what the archive gives back intact: a 304 must be answerable offline,
        # and a damaged body is fetched again (and archived again) instead.
        if known and self.intact(known.content_sha256):
            headers = known.request_headers()
        return scrapy.Request(
            url,
            headers=headers,
            callback=self.parse,
            errback=self.failed,
            meta={
                "dont_redirect": True,
                "handle_httpstatus_list": [*REDIRECTS, 304] if headers else list(REDIRECTS),
            },
        )

    def intact(self, sha256: str) -> bool:
        """Whether the archive gives back this body, checked once per crawl (a page linked
        from many pages is requested, and dropped as a duplicate, as often)."""
        if sha256 not in self.checked:
            self.checked[sha256] = self.archive is not None and self.archive.intact(sha256)
        return self.checked[sha256]

    def parse(self, response: Response, **kwargs: Any) -> Iterator[PageItem | scrapy.Request]:
        if response.status == 304:
            yield from self.not_modified(response)
            return
        if response.status in REDIRECTS:
            yield from self.redirect(response)
            return
        item = self.page_item(response, PageOutcome.SKIPPED)
        try:
            # Only what the crawl needs; the stager parses model pages in full.
            peek = peek_page(
                decode_markdown(response.body, _header(response, "Content-Type")), response.url
            )
        except NotMarkdown as reason:
            item.outcome, item.error = outcome.unreadable(str(reason))
            yield from self.emit(item)
            return
        except Exception as error:  # whatever a page does, it ends as its own row
            item.outcome, item.error = outcome.unreadable(unreadable(error))
            yield from self.emit(item)
            return
        item.content_type, item.links = peek.content_type, peek.links
        item.outcome, item.error = outcome.answered(peek.content_type, peek.doubt)
        yield from self.emit(item)
        yield from self.follow(item.links)

    def not_modified(self, response: Response) -> Iterator[PageItem | scrapy.Request]:
        known = self.known.get(response.url)
        assert known is not None, "a 304 answers only a conditional request"
        item = self.page_item(response, PageOutcome.NOT_MODIFIED)
        item.body = None
        item.content_sha256, item.content_type = known.content_sha256, known.content_type
        item.links, item.problems = known.links, known.problems
        # A 304 may carry refreshed validators; keep whichever is newer.
        item.etag = item.etag or known.etag
        item.last_modified = item.last_modified or known.last_modified
        yield from self.emit(item)
        yield from self.follow(known.links)

    def redirect(self, response: Response) -> Iterator[PageItem | scrapy.Request]:
        item = self.page_item(response, PageOutcome.REDIRECTED)
        location = _header(response, "Location")
        target = response.urljoin(location) if location is not None else None
        on_site = target is not None and self.on_site(target)
        item.outcome, item.error = outcome.redirected(response.status, target, on_site=on_site)
        item.final_url = target or item.final_url
        if target is not None and on_site:
            # Already crawled or scheduled? The dupefilter drops it: one fetch per URL.
            yield self.request(target)
        yield from self.emit(item)

    def follow(self, links: list[str]) -> Iterator[scrapy.Request]:
        for link in links:
            if self.should_follow(link):
                yield self.request(link)

    def should_follow(self, url: str) -> bool:
        if not self.on_site(url):
            self.crawler.stats.inc_value("modelcat/links/offsite")
            return False
        return follows(url, self.hosts)

    def on_site(self, url: str) -> bool:
        return on_site(url, self.hosts)

    def page_item(self, response: Response, result: PageOutcome) -> PageItem:
        request = response.request
        return PageItem(
            url=response.url,
            final_url=response.url,
            http_status=response.status,
            outcome=result,
            content_type=None,
            error=None,
            fetched_at=datetime.now(UTC),
            retries=request.meta.get("retry_times", 0) if request is not None else 0,
            body=response.body,
            content_sha256=hashlib.sha256(response.body).hexdigest(),
            etag=_header(response, "ETag"),
            last_modified=_header(response, "Last-Modified"),
        )

    def failed(self, failure: Failure) -> Iterator[PageItem]:
        request = failure.request  # type: ignore[attr-defined]
        http_error = failure.check(HttpError) is not None
        # HttpError is an IgnoreRequest too; robots.txt raises a plain one.
        ignored = not http_error and failure.check(IgnoreRequest) is not None
        verdict = outcome.failed(_describe(failure), ignored=ignored)
        item = PageItem(
            url=request.url,
            final_url=None,
            http_status=None,
            outcome=verdict.outcome,
            content_type=None,
            error=verdict.error,
            fetched_at=datetime.now(UTC),
            retries=request.meta.get("retry_times", 0),
        )
        if isinstance(failure.value, HttpError):
            response = failure.value.response
            item.final_url, item.http_status = response.url, response.status
        yield from self.emit(item)


def _header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def _describe(failure: Failure) -> str:
    if isinstance(failure.value, HttpError):
        return f"HTTP {failure.value.response.status}"
    name, message = type(failure.value).__name__, str(failure.value)
    if "larger than download max size" in message:
        return f"{outcome.OVERSIZE}: {message.split(' in request')[0]}"
    return f"{name}: {message}" if message else name
