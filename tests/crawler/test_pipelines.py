"""The crawl's item pipelines (``crawler.pipelines``): what the crawl child sends its parent."""

from __future__ import annotations

import os
import pickle
import select
from datetime import UTC, datetime
from types import SimpleNamespace

from scrapy.settings import Settings

from crawler.pipelines import ForwardToParent
from transforms.contract.vocabulary import PageOutcome
from transforms.pages.items import PageItem


def test_each_page_reaches_the_staging_process_at_once() -> None:
    """The crawl child flushes every item down the pipe: progress moves page by page, not a
    64 KB buffer (~25 pages) at a time."""
    read_end, write_end = os.pipe()
    crawler = SimpleNamespace(settings=Settings({"MODELCAT_STREAM_FD": write_end}))
    forward = ForwardToParent(crawler)  # type: ignore[arg-type]
    try:
        item = PageItem(
            url="http://127.0.0.1/llms/models/a.md",
            final_url=None,
            http_status=200,
            outcome=PageOutcome.MODEL,
            content_type="model-detail-page",
            error=None,
            fetched_at=datetime.now(UTC),
            body=b"x" * 2000,
        )
        forward.process_item(item)
        ready, _, _ = select.select([read_end], [], [], 5)
        assert ready, "the item is still in the child's buffer"
        with os.fdopen(os.dup(read_end), "rb") as stream:
            received = pickle.load(stream)
        assert (received.url, received.body) == (item.url, b"x" * 2000)
    finally:
        forward.close_spider()
        os.close(read_end)
