"""History held once: a snapshot the catalog has moved past keeps only its open rows.

A run's history is the history before it plus what the run changed, and a row that is
closed (an interval with its ``valid_to``, a change in the feed with its ``observed_at``)
never changes again (``transforms.history``). So every closed row of an older snapshot's
history is also in the published snapshot's, unchanged, and a copy of it in every snapshot
costs disk and nothing else: over years of runs, most of the data directory.

Once a run is published, each snapshot it superseded keeps of a history table only the rows
that were still open, in ``NAME.open.parquet``, with the time up to which its rows had
closed in the file's metadata; ``read_history`` puts the table back together from those
rows and the published snapshot's rows closed by then (``transforms.publish.history_rows``).
The whole file goes only when that gives back the very table it held, row for row and in
order; else it stays. For the snapshot whose closed rows the publishing run streamed over
itself, their count and closing times are the check; any other is compared row for row. A
table with nothing closed is all open rows already: its file is renamed, with no time
stamped, and needs no other snapshot. Either way a superseded snapshot is thinned once, and
no later run reads it again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from itertools import chain, zip_longest
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from transforms.contract.layout import DataDir, Snapshot, read_parquet
from transforms.contract.tables import HISTORY_TABLES, TABLES
from transforms.publish.files import fsync_dir
from transforms.publish.history_rows import (
    CLOSED_BY,
    CLOSED_UNTIL,
    Closed,
    closed_first,
    needs_published,
    open_batches,
    read_batches,
    regrouped,
)
from transforms.publish.snapshot import discard


def share_history(data_dir: DataDir, carried: Mapping[str, Closed] | None = None) -> int:
    """Thin the history of every snapshot the published one superseded; returns how many
    tables were thinned.

    ``carried`` names, per table, the closed rows the run that published streamed into its
    file: a snapshot whose file they came from whole is thinned on a check of their count and
    times alone; any other is compared with the published history row for row. A snapshot
    that a rebuild replaced (no longer its run's newest) is left whole, or, if it was thinned
    before the rebuild, removed: the rebuilt history no longer holds its rows. A file that
    cannot be read or written leaves its snapshot whole: this never fails a run.
    """
    published = data_dir.published_snapshot()
    if published is None:
        return 0
    carried = carried or {}
    thinned = 0
    snapshots = list(data_dir.published_snapshots())
    # Oldest publication first, so a run's last one is its newest (its own, or a rebuild's).
    newest = {snapshot.run_id: snapshot.path for snapshot in snapshots}
    for snapshot in snapshots:
        if snapshot.path == published.path:
            continue
        if newest[snapshot.run_id] != snapshot.path:
            if any(needs_published(snapshot, name) for name in HISTORY_TABLES):
                discard(data_dir, snapshot.publication)
            continue
        for name in HISTORY_TABLES:
            source = carried.get(name)
            streamed = source == Closed(name, snapshot.table(name))  # whole, no time limit
            try:
                thinned += _thin(snapshot, name, published, streamed)
            except (OSError, pa.ArrowException, KeyError, ValueError):
                continue  # it stays whole
    return thinned


def _thin(snapshot: Snapshot, name: str, published: Snapshot, streamed: bool) -> int:
    """Keep only the open rows of the snapshot's table ``name`` if the published snapshot
    gives back the rest exactly; 1 if it did.

    ``streamed``: the published file's closed rows were streamed from this very file, first
    and in order (``history_rows.write_history``). Then it is enough that this file holds
    its closed rows first and the published one holds them first too, with no later row
    closed by the same time: two columns read. Otherwise both files are compared, a batch
    at a time.
    """
    whole = snapshot.table(name)
    if not whole.exists() or not published.has(name):
        return 0
    closed_by = CLOSED_BY[name]
    held = read_parquet(whole, [closed_by])[closed_by]
    until = pc.max(held).as_py()
    part = snapshot.open_rows(name)
    if until is None:
        # Nothing closed: the file is its open rows already. Named so, with no time stamped
        # (it needs no other snapshot), it is not read again by every later run. The
        # datapackage names it first: a crash in between leaves the file to be renamed.
        _describe(snapshot, name)
        os.replace(whole, part)
        fsync_dir(snapshot.path)
        return 1
    schema = TABLES[name].arrow_schema
    closed = held.length() - held.null_count
    if not (streamed and _carried(held, closed, published.table(name), closed_by, until)):
        given_back = chain(
            Closed(name, published.table(name), until).batches(), open_batches(whole, name, held)
        )
        if not _same(regrouped(given_back, schema), regrouped(read_batches(whole, name), schema)):
            return 0
    writing = part.with_name(f"{part.name}.writing")
    # A row group at a time: the open rows are the whole catalog's (at 50,000 models, ~100 MB).
    stamped = schema.with_metadata({CLOSED_UNTIL: until.isoformat().encode()})
    with pq.ParquetWriter(writing, stamped, compression="zstd") as writer:
        for group in regrouped(open_batches(whole, name, held), schema):
            writer.write_table(group)
    with writing.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(writing, part)
    _describe(snapshot, name)
    fsync_dir(snapshot.path)
    whole.unlink()
    fsync_dir(snapshot.path)
    return 1


def _carried(
    held: pa.ChunkedArray, closed: int, published: Path, closed_by: str, until: object
) -> bool:
    """Whether the published file starts with this file's closed rows, as streamed: this
    file's closed rows come first, the published file's first ``closed`` rows closed at the
    same times, and none after them closed by ``until``."""
    theirs = read_parquet(published, [closed_by])[closed_by]
    later = theirs.slice(closed)
    return (
        closed_first(held) == closed
        and theirs.length() >= closed
        and theirs.slice(0, closed).equals(held.slice(0, closed))
        and not pc.any(pc.less_equal(later, pa.scalar(until, later.type))).as_py()
    )


def _same(ours: Iterator[pa.Table], theirs: Iterator[pa.Table]) -> bool:
    """Whether two streams of equally grouped tables hold the same rows in the same order."""
    return all(
        a is not None and b is not None and a.equals(b) for a, b in zip_longest(ours, theirs)
    )


def _describe(snapshot: Snapshot, name: str) -> None:
    """Point the snapshot's ``datapackage.json`` at the open rows, and say where the rest is."""
    package = json.loads(snapshot.datapackage.read_text(encoding="utf-8"))
    for resource in package["resources"]:
        if resource["name"] == name and resource["path"] != snapshot.open_rows(name).name:
            resource["path"] = snapshot.open_rows(name).name
            resource["description"] += (
                " This snapshot was superseded: it keeps only the rows still open then; the "
                "rows closed by then are in the published snapshot (current/)."
            )
    writing = snapshot.datapackage.with_name(f"{snapshot.datapackage.name}.writing")
    writing.write_text(json.dumps(package, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(writing, snapshot.datapackage)
