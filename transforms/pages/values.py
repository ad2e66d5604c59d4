"""Page values files: every value of every model page exactly as written, one row per
``Cell`` (``PAGE_VALUES_SCHEMA``). The one place that writes and reads their rows.

A run's crawl stages them (``runs/ID/page_values.parquet``), its build writes the ones it
publishes (``page_values.catalog.parquet``, then the snapshot's ``page_values.parquet``),
and the next build reads them back. Each row group holds whole pages, so a reader can take
a row group at a time and never split a page; a page is keyed by its URL and body hash.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from transforms.contract.tables import PAGE_VALUES_SCHEMA
from transforms.pages.parse import Page

CHUNK_ROWS = 100_000  # page values handled at once: about 1,500 pages
_SEPARATOR = "\x1f"  # in no URL and no hash


def values_table(pages: Iterable[tuple[str, str | None, Page]]) -> pa.Table:
    """Every value of the given (url, body hash, parsed page) as page values rows."""
    columns: dict[str, list[Any]] = {name: [] for name in PAGE_VALUES_SCHEMA.names}
    for url, sha256, page in pages:
        for cell in page.cells():
            columns["page_url"].append(url)
            columns["content_sha256"].append(sha256)
            columns["section"].append(cell.section)
            columns["row_number"].append(cell.row)
            columns["row_label"].append(cell.row_label)
            columns["column_label"].append(cell.column)
            columns["raw_value"].append(cell.raw)
    return pa.table(columns, schema=PAGE_VALUES_SCHEMA)


def page_key(url: str, sha256: str | None) -> str:
    """A page's values are one body's: its URL and body hash, as one string."""
    return f"{url}{_SEPARATOR}{sha256 or ''}"


def url_of(key: str) -> str:
    return key.split(_SEPARATOR, 1)[0]


def keys(table: pa.Table) -> pa.Array:
    """Each row's ``page_key`` (of a table with page_url and content_sha256)."""
    url = pc.cast(table["page_url"], pa.string())
    sha = pc.fill_null(pc.cast(table["content_sha256"], pa.string()), "")
    return pc.binary_join_element_wise(url, sha, _SEPARATOR).combine_chunks()


_KEY_COLUMNS = ["page_url", "content_sha256"]


def keys_held(path: Path) -> frozenset[str]:
    """The page keys of a page values file, a row group at a time, so a large file's keys
    never sit in memory at once. The two columns are read as dictionaries, so a key is made
    once per page, not once per value (14 times faster on 665,605 values)."""
    parquet = pq.ParquetFile(path, read_dictionary=_KEY_COLUMNS)
    held: set[str] = set()
    for group in range(parquet.num_row_groups):
        table = parquet.read_row_group(group, columns=_KEY_COLUMNS).combine_chunks()
        if table.num_rows:
            held.update(keys(table.take(_first_of_each_page(table))).to_pylist())
    return frozenset(held)


def _first_of_each_page(table: pa.Table) -> np.ndarray:
    """The row of each distinct (page_url, content_sha256) pair's first value, in a table
    of one chunk whose two key columns are dictionaries."""
    url, sha = (
        pc.fill_null(table[name].chunk(0).indices, -1).to_numpy().astype(np.int64)
        for name in _KEY_COLUMNS
    )
    pair = (url + 1) * (int(sha.max(initial=-1)) + 2) + (sha + 1)  # NULL codes as -1
    return np.unique(pair, return_index=True)[1]


def row_groups(path: Path, only: frozenset[str] | None = None) -> Iterator[pa.Table]:
    """A page values file a row group at a time (whole pages); with ``only``, the rows of
    those page keys. A file that is not there holds nothing."""
    if not path.exists():
        return
    wanted = pa.array(sorted(only)) if only is not None else None
    parquet = pq.ParquetFile(path)
    for group in range(parquet.num_row_groups):
        table = parquet.read_row_group(group).select(PAGE_VALUES_SCHEMA.names)
        if wanted is not None:
            table = table.filter(pc.is_in(keys(table), value_set=wanted))
        if table.num_rows:
            yield table


def batched(tables: Iterable[pa.Table]) -> Iterator[pa.Table]:
    """Tables of whole pages joined up to about CHUNK_ROWS rows; at least one, maybe empty."""
    pending: list[pa.Table] = []
    rows = 0
    for table in tables:
        pending.append(table)
        rows += table.num_rows
        if rows >= CHUNK_ROWS:
            yield pa.concat_tables(pending)
            pending, rows = [], 0
    yield pa.concat_tables(pending) if pending else values_table([])


class ValuesWriter:
    """Writes page values to a file, a row group per batch of whole pages."""

    def __init__(self, path: Path, schema: pa.Schema = PAGE_VALUES_SCHEMA) -> None:
        self.writer = pq.ParquetWriter(path, schema, compression="zstd")

    def write(self, table: pa.Table) -> None:
        self.writer.write_table(table)

    def close(self) -> None:
        self.writer.close()

    def __enter__(self) -> ValuesWriter:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
