"""The hostile corpus and the seed page built as one run, shared by the build's tests."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.support import SEED_PAGE
from tests.support.hostile import corpus
from tests.support.staging import BASE, build_site


@pytest.fixture(scope="package")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    """The whole corpus and the seed page, built as one run."""
    pages = {**corpus(), BASE + "seed.md": SEED_PAGE.read_bytes()}
    return build_site(pages, tmp_path_factory.mktemp("hostile") / "run")
