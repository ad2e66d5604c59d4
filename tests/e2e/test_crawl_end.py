"""The crawl's end (``modelcat.run.crawl``, ``modelcat.run.child``): the child ends the pipe
only once its stats are written, so a refresh given a child goes on building while the
child shuts down, and reaps it when the run is done.

The children here are the real crawl (``crawler.__main__.main``) on the demo mirror,
started by a script that makes one of its steps slow: writing the stats, or exiting.
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

import pytest

from crawler.spec import CrawlOptions, crawl_spec
from crawler.stats import read_stats
from modelcat.demo.mirror import MirrorServer
from modelcat.run import child as child_module
from modelcat.run.child import CrawlChild
from modelcat.run.crawl import crawl
from transforms.contract.layout import DataDir

pytestmark = pytest.mark.e2e

# The crawl child's own main, with writing its stats and exiting slowed down.
SLOWED = """
import sys
import time

import crawler.stats

written = crawler.stats.write_stats


def slow_write(*args):
    time.sleep({stats_seconds})
    written(*args)


crawler.stats.write_stats = slow_write
from crawler.__main__ import main

code = main()
time.sleep({exit_seconds})
sys.exit(code)
"""


def slowed_child(*, stats_seconds: float = 0, exit_seconds: float = 0) -> CrawlChild:
    script = SLOWED.format(stats_seconds=stats_seconds, exit_seconds=exit_seconds)
    return CrawlChild((sys.executable, "-c", script))


def options(server: MirrorServer) -> CrawlOptions:
    return CrawlOptions(start_urls=[server.url()], delay=0, concurrency=16)


def test_the_pages_end_only_once_the_stats_are_written(server: MirrorServer, tmp_path: Path):
    """Read as a refresh reads it, the pipe ends after the stats file is whole, though it
    takes a second to write: a refresh that read them at the pipe's end then would judge a
    finished crawl as one that never reported."""
    data_dir = DataDir(tmp_path / "data")
    run_dir = data_dir.run("run")
    run_dir.path.mkdir(parents=True)
    with slowed_child(stats_seconds=1) as child:
        child.tell(crawl_spec(options(server), data_dir, run_dir, stream_fd=child.stream_fd))
        pages = 0
        while True:
            try:
                pickle.load(child.pages)
            except EOFError:
                break
            pages += 1
        stats = read_stats(run_dir.crawl_stats)
    assert pages > 100
    assert stats.get("finish_reason") == "finished"
    assert stats["modelcat/items_handed_over"] == pages
    # No console was opened into the crawl (Scrapy's remote control runs code it is sent).
    log = run_dir.crawl_log.read_text()
    assert "Enabled extensions" in log
    assert "Remote control" not in log
    assert "Telnet console listening" not in log


def test_a_crawl_given_its_child_returns_while_the_child_shuts_down(
    server: MirrorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """The run goes on with the crawl's stats while the child exits (here, slowly); the
    child's owner then waits for it, and stops one that takes longer than its grace."""
    monkeypatch.setattr(child_module, "CHILD_GRACE_SECONDS", 1)
    data_dir = DataDir(tmp_path / "data")
    run_dir = data_dir.run("run")
    staged: list[str] = []
    with slowed_child(exit_seconds=60) as child:
        stats = crawl(
            data_dir, run_dir, options(server), lambda p: staged.append(p.url), None, child
        )
        assert child.process.poll() is None, "the crawl waited for its child to exit"
        assert stats["finish_reason"] == "finished"
        assert stats["modelcat/items_handed_over"] == len(staged) > 100
    # The owner's grace ran out: the child was stopped (SIGTERM), not waited for a minute.
    assert child.process.returncode is not None
    assert child.process.returncode != 0


def test_a_crawl_that_starts_its_own_child_reaps_it(server: MirrorServer, tmp_path: Path):
    """Without a child given, the crawl starts one and returns only once it has exited and
    been waited for: no process, not even a finished one, is left behind."""
    data_dir = DataDir(tmp_path / "data")
    before = children()
    stats = crawl(data_dir, data_dir.run("run"), options(server), lambda _page: None)
    assert stats["finish_reason"] == "finished"
    assert children() == before


def children() -> set[int]:
    """This process's child processes, running or finished but not yet waited for."""
    return {
        int(pid)
        for listing in Path("/proc/self/task").glob("*/children")
        for pid in listing.read_text().split()
    }


def test_a_child_shutting_down_when_the_run_ends_is_waited_for_not_stopped(
    server: MirrorServer, tmp_path: Path
):
    """A run that ended normally waits out a child still shutting down (within its grace):
    stopping it then would log a SIGTERM into a crawl that finished."""
    data_dir = DataDir(tmp_path / "data")
    with slowed_child(exit_seconds=2) as child:
        crawl(data_dir, data_dir.run("run"), options(server), lambda _page: None, None, child)
    assert child.process.returncode == 0
