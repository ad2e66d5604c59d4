"""Before a run: finish or undo what an interrupted publish left, and rebuild what damage
broke, from whichever copy survived: the catalog file from its snapshot, a snapshot from
the catalog file, ``current`` from the catalog file's word.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from transforms.contract.layout import PARTIAL, DataDir, Snapshot
from transforms.contract.tables import LATER_TABLES, PAGE_VALUES_SCHEMA, TABLES
from transforms.contract.vocabulary import TableName
from transforms.publish import catalog_file
from transforms.publish.files import fsync_tree, point
from transforms.publish.snapshot import discard, readable

# Tables a run hands ``publish`` as files already written, in the schema they were staged in.
STAGED_SCHEMAS: dict[str, pa.Schema] = {TableName.PAGE_VALUES: PAGE_VALUES_SCHEMA}


class BrokenState(RuntimeError):
    """Local state that nothing left in the data directory can repair; says what to do."""

    def __init__(self, problem: str, fix: str) -> None:
        super().__init__(f"{problem}: {fix}")
        self.problem = problem


def repair(data_dir: DataDir, last_published: str | None) -> list[str]:
    """Finish or undo what an interrupted publish left, and rebuild what damage broke.

    ``last_published`` is the run that the runs' summaries say was published last. Stray
    temporary files go; a catalog file that is missing or unreadable is written again from
    the snapshot that run published; a snapshot the catalog file names that is missing or
    unreadable is written again from the catalog file; ``current`` is pointed at it. Returns
    what was recovered, in words. Raises ``BrokenState`` when no copy is left to rebuild
    from, and ``CatalogInUse``.
    """
    for leftover in [
        *data_dir.root.glob(catalog_file.WRITING),
        *data_dir.snapshots.glob(f"*{PARTIAL}"),
        *data_dir.archive.glob("*/*.partial"),  # a pack being rewritten, or an old body
    ]:
        if leftover.is_dir():
            shutil.rmtree(leftover)
        else:
            leftover.unlink()
    recovered = []
    name = data_dir.catalog_file.name
    publication, problem = catalog_file.written_from(data_dir)
    if problem is None and publication is None and last_published is not None:
        problem = f"{name} is missing"
    if problem is not None:
        snapshot = _last_good_snapshot(data_dir, last_published)
        if snapshot is None:
            raise BrokenState(
                f"{problem}, and no readable snapshot is left to build it from",
                "rebuild every run from the page archive (modelcat rebuild --run "
                f"FIRST_RUN_ID), or move {data_dir.catalog_file} aside to start a new catalog",
            )
        catalog_file.commit(data_dir, snapshot)
        recovered.append(f"{problem}: built again from snapshots/{snapshot.publication}")
        publication = snapshot.publication
    if publication is None:
        return recovered
    if not readable(data_dir.snapshot(publication)):
        _snapshot_from_catalog_file(data_dir, publication)
        recovered.append(
            f"snapshots/{publication} was missing or unreadable: written again from the catalog"
        )
    point(data_dir.current, Path("snapshots") / publication)
    return recovered


def _last_good_snapshot(data_dir: DataDir, run_id: str | None) -> Snapshot | None:
    """The readable snapshot ``run_id`` published: where ``current`` points, else its newest."""
    candidates = [data_dir.published_snapshot()]
    if run_id is not None:
        candidates = [c for c in candidates if c is not None and c.run_id == run_id]
        candidates.append(data_dir.snapshot_of(run_id))
    return next((c for c in candidates if c is not None and readable(c)), None)


def _snapshot_from_catalog_file(data_dir: DataDir, publication: str) -> None:
    """Write a snapshot again from the catalog file that was written from it."""
    snapshot = data_dir.snapshot(publication)
    discard(data_dir, publication)  # what is left of it is damaged: every table is written
    partial = Snapshot(snapshot.path.with_name(f"{publication}{PARTIAL}"))
    partial.path.mkdir(parents=True)
    with duckdb.connect(str(data_dir.catalog_file), read_only=True) as con:
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
                partial.table(name),
                compression="zstd",
                row_group_size=max(rows.num_rows, 1),
            )
    fsync_tree(partial.path)
    partial.path.rename(snapshot.path)


def _in_shape(rows: pa.Table, schema: pa.Schema) -> pa.Table:
    """``rows`` in ``schema``'s types. A column an older catalog's table lacks stays absent,
    as in the snapshot it was built from: its readers know that shape."""
    held = set(rows.column_names)
    return rows.select([f.name for f in schema if f.name in held]).cast(
        pa.schema([f for f in schema if f.name in held])
    )
