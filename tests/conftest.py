"""Shared fixtures: a real HTTP server on loopback serving a copy of the demo mirror, and a
way to run the real ``modelcat`` command against it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from modelcat.demo import DEMO_MIRROR
from modelcat.demo.mirror import MirrorServer

REPO = Path(__file__).resolve().parents[1]
EXPECTED = REPO / "tests" / "fixtures" / "demo_expected.json"
SEED_PAGE = REPO / "tests" / "fixtures" / "pages" / "gpt-4.1-mini-2025-04-14.md"
# Fast settings for loopback: no politeness delay, tiny retry backoff.
FAST = ["--delay", "0", "--concurrency", "16", "--set", "RETRY_BACKOFF_BASE=0.01"]


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    """A private, writable copy of the demo mirror."""
    copy = tmp_path / "mirror"
    shutil.copytree(DEMO_MIRROR, copy)
    return copy


@pytest.fixture
def server(mirror: Path) -> Iterator[MirrorServer]:
    with MirrorServer(mirror) as running:
        yield running


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture(scope="session")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One refresh of the demo mirror, shared read-only by every test that only reads it."""
    data_dir = tmp_path_factory.mktemp("published") / "data"
    with MirrorServer(DEMO_MIRROR) as server:
        result = refresh(server, data_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    return data_dir


@pytest.fixture(scope="session")
def expected() -> dict:
    return json.loads(EXPECTED.read_text())


def modelcat(
    *args: str, cwd: Path | None = None, timeout: float = 180
) -> subprocess.CompletedProcess:
    """Run the real CLI in its own process (Scrapy's reactor runs once per process)."""
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "modelcat.cli", *args],
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
