"""Scrapy settings: polite defaults for a real site.

``modelcat refresh --delay/--concurrency`` and the bench profile override the politeness
settings for local mirrors; nothing else should.
"""

from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version

try:
    _VERSION = version("modelcat")
except PackageNotFoundError:  # running from a checkout that was never installed
    _VERSION = "0"

BOT_NAME = "modelcat"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

USER_AGENT = (
    f"modelcat/{_VERSION} (LLM model catalog crawler; +https://github.com/modelcat/modelcat)"
)
ROBOTSTXT_OBEY = True

# Politeness: at most 2 requests in flight per host, a second apart, slower if the site is.
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0

# Each response yields one item; Scrapy's default of 100 starts that many tasks per response.
CONCURRENT_ITEMS = 1

DOWNLOAD_TIMEOUT = 30
# Model pages are a few KB; an index lists ~100 bytes a model (5 MB at 50,000 models).
DOWNLOAD_MAXSIZE = 32 * 1024 * 1024
DOWNLOAD_WARNSIZE = 16 * 1024 * 1024

RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
RETRY_BACKOFF_BASE = 1.0  # seconds before the first retry; doubles each time, with jitter
RETRY_BACKOFF_MAX = 60.0  # also caps a server's Retry-After

COOKIES_ENABLED = False
# No console into the crawl: neither the telnet one nor Scrapy 2.19's remote control, an
# HTTP server on localhost that runs the Python code it is sent (on by default, since
# Scrapy requires aiohttp). A cron job opens no port into itself.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
LOG_LEVEL = "INFO"

DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.BackoffRetryMiddleware": 550,
}
ITEM_PIPELINES = {"crawler.pipelines.StagingWriter": 300}
EXTENSIONS = {"crawler.pipelines.StatsFile": 500}

# Where the staged run goes. ``modelcat refresh`` sets it per run, and the archive and
# validator store too; a plain ``scrapy crawl pipellm`` stages a run of its own here.
MODELCAT_RUN_DIR = f"data/runs/scrapy-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
MODELCAT_ARCHIVE_DIR = ""
MODELCAT_VALIDATORS_FILE = ""
