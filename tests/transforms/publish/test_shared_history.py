"""History held once (``transforms.publish.shared_history``): once a run is published, the
snapshots it superseded keep only their open history rows, and give back, with the
published snapshot's closed rows, exactly the history they published.

Four runs of eight saved pages (``tests.support.runs``), never crawled: prices rise before
runs 2 to 4, and a model leaves before run 4. A copy of each snapshot is taken while it is
the published one, before a later run thins it.
"""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from modelcat.run.rebuild import NotRebuildable, rebuild
from tests.support.runs import SITE_MODELS, publish_run, raise_input_price
from tests.support.staging import demo_pages
from transforms.contract.layout import DataDir, Snapshot
from transforms.contract.tables import HISTORY_TABLES
from transforms.publish.history_rows import (
    CLOSED_BY,
    CLOSED_UNTIL,
    Closed,
    HistoryUnavailable,
    history_readable,
    needs_published,
    read_history,
)
from transforms.publish.shared_history import share_history

PAGES = demo_pages(SITE_MODELS)
URLS = list(PAGES)
RUNS = 4


def site_at(run: int) -> dict[str, bytes | int]:
    pages: dict[str, bytes | int] = dict(PAGES)
    for i in range(run - 1):
        pages[URLS[i]] = raise_input_price(PAGES[URLS[i]], by=run)
    if run == RUNS:
        pages[URLS[-1]] = 404
    return pages


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[DataDir, Path]:
    """The data directory after four runs, and a copy of each snapshot as published."""
    root = tmp_path_factory.mktemp("shared")
    data_dir, copies = DataDir(root / "data"), root / "as-published"
    for run in range(1, RUNS + 1):
        summary = publish_run(data_dir, site_at(run), allow_shrink=True)
        assert summary.status == "published", summary.message
        current = data_dir.published_snapshot()
        assert current is not None
        shutil.copytree(current.path, copies / current.publication)
    return data_dir, copies


@pytest.fixture
def data_dir(runs: tuple[DataDir, Path], tmp_path: Path) -> DataDir:
    shutil.copytree(runs[0].root, tmp_path / "data", symlinks=True)
    return DataDir(tmp_path / "data")


def published(data_dir: DataDir) -> Snapshot:
    current = data_dir.published_snapshot()
    assert current is not None
    return current


def superseded(data_dir: DataDir) -> list[Snapshot]:
    return [s for s in data_dir.published_snapshots() if s != published(data_dir)]


def as_published(copies: Path, snapshot: Snapshot, name: str) -> pa.Table:
    """The table as the run published it (before any rebuild)."""
    return pq.read_table(copies / snapshot.run_id / f"{name}.parquet")


@pytest.mark.parametrize("name", HISTORY_TABLES)
def test_every_snapshot_gives_back_the_history_it_published(
    runs: tuple[DataDir, Path], name: str
) -> None:
    data_dir, copies = runs
    for snapshot in data_dir.published_snapshots():
        held = read_history(snapshot, name, published(data_dir))
        assert held is not None
        assert held.equals(as_published(copies, snapshot, name)), snapshot.publication


def test_superseded_snapshots_keep_only_open_rows_and_the_published_one_stays_whole(
    runs: tuple[DataDir, Path],
) -> None:
    data_dir, copies = runs
    assert all(published(data_dir).has(name) for name in HISTORY_TABLES)
    shared = 0
    for snapshot in superseded(data_dir):
        for name in HISTORY_TABLES:
            whole = as_published(copies, snapshot, name)
            assert not snapshot.has(name)
            kept = pq.read_table(snapshot.open_rows(name))
            assert kept.num_rows == whole[CLOSED_BY[name]].null_count
            stamped = CLOSED_UNTIL in (kept.schema.metadata or {})
            # Only a table with something closed leaves rows to the published snapshot; one
            # with nothing closed keeps its file as it was, under the open rows' name.
            assert stamped == (kept.num_rows < whole.num_rows)
            assert stamped == needs_published(snapshot, name)
            if not stamped:
                assert kept.equals(whole)
            shared += stamped
    # The feed of every superseded run, and the prices of runs 2 and 3, which changed.
    assert shared >= len(superseded(data_dir)) + 2


def test_a_thinned_snapshot_is_not_read_again(data_dir: DataDir) -> None:
    """Every superseded history is thinned once, nothing closed or not: a later run reads
    none of them again (a data directory of years of snapshots costs each run nothing)."""
    files = sorted(p for s in superseded(data_dir) for p in s.path.iterdir())
    stamps = [p.stat().st_mtime_ns for p in files]
    assert share_history(data_dir) == 0
    assert sorted(p for s in superseded(data_dir) for p in s.path.iterdir()) == files
    assert [p.stat().st_mtime_ns for p in files] == stamps


def test_a_history_with_nothing_closed_reads_back_without_the_published_snapshot(
    runs: tuple[DataDir, Path],
) -> None:
    data_dir, copies = runs
    first = superseded(data_dir)[0]
    assert not needs_published(first, "model_history")  # no model changed before run 2
    held = read_history(first, "model_history", None)
    assert held is not None
    assert held.equals(as_published(copies, first, "model_history"))
    assert history_readable(first, None) is False  # its feed needs the published snapshot


def test_the_datapackage_names_the_file_a_thinned_table_is_in(runs: tuple[DataDir, Path]) -> None:
    data_dir, _ = runs
    for snapshot in superseded(data_dir):
        package = json.loads(snapshot.datapackage.read_text())
        paths = {r["name"]: r["path"] for r in package["resources"]}
        for name in HISTORY_TABLES:
            assert (snapshot.path / paths[name]).exists(), (snapshot.publication, name)


def test_a_history_the_published_one_would_not_give_back_stays_whole(
    data_dir: DataDir, runs: tuple[DataDir, Path]
) -> None:
    copies = runs[1]
    older = superseded(data_dir)[-1]
    for name in HISTORY_TABLES:  # whole again, as before the last run thinned it
        older.open_rows(name).unlink(missing_ok=True)
        shutil.copyfile(copies / older.run_id / f"{name}.parquet", older.table(name))
    # A closed price in the published history no longer says what it said.
    current = published(data_dir)
    prices = pq.read_table(current.table("price_history"))
    closed = pc.is_valid(prices["valid_to"])
    assert pc.any(closed).as_py()
    moved = pc.if_else(closed, pc.add(prices["usd_per_mtok"], 1), prices["usd_per_mtok"])
    column = prices.schema.get_field_index("usd_per_mtok")
    tampered = prices.set_column(column, "usd_per_mtok", moved.cast(prices["usd_per_mtok"].type))
    pq.write_table(tampered, current.table("price_history"))

    share_history(data_dir)

    assert older.has("price_history")
    assert not older.open_rows("price_history").exists()
    assert not older.has("changes")  # what still agrees is shared as before


def test_a_thinned_history_without_the_published_snapshot_is_an_error(
    runs: tuple[DataDir, Path],
) -> None:
    data_dir, _ = runs
    older = superseded(data_dir)[-1]
    with pytest.raises(HistoryUnavailable, match="holds only the open rows of changes"):
        read_history(older, "changes", None)


def test_a_rebuild_from_a_thinned_snapshot_publishes_the_same_history(
    data_dir: DataDir, runs: tuple[DataDir, Path]
) -> None:
    copies = runs[1]
    first_rebuilt = superseded(data_dir)[1].run_id  # builds on run 1's thinned snapshot
    originals = superseded(data_dir)[1:]
    rebuild(data_dir, first_rebuilt)
    current = published(data_dir)
    last = sorted(copies.iterdir())[-1].name
    for name in HISTORY_TABLES:
        rebuilt = current.read(name)
        assert rebuilt.equals(pq.read_table(copies / last / f"{name}.parquet")), name
    # The originals it replaced were thinned against the history it replaced: they go.
    assert not any(snapshot.path.exists() for snapshot in originals)
    for snapshot in superseded(data_dir):
        for name in HISTORY_TABLES:
            held = read_history(snapshot, name, current)
            assert held is not None
            assert held.equals(as_published(copies, snapshot, name)), (snapshot, name)


@pytest.mark.parametrize("moved", [False, True])
def test_a_history_streamed_from_the_snapshot_is_thinned_on_its_closing_times(
    data_dir: DataDir, runs: tuple[DataDir, Path], moved: bool
) -> None:
    copies = runs[1]
    older = superseded(data_dir)[-1]
    older.open_rows("price_history").unlink()  # whole again, as the last run found it
    shutil.copyfile(copies / older.run_id / "price_history.parquet", older.table("price_history"))
    current = published(data_dir)
    if moved:  # the published file's first closed row no longer closed when this one's did
        prices = pq.read_table(current.table("price_history"))
        ends = prices["valid_to"].to_pylist()
        ends[0] = ends[0] + timedelta(seconds=1)
        column = pa.array(ends, prices.schema.field("valid_to").type)
        pq.write_table(
            prices.set_column(prices.schema.get_field_index("valid_to"), "valid_to", column),
            current.table("price_history"),
        )
    carried = {"price_history": Closed("price_history", older.table("price_history"))}

    share_history(data_dir, carried)

    assert older.has("price_history") is moved
    if not moved:
        held = read_history(older, "price_history", current)
        assert held is not None
        assert held.equals(as_published(copies, older, "price_history"))


def test_a_rebuild_on_a_thinned_snapshot_without_the_published_one_is_refused(
    data_dir: DataDir,
) -> None:
    older = superseded(data_dir)[-1]
    last = published(data_dir)
    shutil.rmtree(last.path)  # the published history lost with its catalog
    data_dir.catalog_file.unlink()
    data_dir.current.unlink()
    assert not older.has("changes")
    with pytest.raises(NotRebuildable, match="keeps only its open history rows"):
        rebuild(data_dir, last.run_id)
