"""The run's own pages built while the crawl runs, a chunk at a time, on a second thread.

The staging hands over each batch of page values it writes, with the page log records of
its pages (``Stager``'s ``on_values``). The batches add up to chunks exactly as the build
reads them back (``values.batched``), and each chunk's typed rows (``frames.page_tables``)
are built on a worker thread while the crawl goes on, so most of the build is done when the
last page arrives.

The build takes a chunk built ahead only where it reads the very same pages with the very
same source rows (``take``); any other chunk it builds as it always did. The catalog so never
depends on what was built ahead, only the time does.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from transforms.pages import values as page_values
from transforms.pages.log import page_frame

if TYPE_CHECKING:
    import pandas as pd

    from transforms.build import frames

# A chunk: its rows and its pages' keys (URL and body hash), in order.
_ChunkKey = tuple[int, tuple[str, ...]]


class BuildAhead:
    """Builds the typed rows of the run's staged pages as they are staged."""

    def __init__(self, load: Sequence[str] = ()) -> None:
        """``load``: modules the steps after the crawl import, to load while it runs."""
        # One worker: the crawl child has the other core, and this process stages pages.
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="build-ahead")
        self._pending: list[pa.Table] = []
        self._records: list[dict[str, Any]] = []
        self._rows = 0
        self._built: dict[_ChunkKey, Future[frames.PageTables]] = {}
        self._load = load
        self.pages_taken = 0  # pages whose typed rows the build took from here

    def start(self) -> None:
        """The crawl has started: load the build on the worker (pandas and the rest, a
        second or more) while the child fetches, not before, when it would hold up the
        crawl's start. A run whose every page answered 304 reads one empty chunk
        (``values.batched``): it is built first, and its fixed cost paid here too. One
        thread imports, so two never wait on each other's half-loaded modules."""
        self._submit(page_values.values_table([]), [])
        for module in self._load:
            self._pool.submit(importlib.import_module, module)
        self._pool.submit(_first_validation)

    def add(self, table: pa.Table, records: list[dict[str, Any]]) -> None:
        """A batch of staged page values (whole pages), and the log records of its pages."""
        if not table.num_rows:  # the build's reader skips an empty row group too
            return
        self._pending.append(table)
        self._records.extend(records)
        self._rows += table.num_rows
        if self._rows >= page_values.CHUNK_ROWS:
            self._submit(pa.concat_tables(self._pending), self._records)
            self._pending, self._records, self._rows = [], [], 0

    def _submit(self, chunk: pa.Table, records: list[dict[str, Any]]) -> None:
        self._built[_key(chunk)] = self._pool.submit(_build, chunk, records)

    def take(self, values: pa.Table, sources: pd.DataFrame) -> frames.PageTables | None:
        """The typed rows of the chunk ``values`` if they were built ahead from the same
        pages and the same rows of ``sources`` (``frames.source_index``), else None. Waits
        for a chunk still being built."""
        future = self._built.pop(_key(values), None)
        if future is None or future.exception() is not None:
            return None  # the build builds it, and raises what the worker raised, if anything
        part = future.result()
        import pandas as pd  # loaded already, on the worker

        from transforms.build import frames

        pages = pd.Index(pc.unique(values["page_url"]).to_pylist())
        if not part.sources.equals(frames.sources_of(sources, pages)):
            return None
        self.pages_taken += len(pages)
        return part

    def close(self) -> None:
        """Drop what is left: chunks not yet begun are never built."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._built.clear()
        self._pending, self._records = [], []


def _key(values: pa.Table) -> _ChunkKey:
    return values.num_rows, tuple(pc.unique(page_values.keys(values)).to_pylist())


def _build(values: pa.Table, records: list[dict[str, Any]]) -> frames.PageTables:
    # The build's modules are imported here, on the worker, the first time: so this process
    # loads pandas while the crawl child fetches, not before it may start.
    from transforms.build import frames
    from transforms.build.plan import fetched_sources
    from transforms.contract.casting import to_frame

    pages, _ = page_frame(records)
    return frames.page_tables(to_frame(values), frames.source_index(fetched_sources(pages)))


def _first_validation() -> None:
    """pandera loads its backends at its first validation (and with them hypothesis, where
    it is installed): a quarter of a second, paid here while the crawl runs."""
    from transforms.build.validation import validate
    from transforms.contract.casting import empty
    from transforms.contract.tables import TABLES
    from transforms.contract.vocabulary import TableName

    models = TABLES[TableName.MODELS]
    validate(empty(models), models)
