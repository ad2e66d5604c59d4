"""The catalog file, ``catalog.duckdb``: written from a snapshot, committed by a rename.

The file holds every table of its snapshot, materialized (no file paths, so it opens from
anywhere), each table's and column's meaning as comments, ``catalog_info`` (which snapshot
it was written from, and a fingerprint of the contract and macros it was written with) and
the macros (as-of and cost). It is written under a temporary name beside the live one and
renamed over it: that rename is the commit, so readers holding the old file keep reading it
whole, and a crash before it leaves the old catalog in place.

A run whose history tables carry the previous snapshot's closed rows over
(``history_rows.Appended``) writes its catalog file from a copy of the live one, when that
is unchanged since it was committed (``WRITTEN``) and was written from the same snapshot
with the same fingerprint (``_appendable``): the closed history rows stay
where they are, the previous open rows are replaced by the run's, and the other tables are
loaded again, except those whose Parquet file is byte for byte the one the live file was
loaded from. So publishing does not load years of history every run, nor, when the site
did not change, the unchanged tables.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
from collections.abc import Mapping
from pathlib import Path

import duckdb

from transforms.contract.layout import DataDir, Snapshot
from transforms.contract.tables import HISTORY_TABLES, TABLES
from transforms.publish.asof import AS_OF_MACROS
from transforms.publish.cost import COST_MACROS
from transforms.publish.files import fsync_dir
from transforms.publish.history_rows import CLOSED_BY, Appended, Closed

INFO_TABLE = "catalog_info"
# DuckDB 2.x writes storage version 69 by default, which the 1.x clients people have (the
# pip ``duckdb`` CLI 1.5, Python duckdb 1.4 LTS and 1.5) cannot open. v1.4.0 keeps every
# feature the catalog uses: DECIMAL, lists, maps, comments and table macros.
STORAGE_VERSION = "v1.4.0"
MACROS = (*AS_OF_MACROS, *COST_MACROS)
# Catalog files being written: a crash leaves one, which the next run's repair removes.
WRITING = ".catalog-*.duckdb*"
WRITTEN = ".catalog.written"  # the live file's size and mtime as committed


class CatalogInUse(RuntimeError):
    """Another process has the catalog file open for writing."""


def commit(data_dir: DataDir, snapshot: Snapshot) -> None:
    """Make ``snapshot`` the catalog: write its catalog file aside, then rename it over."""
    swap(data_dir, write_aside(data_dir, snapshot))


def write_aside(
    data_dir: DataDir, snapshot: Snapshot, carried: Mapping[str, Appended] | None = None
) -> Path:
    """The catalog file of ``snapshot``, written beside the live one; nothing is left of it
    if writing fails (raises ``OSError`` or ``duckdb.Error``).

    ``carried``: the history tables ``snapshot`` holds as closed rows carried over and the
    run's rows. When the live file holds those closed rows (``_appendable``), it is copied
    and the run's rows appended; otherwise the file is written whole."""
    writing = data_dir.root / f".catalog-{snapshot.publication}.duckdb"
    try:
        written_from = _appendable(data_dir, carried) if carried else None
        if carried and written_from is not None:
            shutil.copyfile(data_dir.catalog_file, writing)
            append_catalog_file(writing, snapshot, carried, written_from)
        else:
            write_catalog_file(writing, snapshot)
    except BaseException:
        for path in data_dir.root.glob(f"{writing.name}*"):  # the file and its WAL
            path.unlink(missing_ok=True)
        raise
    return writing


def swap(data_dir: DataDir, writing: Path) -> None:
    """Rename a catalog file written aside over the live one: the commit.

    A write-ahead log beside the live file (a writer that crashed left it) belongs to the
    file being replaced: DuckDB refuses to open the new one beside it ("WAL does not match
    database file"), so it goes first."""
    data_dir.catalog_file.with_name(f"{data_dir.catalog_file.name}.wal").unlink(missing_ok=True)
    os.replace(writing, data_dir.catalog_file)
    fsync_dir(data_dir.root)
    _remember(data_dir)


def _identity(path: Path) -> str:
    stat = path.stat()
    return f"{stat.st_size} {stat.st_mtime_ns}"


def _remember(data_dir: DataDir) -> None:
    """Note the live file's size and time as committed: a file written to since (opened for
    writing, say) is not appended to. A crash before the note leaves the last one, which no
    longer matches: the next file is then written whole."""
    note = data_dir.root / WRITTEN
    writing = note.with_name(f"{note.name}.writing")
    try:
        writing.write_text(_identity(data_dir.catalog_file) + "\n", encoding="utf-8")
        os.replace(writing, note)
    except OSError:  # the commit stands; the next file is written whole
        with contextlib.suppress(OSError):
            note.unlink(missing_ok=True)


def _as_committed(data_dir: DataDir) -> bool:
    try:
        note = (data_dir.root / WRITTEN).read_text(encoding="utf-8").strip()
        return note == _identity(data_dir.catalog_file)
    except OSError:
        return False


def write_catalog_file(path: Path, snapshot: Snapshot) -> None:
    """The catalog file of ``snapshot`` at ``path``: its tables, comments and macros."""
    path.unlink(missing_ok=True)
    with duckdb.connect(str(path), config=_CONFIG) as con:
        # One transaction: each statement on its own commits (and syncs) separately.
        con.execute("BEGIN TRANSACTION")
        for name in TABLES:
            _load(con, name, snapshot)
        con.execute(f"CREATE TABLE {INFO_TABLE} (key VARCHAR PRIMARY KEY, value VARCHAR)")
        con.execute(
            f"INSERT INTO {INFO_TABLE} VALUES "
            "('snapshot', ?), ('fingerprint', ?), ('written', 'whole')",
            [snapshot.publication, fingerprint()],
        )
        for macro in MACROS:
            con.execute(macro)
        con.execute("COMMIT")
        con.execute("CHECKPOINT")


def append_catalog_file(
    path: Path, snapshot: Snapshot, carried: Mapping[str, Appended], written_from: Snapshot
) -> list[str]:
    """Turn the copy at ``path`` of the catalog file of ``written_from`` into that of
    ``snapshot``: in each carried history table the open rows give way to the run's rows
    (closed, then open, as the snapshot's file holds them after the carried ones); every
    other table is loaded again unless its file is the same as ``written_from``'s. Returns
    the tables kept as they were."""
    kept = []
    with duckdb.connect(str(path), config=_CONFIG) as con:
        con.execute("BEGIN TRANSACTION")
        for name in TABLES:
            if name in carried:
                con.execute(f"DELETE FROM {name} WHERE {CLOSED_BY[name]} IS NULL")
                con.register("run_rows", carried[name].written_reader())
                con.execute(f"INSERT INTO {name} SELECT * FROM run_rows")
                con.unregister("run_rows")
            elif _same_bytes(snapshot.table(name), written_from.table(name)):
                kept.append(name)  # the copy holds these very rows already
            else:
                con.execute(f"DROP TABLE {name}")
                _load(con, name, snapshot)
        con.execute(
            f"UPDATE {INFO_TABLE} SET value = ? WHERE key = 'snapshot'", [snapshot.publication]
        )
        con.execute(f"UPDATE {INFO_TABLE} SET value = 'appended' WHERE key = 'written'")
        con.execute("COMMIT")
        con.execute("CHECKPOINT")
    return kept


def _same_bytes(a: Path, b: Path) -> bool:
    """Whether two files hold the same bytes (False if either cannot be read)."""
    try:
        if a.stat().st_size != b.stat().st_size:
            return False
        with a.open("rb") as one, b.open("rb") as other:
            while block := one.read(1 << 20):
                if block != other.read(1 << 20):
                    return False
        return True
    except OSError:
        return False


# Loading is a stream from Parquet, and DuckDB keeps what it loads cached up to its limit:
# at 256 MB, a first run of 50,000 models peaked in this load, 178 MB above the run; at
# 64 MB, 12 MB above it (writing that file alone: 4.5 s against 4.0-4.5 s).
_CONFIG: dict[str, str | bool | int | float | list[str]] = {
    "memory_limit": "64MB",
    "threads": 1,
    "storage_compatibility_version": STORAGE_VERSION,
}


def _load(con: duckdb.DuckDBPyConnection, name: str, snapshot: Snapshot) -> None:
    """Table ``name`` of ``snapshot``, with the contract's meaning as comments."""
    table = TABLES[name]
    parquet = _literal(str(snapshot.table(name).resolve()))
    con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_parquet({parquet})")
    con.execute(f"COMMENT ON TABLE {name} IS {_literal(table.description)}")
    for column in table.columns:
        con.execute(f"COMMENT ON COLUMN {name}.{column.name} IS {_literal(column.description)}")


def fingerprint() -> str:
    """What a catalog file is written with besides its rows: the contract's tables, columns,
    types and meanings, the macros and the storage version. A file with another one is
    written whole again rather than appended to."""
    parts = [STORAGE_VERSION, *MACROS]
    for name, table in TABLES.items():
        parts += [name, table.description, str(table.arrow_schema)]
        parts += [f"{column.name}: {column.description}" for column in table.columns]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _appendable(data_dir: DataDir, carried: Mapping[str, Appended]) -> Snapshot | None:
    """The snapshot the live catalog file was written from, if the file holds exactly the
    rows ``carried`` carries over: as this code committed it (nothing has written to it
    since), written with today's fingerprint from the snapshot whose files every history
    table is carried from, whole. None otherwise."""
    if set(carried) != set(HISTORY_TABLES) or not _as_committed(data_dir):
        return None
    try:
        with duckdb.connect(str(data_dir.catalog_file), read_only=True) as con:
            info = dict(con.execute(f"SELECT key, value FROM {INFO_TABLE}").fetchall())
    except duckdb.Error:
        return None
    if info.get("fingerprint") != fingerprint() or "snapshot" not in info:
        return None
    previous = data_dir.snapshot(info["snapshot"])
    whole = all(
        appended.closed == Closed(name, previous.table(name)) for name, appended in carried.items()
    )
    return previous if whole else None


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
