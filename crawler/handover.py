"""The crawl child's side of the pipe to ``modelcat refresh``, which stages the run.

A refresh's crawl hands each page over from the spider's callback (``PipeLLMSpider.emit``)
rather than yielding it as an item: an item per page costs Scrapy's item path (every spider
middleware's output hook, the item pipeline and the ``item_scraped`` signal) about as much
CPU as our callback itself, and the crawl child is the process a refresh waits on.
"""

from __future__ import annotations

import contextlib
import os
import pickle
from typing import IO

from scrapy.exceptions import CloseSpider

from transforms.pages.items import PageItem
from transforms.references.items import ReferenceItem


class ParentPipe:
    """Items go pickled down the pipe ``fd``, which both ends own: our code on both sides,
    so pickle is safe here. A full pipe blocks the crawl, which bounds memory. Each item is
    flushed at once, so the parent's progress moves page by page rather than a buffer at a
    time (one write per item: ~20 us, measured)."""

    def __init__(self, fd: int) -> None:
        self.stream: IO[bytes] = os.fdopen(fd, "wb", buffering=1 << 16)

    def send(self, item: PageItem | ReferenceItem) -> None:
        """Hand ``item`` over; raises ``CloseSpider`` when the parent is gone."""
        try:
            pickle.dump(item, self.stream, protocol=pickle.HIGHEST_PROTOCOL)
            self.stream.flush()
        except BrokenPipeError:
            raise CloseSpider("the process staging this run is gone") from None

    def close(self) -> None:
        with contextlib.suppress(BrokenPipeError):
            self.stream.close()
