"""Snapshots (``transforms.publish.snapshot``): every table of a run as Parquet, written whole
under a temporary name and renamed into place; committed, it is the catalog and ``current``.

The tables published here are real: read back from ``two_runs``, a data directory two runs
published from saved pages.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from tests.support.limits import file_size_limit
from transforms.contract.casting import to_frame
from transforms.contract.layout import DataDir, Snapshot
from transforms.contract.tables import LATER_TABLES, TABLES
from transforms.publish import catalog_file
from transforms.publish.snapshot import PublishFailed, discard, publish, readable


def tables_of(data_dir: DataDir) -> dict[str, pd.DataFrame]:
    """The tables of the published snapshot, as a build hands them to ``publish``."""
    snapshot = data_dir.published_snapshot()
    assert snapshot is not None
    return {name: to_frame(snapshot.read(name)) for name in TABLES}


def rows(snapshot: Snapshot, name: str) -> list[dict]:
    return snapshot.read(name).to_pylist()


@pytest.fixture(scope="module")
def tables(two_runs: DataDir) -> dict[str, pd.DataFrame]:
    return tables_of(two_runs)


@pytest.fixture
def data_dir(tmp_path: Path) -> DataDir:
    return DataDir(tmp_path / "data")


def test_a_snapshot_is_every_table_and_its_data_package(
    two_runs: DataDir, tables: dict[str, pd.DataFrame], data_dir: DataDir
) -> None:
    snapshot = publish(tables, data_dir, "20260101T000000000Z", commit=False)
    assert snapshot == data_dir.snapshot("20260101T000000000Z")
    assert sorted(p.name for p in snapshot.path.iterdir()) == sorted(
        [*(f"{name}.parquet" for name in TABLES), "datapackage.json"]
    )
    published = two_runs.published_snapshot()
    assert published is not None
    for name, table in TABLES.items():
        assert pq.read_schema(snapshot.table(name)).names == table.names, name
        assert rows(snapshot, name) == rows(published, name), name
    package = json.loads(snapshot.datapackage.read_text(encoding="utf-8"))
    assert sorted(r["name"] for r in package["resources"]) == sorted(TABLES)
    # Not committed: nothing else in the data directory moved.
    assert sorted(p.name for p in data_dir.root.iterdir()) == ["snapshots"]
    assert [p.name for p in data_dir.snapshots.iterdir()] == [snapshot.publication]


def test_committed_it_is_the_catalog_and_current(
    tables: dict[str, pd.DataFrame], data_dir: DataDir
) -> None:
    snapshot = publish(tables, data_dir, "20260101T000000000Z")
    assert catalog_file.written_from(data_dir) == (snapshot.publication, None)
    assert os.readlink(data_dir.current) == f"snapshots/{snapshot.publication}"  # relative
    assert data_dir.published_snapshot() == Snapshot(snapshot.path.resolve())
    assert not list(data_dir.root.glob(".catalog-*"))

    again = publish(tables, data_dir, "20260102T000000000Z.rebuilt-20260103T000000Z")
    assert catalog_file.written_from(data_dir) == (again.publication, None)
    assert os.readlink(data_dir.current) == f"snapshots/{again.publication}"
    assert sorted(p.name for p in data_dir.snapshots.iterdir()) == [
        snapshot.publication,
        again.publication,
    ]


def test_nothing_is_written_without_every_table(
    tables: dict[str, pd.DataFrame], data_dir: DataDir
) -> None:
    partial = {name: table for name, table in tables.items() if name != "changes"}
    with pytest.raises(ValueError, match=r"cannot publish without tables.*changes"):
        publish(partial, data_dir, "20260101T000000000Z")
    assert not data_dir.root.exists()


def test_what_a_crash_left_half_written_is_written_again(
    tables: dict[str, pd.DataFrame], data_dir: DataDir
) -> None:
    leftover = data_dir.snapshots / "20260101T000000000Z.tmp"
    leftover.mkdir(parents=True)
    (leftover / "models.parquet").write_bytes(b"PAR1 cut short")
    (leftover / "stray.txt").write_text("from an older version")
    snapshot = publish(tables, data_dir, "20260101T000000000Z", commit=False)
    assert not leftover.exists()
    assert not (snapshot.path / "stray.txt").exists()
    assert readable(snapshot)


def test_a_table_written_already_is_copied_as_it_is(
    two_runs: DataDir, tables: dict[str, pd.DataFrame], data_dir: DataDir
) -> None:
    published = two_runs.published_snapshot()
    assert published is not None
    given = published.table("page_values")
    snapshot = publish({**tables, "page_values": given}, data_dir, "X", commit=False)
    assert snapshot.table("page_values").read_bytes() == given.read_bytes()


DAMAGE: dict[str, tuple[Callable[[Snapshot], object], bool]] = {
    "whole": (lambda snapshot: None, True),
    "a table truncated": (lambda s: s.table("models").write_bytes(b"PAR1"), False),
    "a table missing": (lambda s: s.table("changes").unlink(), False),
    "a table that is not Parquet": (lambda s: s.table("runs").write_text("{}"), False),
    # A snapshot published before a later table existed is whole without it.
    "a later table missing": (lambda s: s.table(min(LATER_TABLES)).unlink(), True),
    "deleted": (lambda s: shutil.rmtree(s.path), False),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_snapshot_is_readable_when_the_footer_of_every_table_reads(
    tables: dict[str, pd.DataFrame], data_dir: DataDir, damage: str
) -> None:
    snapshot = publish(tables, data_dir, "X", commit=False)
    harm, whole = DAMAGE[damage]
    harm(snapshot)
    assert readable(snapshot) is whole


def test_discarding_removes_whole_snapshots_and_half_written_ones(
    tables: dict[str, pd.DataFrame], data_dir: DataDir
) -> None:
    for publication in ("A", "A.rebuilt-1", "A.rebuilt-2", "B"):
        publish(tables, data_dir, publication, commit=False)
    (data_dir.snapshots / "A.rebuilt-3.tmp").mkdir()  # a rebuild's, still being written
    assert discard(data_dir, "A.rebuilt-*") == 2
    assert sorted(p.name for p in data_dir.snapshots.iterdir()) == ["A", "B"]
    assert discard(data_dir, "C") == 0
    assert discard(data_dir, "A") == 1
    assert [p.name for p in data_dir.snapshots.iterdir()] == ["B"]


@pytest.mark.parametrize(
    ("limit_bytes", "failing"),
    [(1_000, "a snapshot's table"), (1_000_000, "the catalog file")],
)
def test_a_full_disk_publishes_nothing_and_leaves_nothing(
    own_copy: DataDir, tables: dict[str, pd.DataFrame], limit_bytes: int, failing: str
) -> None:
    """Writing fails (EFBIG past a file size limit, as ENOSPC on a full disk): the catalog,
    ``current`` and the snapshots are as they were, and no part of the new one is left."""
    catalog = own_copy.catalog_file.read_bytes()
    current = own_copy.published_snapshot()
    before = sorted(own_copy.snapshots.iterdir())
    hidden = sorted(p.name for p in own_copy.root.iterdir() if p.name.startswith("."))
    with file_size_limit(limit_bytes), pytest.raises(PublishFailed) as failed:
        publish(tables, own_copy, "29990101T000000000Z")
    assert str(failed.value).startswith("the catalog could not be written (")
    assert "File too large" in str(failed.value), failing
    assert str(failed.value).endswith("; nothing was published")
    assert own_copy.catalog_file.read_bytes() == catalog
    assert own_copy.published_snapshot() == current
    assert sorted(own_copy.snapshots.iterdir()) == before
    assert sorted(p.name for p in own_copy.root.iterdir() if p.name.startswith(".")) == hidden
    # With room again, the same tables publish.
    publish(tables, own_copy, "29990101T000000000Z")
    assert own_copy.published_snapshot() == own_copy.snapshot("29990101T000000000Z")
