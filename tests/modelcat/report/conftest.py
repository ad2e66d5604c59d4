from __future__ import annotations

from pathlib import Path

import pytest

from modelcat.report import build_report
from transforms.contract.layout import DataDir


@pytest.fixture(scope="session")
def site(odd_data: DataDir, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of ``odd_data``; read-only."""
    out = tmp_path_factory.mktemp("site") / "report"
    build_report(out, odd_data.root)
    return out
