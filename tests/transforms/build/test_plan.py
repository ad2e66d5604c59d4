"""The build plan (``transforms.build.plan``): where each model page's values come from, on
real runs staged from saved pages (``tests.support.runs``), never crawled.

Three runs of eight demo pages share one data directory (``site``): the first fetches
them all and is published; the second sees one price changed, one page fail with a 503
and one with a 404, the rest answer 304, and is published; the third is staged only, every
page answering 304, the one that 404'd among them. Planning writes nothing, so every test
plans from those same runs; a test that damages something damages a copy.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from tests.support.archive import replace_frame
from tests.support.runs import SITE_MODELS, publish_run, raise_input_price, sha256, stage_run
from tests.support.staging import BASE, demo_pages
from transforms.build.plan import BuildPlan, plan_build
from transforms.build.tables import build_tables
from transforms.contract.casting import describe
from transforms.contract.layout import DataDir, RunDir, Snapshot
from transforms.contract.tables import PAGE_VALUES_SCHEMA, TABLES
from transforms.pages import values
from transforms.pages.archive import PageArchive

VALUES_SCHEMA = describe(PAGE_VALUES_SCHEMA, TABLES["page_values"])  # as published

# The first page's price changes in run 2; the second fails with a 503 in run 2 (a passing
# failure); the third with a 404 (gone), then answers 304 again in run 3.
CHANGED, FLAKY, GONE, *UNCHANGED = (BASE + f"{m}.md" for m in SITE_MODELS)


@dataclass
class Site:
    data_dir: DataDir
    pages: dict[str, bytes]  # as run 1 fetched them
    changed: bytes  # CHANGED's body from run 2 on
    runs: list[str]

    def run(self, number: int) -> RunDir:
        return self.data_dir.run(self.runs[number - 1])

    def snapshot(self, number: int) -> Snapshot:
        snapshot = self.data_dir.snapshot_of(self.runs[number - 1])
        assert snapshot is not None
        return snapshot

    @property
    def archive(self) -> PageArchive:
        return PageArchive(self.data_dir.archive)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    data_dir = DataDir(tmp_path_factory.mktemp("plan") / "data")
    pages = demo_pages(SITE_MODELS)
    first = publish_run(data_dir, pages)
    changed = raise_input_price(pages[CHANGED])
    second = publish_run(data_dir, {**pages, CHANGED: changed, FLAKY: 503, GONE: 404})
    assert (first.status, second.status) == ("published", "published")
    third = stage_run(data_dir, {**pages, CHANGED: changed})
    return Site(data_dir, pages, changed, [first.run_id, second.run_id, third.run_id])


def sources(plan: BuildPlan) -> dict[str, tuple[str, str]]:
    """page_url -> (origin, content_sha256)."""
    rows = plan.sources[["page_url", "origin", "content_sha256"]].astype(object)
    return {url: (str(origin), sha) for url, origin, sha in rows.to_numpy().tolist()}


def fetched_at(run_dir: RunDir) -> dict[str, pd.Timestamp]:
    pages = pd.read_json(run_dir.page_log, lines=True)
    return dict(zip(pages["url"], pd.to_datetime(pages["fetched_at"]), strict=True))


def chunk_urls(plan: BuildPlan) -> set[str]:
    return {url for chunk in plan.chunks() for url in chunk.values["page_url"].to_pylist()}


def keys(*urls_and_bodies: tuple[str, bytes]) -> frozenset[str]:
    return frozenset(values.page_key(url, sha256(body)) for url, body in urls_and_bodies)


def test_a_first_run_builds_from_what_it_fetched(site: Site) -> None:
    plan = plan_build(site.run(1), None, site.archive)
    assert sources(plan) == {url: ("fetched", sha256(body)) for url, body in site.pages.items()}
    assert (plan.from_previous, plan.reused.keys, len(plan.from_archive)) == (set(), set(), 0)
    assert plan.carried_forward.empty
    (chunk,) = plan.chunks()
    assert chunk.values.to_pylist() == pq.read_table(site.run(1).page_values).to_pylist()
    assert chunk.problems == []
    assert list(plan.reused_values()) == []


def test_unchanged_pages_are_reused_and_a_passing_failure_carried_forward(site: Site) -> None:
    plan = plan_build(site.run(2), site.snapshot(1), site.archive)
    assert sources(plan) == {
        CHANGED: ("fetched", sha256(site.changed)),
        FLAKY: ("carried_forward", sha256(site.pages[FLAKY])),  # the body run 1 published
        **{url: ("not_modified", sha256(site.pages[url])) for url in UNCHANGED},
    }  # and GONE, a 404, is taken at its word
    assert plan.carried_forward.tolist() == [FLAKY]
    # Unchanged bodies keep the time they were first fetched; so does a carried page.
    first = fetched_at(site.run(1))
    kept = plan.sources.set_index("page_url")["fetched_at"]
    assert {url: kept[url] for url in [FLAKY, *UNCHANGED]} == {
        url: first[url].tz_localize(None) for url in [FLAKY, *UNCHANGED]
    }
    assert kept[CHANGED] == fetched_at(site.run(2))[CHANGED].tz_localize(None)
    # Pages the last catalog built from the same body keep its typed rows: only the
    # changed page is built again.
    reused = keys(*((url, site.pages[url]) for url in [FLAKY, *UNCHANGED]))
    assert plan.reused.keys == reused
    assert set(plan.reused.models["page_url"]) == {values.url_of(key) for key in reused}
    assert plan.from_previous == frozenset()
    assert plan.from_archive.empty
    assert chunk_urls(plan) == {CHANGED}
    published = {url for table in plan.reused_values() for url in table["page_url"].to_pylist()}
    assert published == {FLAKY, *UNCHANGED}
    assert plan.reused_values_file(VALUES_SCHEMA) is None  # the changed page's are not


def test_every_page_reused_copies_the_last_page_values_as_reading_them_would_write_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = DataDir(tmp_path / "data")
    pages = demo_pages(SITE_MODELS)
    publish_run(data_dir, pages)
    summary = stage_run(data_dir, pages)  # every page answers 304
    previous = data_dir.published_snapshot()
    assert previous is not None
    plan = plan_build(data_dir.run(summary.run_id), previous, PageArchive(data_dir.archive))
    assert plan.reused_values_file(VALUES_SCHEMA) == previous.table("page_values")
    # Written with other descriptions: read and written again in today's.
    assert plan.reused_values_file(PAGE_VALUES_SCHEMA) is None
    build_tables(plan, summary.run_id)
    copied = plan.run_dir.published_values.read_bytes()
    assert copied == previous.table("page_values").read_bytes()
    monkeypatch.setattr(BuildPlan, "reused_values_file", lambda _plan, _schema: None)
    build_tables(plan, summary.run_id)
    assert plan.run_dir.published_values.read_bytes() == copied


def test_a_snapshot_from_before_unread_prices_builds_its_pages_again_once(
    site: Site, tmp_path: Path
) -> None:
    """Such a snapshot cannot say which of its prices were unread: its typed rows are not
    reused, its page values are."""
    old = Snapshot(tmp_path / site.snapshot(1).publication)
    shutil.copytree(site.snapshot(1).path, old.path)
    old.table("unread_prices").unlink()
    plan = plan_build(site.run(2), old, site.archive)
    assert plan.reused.keys == frozenset()
    assert plan.from_previous == keys(*((url, site.pages[url]) for url in [FLAKY, *UNCHANGED]))
    assert chunk_urls(plan) == {CHANGED, FLAKY, *UNCHANGED}


def test_a_page_the_last_catalog_does_not_hold_is_parsed_again_from_the_archive(
    site: Site,
) -> None:
    """GONE 404'd in run 2 (so run 2's catalog dropped it) and answers 304 in run 3."""
    plan = plan_build(site.run(3), site.snapshot(2), site.archive)
    assert sources(plan)[GONE] == ("not_modified", sha256(site.pages[GONE]))
    assert plan.from_archive["page_url"].tolist() == [GONE]
    assert GONE not in {values.url_of(key) for key in plan.reused.keys}
    assert chunk_urls(plan) == {GONE}
    (chunk,) = plan.chunks()
    assert chunk.values.to_pylist() == [
        row for row in pq.read_table(site.run(1).page_values).to_pylist() if row["page_url"] == GONE
    ]


def test_a_rebuild_parses_every_page_again_from_the_archive(site: Site) -> None:
    plan = plan_build(site.run(1), None, site.archive, reparse=True, published=site.snapshot(1))
    assert sorted(plan.from_archive["page_url"]) == sorted(site.pages)
    assert plan.problems.empty  # found again by the parse, not taken from the page log
    staged = pq.read_table(site.run(1).page_values).to_pylist()
    rebuilt = [row for chunk in plan.chunks() for row in chunk.values.to_pylist()]
    assert sorted(rebuilt, key=repr) == sorted(staged, key=repr)
    assert plan.published == site.snapshot(1)


DAMAGE = {  # what befell an archived body (its frame now), and how the plan says so
    "missing": (None, "body {short}… is not in the archive"),
    "other bytes": (b"not the page", "archived body {short}…"),
}


@pytest.mark.parametrize("damage", DAMAGE)
@pytest.mark.parametrize("published", [True, False], ids=["published values", "nothing left"])
def test_a_body_the_archive_lost_stands_in_from_what_its_run_published(
    site: Site, tmp_path: Path, published: bool, damage: str
) -> None:
    archive = PageArchive(tmp_path / "archive")
    shutil.copytree(site.data_dir.archive, archive.root)
    lost = sha256(site.pages[UNCHANGED[0]])
    harm, says = DAMAGE[damage]
    replace_frame(archive.root, lost, harm)
    snapshot = site.snapshot(1) if published else None
    plan = plan_build(site.run(1), None, archive, reparse=True, published=snapshot)

    chunks = list(plan.chunks())
    problems = [problem for chunk in chunks for problem in chunk.problems]
    (problem,) = [text for url, text in problems if url == UNCHANGED[0]]
    assert problem.startswith(says.format(short=lost[:12]))
    urls = {url for chunk in chunks for url in chunk.values["page_url"].to_pylist()}
    if published:
        assert problem.endswith(f"its values are those {site.snapshot(1).publication} published")
        assert urls == set(site.pages)
    else:
        assert problem.endswith("page skipped")
        assert urls == set(site.pages) - {UNCHANGED[0]}
