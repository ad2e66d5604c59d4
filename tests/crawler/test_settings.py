"""Politeness is the default: only an explicit --delay/--concurrency lowers it.

Each case checks the very settings the crawl child runs with: the SPEC the parent writes
(``crawl_spec``, what ``modelcat.run.crawl`` sends the child on its stdin) read by the
child's own ``crawl_settings``.
"""

from __future__ import annotations

import json
from pathlib import Path

from crawler.__main__ import crawl_settings
from crawler.spec import CrawlOptions, crawl_spec
from crawler.spiders.pipellm import PipeLLMSpider
from transforms.contract.layout import DataDir, RunDir

DATA = DataDir(Path("/tmp/data"))
RUN = RunDir(Path("/tmp/data/runs/x"))


def settings(options: CrawlOptions, stream_fd: int | None = 7):
    start_urls, result = crawl_settings(crawl_spec(options, DATA, RUN, stream_fd=stream_fd))
    assert start_urls == options.start_urls
    return result


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


def test_a_refresh_crawl_forwards_its_pages_and_a_plain_crawl_stages_them() -> None:
    forwarding = settings(CrawlOptions(), stream_fd=7)
    assert forwarding.getdict("ITEM_PIPELINES") == {}  # pages go down the pipe, not as items
    assert forwarding.getint("MODELCAT_STREAM_FD") == 7
    staging = settings(CrawlOptions(), stream_fd=None)
    assert staging.getdict("ITEM_PIPELINES") == {"crawler.pipelines.StagingWriter": 300}
    assert staging.get("LOG_FILE") == str(RUN.path / "crawl.log")


def test_the_spec_is_what_the_child_is_given() -> None:
    """The spec is plain JSON on one command-line argument: no value is lost on the way."""
    options = CrawlOptions(["http://127.0.0.1:1/llms.txt"], settings={"LOG_LEVEL": "debug"})
    spec = json.loads(crawl_spec(options, DATA, RUN, stream_fd=3))
    assert spec["start_urls"] == ["http://127.0.0.1:1/llms.txt"]
    assert spec["settings"]["LOG_LEVEL"] == "DEBUG"
    assert settings(options).get("LOG_LEVEL") == "DEBUG"


def test_the_crawl_opens_no_console() -> None:
    """Neither the telnet console nor the remote control (which runs the code it is sent):
    a cron job opens no port into itself (``tests/e2e/test_crawl_end.py`` reads the log)."""
    crawl = settings(CrawlOptions(delay=0, concurrency=16))
    assert not crawl.getbool("TELNETCONSOLE_ENABLED")
    assert not crawl.getbool("REMOTE_CONTROL_ENABLED")
