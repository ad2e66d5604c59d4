"""History that only appends: a history table's closed rows, which no run changes again,
and its open rows, which the next run advances.

A row is closed once its ``CLOSED_BY`` column is set (an interval's end; a change in the
feed is closed from the moment it is observed). A history file holds its rows in the order
they closed, then the open ones: the closed rows it carried over, those the run closed (by
key), then the open rows (by key). A run reads only the open rows of the previous snapshot's
history (``split``) and advances them in pandas; the snapshot it publishes copies the previous
file's full row groups of closed rows as they are (``parquet_append``) and writes the rest
of the closed rows and the rows the run wrote after them (``write_history``). So a run's
memory, its pandas work and what it writes depend on what the catalog holds now, not on
how many years of history lie behind it.

A snapshot the catalog has moved past keeps only its open rows (``NAME.open.parquet``,
``transforms.publish.shared_history``): its closed rows are then those of the published
snapshot closed by the time stamped in that file, which come first there in the same order.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import chain
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from transforms.contract.layout import Snapshot, read_parquet
from transforms.contract.tables import HISTORY_TABLES, TABLES
from transforms.publish.parquet_append import CannotAppend, append_row_groups, record_hashes

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
    ``CLOSED_BY`` set, up to ``until`` if given, in the file's order."""

    name: str
    source: Path
    until: datetime | None = None

    def batches(self) -> Iterator[pa.RecordBatch]:
        """The rows, a batch at a time, in the contract's schema."""
        closed_by = CLOSED_BY[self.name]
        until = self.until

        def closed(batch: pa.RecordBatch) -> pa.Array:
            ends = batch[closed_by]
            keep = pc.is_valid(ends)
            if until is None:
                return keep
            return pc.and_(keep, pc.less_equal(ends, pa.scalar(until, ends.type)))

        return read_batches(self.source, self.name, closed)


def read_batches(
    path: Path, name: str, keep: Callable[[pa.RecordBatch], pa.Array] | None = None
) -> Iterator[pa.RecordBatch]:
    """The rows of a history file (those ``keep`` marks, if given), a batch at a time, in the
    contract's schema."""
    schema = TABLES[name].arrow_schema
    with pq.ParquetFile(path) as source:
        for batch in source.iter_batches(batch_size=BATCH_ROWS, columns=schema.names):
            kept = batch.filter(keep(batch)) if keep is not None else batch
            yield from pa.Table.from_batches([kept]).cast(schema).to_batches()


@dataclass(frozen=True)
class Appended:
    """A history table to publish: closed rows carried over, then ``rows``: those the run
    advanced (still open, or closed by it), in key order."""

    closed: Closed
    rows: pa.Table

    def written_batches(self) -> Iterator[pa.RecordBatch]:
        """The run's rows as the file holds them after the carried ones, a batch at a time:
        those the run closed, then the open ones, in the contract's schema. A batch at a
        time, they are never all copied at once (at 50,000 models, ~100 MB)."""
        schema = TABLES[self.closed.name].arrow_schema
        closed_by = CLOSED_BY[self.closed.name]
        for closed in (True, False):
            for batch in self.rows.to_batches(max_chunksize=BATCH_ROWS):
                ended = pc.is_valid(batch[closed_by])
                kept = batch.filter(ended if closed else pc.invert(ended))
                if kept.num_rows:
                    yield from pa.Table.from_batches([kept]).cast(schema).to_batches()

    def written_reader(self) -> pa.RecordBatchReader:
        """``written_batches`` as a stream (DuckDB reads it once)."""
        schema = TABLES[self.closed.name].arrow_schema
        return pa.RecordBatchReader.from_batches(schema, self.written_batches())


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
            return read_parquet(path), None
        return open_rows(path, name), Closed(name, path)
    part = snapshot.open_rows(name)
    if not part.exists():
        return None
    return _thinned(part, name, published)


def open_rows(path: Path, name: str, ends: pa.ChunkedArray | None = None) -> pa.Table:
    """The open rows of a history file. In a file that holds its closed rows first (as
    ``write_history`` writes them), only the row groups past them are read. ``ends``: the
    file's ``CLOSED_BY`` column, when the caller has read it already."""
    with pq.ParquetFile(path) as source:
        groups, skipped, ends = _open_groups(source, name, ends)
        if groups is None:  # not closed rows first: filter them all
            return source.read().filter(pc.is_null(ends))
        if not groups:
            return source.schema_arrow.empty_table()
        return source.read_row_groups(groups).slice(skipped)


def open_batches(
    path: Path, name: str, ends: pa.ChunkedArray | None = None
) -> Iterator[pa.RecordBatch]:
    """``open_rows`` a row group at a time, in the contract's schema."""
    schema = TABLES[name].arrow_schema
    with pq.ParquetFile(path) as source:
        groups, skipped, _ = _open_groups(source, name, ends)
        if groups is None:
            yield from read_batches(path, name, lambda batch: pc.is_null(batch[CLOSED_BY[name]]))
            return
        for group in groups:
            rows = source.read_row_group(group).slice(skipped)
            skipped = 0
            yield from rows.cast(schema).to_batches()


def _open_groups(
    source: pq.ParquetFile, name: str, ends: pa.ChunkedArray | None
) -> tuple[list[int] | None, int, pa.ChunkedArray]:
    """The row groups that hold a file's open rows and how many closed rows lead the first
    of them; None when its closed rows are not all first. Also its ``CLOSED_BY`` column."""
    if ends is None:
        ends = source.read(columns=[CLOSED_BY[name]])[CLOSED_BY[name]]
    closed = closed_first(ends)
    if closed is None:
        return None, 0, ends
    groups, start, skipped = [], 0, 0
    for index in range(source.num_row_groups):
        rows = source.metadata.row_group(index).num_rows
        if start + rows > closed:
            groups.append(index)
        else:
            skipped += rows
        start += rows
    return groups, closed - skipped, ends


def closed_first(ends: pa.ChunkedArray) -> int | None:
    """How many rows a history file's ``CLOSED_BY`` column ``ends`` marks closed, when they all
    come before the open ones (as ``write_history`` writes them); None when they do not."""
    closed = len(ends) - ends.null_count
    return None if ends.slice(0, closed).null_count else closed


def history_readable(snapshot: Snapshot, published: Snapshot | None) -> bool:
    """Whether every history table of ``snapshot`` can be read whole: held, or thinned with
    the published snapshot there to give back the rest."""
    return all(
        not needs_published(snapshot, name) or (published is not None and published.has(name))
        for name in HISTORY_TABLES
    )


def needs_published(snapshot: Snapshot, name: str) -> bool:
    """Whether ``snapshot`` keeps only the open rows of ``name`` and the published snapshot
    holds the rest: a thinned file with its time stamped (one that had nothing closed is
    whole as it is)."""
    part = snapshot.open_rows(name)
    if snapshot.has(name) or not part.exists():
        return False
    try:
        return CLOSED_UNTIL in (pq.read_schema(part).metadata or {})
    except (OSError, pa.ArrowException):
        return True  # unreadable: what it needs cannot be told


def read_history(snapshot: Snapshot, name: str, published: Snapshot | None) -> pa.Table | None:
    """A history table whole, as ``snapshot`` published it; None when the snapshot predates
    the table."""
    if snapshot.has(name):
        return snapshot.read(name)
    part = snapshot.open_rows(name)
    return rejoin(part, name, published) if part.exists() else None


def rejoin(part: Path, name: str, published: Snapshot | None) -> pa.Table:
    """A thinned history table whole: the rows of ``published`` closed by the time stamped
    in ``part``, then the open rows ``part`` holds."""
    still_open, closed = _thinned(part, name, published)
    if closed is None:
        return still_open
    return pa.Table.from_batches(
        [*closed.batches(), *still_open.cast(TABLES[name].arrow_schema).to_batches()],
        schema=TABLES[name].arrow_schema,
    ).cast(still_open.schema)


def _thinned(part: Path, name: str, published: Snapshot | None) -> tuple[pa.Table, Closed | None]:
    still_open = read_parquet(part)
    stamp = (still_open.schema.metadata or {}).get(CLOSED_UNTIL)
    if stamp is None:  # nothing was closed: the file holds the whole table, as it was
        return still_open.replace_schema_metadata(None), Closed(name, part)
    if published is None or not published.has(name):
        raise HistoryUnavailable(
            f"{part.parent.name}/{part.name} holds only the open rows of {name}, and the "
            "published snapshot that holds the rest is missing"
        )
    until = datetime.fromisoformat(stamp.decode())
    return still_open.replace_schema_metadata(None), Closed(name, published.table(name), until)


def write_history(appended: Appended, path: Path) -> None:
    """Write a history table: the closed rows carried over, then the run's rows that are
    closed, then the open ones (each in the order given), in row groups of ``BATCH_ROWS``.

    The carried rows' full row groups are copied from the file they come from as they are
    (``parquet_append``): a run writes again less than a row group of what it carries,
    however many years of history lie behind it. A file that does not allow it is written
    whole."""
    schema = TABLES[appended.closed.name].arrow_schema
    copied = _copied(appended.closed)
    if copied is not None:
        with pq.ParquetFile(appended.closed.source) as source:
            rest = source.read_row_groups(copied.rest, schema.names)
        rest = rest.slice(0, copied.rest_rows).cast(schema)
        tail = path.with_name(f".{path.name}.tail")
        try:
            _write_groups(chain(rest.to_batches(), appended.written_batches()), schema, tail)
            append_row_groups(appended.closed.source, copied.groups, tail, path)
            if pq.read_metadata(path).num_rows == copied.rows + appended.rows.num_rows:
                return
        except (CannotAppend, pa.ArrowException):
            pass  # written whole below
        finally:
            tail.unlink(missing_ok=True)
    _write_groups(chain(appended.closed.batches(), appended.written_batches()), schema, path)


def _write_groups(batches: Iterable[pa.RecordBatch], schema: pa.Schema, path: Path) -> None:
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for group in regrouped(batches, schema):
            writer.write_table(group)
    with contextlib.suppress(CannotAppend):  # then the next run writes its file whole
        record_hashes(path)  # what lets the next run copy these row groups as they are


@dataclass(frozen=True)
class _Copied:
    """How a file's closed rows are carried over: its first ``groups`` row groups (full, and
    all closed) copied as they are, then the first ``rest_rows`` rows of the row groups
    ``rest``, written again; ``rows`` in all."""

    groups: int
    rest: list[int]
    rest_rows: int
    rows: int


def _copied(closed: Closed) -> _Copied | None:
    """None when nothing can be copied: no full row group of closed rows comes first, the
    closed rows are not first, or only some of them are carried (``until``)."""
    if closed.until is not None:
        return None
    with pq.ParquetFile(closed.source) as source:
        count = closed_first(source.read(columns=[CLOSED_BY[closed.name]])[CLOSED_BY[closed.name]])
        if count is None:
            return None
        sizes = [source.metadata.row_group(i).num_rows for i in range(source.num_row_groups)]
    groups = rows = 0
    while groups < len(sizes) and sizes[groups] == BATCH_ROWS and rows + BATCH_ROWS <= count:
        groups, rows = groups + 1, rows + BATCH_ROWS
    rest: list[int] = []
    reach = rows
    while reach < count:
        rest.append(groups + len(rest))
        reach += sizes[rest[-1]]
    return _Copied(groups, rest, count - rows, count) if groups else None


def regrouped(batches: Iterable[pa.RecordBatch], schema: pa.Schema) -> Iterator[pa.Table]:
    """The rows of ``batches`` in tables of ``BATCH_ROWS`` (the last may be smaller)."""
    pending: list[pa.RecordBatch] = []
    held = 0
    for batch in batches:
        while batch.num_rows:
            taken = batch.slice(0, BATCH_ROWS - held)
            pending.append(taken)
            held += taken.num_rows
            batch = batch.slice(taken.num_rows)
            if held == BATCH_ROWS:
                yield pa.Table.from_batches(pending, schema=schema)
                pending, held = [], 0
    if pending:
        yield pa.Table.from_batches(pending, schema=schema)
