"""A data directory's runs without a crawl: what ``modelcat.run.refresh`` does after its
crawl, minus the lock and the recovery.

Each run answers from saved pages the way the site would (200 with the page; 304 for a
page the validator store knows with the same body; an HTTP error for a status), is staged
by the real ``Stager`` into ``runs/RUN_ID/``, planned by the real ``plan_build``, then built,
guarded, given its history and published by the real ``build_and_publish``, and recorded
by its real summary.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal

from modelcat.run.publishing import build_and_publish
from modelcat.run.records import RunSummary, finish_time, start
from tests.support.mirror import INPUT_PRICE
from tests.support.staging import demo_pages, failed, fetched, not_modified, stage
from transforms.build.plan import plan_build
from transforms.contract.layout import DataDir
from transforms.pages.archive import PageArchive, Validators
from transforms.pages.items import PageItem

INDEX_URL = "https://mirror.test/llms.txt"
# A page as the site answers it: its body, or an HTTP status it failed with.
Answer = bytes | int


def index(urls: list[str]) -> bytes:
    """An llms.txt index linking every page."""
    links = "".join(f"- [{url.rsplit('/', 1)[1]}]({url})\n" for url in urls)
    return f"# PipeLLM\n\n## Models\n\n{links}".encode()


def crawl_items(data_dir: DataDir, site: Mapping[str, Answer]) -> list[PageItem]:
    """The items a crawl of ``site`` (URL -> answer) makes: the index first, then each page
    answered 200, 304 (the store knows its body) or with the status it failed with."""
    known = Validators.load(data_dir.validators)
    at = datetime.now(UTC)
    items = [fetched(INDEX_URL, index(list(site)), at=at)]
    for url, answer in site.items():
        if isinstance(answer, int):
            items.append(failed(url, answer, at=at))
            continue
        validator = known.get(url)
        if validator is not None and validator.content_sha256 == sha256(answer):
            items.append(not_modified(url, validator, at=at))
        else:
            items.append(fetched(url, answer, at=at))
    return items


def stage_run(data_dir: DataDir, site: Mapping[str, Answer]) -> RunSummary:
    """A run that crawled ``site`` and staged it, not built yet: its summary so far."""
    summary = start(data_dir, [INDEX_URL])
    items = crawl_items(data_dir, site)
    stage(data_dir.run(summary.run_id), items, PageArchive(data_dir.archive), data_dir.validators)
    summary.crawl_finish_reason = "finished"
    return summary


def publish_run(
    data_dir: DataDir, site: Mapping[str, Answer], *, allow_shrink: bool = False
) -> RunSummary:
    """One run of ``site``, built and published (or refused by a guard), and recorded."""
    summary = stage_run(data_dir, site)
    run_dir = data_dir.run(summary.run_id)
    plan = plan_build(run_dir, data_dir.published_snapshot(), PageArchive(data_dir.archive))
    build_and_publish(data_dir, plan, summary, lambda _step: None, allow_shrink=allow_shrink)
    summary.finished_at = summary.finished_at or finish_time(summary)
    summary.write(run_dir)
    return summary


def sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def raise_input_price(body: bytes, by: int = 1) -> bytes:
    """The page with its base-tier input price ``by`` dollars higher."""
    text = body.decode()
    match = INPUT_PRICE.search(text)
    assert match is not None, "the page has no input price"
    raised = Decimal(match[1].replace(",", "")) + by
    return (text[: match.start(1)] + str(raised) + text[match.end(1) :]).encode()


# Eight demo pages: the first two change price between the runs of ``two_runs``.
SITE_MODELS = (
    "claude-3-haiku-20240307",
    "claude-4-sonnet-20250514",
    "codex-auto-review",
    "deepseek-chat",
    "deepseek-reasoner",
    "gemini-2.0-flash-001",
    "gpt-5-2025-08-07",
    "o3",
)


def two_runs(data_dir: DataDir) -> list[RunSummary]:
    """Two published runs of the eight ``SITE_MODELS`` pages; two prices rose between them."""
    site: dict[str, Answer] = dict(demo_pages(SITE_MODELS))
    first = publish_run(data_dir, site)
    for url in list(site)[:2]:
        body = site[url]
        assert isinstance(body, bytes)
        site[url] = raise_input_price(body)
    second = publish_run(data_dir, site)
    assert (first.status, second.status) == ("published", "published")
    return [first, second]
