"""Repair before a run (``transforms.publish.repair``): what an interrupted publish or damage
left in a data directory is put right from whichever copy survived, and said in words; with
no copy left it says what to do.

Each case damages a copy of ``two_runs`` (two runs published from saved pages: the second
is the catalog, ``current`` and the last published run).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from transforms.contract.layout import DataDir, Snapshot
from transforms.contract.tables import TABLES
from transforms.publish.catalog_file import written_from
from transforms.publish.files import point
from transforms.publish.repair import BrokenState, repair


def runs(data_dir: DataDir) -> list[str]:
    return sorted(p.name for p in data_dir.runs.iterdir())


def last(data_dir: DataDir) -> Snapshot:
    snapshot = data_dir.snapshot_of(runs(data_dir)[-1])
    assert snapshot is not None
    return snapshot


def contents(snapshot: Snapshot) -> dict[str, tuple]:
    """Each table of a snapshot: its schema and its rows."""
    return {
        name: (pq.read_schema(snapshot.table(name)), snapshot.read(name).to_pylist())
        for name in TABLES
    }


def state(data_dir: DataDir) -> tuple:
    """What a reader sees: the snapshot the catalog says it was written from, where
    ``current`` points, and that snapshot's tables."""
    publication, problem = written_from(data_dir)
    return publication, problem, os.readlink(data_dir.current), contents(last(data_dir))


def catalog(data: bytes | None) -> Callable[[DataDir], object]:
    def damage(data_dir: DataDir) -> None:
        if data is None:
            data_dir.catalog_file.unlink()
        else:
            data_dir.catalog_file.write_bytes(data)

    return damage


def leftovers(data_dir: DataDir) -> None:
    """What a crash mid-publish leaves: a catalog file being written (and its WAL), a
    snapshot being written, a pack being rewritten by ``--keep``."""
    (data_dir.root / ".catalog-20260101T000000000Z.duckdb").write_bytes(b"half")
    (data_dir.root / ".catalog-20260101T000000000Z.duckdb.wal").write_bytes(b"log")
    (data_dir.snapshots / "20260101T000000000Z.tmp").mkdir()
    (data_dir.snapshots / "20260101T000000000Z.tmp" / "models.parquet").write_bytes(b"PAR1")
    (data_dir.archive / "packs" / "1-2-3.partial").write_bytes(b"MCB1 half a pack")


def first_current(data_dir: DataDir) -> None:
    """A crash between the commit and re-pointing ``current``."""
    first = data_dir.snapshot_of(runs(data_dir)[0])
    assert first is not None
    point(data_dir.current, Path("snapshots") / first.publication)


# What befell the data directory, and what the repair says it recovered ("{last}" is the
# last run's snapshot, "{problem}" what the damaged catalog file says of itself). Either way
# a reader then sees what it saw before.
REPAIRED: dict[str, tuple[Callable[[DataDir], object], list[str]]] = {
    "nothing": (lambda data_dir: None, []),
    "a crash mid-publish": (leftovers, []),
    "current pointing at the run before": (first_current, []),
    "current missing": (lambda data_dir: data_dir.current.unlink(), []),
    "catalog missing": (
        catalog(None),
        ["catalog.duckdb is missing: built again from snapshots/{last}"],
    ),
    "catalog not a database": (
        catalog(b"\x00garbage" * 999),
        ["{problem}: built again from snapshots/{last}"],
    ),
    "catalog empty, current missing": (
        lambda data_dir: [catalog(b"")(data_dir), data_dir.current.unlink()],
        ["{problem}: built again from snapshots/{last}"],
    ),
    "snapshot deleted": (
        lambda data_dir: shutil.rmtree(last(data_dir).path),
        ["snapshots/{last} was missing or unreadable: written again from the catalog"],
    ),
    "a table truncated": (
        lambda data_dir: last(data_dir).table("price_history").write_bytes(b"PAR1 cut short"),
        ["snapshots/{last} was missing or unreadable: written again from the catalog"],
    ),
    "a table missing": (
        lambda data_dir: last(data_dir).table("models").unlink(),
        ["snapshots/{last} was missing or unreadable: written again from the catalog"],
    ),
}


@pytest.mark.parametrize("damage", REPAIRED)
def test_damage_is_repaired_from_the_copy_that_survived(own_copy: DataDir, damage: str) -> None:
    before = state(own_copy)
    harm, said = REPAIRED[damage]
    harm(own_copy)
    _, problem = written_from(own_copy)  # what a damaged catalog file says of itself
    recovered = repair(own_copy, runs(own_copy)[-1])

    assert recovered == [
        text.format(last=last(own_copy).publication, problem=problem) for text in said
    ]
    if "{problem}" in "".join(said):
        assert problem is not None
        assert problem.startswith("catalog.duckdb could not be opened (")
    assert state(own_copy) == before
    assert not list(own_copy.root.glob(".catalog-*"))
    assert not list(own_copy.snapshots.glob("*.tmp"))
    assert not list(own_copy.archive.glob("*/*.partial"))
    assert repair(own_copy, runs(own_copy)[-1]) == []  # and it holds


def test_a_catalog_with_no_snapshot_left_to_build_it_from_says_what_to_do(
    own_copy: DataDir,
) -> None:
    own_copy.catalog_file.write_bytes(b"garbage")
    shutil.rmtree(last(own_copy).path)  # the run before's snapshot is no catalog of today
    with pytest.raises(BrokenState) as broken:
        repair(own_copy, runs(own_copy)[-1])
    assert broken.value.problem.startswith("catalog.duckdb could not be opened")
    assert "no readable snapshot is left to build it from" in broken.value.problem
    assert "modelcat rebuild --run FIRST_RUN_ID" in str(broken.value)
    assert own_copy.catalog_file.read_bytes() == b"garbage"  # left for the person to decide


def test_a_data_directory_that_never_published_needs_nothing(tmp_path: Path) -> None:
    data_dir = DataDir(tmp_path / "data")
    data_dir.snapshots.mkdir(parents=True)
    assert repair(data_dir, None) == []
    assert sorted(p.name for p in data_dir.root.iterdir()) == ["snapshots"]


def test_a_catalog_file_nobody_published_is_left_alone(own_copy: DataDir) -> None:
    """No summary says a run was published (they are put right after the catalog): a
    missing catalog file is no damage yet."""
    own_copy.catalog_file.unlink()
    assert repair(own_copy, None) == []
    assert not own_copy.catalog_file.exists()
