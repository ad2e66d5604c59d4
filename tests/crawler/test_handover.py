"""How the crawl child hands pages to the process staging the run (``crawler.handover``)."""

from __future__ import annotations

import os
import pickle
import select
from datetime import UTC, datetime
from pathlib import Path

import pytest
import scrapy
from scrapy.exceptions import CloseSpider
from scrapy.http import TextResponse
from scrapy.utils.test import get_crawler

from crawler.handover import ParentPipe
from crawler.spiders.pipellm import PipeLLMSpider
from transforms.contract.vocabulary import PageOutcome
from transforms.pages.items import PageItem

SITE = Path(__file__).parents[2] / "modelcat" / "demo" / "site"
PAGE = "llms/models/claude-3-haiku-20240307.md"
URL = f"http://127.0.0.1:8000/{PAGE}"


def _item() -> PageItem:
    return PageItem(
        url=URL,
        final_url=None,
        http_status=200,
        outcome=PageOutcome.MODEL,
        content_type="model-detail-page",
        error=None,
        fetched_at=datetime.now(UTC),
        body=b"x" * 2000,
    )


def test_each_page_reaches_the_staging_process_at_once() -> None:
    """Every item is flushed down the pipe: progress moves page by page, not a 64 KB buffer
    (~25 pages) at a time."""
    read_end, write_end = os.pipe()
    parent = ParentPipe(write_end)
    try:
        parent.send(_item())
        ready, _, _ = select.select([read_end], [], [], 5)
        assert ready, "the item is still in the child's buffer"
        with os.fdopen(os.dup(read_end), "rb") as stream:
            received = pickle.load(stream)
        assert (received.url, received.body) == (URL, b"x" * 2000)
    finally:
        parent.close()
        os.close(read_end)


def test_a_parent_that_is_gone_closes_the_crawl() -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)
    parent = ParentPipe(write_end)
    with pytest.raises(CloseSpider) as closing:
        parent.send(_item())
    assert closing.value.reason == "the process staging this run is gone"
    parent.close()  # closing a broken pipe is no error


def _parse(settings: dict) -> tuple[PipeLLMSpider, list]:
    crawler = get_crawler(PipeLLMSpider, settings_dict=settings)
    crawler.stats.open_spider()
    spider = PipeLLMSpider.from_crawler(crawler, start_urls=["http://127.0.0.1:8000/llms.txt"])
    body = (SITE / PAGE).read_bytes() + b"\nSee [Claude 3 Opus](claude-3-opus-20240229.md).\n"
    response = TextResponse(
        URL,
        body=body,
        headers={"Content-Type": "text/markdown; charset=utf-8"},
        request=scrapy.Request(URL),
    )
    return spider, list(spider.parse(response))


def test_a_refresh_crawl_hands_pages_over_from_the_callback() -> None:
    """With the pipe set, the callback yields only the pages to follow: the page itself goes
    down the pipe, never through Scrapy's item path."""
    read_end, write_end = os.pipe()
    spider, output = _parse({"MODELCAT_STREAM_FD": write_end})
    assert spider.parent is not None
    spider.parent.close()
    with os.fdopen(read_end, "rb") as stream:
        received = pickle.load(stream)
        with pytest.raises(EOFError):
            pickle.load(stream)
    assert [type(o) for o in output] == [scrapy.Request]
    assert output[0].url.endswith("claude-3-opus-20240229.md")
    assert (received.url, received.outcome) == (URL, PageOutcome.MODEL)
    assert (
        received.body
        == (SITE / PAGE).read_bytes() + b"\nSee [Claude 3 Opus](claude-3-opus-20240229.md).\n"
    )
    assert spider.crawler.stats.get_value("modelcat/items_handed_over") == 1


def test_a_plain_crawl_yields_its_pages_as_items() -> None:
    spider, output = _parse({})
    assert spider.parent is None
    items = [o for o in output if isinstance(o, PageItem)]
    assert [(i.url, i.outcome) for i in items] == [(URL, PageOutcome.MODEL)]
    assert sum(isinstance(o, scrapy.Request) for o in output) == 1
