"""A run staged from saved pages, without a crawl: the items the spider would make of them,
fed to the real ``Stager``, planned by the real ``plan_build`` and built by the real
``build_tables``.

``fetched`` is ``PipeLLMSpider.parse`` for a page answered 200, ``not_modified`` its
``not_modified`` for a 304, ``failed`` its errback; each decides the page's outcome by the
rules of ``transforms.pages.outcome``, as the spider does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from modelcat.demo import DEMO_MIRROR
from transforms.build.plan import BuildPlan, plan_build
from transforms.build.tables import build_tables
from transforms.contract.layout import RunDir
from transforms.contract.vocabulary import PageOutcome
from transforms.pages import outcome
from transforms.pages.archive import PageArchive, Validator
from transforms.pages.items import PageItem
from transforms.pages.parse import NotMarkdown, decode_markdown, peek_page, unreadable
from transforms.pages.staging import Stager

BASE = "https://mirror.test/llms/models/"
FETCHED_AT = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
DEMO_MODELS = DEMO_MIRROR / "llms" / "models"


def fetched(url: str, body: bytes, *, at: datetime = FETCHED_AT) -> PageItem:
    """The item the spider makes of a page answered 200 (``PipeLLMSpider.parse``)."""
    item = PageItem(
        url=url,
        final_url=url,
        http_status=200,
        outcome=PageOutcome.SKIPPED,
        content_type=None,
        error=None,
        fetched_at=at,
        body=body,
        content_sha256=hashlib.sha256(body).hexdigest(),
        etag=f'"{hashlib.sha256(body).hexdigest()[:16]}"',
    )
    try:
        peek = peek_page(decode_markdown(body, "text/markdown"), url)
    except NotMarkdown as reason:
        item.outcome, item.error = outcome.unreadable(str(reason))
        return item
    except Exception as error:  # whatever a page does, it ends as its own row
        item.outcome, item.error = outcome.unreadable(unreadable(error))
        return item
    item.content_type, item.links = peek.content_type, peek.links
    item.outcome, item.error = outcome.answered(peek.content_type, peek.doubt)
    return item


def not_modified(url: str, known: Validator, *, at: datetime = FETCHED_AT) -> PageItem:
    """The item of a 304: what the validator store remembers of the page, no body."""
    return PageItem(
        url=url,
        final_url=url,
        http_status=304,
        outcome=PageOutcome.NOT_MODIFIED,
        content_type=known.content_type,
        error=None,
        fetched_at=at,
        content_sha256=known.content_sha256,
        etag=known.etag,
        last_modified=known.last_modified,
        links=known.links,
        problems=known.problems,
    )


def failed(url: str, status: int | None, *, at: datetime = FETCHED_AT) -> PageItem:
    """The item of a request that got no usable answer: an HTTP error, or none (``None``)."""
    verdict = outcome.failed(f"HTTP {status}" if status else "TimeoutError: took too long")
    return PageItem(
        url=url,
        final_url=url if status else None,
        http_status=status,
        outcome=verdict.outcome,
        content_type=None,
        error=verdict.error,
        fetched_at=at,
        retries=2,
    )


def stage(
    run_dir: RunDir, items: Iterable[PageItem], archive: PageArchive, validators: Path | None
) -> None:
    """Stage ``items`` into ``run_dir`` with the real ``Stager``, as a crawl would."""
    stager = Stager(run_dir, archive, validators)
    for item in items:
        stager.add(item)
    stager.close()


def stage_site(pages: dict[str, bytes], run_dir: Path) -> BuildPlan:
    """A run that fetched ``pages`` (URL -> body), staged by the real ``Stager``."""
    archive = PageArchive(run_dir / "archive")
    stage(RunDir(run_dir), (fetched(url, body) for url, body in pages.items()), archive, None)
    return plan_build(RunDir(run_dir), None, archive)


def build_site(pages: dict[str, bytes], run_dir: Path) -> dict[str, pd.DataFrame]:
    """The validated tables of that run, by the real catalog build."""
    return build_tables(stage_site(pages, run_dir), "run").tables()


def demo_pages(names: Iterable[str]) -> dict[str, bytes]:
    """Model pages of the bundled demo mirror, by URL under ``BASE``."""
    return {BASE + f"{name}.md": (DEMO_MODELS / f"{name}.md").read_bytes() for name in names}
