"""Downloader middlewares of our own."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from scrapy import Request
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Response
from scrapy.settings import BaseSettings


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retry rules, plus a wait before each retry.

    The wait doubles with each attempt (``RETRY_BACKOFF_BASE`` × 2^(n-1), ±50 % jitter) so a
    struggling server gets room, and honours a 429/503 ``Retry-After`` up to
    ``RETRY_BACKOFF_MAX``. It holds no download slot while it waits.
    """

    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)
        self.backoff_base = settings.getfloat("RETRY_BACKOFF_BASE", 1.0)
        self.backoff_max = settings.getfloat("RETRY_BACKOFF_MAX", 60.0)

    # Scrapy awaits a coroutine middleware method (2.13+); the base class is typed sync.
    async def process_response(  # type: ignore[override]
        self, request: Request, response: Response
    ) -> Request | Response:
        result = super().process_response(request, response)
        if isinstance(result, Request):
            await asyncio.sleep(self.delay(result, response))
        return result

    async def process_exception(  # type: ignore[override]
        self, request: Request, exception: Exception
    ) -> Request | Response | None:
        result = super().process_exception(request, exception)
        if isinstance(result, Request):
            await asyncio.sleep(self.delay(result, None))
        return result

    def delay(self, retry: Request, response: Response | None) -> float:
        attempt = retry.meta.get("retry_times", 1)
        backoff = self.backoff_base * 2 ** (attempt - 1) * random.uniform(0.5, 1.5)
        if response is not None:
            backoff = max(backoff, retry_after_seconds(response) or 0.0)
        return min(backoff, self.backoff_max)


def retry_after_seconds(response: Response) -> float | None:
    """A ``Retry-After`` header as seconds: either delta-seconds or an HTTP date."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
