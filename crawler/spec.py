"""The settings a crawl runs with: what ``--delay``, ``--concurrency`` and ``--set`` may change.

The parent builds the crawl child's SPEC here (``crawl_spec``), and the child turns it into
Scrapy settings (``crawler.__main__.crawl_settings``): ``crawler/settings.py`` with this run's
overrides on top. The settings invariant test and the bench build their settings the same way.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from crawler.site import DEFAULT_START_URLS
from transforms.contract.layout import DataDir, RunDir


def _seconds(text: str) -> float:
    """seconds, from 0 to a day"""
    value = float(text)
    if not 0 <= value < 86_400:
        raise ValueError
    return value


def _count(text: str) -> int:
    """a whole number from 0"""
    value = int(text)
    if not 0 <= value <= 2**40:
        raise ValueError
    return value


def _flag(text: str) -> bool:
    """true or false"""
    return {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}[
        text.strip().lower()
    ]


def _statuses(text: str) -> list[int]:
    """HTTP status codes from 400 to 599, comma-separated"""
    codes = [int(code) for code in text.replace(",", " ").split()]
    if not all(400 <= code <= 599 for code in codes):
        raise ValueError
    return codes


def _log_level(text: str) -> str:
    """DEBUG, INFO, WARNING, ERROR or CRITICAL"""
    if text.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        raise ValueError
    return text.upper()


def _header_text(text: str) -> str:
    """printable ASCII text"""
    if not text or not text.isprintable() or not text.isascii():
        raise ValueError
    return text


# What ``--set`` may change: the network, retries, politeness, timeouts, size caps and the
# log level, each read by its own reader. Anything else (pipelines, extensions,
# middlewares, spider modules, file paths, the consoles, robots.txt) would let a
# command line load code, write files or drop a promise, so it is refused.
USER_SETTINGS: dict[str, Callable[[str], Any]] = {
    "DOWNLOAD_TIMEOUT": _seconds,
    "DNS_TIMEOUT": _seconds,
    "DOWNLOAD_DELAY": _seconds,
    "RANDOMIZE_DOWNLOAD_DELAY": _flag,
    "CONCURRENT_REQUESTS": _count,
    "CONCURRENT_REQUESTS_PER_DOMAIN": _count,
    "AUTOTHROTTLE_ENABLED": _flag,
    "AUTOTHROTTLE_START_DELAY": _seconds,
    "AUTOTHROTTLE_MAX_DELAY": _seconds,
    "AUTOTHROTTLE_TARGET_CONCURRENCY": _seconds,
    "RETRY_ENABLED": _flag,
    "RETRY_TIMES": _count,
    "RETRY_HTTP_CODES": _statuses,
    "RETRY_BACKOFF_BASE": _seconds,
    "RETRY_BACKOFF_MAX": _seconds,
    "DOWNLOAD_MAXSIZE": _count,
    "DOWNLOAD_WARNSIZE": _count,
    "USER_AGENT": _header_text,
    "LOG_LEVEL": _log_level,
}


def user_setting(name: str, value: Any) -> Any:
    """A ``--set NAME=VALUE`` as the crawl takes it; ValueError says why it is refused."""
    reader = USER_SETTINGS.get(name)
    if reader is None:
        raise ValueError(f"{name} cannot be set; settable: {', '.join(sorted(USER_SETTINGS))}")
    try:
        return reader(str(value))
    except (ValueError, KeyError):
        raise ValueError(f"{name}={value!r}: expected {reader.__doc__}") from None


@dataclass
class CrawlOptions:
    start_urls: list[str] = field(default_factory=lambda: list(DEFAULT_START_URLS))
    delay: float | None = None  # seconds between requests to a host; None = polite default
    concurrency: int | None = None  # requests in flight; None = polite default
    settings: dict[str, Any] = field(default_factory=dict)  # of USER_SETTINGS only
    # The public catalogs to cross-check, source -> URL (``--reference``).
    references: dict[str, str] = field(default_factory=dict)

    def overrides(self, data_dir: DataDir, run_dir: RunDir) -> dict[str, Any]:
        """The Scrapy settings a run sets on top of ``crawler/settings.py``."""
        values: dict[str, Any] = {
            "MODELCAT_RUN_DIR": str(run_dir.path),
            "MODELCAT_ARCHIVE_DIR": str(data_dir.archive),
            "MODELCAT_VALIDATORS_FILE": str(data_dir.validators),
            "LOG_FILE": str(run_dir.crawl_log),
        }
        if self.delay is not None:
            # AutoThrottle only ever slows down; with no delay asked for, it has no job.
            values |= {
                "DOWNLOAD_DELAY": self.delay,
                "AUTOTHROTTLE_START_DELAY": self.delay,
                "AUTOTHROTTLE_ENABLED": self.delay > 0,
            }
        if self.concurrency is not None:
            values |= {
                "CONCURRENT_REQUESTS": self.concurrency,
                "CONCURRENT_REQUESTS_PER_DOMAIN": self.concurrency,
            }
        return values | {name: user_setting(name, value) for name, value in self.settings.items()}


def crawl_spec(
    options: CrawlOptions, data_dir: DataDir, run_dir: RunDir, stream_fd: int | None = None
) -> str:
    """The crawl child's SPEC (``python -I -m crawler`` reads it on stdin): its start URLs
    and settings.

    With ``stream_fd``, the child hands each page to this process down that pipe
    (``crawler.handover``) instead of staging the run itself, and runs no item pipeline.
    """
    settings = options.overrides(data_dir, run_dir)
    if stream_fd is not None:
        settings |= {"ITEM_PIPELINES": {}, "MODELCAT_STREAM_FD": stream_fd}
    return json.dumps(
        {"start_urls": options.start_urls, "references": options.references, "settings": settings}
    )
