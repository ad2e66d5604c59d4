"""Snapshots: every table of a run as Parquet, in ``snapshots/PUBLICATION/``.

A snapshot is written whole into ``PUBLICATION.tmp`` and renamed into place, so a
snapshot under its real name is always complete. Publishing a run writes its snapshot and
then commits it as the catalog file (``transforms.publish.catalog_file``); ``current`` then
points at it.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from transforms.contract.datapackage import datapackage
from transforms.contract.layout import PARTIAL, DataDir, Snapshot
from transforms.contract.tables import LATER_TABLES, TABLES
from transforms.publish import catalog_file
from transforms.publish.files import fsync_tree, point
from transforms.publish.history_rows import Appended, write_history

if TYPE_CHECKING:
    import pandas as pd


class PublishFailed(RuntimeError):
    """The snapshot or the catalog file could not be written (a full disk, a file too large
    for the process's limit): nothing was committed, the catalog is as it was, and what was
    written of the new one has been removed (or is left for the next run's recovery)."""

    summary: object = None  # the run's record, for the command to print (set by the run)


# A table to publish: a frame, a Parquet file written already in the contract's schema, or a
# history table's closed rows carried over with the rows the run wrote.
Given: TypeAlias = "pd.DataFrame | Path | Appended"


def publish(
    tables: Mapping[str, Given],
    data_dir: DataDir,
    publication: str,
    *,
    commit: bool = True,
) -> Snapshot:
    """Write every table as a Parquet snapshot and, with ``commit``, make it the catalog.

    Returns the snapshot. ``publication`` names it: the run id, or for a rebuild the run id
    with a suffix. A table may be given as a Parquet file already written, or a history
    table as its closed rows and the run's (``history_rows.Appended``). Raises
    ``PublishFailed`` when a file cannot be written, before anything is committed.
    """
    missing = set(TABLES) - set(tables)
    if missing:
        raise ValueError(f"cannot publish without tables {sorted(map(str, missing))}")
    snapshot = data_dir.snapshot(publication)
    try:
        _write(tables, data_dir, snapshot)
        carried = {name: t for name, t in tables.items() if isinstance(t, Appended)}
        writing = catalog_file.write_aside(data_dir, snapshot, carried) if commit else None
    except (OSError, duckdb.Error) as error:
        # Free what this publication took: the space, and a snapshot nothing points at.
        with contextlib.suppress(OSError):
            discard(data_dir, publication)
        raise PublishFailed(
            f"the catalog could not be written ({_reason(error)}); nothing was published"
        ) from error
    if writing is not None:
        catalog_file.swap(data_dir, writing)
        point(data_dir.current, Path("snapshots") / publication)
    return snapshot


def _reason(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        where = f": {error.filename}" if error.filename else ""
        return f"{error.strerror}{where}"
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def _write(tables: Mapping[str, Given], data_dir: DataDir, snapshot: Snapshot) -> None:
    """The snapshot's files, written whole under a temporary name and renamed into place."""
    publication = snapshot.publication
    data_dir.snapshots.mkdir(parents=True, exist_ok=True)
    partial = Snapshot(snapshot.path.with_name(f"{publication}{PARTIAL}"))
    if partial.path.exists():
        shutil.rmtree(partial.path)
    partial.path.mkdir()
    for name, table in TABLES.items():
        given = tables[name]
        if isinstance(given, Path):  # written already, in the contract's schema
            shutil.copyfile(given, partial.table(name))
        elif isinstance(given, Appended):
            write_history(given, partial.table(name))
        else:
            # Frames come built, pandas loaded: recovery (before a refresh crawls) and
            # retention use this module without frames, and do not load it.
            from transforms.contract.casting import to_arrow

            # One chunk a column: the bytes then do not depend on how the rows were put
            # together, so an unchanged table is written as it was (the catalog keeps it).
            arrow = to_arrow(given, table).combine_chunks()
            pq.write_table(arrow, partial.table(name), compression="zstd")
    partial.datapackage.write_text(
        json.dumps(datapackage(publication), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    fsync_tree(partial.path)
    partial.path.rename(snapshot.path)


def readable(snapshot: Snapshot) -> bool:
    """Whether every table of a snapshot is there with a readable Parquet footer (a table
    newer than the snapshot may be absent)."""
    try:
        for name in TABLES:
            if name in LATER_TABLES and not snapshot.has(name):
                continue
            pq.read_metadata(snapshot.table(name))
    except (OSError, pa.ArrowException):
        return False
    return True


def discard(data_dir: DataDir, pattern: str) -> int:
    """Delete the snapshots matching ``pattern``, and any of them still being written.

    Each is renamed to a leftover first, so that a crash part way leaves nothing half
    deleted under a real name (``repair`` clears leftovers). Returns how many were whole.
    """
    count = 0
    for path in list(data_dir.snapshots.glob(pattern)):
        if path.is_dir() and not path.name.endswith(PARTIAL):
            doomed = path.with_name(f"{path.name}.discarded{PARTIAL}")
            path.rename(doomed)
            shutil.rmtree(doomed)
            count += 1
    for partial in list(data_dir.snapshots.glob(f"{pattern}{PARTIAL}")):
        shutil.rmtree(partial)
    return count
