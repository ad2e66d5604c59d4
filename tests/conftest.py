"""The suite's layout as markers: everything under ``tests/e2e/`` is marked ``e2e``.

``make test-fast`` (``pytest -m "not e2e and not slow"``) runs the unit tests alone; the
fixtures that crawl are in ``tests/e2e/conftest.py``, the helpers in ``tests.support``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

E2E = Path(__file__).resolve().parent / "e2e"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(E2E):
            item.add_marker(pytest.mark.e2e)
