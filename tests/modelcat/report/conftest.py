from __future__ import annotations

from pathlib import Path

import pytest

from modelcat.report import build_report
from tests.support.report import odd_catalog
from transforms.contract.layout import DataDir


@pytest.fixture(scope="session")
def odd_data(tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    """Two published runs with hostile pages and odd model ids (``tests.support.report``)."""
    data_dir = DataDir(tmp_path_factory.mktemp("odd") / "data")
    odd_catalog(data_dir)
    return data_dir


@pytest.fixture(scope="session")
def site(odd_data: DataDir, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of ``odd_data``; read-only."""
    out = tmp_path_factory.mktemp("site") / "report"
    build_report(out, odd_data.root)
    return out
