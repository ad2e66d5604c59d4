"""The catalog file, ``catalog.duckdb``: written from a snapshot, committed by a rename.

The file holds every table of its snapshot, materialized (no file paths, so it opens from
anywhere), each table's and column's meaning as comments, ``catalog_info`` (which snapshot
it was written from) and the macros (as-of and cost). It is written under a temporary name
beside the live one and renamed over it: that rename is the commit, so readers holding the
old file keep reading it whole, and a crash before it leaves the old catalog in place.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from transforms.contract.layout import DataDir, Snapshot
from transforms.contract.tables import TABLES
from transforms.publish.asof import AS_OF_MACROS
from transforms.publish.cost import COST_MACROS
from transforms.publish.files import fsync_dir

INFO_TABLE = "catalog_info"
# DuckDB 2.x writes storage version 69 by default, which the 1.x clients people have (the
# pip ``duckdb`` CLI 1.5, Python duckdb 1.4 LTS and 1.5) cannot open. v1.4.0 keeps every
# feature the catalog uses: DECIMAL, lists, maps, comments and table macros.
STORAGE_VERSION = "v1.4.0"
MACROS = (*AS_OF_MACROS, *COST_MACROS)
# Catalog files being written: a crash leaves one, which the next run's repair removes.
WRITING = ".catalog-*.duckdb*"


class CatalogInUse(RuntimeError):
    """Another process has the catalog file open for writing."""


def commit(data_dir: DataDir, snapshot: Snapshot) -> None:
    """Make ``snapshot`` the catalog: write its catalog file aside, then rename it over."""
    swap(data_dir, write_aside(data_dir, snapshot))


def write_aside(data_dir: DataDir, snapshot: Snapshot) -> Path:
    """The catalog file of ``snapshot``, written beside the live one; nothing is left of it
    if writing fails (raises ``OSError`` or ``duckdb.Error``)."""
    writing = data_dir.root / f".catalog-{snapshot.publication}.duckdb"
    try:
        write_catalog_file(writing, snapshot)
    except BaseException:
        for path in data_dir.root.glob(f"{writing.name}*"):  # the file and its WAL
            path.unlink(missing_ok=True)
        raise
    return writing


def swap(data_dir: DataDir, writing: Path) -> None:
    """Rename a catalog file written aside over the live one: the commit."""
    os.replace(writing, data_dir.catalog_file)
    fsync_dir(data_dir.root)


def write_catalog_file(path: Path, snapshot: Snapshot) -> None:
    """The catalog file of ``snapshot`` at ``path``: its tables, comments and macros."""
    path.unlink(missing_ok=True)
    # Loading is a stream from Parquet: a small memory budget keeps a refresh's peak low.
    config: dict[str, str | bool | int | float | list[str]] = {
        "memory_limit": "256MB",
        "threads": 1,
        "storage_compatibility_version": STORAGE_VERSION,
    }
    with duckdb.connect(str(path), config=config) as con:
        # One transaction: each statement on its own commits (and syncs) separately.
        con.execute("BEGIN TRANSACTION")
        for name, table in TABLES.items():
            parquet = _literal(str(snapshot.table(name).resolve()))
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_parquet({parquet})")
            con.execute(f"COMMENT ON TABLE {name} IS {_literal(table.description)}")
            for column in table.columns:
                con.execute(
                    f"COMMENT ON COLUMN {name}.{column.name} IS {_literal(column.description)}"
                )
        con.execute(f"CREATE TABLE {INFO_TABLE} (key VARCHAR PRIMARY KEY, value VARCHAR)")
        con.execute(f"INSERT INTO {INFO_TABLE} VALUES ('snapshot', ?)", [snapshot.publication])
        for macro in MACROS:
            con.execute(macro)
        con.execute("COMMIT")
        con.execute("CHECKPOINT")


def written_from(data_dir: DataDir) -> tuple[str | None, str | None]:
    """The snapshot the catalog file says it was written from (its publication), or what
    is wrong with the file. Raises ``CatalogInUse``."""
    name = data_dir.catalog_file.name
    if not data_dir.catalog_file.exists():
        return None, None
    try:
        with duckdb.connect(str(data_dir.catalog_file), read_only=True) as con:
            row = con.execute(f"SELECT value FROM {INFO_TABLE} WHERE key = 'snapshot'").fetchone()
    except duckdb.Error as error:
        if "Could not set lock" in str(error):
            raise CatalogInUse(
                f"{data_dir.catalog_file} is open for writing in another process: close it "
                "(read it with duckdb -readonly) and run again"
            ) from None
        return None, f"{name} could not be opened ({str(error).splitlines()[0]})"
    if row is None:
        return None, f"{name} does not say which snapshot it was built from"
    return row[0], None


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
