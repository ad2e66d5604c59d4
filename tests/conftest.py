"""The suite's layout as markers (everything under ``tests/e2e/`` is marked ``e2e``), and the
data directory the unit tests of publishing and runs share.

``make test-fast`` (``pytest -m "not e2e and not slow"``) runs the unit tests alone; the
fixtures that crawl are in ``tests/e2e/conftest.py``, the helpers in ``tests.support``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support import runs
from tests.support.report import odd_catalog
from transforms.contract.layout import DataDir

E2E = Path(__file__).resolve().parent / "e2e"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(E2E):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    """A data directory with two runs published from saved pages, without a crawl
    (``tests.support.runs.two_runs``). Read-only: a test that changes it takes ``own_copy``."""
    data_dir = DataDir(tmp_path_factory.mktemp("two-runs") / "data")
    runs.two_runs(data_dir)
    return data_dir


@pytest.fixture
def own_copy(two_runs: DataDir, tmp_path: Path) -> DataDir:
    """A private copy of ``two_runs``, to damage or to run on."""
    copy = tmp_path / "data"
    shutil.copytree(two_runs.root, copy, symlinks=True)
    return DataDir(copy)


@pytest.fixture(scope="session")
def odd_data(tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    """Two published runs with hostile pages and odd model ids (``tests.support.report``);
    read-only."""
    data_dir = DataDir(tmp_path_factory.mktemp("odd") / "data")
    odd_catalog(data_dir)
    return data_dir
