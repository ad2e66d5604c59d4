"""What the tests share: where things are, the real ``modelcat`` command run in a process of
its own, and the published catalog read the way an analyst reads it.

Helpers live here and in this package's modules, never in a test module: a test module
imports from ``tests.support``, not from another test module or a conftest. Fixtures are in
the conftest files (``tests/e2e/conftest.py`` for the ones that crawl).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:
    from modelcat.demo.mirror import MirrorServer

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
FIXTURES = REPO / "tests" / "fixtures"
PAGES = FIXTURES / "pages"  # saved model pages, each with its expected parse (NAME.json)
HOSTILE = FIXTURES / "hostile"  # hostile pages, with the outcome each must have
EXPECTED = FIXTURES / "demo_expected.json"  # what the demo mirror publishes, field by field
SEED_PAGE = PAGES / "gpt-4.1-mini-2025-04-14.md"
# Fast settings for loopback: no politeness delay, tiny retry backoff.
FAST = ["--delay", "0", "--concurrency", "16", "--set", "RETRY_BACKOFF_BASE=0.01"]

# The tables a run publishes, each in an order that makes two catalogs comparable.
CURRENT_TABLES = {
    "models": "SELECT * FROM models ORDER BY model_id",
    "official_prices": "SELECT * FROM official_prices ORDER BY model_id, tier_label, metric",
    "provider_offers": "SELECT * FROM provider_offers ORDER BY model_id, provider, region",
    "page_values": "SELECT * FROM page_values ORDER BY page_url, section, row_number, column_label",
    # An unchanged page keeps its findings too (the run that found them aside).
    "quality_issues": "SELECT * EXCLUDE (run_id) FROM quality_issues ORDER BY ALL",
}


def modelcat(
    *args: str, cwd: Path | None = None, timeout: float = 180
) -> subprocess.CompletedProcess:
    """Run the real CLI in its own process (Scrapy's reactor runs once per process)."""
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "modelcat.cli", *args],
        stdin=subprocess.DEVNULL,  # never the terminal pytest runs in: the same in CI
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
        check=False,
    )


def refresh(server: MirrorServer, data_dir: Path, *extra: str, path: str = "/llms.txt"):
    """``modelcat refresh`` against the loopback mirror with fast settings."""
    return modelcat(
        "refresh", "--start-url", server.url(path), "--data-dir", str(data_dir), *FAST, *extra
    )


def query(data_dir: Path, sql: str, params: list | None = None) -> list[tuple]:
    """Read the published catalog the way an analyst would: the DuckDB file, read-only."""
    with duckdb.connect(str(data_dir / "catalog.duckdb"), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def current_tables(data_dir: Path) -> dict[str, list[tuple]]:
    """The current tables of the published catalog, row by row (``CURRENT_TABLES``)."""
    return {table: query(data_dir, sql) for table, sql in CURRENT_TABLES.items()}


def wait_for(condition: Callable[[], bool], timeout: float = 60, every: float = 0.0005) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(every)
