"""``python -I -m crawler SPEC``: the crawl child that ``modelcat refresh`` starts.

SPEC is JSON, ``{"start_urls": [...], "references": {SOURCE: URL}, "settings": {NAME:
VALUE}}``, written by ``crawler.spec.crawl_spec``. The settings go on top of
``crawler.settings``, as ``scrapy crawl pipellm -s NAME=VALUE`` would put them, but without
Scrapy's project lookup:
``scrapy crawl`` adds the directory of the nearest ``scrapy.cfg`` to ``sys.path``, and
``python -m`` the working directory, so a ``crawler/`` package or any module in the
directory refresh runs from could be imported in place of ours. Run isolated (``-I``), this
process imports only installed code.
"""

from __future__ import annotations

import json
import sys

from scrapy.crawler import AsyncCrawlerProcess
from scrapy.settings import Settings


def crawl_settings(spec: str) -> tuple[list[str], Settings]:
    """The start URLs and the settings of the crawl SPEC asks for (``crawl_spec`` writes it)."""
    options = json.loads(spec)
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.update(options["settings"], priority="cmdline")
    return options["start_urls"], settings


def main(spec: str) -> int:
    # Imported here: the bench's minimal spider builds its settings with ``crawl_settings``
    # and must not load ours.
    from crawler.spiders.pipellm import PipeLLMSpider

    start_urls, settings = crawl_settings(spec)
    process = AsyncCrawlerProcess(settings)
    references = json.loads(spec).get("references", {})
    process.crawl(PipeLLMSpider, start_urls=start_urls, references=references)
    process.start()
    return 1 if process.bootstrap_failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
