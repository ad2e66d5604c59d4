"""The crawl: Scrapy in a child process, the run staged in this one.

The child (``python -I -m crawler``, ``modelcat.run.child``) fetches and hands each page over
a pipe, pickled; this process stages them and, on a worker thread, builds them a chunk at a
time (``transforms.build.ahead``). Parsing, archiving, staging and most of the build so use
the second core, and the crawl's memory is gone when it ends. This module never imports
Scrapy.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import TYPE_CHECKING

from crawler.spec import CrawlOptions, crawl_spec
from crawler.stats import read_stats
from modelcat.run.child import CrawlChild
from modelcat.run.interrupts import StopSignals
from transforms.contract.layout import DataDir, RunDir
from transforms.pages.archive import PageArchive, Validators
from transforms.pages.items import PageItem
from transforms.pages.staging import Stager
from transforms.references.items import ReferenceItem
from transforms.references.log import reference_validator, stage_reference

if TYPE_CHECKING:
    from transforms.build.ahead import BuildAhead


def crawl(
    data_dir: DataDir,
    run_dir: RunDir,
    options: CrawlOptions,
    on_page: Callable[[PageItem], None],
    stop: StopSignals | None = None,
    child: CrawlChild | None = None,
    ahead: BuildAhead | None = None,
    known: Validators | None = None,
) -> dict:
    """Crawl into ``run_dir``; returns Scrapy's stats (empty if the crawl never reported).

    ``child`` is a crawl process started earlier, waiting to be told what to crawl (the
    command line starts it first); without one, one is started here. The child runs
    isolated (``-I``), so it imports only the installed code, never a module of the working
    directory. Stopped early (a stop signal, an error while staging), the crawl is asked to
    end and killed if it has not within ``CHILD_GRACE_SECONDS``; the pages staged so far
    stay, and the validator store learns from them without forgetting what the crawl did
    not reach. With ``ahead``, the run's pages are built a chunk at a time as they are
    staged. ``known``: the validator store as the run found it, if read already.

    A ``child`` given is the caller's to end (``CrawlChild.end``): once its pages and stats
    are in, the crawl returns while the child is still shutting down.
    """
    stop = stop or StopSignals()
    given = child is not None
    run_dir.path.mkdir(parents=True, exist_ok=True)
    archive = PageArchive(data_dir.archive)
    on_values = ahead.add if ahead is not None else None
    stager = Stager(run_dir, archive, data_dir.validators, on_values, known)
    stats: dict = {}
    finished = False
    try:
        with stop.held():  # no child left unowned
            child = child or CrawlChild()
            child.tell(crawl_spec(options, data_dir, run_dir, stream_fd=child.stream_fd))
        if ahead is not None:
            ahead.start()
        while True:
            try:
                item = pickle.load(child.pages)
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
            # The pages end once the child has written its stats: a child the caller
            # gave is left to shut down (~0.2 s) while the run builds, and the caller
            # reaps it. One that ended without its stats is waited for.
            stats = read_stats(run_dir.crawl_stats) if finished else {}
            if child is not None:
                if stats and given:
                    child.pages.close()
                else:
                    child.end(stopping=not finished)
                    stats = read_stats(run_dir.crawl_stats)
            stager.close()
    return stats
