"""Catalogs for the report's tests, and how to read a built site back.

``odd_catalog`` publishes, without a crawl (``tests.support.runs``), two runs of demo pages,
the hostile corpus (overlapping tiers, unread prices, odd tables) and pages whose Model IDs
hold what a file name or HTML must never take as is: ``/``, ``<script>``, quotes, ``&``,
capitals, ``:``, a leading dot, non-ASCII.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from tests.support import hostile
from tests.support.runs import SITE_MODELS, Answer, publish_run, raise_input_price
from tests.support.staging import BASE, demo_pages
from transforms.contract.layout import DataDir

ODD_IDS = (
    "org/model<script>alert(1)</script>",
    "Quote\"s & 'apostrophes'",
    ".hidden:v1",
    "ünïcode-模型",
    "org/Model",
    "org_model",
)


def odd_page(template: bytes, model_id: str) -> bytes:
    """A demo page that says ``model_id`` is its Model ID."""
    text = re.sub(r"- Model ID: .*", lambda _: f"- Model ID: {model_id}", template.decode())
    return text.encode()


def odd_catalog(data_dir: DataDir) -> None:
    site: dict[str, Answer] = dict(demo_pages(SITE_MODELS))
    template = site[BASE + "o3.md"]
    assert isinstance(template, bytes)
    for index, model_id in enumerate(ODD_IDS):
        site[f"{BASE}odd-{index}.md"] = odd_page(template, model_id)
    site.update(hostile.corpus())
    assert publish_run(data_dir, site).status == "published"
    for url in list(site)[:2]:
        body = site[url]
        assert isinstance(body, bytes)
        site[url] = raise_input_price(body)
    assert publish_run(data_dir, site).status == "published"


class Links(HTMLParser):
    """Every link and source of a page, and every id it defines."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value is not None:
                self.urls.append(value)
            if name == "id" and value is not None:
                self.ids.add(value)


def links(page: Path) -> Links:
    parser = Links()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser
