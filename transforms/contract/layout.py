"""Where everything lives in a data directory (``DATA_DIR``, default ``./data``)::

    catalog.duckdb            the catalog file: every table, materialized (no file paths)
    current -> snapshots/ID   the published snapshot (the catalog as Parquet)
    snapshots/ID/             every published run's Parquet files (ID.rebuilt-… after a rebuild)
    runs/ID/                  each run's staged crawl, crawl.log and summary.json
    archive/                  every page body fetched, by SHA-256 (transforms.pages.archive)
    validators.json           each URL's ETag/Last-Modified and body hash, for conditional GET
    .lock                     held by the refresh or rebuild running now

The handles here (``DataDir``, ``RunDir``, ``Snapshot``) are the only code that knows a
file's name: everything else asks them. What is in each file has one owner too: the page
log ``transforms.pages.log``, page values ``transforms.pages.values``, a snapshot's tables
``Snapshot.read`` and ``transforms.publish``, summaries ``modelcat.run.records``, crawl stats
``crawler.stats``. ``data/README.md`` describes each file. Paths only at import: reading this
costs no imports, so ``modelcat sql`` starts fast (pyarrow loads when a table is read).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

# A publication: a run id, or for a rebuild the run id and ``.rebuilt-STAMP``.
REBUILT = ".rebuilt-"
PARTIAL = ".tmp"  # a directory being written (or deleted): never a snapshot


@dataclass(frozen=True)
class Snapshot:
    """One published snapshot: ``snapshots/PUBLICATION/``, a Parquet file per table and the
    contract as ``datapackage.json``."""

    path: Path

    @property
    def publication(self) -> str:
        return self.path.name

    @property
    def run_id(self) -> str:
        """The run it publishes (a rebuild's snapshot publishes the run it re-derived)."""
        return self.publication.split(".")[0]

    def table(self, name: str) -> Path:
        return self.path / f"{name}.parquet"

    @property
    def datapackage(self) -> Path:
        return self.path / "datapackage.json"

    def has(self, name: str) -> bool:
        """Whether the snapshot holds the table whole (one published before it was added does
        not, nor does one whose history the newer catalog holds: see ``open_rows``)."""
        return self.table(name).exists()

    def open_rows(self, name: str) -> Path:
        """A history table's rows still open when the snapshot was superseded: all it keeps
        of that table once the published snapshot holds the rest
        (``transforms.publish.shared_history``)."""
        return self.path / f"{name}.open.parquet"

    def read(
        self,
        name: str,
        columns: Sequence[str] | None = None,
        where: tuple[str, Iterable[Any]] | None = None,
    ) -> pa.Table:
        """One of its tables as an Arrow table: some ``columns`` of it, and with ``where``
        (a column and values) only the rows whose value in that column is one of those."""
        import pyarrow as pa
        import pyarrow.compute as pc

        filtered_by = [] if where is None else [where[0]]
        wanted = None if columns is None else list(dict.fromkeys([*columns, *filtered_by]))
        rows = read_parquet(self.table(name), wanted)
        if where is not None:
            column, values = where
            chosen = rows[column]
            rows = rows.filter(pc.is_in(chosen, value_set=pa.array(list(values), chosen.type)))
        return rows if columns is None else rows.select(list(columns))


def read_parquet(path: Path, columns: Sequence[str] | None = None) -> pa.Table:
    """A Parquet file (or some of its columns) as an Arrow table, read as one file:
    ``pyarrow.parquet.read_table`` goes through Arrow's dataset reader, which costs a third
    of a second to load the first time (and loads pandas)."""
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as file:
        return file.read(columns=None if columns is None else list(columns))


@dataclass(frozen=True)
class RunDir:
    """One run's directory, ``runs/RUN_ID/``: what its crawl staged, what its build wrote
    beside it, its logs and its summary."""

    path: Path

    @property
    def run_id(self) -> str:
        return self.path.name

    @property
    def page_log(self) -> Path:
        """One JSON line per URL the crawl touched (``transforms.pages.log``)."""
        return self.path / "pages.jsonl"

    @property
    def page_values(self) -> Path:
        """Every value of every model page the crawl fetched, as written
        (``transforms.pages.values``)."""
        return self.path / "page_values.parquet"

    @property
    def published_values(self) -> Path:
        """The page values of every model the run publishes: written by its build while it
        reads them, published as they are."""
        return self.path / "page_values.catalog.parquet"

    @property
    def reference_log(self) -> Path:
        """One JSON line per reference catalog the crawl fetched (``transforms.references.log``)."""
        return self.path / "references.jsonl"

    @property
    def crawl_stats(self) -> Path:
        """Scrapy's stats when the spider closed (``crawler.stats``)."""
        return self.path / "crawl_stats.json"

    @property
    def crawl_log(self) -> Path:
        return self.path / "crawl.log"

    @property
    def summary(self) -> Path:
        """How the run ended (``modelcat.run.records``)."""
        return self.path / "summary.json"

    @property
    def unreadable_summary(self) -> Path:
        """A summary that could not be read, kept when it was restored."""
        return self.path / "summary.unreadable.json"

    @property
    def unreadable_validators(self) -> Path:
        """A validator store that could not be read in full, set aside by this run."""
        return self.path / "validators.unreadable.json"

    def pruned_by_keep(self) -> tuple[Path, ...]:
        """What ``--keep`` removes once the run is older than every run it keeps: all a
        rebuild of it would read, and its crawl's logs. Its summaries and a validator store
        it set aside stay."""
        return (
            self.page_log,
            self.page_values,
            self.published_values,
            self.reference_log,
            self.crawl_stats,
            self.crawl_log,
        )


@dataclass(frozen=True)
class DataDir:
    root: Path

    @property
    def catalog_file(self) -> Path:
        return self.root / "catalog.duckdb"

    @property
    def current(self) -> Path:
        """The link to the published snapshot."""
        return self.root / "current"

    @property
    def snapshots(self) -> Path:
        return self.root / "snapshots"

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    @property
    def archive(self) -> Path:
        return self.root / "archive"

    @property
    def validators(self) -> Path:
        return self.root / "validators.json"

    @property
    def lock(self) -> Path:
        return self.root / ".lock"

    def snapshot(self, publication: str) -> Snapshot:
        return Snapshot(self.snapshots / publication)

    def snapshot_of(self, run_id: str) -> Snapshot | None:
        """The newest snapshot of a run: its own, or its latest rebuild."""
        candidates = [
            self.snapshot(run_id).path,
            *self.snapshots.glob(f"{run_id}{REBUILT}*"),
        ]
        existing = sorted(p for p in candidates if p.is_dir() and not p.name.endswith(PARTIAL))
        return Snapshot(existing[-1]) if existing else None

    def published_snapshot(self) -> Snapshot | None:
        """The snapshot ``current`` points at: the one the catalog file was written from.

        Its path is under ``snapshots`` as the others' are (``snapshot``,
        ``published_snapshots``), so that paths compare equal whether the root was given
        relative or absolute."""
        if not self.current.is_dir():
            return None
        return self.snapshot(self.current.resolve().name)

    def published_snapshots(self) -> Iterator[Snapshot]:
        """Every whole snapshot, oldest publication first."""
        if self.snapshots.exists():
            for path in sorted(self.snapshots.iterdir()):
                if path.is_dir() and not path.name.endswith(PARTIAL):
                    yield Snapshot(path)

    def run(self, run_id: str) -> RunDir:
        return RunDir(self.runs / run_id)
