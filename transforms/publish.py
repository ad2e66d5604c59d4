"""The data directory, and publishing a validated catalog into it, atomically.

Layout of ``DATA_DIR``::

    catalog.duckdb            the current catalog: every table, materialized (no file paths)
    current -> snapshots/ID   the current catalog as Parquet, one file per table
    snapshots/ID/             every published run's Parquet files
    runs/ID/                  each run's staged crawl, log and summary.json
    archive/                  every page body fetched, by SHA-256 (crawler.archive)
    validators.json           each URL's ETag/Last-Modified and body hash, for conditional GET

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
INFO_TABLE = "catalog_info"


def _at(table: str = "") -> str:
    """Rows valid at ``ts``: ``valid_from`` inclusive, ``valid_to`` exclusive."""
    prefix = f"{table}." if table else ""
    return (
        f"{prefix}valid_from <= CAST(ts AS TIMESTAMP) "
        f"AND ({prefix}valid_to IS NULL OR {prefix}valid_to > CAST(ts AS TIMESTAMP))"
    )


# Point-in-time access: what the catalog said at a moment, from the history tables.
MACROS = (
    f"""CREATE MACRO models_as_of(ts) AS TABLE
        SELECT * EXCLUDE (listed_from, delisted_at, valid_from, valid_to, first_run_id, last_run_id)
        FROM model_history WHERE {_at()}""",
    f"""CREATE MACRO prices_as_of(ts) AS TABLE
        SELECT model_id, tier_label, tier_min_tokens, tier_max_tokens, metric, usd_per_mtok
        FROM price_history WHERE provider IS NULL AND {_at()}""",
    f"""CREATE MACRO offers_as_of(ts) AS TABLE
        WITH prices AS (
            SELECT model_id, provider, region,
                   max(usd_per_mtok) FILTER (metric = 'input') AS input_usd_per_mtok,
                   max(usd_per_mtok) FILTER (metric = 'output') AS output_usd_per_mtok,
                   max(usd_per_mtok) FILTER (metric = 'cache_read') AS cache_read_usd_per_mtok,
                   max(usd_per_mtok) FILTER (metric = 'cache_write') AS cache_write_usd_per_mtok
            FROM price_history WHERE provider IS NOT NULL AND {_at()}
            GROUP BY ALL
        )
        SELECT o.model_id, o.provider, o.region, o.context_window_tokens, o.max_output_tokens,
               p.input_usd_per_mtok, p.output_usd_per_mtok,
               p.cache_read_usd_per_mtok, p.cache_write_usd_per_mtok
        FROM offer_history o LEFT JOIN prices p
          ON p.model_id = o.model_id AND p.provider = o.provider
         AND p.region IS NOT DISTINCT FROM o.region
        WHERE {_at("o")}""",
)


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

    @property
    def archive(self) -> Path:
        return self.root / "archive"

    @property
    def validators(self) -> Path:
        return self.root / "validators.json"

    def snapshot(self, publication: str) -> Path:
        return self.snapshots / publication

    def snapshot_of(self, run_id: str) -> Path | None:
        """The newest snapshot of a run: its own, or its latest rebuild."""
        candidates = [self.snapshot(run_id), *self.snapshots.glob(f"{run_id}.rebuilt-*")]
        existing = sorted(p for p in candidates if p.is_dir() and not p.name.endswith(".tmp"))
        return existing[-1] if existing else None

    def current_snapshot(self) -> Path | None:
        """The snapshot the published catalog was built from."""
        return self.current.resolve() if self.current.is_dir() else None

    def run(self, run_id: str) -> Path:
        return self.runs / run_id

    def published_snapshot(self) -> str | None:
        """The snapshot the catalog was built from, as the catalog itself records it."""
        if not self.catalog.exists():
            return None
        with duckdb.connect(str(self.catalog), read_only=True) as con:
            row = con.execute(f"SELECT value FROM {INFO_TABLE} WHERE key = 'snapshot'").fetchone()
        return row[0] if row else None

    def repair(self) -> None:
        """Finish or undo what an interrupted publish left: stray temp files, a stale link."""
        for leftover in [*self.root.glob(".catalog-*.duckdb*"), *self.snapshots.glob("*.tmp")]:
            if leftover.is_dir():
                shutil.rmtree(leftover)
            else:
                leftover.unlink()
        publication = self.published_snapshot()
        if publication and self.snapshot(publication).is_dir():
            _point(self.current, Path("snapshots") / publication)


def publish(
    tables: Mapping[str, pd.DataFrame], data_dir: DataDir, publication: str, *, commit: bool = True
) -> Path:
    """Write every table as a Parquet snapshot and, with ``commit``, make it the catalog.

    Returns the snapshot directory. ``publication`` names it: the run id, or for a rebuild
    the run id with a suffix.
    """
    missing = set(TABLES) - set(tables)
    if missing:
        raise ValueError(f"cannot publish without tables {sorted(missing)}")
    data_dir.snapshots.mkdir(parents=True, exist_ok=True)
    snapshot = data_dir.snapshot(publication)
    staging = snapshot.with_name(f"{publication}.tmp")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir()
    for name, table in TABLES.items():
        pq.write_table(
            to_arrow(tables[name], table), staging / f"{name}.parquet", compression="zstd"
        )
    _fsync_tree(staging)
    staging.rename(snapshot)
    if commit:
        building = data_dir.root / f".catalog-{publication}.duckdb"
        _build_catalog(building, snapshot)
        os.replace(building, data_dir.catalog)  # the commit
        _fsync_dir(data_dir.root)
        _point(data_dir.current, Path("snapshots") / publication)
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
        con.execute(f"CREATE TABLE {INFO_TABLE} (key VARCHAR PRIMARY KEY, value VARCHAR)")
        con.execute(f"INSERT INTO {INFO_TABLE} VALUES ('snapshot', ?)", [snapshot.name])
        for macro in MACROS:
            con.execute(macro)
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
