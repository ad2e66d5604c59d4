"""Chunks built while the crawl runs (``transforms.build.ahead``): the build takes one only
where it would have built the very same rows, so the catalog never depends on it.

Each test stages a run with the real ``Stager`` and builds it twice, with and without the
chunks built ahead, and compares every table. Chunks are made small (about 25 pages), so a
few dozen pages make several of them."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelcat.run.records import start
from tests.support import HOSTILE, REPO, wait_for
from tests.support.runs import INDEX_URL, Answer, crawl_items, publish_run
from tests.support.staging import BASE, DEMO_MODELS, demo_pages, fetched
from transforms.build import frames
from transforms.build.ahead import BuildAhead
from transforms.build.plan import plan_build
from transforms.build.tables import BuiltTables, build_tables
from transforms.contract.layout import DataDir, RunDir
from transforms.pages import values
from transforms.pages.archive import PageArchive
from transforms.pages.items import PageItem
from transforms.pages.staging import Stager

DEMO = sorted(DEMO_MODELS.glob("*.md"))
HOSTILE_PAGES = sorted(HOSTILE.glob("*.md"))


class Calls:
    """Which thread built each chunk's typed rows."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.threads: list[str] = []
        real = frames.page_tables

        def counted(*args: object) -> frames.PageTables:
            self.threads.append(threading.current_thread().name)
            return real(*args)  # type: ignore[arg-type]

        monkeypatch.setattr(frames, "page_tables", counted)

    @property
    def ahead(self) -> int:
        return sum(name.startswith("build-ahead") for name in self.threads)

    @property
    def after(self) -> int:
        return len(self.threads) - self.ahead


def build(items: list[PageItem], run_dir: Path, *, ahead: bool) -> tuple[BuiltTables, int]:
    """The run of ``items`` staged and built; and how many pages were built ahead."""
    builder = BuildAhead() if ahead else None
    archive = PageArchive(run_dir / "archive")
    stager = Stager(RunDir(run_dir), archive, None, builder.add if builder else None)
    for item in items:
        stager.add(item)
    stager.close()
    built = build_tables(plan_build(RunDir(run_dir), None, archive), "run", builder)
    return built, builder.pages_taken if builder else 0


def assert_same(ahead: BuiltTables, after: BuiltTables, after_values: pa.Table) -> None:
    """Every table the same; ``after_values`` is the page values file ``after`` wrote, read
    before the other build could write over it."""
    for name, table in ahead.tables().items():
        if isinstance(table, Path):
            assert pq.read_table(table).equals(after_values), name
        else:
            pd.testing.assert_frame_equal(table, after.tables()[name], obj=name)
    assert ahead.carried_forward == after.carried_forward


def items_of(paths: list[Path]) -> list[PageItem]:
    return [fetched(BASE + path.name, path.read_bytes()) for path in paths]


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    def chunk_rows(rows: int) -> None:
        monkeypatch.setattr(values, "CHUNK_ROWS", rows)

    monkeypatch.setattr("transforms.pages.staging._BATCH_PAGES", 7)
    chunk_rows(1_500)  # about 25 pages
    return chunk_rows


@pytest.mark.slow
def test_chunks_built_ahead_are_taken_and_build_the_same_catalog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_chunks: Callable[[int], None]
) -> None:
    items = items_of(DEMO + HOSTILE_PAGES)
    after, _ = build(items, tmp_path / "after", ahead=False)
    after_values = pq.read_table(after.page_values)
    calls = Calls(monkeypatch)
    ahead, taken = build(items_of(DEMO + HOSTILE_PAGES), tmp_path / "ahead", ahead=True)
    assert_same(ahead, after, after_values)
    assert len(after.quality_issues) > 20  # the hostile pages: the findings are compared too
    # Every chunk but the last one (smaller than a chunk) was built ahead and taken.
    assert calls.ahead >= 8
    assert calls.after == 1
    assert 0 < taken < len(after.models) + 40


@pytest.mark.parametrize("failing", [0, 5])
def test_a_run_after_the_first_takes_its_chunks_and_builds_the_same_catalog(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    small_chunks: Callable[[int], None],
    failing: int,
) -> None:
    """A run with a catalog behind it: changed pages fetched (built ahead), unchanged ones
    answered 304 (reused), failing ones carried forward (or none), removed ones gone."""
    data_dir = DataDir(tmp_path)
    site: dict[str, Answer] = dict(demo_pages(path.stem for path in DEMO[:90]))
    publish_run(data_dir, site)
    urls = list(site)
    for url in urls[:60]:
        site[url] = site[url] + b"\n"  # another body, the same values
    site.update(dict.fromkeys(urls[60 : 60 + failing], 503))
    site.update(dict.fromkeys(urls[65:70], 404))
    summary = start(data_dir, [INDEX_URL])
    run_dir = data_dir.run(summary.run_id)
    staged: list[tuple[pa.Table, list[dict[str, Any]]]] = []
    archive = PageArchive(data_dir.archive)
    stager = Stager(
        run_dir, archive, data_dir.validators, lambda *batch: staged.append((batch[0], batch[1]))
    )
    for item in crawl_items(data_dir, site):
        stager.add(item)
    stager.close()
    plan = plan_build(run_dir, data_dir.published_snapshot(), archive)
    assert len(plan.carried_forward) == failing
    assert len(plan.reused.keys) == 25  # unchanged, and carried forward as published

    after = build_tables(plan, summary.run_id)
    after_values = pq.read_table(after.page_values)
    calls = Calls(monkeypatch)
    builder = BuildAhead()
    for batch in staged:
        builder.add(*batch)
    ahead = build_tables(plan, summary.run_id, builder)
    assert_same(ahead, after, after_values)
    assert calls.ahead >= 2
    assert calls.after == 1  # the last chunk of changed pages
    assert builder.pages_taken >= 40


def test_a_run_whose_every_page_answered_304_builds_no_chunk_after_the_crawl(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its one chunk is empty (every page is reused): that too was built ahead."""
    data_dir = DataDir(tmp_path)
    site: dict[str, Answer] = dict(demo_pages(path.stem for path in DEMO[:30]))
    publish_run(data_dir, site)
    summary = start(data_dir, [INDEX_URL])
    run_dir, archive = data_dir.run(summary.run_id), PageArchive(data_dir.archive)
    builder = BuildAhead()
    builder.start()  # as the crawl does once its child is told what to crawl
    stager = Stager(run_dir, archive, data_dir.validators, builder.add)
    for item in crawl_items(data_dir, site):
        stager.add(item)
    stager.close()
    plan = plan_build(run_dir, data_dir.published_snapshot(), archive)
    assert len(plan.reused.keys) == 30
    after = build_tables(plan, summary.run_id)
    after_values = pq.read_table(after.page_values)
    calls = Calls(monkeypatch)
    ahead = build_tables(plan, summary.run_id, builder)
    assert_same(ahead, after, after_values)
    assert calls.after == 0


def test_a_chunk_is_taken_only_for_the_same_pages_and_the_same_source_rows(
    tmp_path: Path, small_chunks: Callable[[int], None]
) -> None:
    """The spider fetches each URL once, so the build's source rows are those the chunk was
    built from; should they ever differ (another body hash, another fetch time), or the
    chunk hold other pages, the chunk is not taken."""
    builder = BuildAhead()
    archive = PageArchive(tmp_path / "archive")
    stager = Stager(RunDir(tmp_path), archive, None, builder.add)
    for item in items_of(DEMO[:60]):
        stager.add(item)
    stager.close()
    plan = plan_build(RunDir(tmp_path), None, archive)
    sources = frames.source_index(plan.sources)
    first, second, *_ = plan.chunks()
    other_time = sources.assign(fetched_at=sources["fetched_at"] + pd.Timedelta(seconds=1))
    other_body = sources.assign(content_sha256="0" * 64)
    assert builder.take(first.values, other_time) is None
    assert builder.take(second.values, other_body) is None
    assert builder.pages_taken == 0
    assert builder.take(first.values.slice(1), sources) is None  # not the chunk built
    builder.close()


def test_a_chunk_whose_build_failed_ahead_is_built_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_chunks: Callable[[int], None]
) -> None:
    items = DEMO[:60]
    after, _ = build(items_of(items), tmp_path / "after", ahead=False)
    after_values = pq.read_table(after.page_values)
    real = frames.page_tables

    def fails_ahead(*args: object) -> frames.PageTables:
        if threading.current_thread().name.startswith("build-ahead"):
            raise MemoryError("no room on the worker")
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(frames, "page_tables", fails_ahead)
    ahead, taken = build(items_of(items), tmp_path / "ahead", ahead=True)
    assert_same(ahead, after, after_values)
    assert taken == 0


@pytest.mark.slow
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    picked=st.lists(st.sampled_from(DEMO + HOSTILE_PAGES), min_size=1, max_size=25),
    chunk_rows=st.integers(60, 1_500),
)
def test_any_site_in_any_chunks_builds_the_same_catalog_ahead(
    tmp_path_factory: pytest.TempPathFactory,
    small_chunks: Callable[[int], None],
    picked: list[Path],
    chunk_rows: int,
) -> None:
    """Pages in any order, repeated or not, cut into chunks of any size."""
    small_chunks(chunk_rows)
    work = tmp_path_factory.mktemp("site")
    after, _ = build(items_of(picked), work / "after", ahead=False)
    after_values = pq.read_table(after.page_values)
    ahead, _ = build(items_of(picked), work / "ahead", ahead=True)
    assert_same(ahead, after, after_values)


def test_what_the_steps_after_the_crawl_import_is_loaded_on_the_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "after_the_crawl_probe.py").write_text(
        "import threading\nTHREAD = threading.current_thread().name\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "after_the_crawl_probe", raising=False)
    builder = BuildAhead(load=["after_the_crawl_probe"])
    assert "after_the_crawl_probe" not in sys.modules  # not before the crawl starts

    builder.start()

    wait_for(lambda: "after_the_crawl_probe" in sys.modules, timeout=120, every=0.01)
    wait_for(lambda: hasattr(sys.modules["after_the_crawl_probe"], "THREAD"), timeout=60)
    assert sys.modules["after_the_crawl_probe"].THREAD.startswith("build-ahead")
    builder.close()


def test_pandera_loads_what_its_first_validation_needs_on_the_worker(tmp_path: Path) -> None:
    # A process of its own: in this one, an earlier test may have validated already.
    probe = textwrap.dedent(
        """
        import sys
        from transforms.build.ahead import BuildAhead

        builder = BuildAhead()
        builder.start()
        builder._pool.shutdown(wait=True)  # every job begun at the start has run
        from transforms.build.validation import validate
        from transforms.contract.casting import empty
        from transforms.contract.tables import TABLES

        loaded = set(sys.modules)
        validate(empty(TABLES["official_prices"]), TABLES["official_prices"])
        print(sorted(set(sys.modules) - loaded))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert done.stdout.strip() == "[]", done.stdout
