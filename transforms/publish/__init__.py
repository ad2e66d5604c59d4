"""Publishing a validated catalog into the data directory, atomically.

Publishing writes the new snapshot beside the old one, builds the new DuckDB file under a
temporary name, then renames it over ``catalog.duckdb``: that rename is the commit. A crash
before it leaves the previous catalog in place, whole; readers that hold the old file open
keep reading it. ``current`` is re-pointed after the commit and repaired on the next run
if a crash fell between the two.

``repair`` also rebuilds what damage broke, from whichever copy survived: the catalog file
from its Parquet snapshot, a snapshot from the catalog file.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from transforms.contract import (
    LATER_TABLES,
    MODELS,
    OFFER_PRICE_METRICS,
    OFFICIAL_PRICES,
    PAGE_VALUES_SCHEMA,
    PROVENANCE,
    PROVIDER_OFFERS,
    TABLES,
    Table,
    to_arrow,
)
from transforms.contract.datapackage import DATAPACKAGE_FILE, datapackage
from transforms.contract.layout import CATALOG_FILE, DataDir
from transforms.publish.asof import utc_timestamp
from transforms.publish.cost import COST_MACROS

INFO_TABLE = "catalog_info"
# DuckDB 2.x writes storage version 69 by default, which the 1.x clients people have (the
# pip ``duckdb`` CLI 1.5, Python duckdb 1.4 LTS and 1.5) cannot open. v1.4.0 keeps every
# feature the catalog uses: DECIMAL, lists, maps, comments and table macros.
STORAGE_VERSION = "v1.4.0"
# Tables a run hands ``publish`` as files already written, in the schema they were staged in.
STAGED_SCHEMAS = {"page_values": PAGE_VALUES_SCHEMA}


def _at(table: str = "") -> str:
    """Rows valid at ``ts``: ``valid_from`` inclusive, ``valid_to`` exclusive."""
    prefix = f"{table}." if table else ""
    at = utc_timestamp("ts")
    return f"{prefix}valid_from <= {at} AND ({prefix}valid_to IS NULL OR {prefix}valid_to > {at})"


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
    *COST_MACROS,
)


class BrokenState(RuntimeError):
    """Local state that nothing left in the data directory can repair; says what to do."""

    def __init__(self, problem: str, fix: str) -> None:
        super().__init__(f"{problem}: {fix}")
        self.problem = problem


class CatalogInUse(RuntimeError):
    """Another process has the catalog file open for writing."""


def repair(data_dir: DataDir, last_published: str | None) -> list[str]:
    """Finish or undo what an interrupted publish left, and rebuild what damage broke.

    ``last_published`` is the run that the runs' summaries say was published last. Stray
    temporary files go; a catalog file that is missing or unreadable is built again from
    the snapshot that run published; a snapshot the catalog names that is missing or
    unreadable is written again from the catalog; ``current`` is pointed at it. Returns
    what was recovered, in words. Raises ``BrokenState`` when no copy is left to rebuild
    from, and ``CatalogInUse``.
    """
    for leftover in [
        *data_dir.root.glob(".catalog-*.duckdb*"),
        *data_dir.snapshots.glob("*.tmp"),
        *data_dir.archive.glob("??/*.partial"),
    ]:
        if leftover.is_dir():
            shutil.rmtree(leftover)
        else:
            leftover.unlink()
    recovered = []
    publication, problem = published_snapshot(data_dir)
    if problem is None and publication is None and last_published is not None:
        problem = f"{CATALOG_FILE} is missing"
    if problem is not None:
        snapshot = _last_good_snapshot(data_dir, last_published)
        if snapshot is None:
            raise BrokenState(
                f"{problem}, and no readable snapshot is left to build it from",
                "rebuild every run from the page archive (modelcat rebuild --run "
                f"FIRST_RUN_ID), or move {data_dir.catalog} aside to start a new catalog",
            )
        _commit(data_dir, snapshot)
        recovered.append(f"{problem}: built again from snapshots/{snapshot.name}")
        publication = snapshot.name
    if publication is None:
        return recovered
    snapshot = data_dir.snapshot(publication)
    if not _readable(snapshot):
        _snapshot_from_catalog(data_dir, publication)
        recovered.append(
            f"snapshots/{publication} was missing or unreadable: written again from the catalog"
        )
    _point(data_dir.current, Path("snapshots") / publication)
    return recovered


def published_snapshot(data_dir: DataDir) -> tuple[str | None, str | None]:
    """The snapshot the catalog records it was built from, or what is wrong with it."""
    if not data_dir.catalog.exists():
        return None, None
    try:
        with duckdb.connect(str(data_dir.catalog), read_only=True) as con:
            row = con.execute(f"SELECT value FROM {INFO_TABLE} WHERE key = 'snapshot'").fetchone()
    except duckdb.Error as error:
        if "Could not set lock" in str(error):
            raise CatalogInUse(
                f"{data_dir.catalog} is open for writing in another process: close it (read "
                "it with duckdb -readonly) and run again"
            ) from None
        return None, f"{CATALOG_FILE} could not be opened ({str(error).splitlines()[0]})"
    if row is None:
        return None, f"{CATALOG_FILE} does not say which snapshot it was built from"
    return row[0], None


def _last_good_snapshot(data_dir: DataDir, run_id: str | None) -> Path | None:
    """The readable snapshot ``run_id`` published: where ``current`` points, else its newest."""
    candidates = [data_dir.current_snapshot()]
    if run_id is not None:
        candidates = [c for c in candidates if c is not None and c.name.split(".")[0] == run_id]
        candidates.append(data_dir.snapshot_of(run_id))
    return next((c for c in candidates if c is not None and _readable(c)), None)


def _readable(snapshot: Path) -> bool:
    """Whether every table of a snapshot is there with a readable Parquet footer (a table
    newer than the snapshot may be absent)."""
    try:
        for name in TABLES:
            path = snapshot / f"{name}.parquet"
            if name in LATER_TABLES and not path.exists():
                continue
            pq.read_metadata(path)
    except (OSError, pa.ArrowException):
        return False
    return True


def _snapshot_from_catalog(data_dir: DataDir, publication: str) -> None:
    """Write a snapshot again from the catalog that was built from it."""
    snapshot = data_dir.snapshot(publication)
    discard(data_dir, publication)  # what is left of it is damaged: every table is written
    staging = snapshot.with_name(f"{publication}.tmp")
    staging.mkdir(parents=True)
    with duckdb.connect(str(data_dir.catalog), read_only=True) as con:
        held = {
            name for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()
        }
        for name, table in TABLES.items():
            if name in LATER_TABLES and name not in held:
                continue  # a catalog from before the table: its snapshot did not have it either
            schema = STAGED_SCHEMAS.get(name, table.arrow_schema)  # as ``publish`` writes it
            rows = _in_shape(con.sql(f"SELECT * FROM {name}").to_arrow_table(), schema)
            # One row group: the readers of page_values rely on no row group splitting a page.
            pq.write_table(
                rows,
                staging / f"{name}.parquet",
                compression="zstd",
                row_group_size=max(rows.num_rows, 1),
            )
    _fsync_tree(staging)
    staging.rename(snapshot)


def _in_shape(rows: pa.Table, schema: pa.Schema) -> pa.Table:
    """``rows`` in ``schema``'s types. A column an older catalog's table lacks stays absent,
    as in the snapshot it was built from: its readers know that shape."""
    held = set(rows.column_names)
    return rows.select([f.name for f in schema if f.name in held]).cast(
        pa.schema([f for f in schema if f.name in held])
    )


def discard(data_dir: DataDir, pattern: str) -> int:
    """Delete the snapshots matching ``pattern``, and any of them still being written.

    Each is renamed to a leftover first, so that a crash part way leaves nothing half
    deleted under a real name (``repair`` clears leftovers). Returns how many were whole.
    """
    count = 0
    for snapshot in list(data_dir.snapshots.glob(pattern)):
        if snapshot.is_dir() and not snapshot.name.endswith(".tmp"):
            doomed = snapshot.with_name(f"{snapshot.name}.discarded.tmp")
            snapshot.rename(doomed)
            shutil.rmtree(doomed)
            count += 1
    for staging in list(data_dir.snapshots.glob(f"{pattern}.tmp")):
        shutil.rmtree(staging)
    return count


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
    (staging / DATAPACKAGE_FILE).write_text(
        json.dumps(datapackage(publication), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    _fsync_tree(staging)
    staging.rename(snapshot)
    if commit:
        _commit(data_dir, snapshot)
        _point(data_dir.current, Path("snapshots") / publication)
    return snapshot


def _commit(data_dir: DataDir, snapshot: Path) -> None:
    """Make ``snapshot`` the catalog: build the DuckDB file aside, then rename it over."""
    building = data_dir.root / f".catalog-{snapshot.name}.duckdb"
    _write_duckdb(building, snapshot)
    os.replace(building, data_dir.catalog)  # the commit
    _fsync_dir(data_dir.root)


def _write_duckdb(path: Path, snapshot: Path) -> None:
    """The DuckDB file of ``snapshot`` at ``path``: its tables, comments and macros."""
    path.unlink(missing_ok=True)
    # Loading is a stream from Parquet: a small memory budget keeps a refresh's peak low.
    config = {
        "memory_limit": "256MB",
        "threads": 1,
        "storage_compatibility_version": STORAGE_VERSION,
    }
    with duckdb.connect(str(path), config=config) as con:
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
