"""The data directory, and publishing a validated catalog into it, atomically.

Layout of ``DATA_DIR``::

    catalog.duckdb            the current catalog: every table, materialized (no file paths)
    current -> snapshots/ID   the current catalog as Parquet, one file per table
    snapshots/ID/             every published run's Parquet files
    runs/ID/                  each run's staged crawl, log and summary.json

Publishing writes the new snapshot beside the old one, builds the new DuckDB file under a
temporary name, then renames it over ``catalog.duckdb``: that rename is the commit. A crash
before it leaves the previous catalog in place, whole; readers that hold the old file open
keep reading it. ``current`` is re-pointed after the commit and repaired on the next run
if a crash fell between the two.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq

from transforms.schema import TABLES, to_arrow

CATALOG_FILE = "catalog.duckdb"


@dataclass(frozen=True)
class DataDir:
    root: Path

    @property
    def catalog(self) -> Path:
        return self.root / CATALOG_FILE

    @property
    def current(self) -> Path:
        return self.root / "current"

    @property
    def snapshots(self) -> Path:
        return self.root / "snapshots"

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    def snapshot(self, run_id: str) -> Path:
        return self.snapshots / run_id

    def run(self, run_id: str) -> Path:
        return self.runs / run_id

    def published_run_id(self) -> str | None:
        """The run the catalog holds, read from the catalog itself."""
        if not self.catalog.exists():
            return None
        with duckdb.connect(str(self.catalog), read_only=True) as con:
            row = con.execute(
                "SELECT run_id FROM runs WHERE status = 'published' ORDER BY run_id DESC LIMIT 1"
            ).fetchone()
        return row[0] if row else None

    def repair(self) -> None:
        """Finish or undo what an interrupted publish left: stray temp files, a stale link."""
        for leftover in [*self.root.glob(".catalog-*.duckdb*"), *self.snapshots.glob("*.tmp")]:
            if leftover.is_dir():
                shutil.rmtree(leftover)
            else:
                leftover.unlink()
        run_id = self.published_run_id()
        if run_id and self.snapshot(run_id).is_dir():
            _point(self.current, Path("snapshots") / run_id)


def publish(tables: Mapping[str, pd.DataFrame], data_dir: DataDir, run_id: str) -> Path:
    """Write every table as Parquet and as the DuckDB catalog; returns the snapshot dir."""
    missing = set(TABLES) - set(tables)
    if missing:
        raise ValueError(f"cannot publish without tables {sorted(missing)}")
    data_dir.snapshots.mkdir(parents=True, exist_ok=True)
    snapshot = data_dir.snapshot(run_id)
    staging = snapshot.with_name(f"{run_id}.tmp")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir()
    for name, table in TABLES.items():
        pq.write_table(
            to_arrow(tables[name], table), staging / f"{name}.parquet", compression="zstd"
        )
    _fsync_tree(staging)
    staging.rename(snapshot)

    building = data_dir.root / f".catalog-{run_id}.duckdb"
    _build_catalog(building, snapshot)
    os.replace(building, data_dir.catalog)  # the commit
    _fsync_dir(data_dir.root)
    _point(data_dir.current, Path("snapshots") / run_id)
    return snapshot


def _build_catalog(path: Path, snapshot: Path) -> None:
    path.unlink(missing_ok=True)
    with duckdb.connect(str(path)) as con:
        for name, table in TABLES.items():
            parquet = str((snapshot / f"{name}.parquet").resolve()).replace("'", "''")
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_parquet('{parquet}')")
            con.execute(f"COMMENT ON TABLE {name} IS {_literal(table.description)}")
            for column in table.columns:
                con.execute(
                    f"COMMENT ON COLUMN {name}.{column.name} IS {_literal(column.description)}"
                )
        con.execute("CHECKPOINT")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _point(link: Path, target: Path) -> None:
    """Atomically make ``link`` a symlink to ``target``."""
    temporary = link.with_name(f".{link.name}.tmp")
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(target, target_is_directory=True)
    os.replace(temporary, link)


def _fsync_tree(directory: Path) -> None:
    for path in directory.iterdir():
        with path.open("rb") as handle:
            os.fsync(handle.fileno())
    _fsync_dir(directory)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
