"""Politeness is the default: only an explicit --delay/--concurrency lowers it."""

from __future__ import annotations

from pathlib import Path

from crawler.spiders.pipellm import PipeLLMSpider
from modelcat.refresh import CrawlOptions
from transforms.layout import DataDir


def settings(options: CrawlOptions):
    return options.scrapy_settings(DataDir(Path("/tmp/data")), Path("/tmp/data/runs/x"))


def test_defaults_are_polite_for_a_real_site() -> None:
    polite = settings(CrawlOptions())
    assert polite.getbool("ROBOTSTXT_OBEY")
    assert polite.getbool("AUTOTHROTTLE_ENABLED")
    assert polite.getfloat("DOWNLOAD_DELAY") >= 1
    assert polite.getint("CONCURRENT_REQUESTS_PER_DOMAIN") <= 2
    assert polite.get("USER_AGENT").startswith("modelcat/")
    assert polite.getint("RETRY_TIMES") >= 2
    assert 0 < polite.getint("DOWNLOAD_MAXSIZE") <= 64 * 1024 * 1024
    assert not polite.getbool("COOKIES_ENABLED")
    assert CrawlOptions().start_urls == ["https://www.pipellm.ai/llms.txt"]


def test_the_spider_does_not_override_settings() -> None:
    assert not getattr(PipeLLMSpider, "custom_settings", None)


def test_local_mirror_options_only_change_what_they_name() -> None:
    fast = settings(CrawlOptions(delay=0, concurrency=16, settings={"RETRY_TIMES": "5"}))
    assert fast.getfloat("DOWNLOAD_DELAY") == 0
    assert not fast.getbool("AUTOTHROTTLE_ENABLED")
    assert fast.getint("CONCURRENT_REQUESTS") == 16
    assert fast.getint("RETRY_TIMES") == 5
    assert fast.getbool("ROBOTSTXT_OBEY")  # still obeyed on a local mirror
    assert fast.get("MODELCAT_ARCHIVE_DIR") == "/tmp/data/archive"
