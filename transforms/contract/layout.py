"""Where everything lives in a data directory (``DATA_DIR``, default ``./data``)::

    catalog.duckdb            the current catalog: every table, materialized (no file paths)
    current -> snapshots/ID   the current catalog as Parquet, one file per table
    snapshots/ID/             every published run's Parquet files (ID.rebuilt-… after a rebuild)
    runs/ID/                  each run's staged crawl, crawl.log and summary.json
    archive/                  every page body fetched, by SHA-256 (transforms.pages.archive)
    validators.json           each URL's ETag/Last-Modified and body hash, for conditional GET
    .lock                     held by the refresh running now

``data/README.md`` describes each file. Paths only: reading this costs no imports, so
``modelcat sql`` starts fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

CATALOG_FILE = "catalog.duckdb"
# A run's directory (runs/ID/): what the crawl stages (``transforms.pages.staging``, its contract in
# ``transforms.contract.PAGE_VALUES_SCHEMA``), what the build writes beside it, and its logs.
PAGES_FILE = "pages.jsonl"  # one line per URL touched
PAGE_VALUES_FILE = "page_values.parquet"  # every value of every model page, as written
CRAWL_STATS_FILE = "crawl_stats.json"  # Scrapy's stats when the spider closed
CRAWL_LOG_FILE = "crawl.log"
# The catalog's page_values, written while the build reads them: published as they are.
CATALOG_VALUES_FILE = "page_values.catalog.parquet"


@dataclass(frozen=True)
class DataDir:
    root: Path

    @property
    def catalog(self) -> Path:
        return self.root / CATALOG_FILE

    @property
    def current(self) -> Path:
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

    def snapshot(self, publication: str) -> Path:
        return self.snapshots / publication

    def snapshot_of(self, run_id: str) -> Path | None:
        """The newest snapshot of a run: its own, or its latest rebuild."""
        candidates = [self.snapshot(run_id), *self.snapshots.glob(f"{run_id}.rebuilt-*")]
        existing = sorted(p for p in candidates if p.is_dir() and not p.name.endswith(".tmp"))
        return existing[-1] if existing else None

    def current_snapshot(self) -> Path | None:
        """The snapshot the published catalog was built from."""
        return self.current.resolve() if self.current.is_dir() else None

    def run(self, run_id: str) -> Path:
        return self.runs / run_id
