"""History that only appends: a history table's closed rows, which no run changes again,
and its open rows, which the next run advances.

A row is closed once its ``CLOSED_BY`` column is set (an interval's end; a change in the
feed is closed from the moment it is observed). A run reads only the open rows of the
previous snapshot's history (``split``), advances them in pandas, and the snapshot it
publishes is the previous closed rows, carried over by DuckDB without ever being loaded as
frames, and the rows the run wrote (``write_history``). So a run's memory and its pandas
work depend on what the catalog holds now, not on how many years of history lie behind it.

A snapshot the catalog has moved past keeps only its open rows (``NAME.open.parquet``,
``transforms.publish.shared_history``): its closed rows are then those of the published
snapshot closed by the time stamped in that file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from transforms.contract.layout import Snapshot
from transforms.contract.tables import HISTORY_TABLES, TABLES

# The column that is NULL while a row may still change, and says when it stopped once set.
CLOSED_BY = {
    name: "valid_to" if "valid_to" in TABLES[name].names else "observed_at"
    for name in HISTORY_TABLES
}
CLOSED_UNTIL = b"modelcat.closed_until"  # in a thinned snapshot's NAME.open.parquet
BATCH_ROWS = 65_536


class HistoryUnavailable(RuntimeError):
    """A thinned snapshot's history cannot be put back together: the published snapshot
    that holds its closed rows is missing or lacks the table."""


@dataclass(frozen=True)
class Closed:
    """The closed rows of a history table: those of ``source`` (a Parquet file) with
    ``CLOSED_BY`` set, up to ``until`` if given."""

    name: str
    source: Path
    until: datetime | None = None

    def sql(self) -> str:
        """The rows, with their position in the file, as DuckDB SQL."""
        closed_by = CLOSED_BY[self.name]
        columns = ", ".join(TABLES[self.name].names)
        limit = f" AND {closed_by} <= $until" if self.until is not None else ""
        return (
            f"SELECT {columns}, 0 AS part, file_row_number AS position "
            f"FROM read_parquet($source, file_row_number = true) "
            f"WHERE {closed_by} IS NOT NULL{limit}"
        )

    def parameters(self) -> dict[str, object]:
        return {"source": str(self.source)} | ({"until": self.until} if self.until else {})


@dataclass(frozen=True)
class Appended:
    """A history table to publish: closed rows carried over, then ``rows`` (the open rows
    the run advanced, and those it closed), in the table's order."""

    closed: Closed
    rows: pa.Table


def split(
    snapshot: Snapshot, name: str, published: Snapshot | None
) -> tuple[pa.Table, Closed | None] | None:
    """The open rows of a snapshot's history table, and where its closed rows are.

    None when the snapshot predates the table. A table written before a column of the
    contract existed is read whole (its closed rows then need the run's upgrade): the rows,
    and no ``Closed``. ``published`` is the snapshot ``current`` points at, which holds the
    closed rows of a thinned snapshot. Raises ``HistoryUnavailable``.
    """
    if snapshot.has(name):
        path = snapshot.table(name)
        if set(TABLES[name].names) - set(pq.read_schema(path).names):
            return pq.read_table(path), None
        rows = pq.read_table(path, filters=pc.field(CLOSED_BY[name]).is_null())
        return rows, Closed(name, path)
    part = snapshot.open_rows(name)
    if not part.exists():
        return None
    return _thinned(part, name, published)


def read_history(snapshot: Snapshot, name: str, published: Snapshot | None) -> pa.Table | None:
    """A history table whole, as ``snapshot`` published it; None when the snapshot predates
    the table."""
    if snapshot.has(name):
        return snapshot.read(name)
    part = snapshot.open_rows(name)
    return rejoin(part, name, published) if part.exists() else None


def rejoin(part: Path, name: str, published: Snapshot | None) -> pa.Table:
    """A thinned history table whole: the open rows in ``part`` and the rows of
    ``published`` closed by the time stamped in it."""
    still_open, closed = _thinned(part, name, published)
    if closed is None:
        return still_open
    schema = TABLES[name].arrow_schema
    batches = list(_ordered(closed, still_open.cast(schema), schema))
    return pa.Table.from_batches(batches, schema=schema).cast(still_open.schema)


def _thinned(part: Path, name: str, published: Snapshot | None) -> tuple[pa.Table, Closed | None]:
    if published is None or not published.has(name):
        raise HistoryUnavailable(
            f"{part.parent.name}/{part.name} holds only the open rows of {name}, and the "
            "published snapshot that holds the rest is missing"
        )
    still_open = pq.read_table(part)
    stamp = (still_open.schema.metadata or {}).get(CLOSED_UNTIL)
    until = datetime.fromisoformat(stamp.decode()) if stamp else None
    closed = Closed(name, published.table(name), until) if until is not None else None
    return still_open.replace_schema_metadata(None), closed


def write_history(appended: Appended, path: Path) -> None:
    """Write a history table: the closed rows carried over and the run's rows, in order."""
    schema = TABLES[appended.closed.name].arrow_schema
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for batch in _ordered(appended.closed, appended.rows, schema):
            writer.write_batch(batch)


def _ordered(closed: Closed, rows: pa.Table, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    """Closed rows and ``rows`` in the order a run writes a history table, streamed in
    batches of ``schema``: an interval table by its key (NULLs last), the change feed as it
    grew (closed rows in their order, then the run's)."""
    table = TABLES[closed.name]
    if CLOSED_BY[closed.name] == "valid_to":
        order = ", ".join(f"{column} ASC NULLS LAST" for column in table.key)
    else:
        order = "part, position"
    columns = ", ".join(table.names)
    query = (
        f"SELECT {columns} FROM ({closed.sql()} UNION ALL "
        f"SELECT {columns}, 1 AS part, position FROM new_rows) "
        f"ORDER BY {order}"
    )
    with duckdb.connect() as con:
        con.execute("SET preserve_insertion_order = true")
        positions = pa.array(range(rows.num_rows), type=pa.int64())
        con.register("new_rows", rows.select(table.names).append_column("position", positions))
        reader = con.sql(query, params=closed.parameters()).to_arrow_reader(BATCH_ROWS)
        assert reader is not None  # a query always has a result
        for batch in reader:
            yield pa.RecordBatch.from_arrays(
                [batch.column(i).cast(field.type) for i, field in enumerate(schema)],
                schema=schema,
            )
