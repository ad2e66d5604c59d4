"""Retention, ``--keep N`` (``modelcat.run.retention``): the last N published runs stay
rebuildable, and so does the snapshot before them; older raw pages go (bodies, snapshots,
staged page values), and older run directories keep only their summaries; history and
summaries always stay.

Five runs of eight saved pages (``tests.support.runs``), never crawled: run 3 is refused
(most pages answer 404), the others are published, and prices change before runs 2, 4 and 5.
Each test prunes a copy.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from modelcat.run.retention import prune
from tests.support.runs import SITE_MODELS, Answer, publish_run, raise_input_price, sha256
from tests.support.staging import demo_pages
from transforms.build.plan import plan_build
from transforms.contract.layout import DataDir
from transforms.pages.archive import PageArchive

PAGES = demo_pages(SITE_MODELS)
URLS = list(PAGES)


def site_at(run: int) -> dict[str, Answer]:
    """What the site answers at each run: pages 0 and 1 change before run 2, pages 2 and 3
    before run 4, page 0 again before run 5; in run 3 six pages answer 404."""
    pages: dict[str, Answer] = dict(PAGES)
    raised = {2: [0, 1], 4: [0, 1, 2, 3], 5: [0, 1, 2, 3]}.get(run, [0, 1] if run == 3 else [])
    for i in raised:
        pages[URLS[i]] = raise_input_price(PAGES[URLS[i]], by=1)
    if run == 5:
        pages[URLS[0]] = raise_input_price(PAGES[URLS[0]], by=2)
    if run == 3:
        pages.update(dict.fromkeys(URLS[2:], 404))
    return pages


@pytest.fixture(scope="module")
def five_runs(tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    data_dir = DataDir(tmp_path_factory.mktemp("retention") / "data")
    statuses = [publish_run(data_dir, site_at(run)).status for run in range(1, 6)]
    assert statuses == ["published", "published", "refused", "published", "published"]
    return data_dir


@pytest.fixture
def data_dir(five_runs: DataDir, tmp_path: Path) -> DataDir:
    shutil.copytree(five_runs.root, tmp_path / "data", symlinks=True)
    return DataDir(tmp_path / "data")


def runs(data_dir: DataDir) -> list[str]:
    return sorted(p.name for p in data_dir.runs.iterdir())


def bodies(data_dir: DataDir) -> set[str]:
    return set(PageArchive(data_dir.archive).hashes())


def untouched(data_dir: DataDir) -> dict[str, bytes]:
    """What retention never touches: the catalog and every summary."""
    kept = [data_dir.catalog_file, *data_dir.runs.glob("*/summary.json")]
    return {str(path): path.read_bytes() for path in kept}


def files(data_dir: DataDir, run_id: str) -> set[str]:
    return {p.name for p in data_dir.run(run_id).path.iterdir()}


def rebuildable(data_dir: DataDir, run_id: str, before: str | None) -> bool:
    """Whether a rebuild of ``run_id`` finds every page's body, and the snapshot it starts
    from (that of ``before``, the published run before it)."""
    previous = data_dir.snapshot_of(before) if before is not None else None
    if before is not None and previous is None:
        return False
    plan = plan_build(
        data_dir.run(run_id),
        previous,
        PageArchive(data_dir.archive),
        reparse=True,
        published=data_dir.snapshot_of(run_id),
    )
    chunks = list(plan.chunks())
    return not any(chunk.problems for chunk in chunks) and {
        url for chunk in chunks for url in chunk.values["page_url"].to_pylist()
    } == set(URLS)


# keep -> the runs (by number) whose snapshots stay, and the old bodies that go.
KEEP = {
    2: ({2, 4, 5}, 4),  # runs 4 and 5, and run 2 (a rebuild of run 4 starts from it)
    1: ({4, 5}, 5),  # and page 0 as runs 2 to 4 had it: it changed again in run 5
}


@pytest.mark.parametrize("keep", KEEP)
def test_the_last_runs_stay_rebuildable_and_older_raw_pages_go(
    data_dir: DataDir, keep: int
) -> None:
    ids = runs(data_dir)
    r1, r2, r3, r4, r5 = ids
    before = untouched(data_dir)
    stored = bodies(data_dir)
    snapshots_kept, bodies_gone = KEEP[keep]

    removed = prune(data_dir, keep)

    assert removed["bodies"] == bodies_gone
    assert removed["snapshots"] == 4 - len(snapshots_kept)
    assert [s.publication for s in data_dir.published_snapshots()] == [
        ids[number - 1] for number in sorted(snapshots_kept)
    ]
    assert len(stored - bodies(data_dir)) == bodies_gone
    assert untouched(data_dir) == before
    published = {r1: None, r2: r1, r4: r2, r5: r4}  # each published run, the one before it
    retained = [r4, r5][-keep:]
    for run_id in retained:
        assert rebuildable(data_dir, run_id, published[run_id]), run_id
    # Staged page values go with the runs no longer rebuildable; a refused run keeps its own.
    staged = {
        run_id
        for run_id in ids
        if data_dir.run(run_id).page_values.exists()
        or data_dir.run(run_id).published_values.exists()
    }
    # (the refused run 3 keeps its own while it is not older than every run kept)
    oldest_kept = ids[min(snapshots_kept) - 1]
    assert staged == {r for r in [r3] if r > oldest_kept} | set(retained)
    # Runs older than every run kept (the retained ones and the one before them) keep only
    # their summary; the rest keep what a rebuild and a reader of their logs need.
    for run_id in ids:
        if run_id < oldest_kept:
            assert files(data_dir, run_id) == {"summary.json"}, run_id
        else:
            assert {"summary.json", "pages.jsonl"} <= files(data_dir, run_id)
    older = [run_id for run_id in ids if run_id < oldest_kept]
    assert older
    assert removed["run_files"] >= len(older)  # a page log each, at least


def test_every_body_the_current_catalog_was_built_from_stays(data_dir: DataDir) -> None:
    prune(data_dir, 1)
    current = data_dir.published_snapshot()
    assert current is not None
    held = set(
        current.read("page_values", columns=["content_sha256"])["content_sha256"].to_pylist()
    )
    assert held <= bodies(data_dir)
    # The pages that never changed: one body each, fetched by run 1 and 304 since.
    assert {sha256(PAGES[url]) for url in URLS[4:]} <= bodies(data_dir)


def test_keeping_more_runs_than_there_are_prunes_nothing(data_dir: DataDir) -> None:
    stored = bodies(data_dir)
    snapshots = list(data_dir.published_snapshots())
    listing = {run_id: files(data_dir, run_id) for run_id in runs(data_dir)}
    assert prune(data_dir, 10) == {"bodies": 0, "snapshots": 0, "run_files": 0}
    assert {run_id: files(data_dir, run_id) for run_id in runs(data_dir)} == listing
    assert bodies(data_dir) == stored
    assert list(data_dir.published_snapshots()) == snapshots
