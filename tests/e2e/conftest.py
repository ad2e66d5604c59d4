"""Fixtures of the end-to-end tests: a real HTTP server on loopback serving a copy of the
demo mirror, and catalogs published by the real ``modelcat refresh`` from one."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelcat.demo import DEMO_MIRROR
from modelcat.demo.mirror import MirrorServer
from tests.support import EXPECTED, REPO, refresh
from tests.support.cost_site import cost_catalog


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


@pytest.fixture(scope="session")
def priced(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The catalog of the cost mirror (``tests.support.cost_site``), shared read-only."""
    return cost_catalog(tmp_path_factory)


@pytest.fixture(scope="session")
def demo_clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory that stands for a fresh clone after ``make demo``: the repository's
    ``.venv`` (linked) and ``data/demo`` written by the real demo. Shared read-only."""
    clone = tmp_path_factory.mktemp("clone")
    (clone / ".venv").symlink_to(REPO / ".venv", target_is_directory=True)
    demo = subprocess.run(
        [sys.executable, "-m", "modelcat.demo", "--data-dir", "data/demo"],
        cwd=clone,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert demo.returncode == 0, demo.stdout + demo.stderr
    return clone
