"""The crawl starts before the steps after it are loaded: a refresh tells its crawl child
what to crawl before this process imports pandas or pandera, and loads them while the child
fetches (``modelcat.run.refresh``). Measured: the child waited about 0.5 s for them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from modelcat.demo.mirror import MirrorServer
from tests.support import FAST, query

# The real command line, with ``CrawlChild.tell`` watched: which heavy modules this process
# had loaded when it told the child what to crawl.
WATCHED = """
import sys
from modelcat.run.child import CrawlChild

tell = CrawlChild.tell

def watched(self, spec):
    loaded = [name for name in ("pandas", "pandera", "scrapy") if name in sys.modules]
    print("loaded when the crawl was told:", loaded, file=sys.stderr, flush=True)
    tell(self, spec)

CrawlChild.tell = watched
from modelcat.cli.main import main

sys.argv = ["modelcat", *sys.argv[1:]]
main()
"""


def refresh_watched(server: MirrorServer, data_dir: Path) -> subprocess.CompletedProcess:
    args = ["refresh", "--start-url", server.url(), "--data-dir", str(data_dir), *FAST]
    return subprocess.run(
        [sys.executable, "-c", WATCHED, *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_the_crawl_is_told_before_pandas_loads_on_a_first_run_and_after(
    server: MirrorServer, data_dir: Path
) -> None:
    for run in ("first", "with a catalog to recover and reconcile"):
        result = refresh_watched(server, data_dir)

        assert result.returncode == 0, (run, result.stderr[-2000:])
        assert "loaded when the crawl was told: []" in result.stderr, (run, result.stderr)
    published = query(data_dir, "SELECT count(*) FROM models")[0][0]
    runs = query(data_dir, "SELECT count(*) FROM runs WHERE status = 'published'")[0][0]
    assert published > 100
    assert runs == 2
