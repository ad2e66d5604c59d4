"""``python -I -m crawler``: the crawl child that ``modelcat refresh`` starts.

It imports Scrapy first, then reads its SPEC, one line of JSON, from stdin: the refresh
starts it before it knows the run (``modelcat.run.child``), so the two start-ups overlap. An
empty stdin means the refresh ended without crawling, and the child exits. SPEC is
``{"start_urls": [...], "references": {SOURCE: URL}, "settings": {NAME: VALUE}}``, written
by ``crawler.spec.crawl_spec``. The settings go on top of ``crawler.settings``, as ``scrapy
crawl pipellm -s NAME=VALUE`` would put them, but without Scrapy's project lookup:
``scrapy crawl`` adds the directory of the nearest ``scrapy.cfg`` to ``sys.path``, and
``python -m`` the working directory, so a ``crawler/`` package or any module in the
directory refresh runs from could be imported in place of ours. Run isolated (``-I``), this
process imports only installed code.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scrapy.settings import Settings


def crawl_settings(spec: str) -> tuple[list[str], Settings]:
    """The start URLs and the settings of the crawl SPEC asks for (``crawl_spec`` writes it)."""
    from scrapy.settings import Settings

    options = json.loads(spec)
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.update(options["settings"], priority="cmdline")
    return options["start_urls"], settings


def main() -> int:
    # Until the SPEC comes, a Ctrl-C is the refresh's to handle: it then closes our stdin.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Imported before the SPEC is read: this is the start-up the refresh overlaps with its own.
    from scrapy.crawler import AsyncCrawlerProcess

    from crawler.spiders.pipellm import PipeLLMSpider

    spec = sys.stdin.readline()
    if not spec:
        return 0
    signal.signal(signal.SIGINT, signal.default_int_handler)
    start_urls, settings = crawl_settings(spec)
    _write_output_to(settings["LOG_FILE"])
    process = AsyncCrawlerProcess(settings)
    references = json.loads(spec).get("references", {})
    process.crawl(PipeLLMSpider, start_urls=start_urls, references=references)
    process.start()
    return 1 if process.bootstrap_failed else 0


def _write_output_to(log_file: str) -> None:
    """Anything written to stdout or stderr (a warning, a traceback Scrapy's logging did not
    catch) goes to the crawl's log too, not to the terminal of the refresh."""
    log = os.open(log_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.dup2(log, sys.stdout.fileno())
    os.dup2(log, sys.stderr.fileno())
    os.close(log)


if __name__ == "__main__":
    sys.exit(main())
