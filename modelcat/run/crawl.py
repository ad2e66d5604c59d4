"""The crawl: Scrapy in a child process, the run staged in this one.

The child (``python -I -m crawler SPEC``) fetches and hands each page over a pipe, pickled;
this process stages them. Parsing, archiving and staging so use the second core, and the
crawl's memory is gone when it ends. This module never imports Scrapy.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from collections.abc import Callable

from crawler.spec import CrawlOptions, crawl_spec
from crawler.stats import read_stats
from modelcat.run.interrupts import StopSignals
from transforms.contract.layout import DataDir, RunDir
from transforms.pages.archive import PageArchive
from transforms.pages.items import PageItem
from transforms.pages.staging import Stager
from transforms.references.items import ReferenceItem
from transforms.references.log import reference_validator, stage_reference

CHILD_GRACE_SECONDS = 5  # how long a crawl being stopped may take to close before it is killed


def crawl(
    data_dir: DataDir,
    run_dir: RunDir,
    options: CrawlOptions,
    on_page: Callable[[PageItem], None],
    stop: StopSignals | None = None,
) -> dict:
    """Crawl into ``run_dir``; returns Scrapy's stats (empty if the crawl never reported).

    The child runs isolated (``-I``), so it imports only the installed code, never a module
    of the working directory. Stopped early (a stop signal, an error while staging), the
    crawl is asked to end and killed if it has not within CHILD_GRACE_SECONDS; the pages
    staged so far stay, and the validator store learns from them without forgetting what
    the crawl did not reach.
    """
    stop = stop or StopSignals()
    run_dir.path.mkdir(parents=True, exist_ok=True)
    read_end, write_end = os.pipe()
    stream = os.fdopen(read_end, "rb")
    spec = crawl_spec(options, data_dir, run_dir, stream_fd=write_end)
    command = [sys.executable, "-I", "-m", "crawler", spec]
    archive = PageArchive(data_dir.archive)
    stager = Stager(run_dir, archive, data_dir.validators)
    child: subprocess.Popen | None = None
    stats: dict = {}
    finished = False
    try:
        with stop.held(), run_dir.crawl_log.open("ab") as log:  # no child left unowned
            try:
                child = subprocess.Popen(
                    command,
                    pass_fds=(write_end,),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                )
            finally:
                os.close(write_end)
        while True:
            try:
                item = pickle.load(stream)
            except EOFError:
                break
            with stop.held():  # a page is staged whole, or not at all
                if isinstance(item, ReferenceItem):
                    stage_reference(item, run_dir.reference_log, archive)
                    if item.error is None and item.content_sha256:
                        stager.keep_validator(item.url, reference_validator(item))
                    continue
                stager.add(item)
                on_page(item)
        finished = True
    finally:
        with stop.held():
            stream.close()
            if child is not None:
                _end(child, stopping=not finished)
            stats = read_stats(run_dir.crawl_stats)
            stager.close()
    return stats


def _end(child: subprocess.Popen, *, stopping: bool) -> None:
    """Wait for the crawl to exit; one being stopped is asked to (SIGTERM), then killed."""
    if not stopping:
        child.wait()
        return
    if child.poll() is None:
        child.terminate()
    try:
        child.wait(timeout=CHILD_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
