"""The offline entry points never load Scrapy or Twisted, directly or through ``crawler/``.

Each case imports one entry point in a fresh interpreter and lists the modules it loaded:
``rebuild``, ``sql``, ``export``, ``quality``, ``changes`` and ``cost`` and the Python API
must start without the crawl's engine (and so stay fast), and ``transforms`` is the
crawl's consumer, never its dependent.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support import REPO

ENTRY_POINTS = [
    "transforms.build.tables",
    "transforms.publish",
    "transforms.history",
    "transforms.publish.cost",
    "transforms.contract.datapackage",
    "transforms.pages.staging",
    "crawler.site",
    "crawler.spec",  # the parent builds the crawl child's settings without Scrapy
    "modelcat",  # the Python API: open, read, cost, rank_costs
    "modelcat.cli.main",  # sql, export, quality, changes, cost: the commands are in this module
    "modelcat.api.cost",
    "modelcat.run.rebuild",
    "modelcat.run.crawl",  # the parent of a crawl: Scrapy runs in the child only
    "modelcat.run.refresh",
    "modelcat.cli.progress",
]
# A fresh interpreter per probe: under a second each, 10 to 15 seconds in all (``make lint``
# checks the same layers statically, at once).
pytestmark = pytest.mark.slow

PROBE = (
    "import importlib, sys; importlib.import_module(sys.argv[1]); "
    "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
)


@pytest.mark.parametrize("module", ENTRY_POINTS)
def test_entry_point_loads_neither_scrapy_nor_twisted(module: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, module],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    loaded = set(result.stdout.split())
    assert not loaded & {"scrapy", "twisted"}, f"{module} loads {loaded & {'scrapy', 'twisted'}}"


def test_the_probe_sees_scrapy_where_it_is_loaded() -> None:
    """The probe itself can fail: the spider module does load Scrapy and Twisted."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, "crawler.spiders.pipellm"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert {"scrapy", "twisted"} <= set(result.stdout.split())


# What stays light: the commands analysts run many times a day, the Python API and the
# crawl child load no pandas (and the first two no pyarrow): a second at every start.
LIGHT = {
    "modelcat": {"pandas", "pyarrow", "numpy"},  # DuckDB only; pandas when a table is read
    "modelcat.cli.main": {"pandas", "pyarrow", "numpy"},
    "crawler.spiders.pipellm": {"pandas"},
    "transforms.contract": {"pandas", "pyarrow", "numpy"},
    "transforms.publish": {"pandas", "pyarrow", "numpy", "duckdb"},
}


@pytest.mark.parametrize(("module", "heavy"), sorted(LIGHT.items()))
def test_entry_point_stays_light(module: str, heavy: set[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, module],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    loaded = set(result.stdout.split())
    assert not loaded & heavy, f"{module} loads {loaded & heavy}"
