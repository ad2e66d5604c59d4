"""Publishing a validated catalog into the data directory, atomically.

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
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq

from transforms.layout import DataDir
from transforms.schema import (
    MODELS,
    OFFER_PRICE_METRICS,
    OFFICIAL_PRICES,
    PROVENANCE,
    PROVIDER_OFFERS,
    TABLES,
    Table,
    to_arrow,
)

INFO_TABLE = "catalog_info"


def _at(table: str = "") -> str:
    """Rows valid at ``ts``: ``valid_from`` inclusive, ``valid_to`` exclusive."""
    prefix = f"{table}." if table else ""
    return (
        f"{prefix}valid_from <= CAST(ts AS TIMESTAMP) "
        f"AND ({prefix}valid_to IS NULL OR {prefix}valid_to > CAST(ts AS TIMESTAMP))"
    )


def _columns(table: Table) -> str:
    """The columns of a current table that history holds (all but provenance), for SELECT."""
    return ", ".join(c for c in table.names if c not in PROVENANCE.get(table.name, ()))


_PRICE_COLUMNS = ", ".join(
    f"max(usd_per_mtok) FILTER (metric = '{metric}') AS {column}"
    for column, metric in OFFER_PRICE_METRICS.items()
)
_OFFER_COLUMNS = ", ".join(
    ("p." if c in OFFER_PRICE_METRICS else "o.") + c for c in PROVIDER_OFFERS.names
)
# Point-in-time access: what the catalog said at a moment, from the history tables. Each
# returns the columns of its current table less provenance (schema.PROVENANCE), so at the
# current time it returns the current table, but for price cells the run could not read.
MACROS = (
    f"""CREATE MACRO models_as_of(ts) AS TABLE
        SELECT {_columns(MODELS)} FROM model_history WHERE {_at()}""",
    f"""CREATE MACRO prices_as_of(ts) AS TABLE
        SELECT {_columns(OFFICIAL_PRICES)}
        FROM price_history WHERE provider IS NULL AND {_at()}""",
    f"""CREATE MACRO offers_as_of(ts) AS TABLE
        WITH prices AS (
            SELECT model_id, provider, region, {_PRICE_COLUMNS}
            FROM price_history WHERE provider IS NOT NULL AND {_at()}
            GROUP BY ALL
        )
        SELECT {_OFFER_COLUMNS}
        FROM offer_history o LEFT JOIN prices p
          ON p.model_id = o.model_id AND p.provider = o.provider
         AND p.region IS NOT DISTINCT FROM o.region
        WHERE {_at("o")}""",
)


def published_snapshot(data_dir: DataDir) -> str | None:
    """The snapshot the catalog was built from, as the catalog itself records it."""
    if not data_dir.catalog.exists():
        return None
    with duckdb.connect(str(data_dir.catalog), read_only=True) as con:
        row = con.execute(f"SELECT value FROM {INFO_TABLE} WHERE key = 'snapshot'").fetchone()
    return row[0] if row else None


def repair(data_dir: DataDir) -> None:
    """Finish or undo what an interrupted publish left: stray temp files, a stale link."""
    for leftover in [
        *data_dir.root.glob(".catalog-*.duckdb*"),
        *data_dir.snapshots.glob("*.tmp"),
    ]:
        if leftover.is_dir():
            shutil.rmtree(leftover)
        else:
            leftover.unlink()
    publication = published_snapshot(data_dir)
    if publication and data_dir.snapshot(publication).is_dir():
        _point(data_dir.current, Path("snapshots") / publication)


def publish(
    tables: Mapping[str, pd.DataFrame | Path],
    data_dir: DataDir,
    publication: str,
    *,
    commit: bool = True,
) -> Path:
    """Write every table as a Parquet snapshot and, with ``commit``, make it the catalog.

    Returns the snapshot directory. ``publication`` names it: the run id, or for a rebuild
    the run id with a suffix. A table may be given as a Parquet file already written.
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
        target = staging / f"{name}.parquet"
        if isinstance(tables[name], Path):  # written already, in the contract's schema
            shutil.copyfile(tables[name], target)
        else:
            pq.write_table(to_arrow(tables[name], table), target, compression="zstd")
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
    # Loading is a stream from Parquet: a small memory budget keeps a refresh's peak low.
    with duckdb.connect(str(path), config={"memory_limit": "256MB", "threads": 1}) as con:
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
