"""A refresh: lock, recover, crawl, build, guards, publish, summary, retention.

One refresh per data directory at a time (``lock``). Each run starts by putting right what
a crash or damage left in the data directory (``recovery``), crawls (``crawl``: Scrapy in a
child process, the run staged and mostly built in this one), builds, guards, advances the
history and publishes (``publishing``), and stops cleanly on SIGINT or SIGTERM
(``interrupts``).

Nothing up to the crawl loads pandas: the crawl child is told what to crawl as soon as the
data directory is checked, and the steps after the crawl are loaded while it runs
(``BuildAhead.start``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from crawler.spec import CrawlOptions
from modelcat.run.child import CrawlChild
from modelcat.run.crawl import crawl
from modelcat.run.interrupts import Interrupted, stop_signals
from modelcat.run.lock import locked
from modelcat.run.memory import return_freed_memory
from modelcat.run.records import RunSummary, finish_time, start
from modelcat.run.recovery import check_validators, recover
from modelcat.run.retention import prune
from transforms.build.ahead import BuildAhead
from transforms.contract.layout import DataDir
from transforms.contract.vocabulary import RunStatus, Step
from transforms.pages.archive import PageArchive
from transforms.pages.items import PageItem
from transforms.publish.snapshot import PublishFailed

# What the steps after the crawl import (pandas, pandera, the build, history and publishing).
_AFTER_THE_CRAWL = ("modelcat.run.publishing", "transforms.build.plan")


def refresh(
    data_dir: DataDir,
    options: CrawlOptions,
    on_page: Callable[[PageItem], None] = lambda _item: None,
    *,
    allow_shrink: bool = False,
    keep: int | None = None,
    on_step: Callable[[Step], None] = lambda _step: None,
    child: CrawlChild | None = None,
) -> RunSummary:
    """Crawl, build and publish one run; never half-publishes.

    ``on_page`` sees every page as the crawl stages it; ``on_step`` is told when each step
    (crawl, build, history, publish) begins. ``child`` is a crawl process already started
    (``modelcat.run.child``), so that its start-up overlaps this one's; the caller ends it
    if the run never crawls.

    Raises ``RefreshLocked``, ``BrokenState`` (local state past repair), ``Interrupted``
    (SIGINT or SIGTERM before the run began to commit: nothing published, run recorded) and
    ``PublishFailed`` (a file could not be written: nothing published, run recorded as
    failed with the reason; its ``summary`` attribute is the run's).
    """
    return_freed_memory()
    with stop_signals() as stop, locked(data_dir):
        recovered = recover(data_dir)
        summary = start(data_dir, list(options.start_urls))
        summary.recovered = recovered
        run_dir = data_dir.run(summary.run_id)
        step = "checking the validator store"
        # The run's pages built as they are staged, on a second thread.
        ahead = BuildAhead(load=_AFTER_THE_CRAWL)
        try:
            with stop.held():
                known, set_aside = check_validators(data_dir, run_dir)
                summary.recovered += set_aside
            step, started = "crawling", time.perf_counter()
            on_step(Step.CRAWL)
            stats = crawl(data_dir, run_dir, options, on_page, stop, child, ahead, known)
            summary.seconds[Step.CRAWL] = round(time.perf_counter() - started, 3)
            summary.crawl_finish_reason = stats.get("finish_reason")
            step = "building the catalog"
            from modelcat.run.publishing import build_and_publish, timed  # loaded during the crawl
            from transforms.build.plan import plan_build

            previous = data_dir.published_snapshot()
            on_step(Step.BUILD)
            with timed(summary, Step.BUILD):
                plan = plan_build(run_dir, previous, PageArchive(data_dir.archive))
            build_and_publish(
                data_dir, plan, summary, on_step, allow_shrink=allow_shrink, stop=stop, ahead=ahead
            )
        except Interrupted as interrupt:
            summary.status = RunStatus.INTERRUPTED
            summary.message = (
                f"stopped by {interrupt.signal_name} while {step}; nothing was published "
                "(the pages it saw are archived, and the validator store kept what it knew)"
            )
            interrupt.summary = summary
            raise
        except PublishFailed as failed:  # a full disk: the old catalog stands, whole
            summary.status, summary.message = RunStatus.FAILED, str(failed)
            failed.summary = summary
            raise
        except Exception as error:
            summary.status, summary.message = RunStatus.FAILED, f"{type(error).__name__}: {error}"
            raise
        finally:
            ahead.close()
            stop.settle()  # the run's record is written whole, whatever arrives now
            if not summary.pages_by_outcome:
                summary.count_staged_pages(run_dir)
            summary.finished_at = summary.finished_at or finish_time(summary)
            summary.write(run_dir)
        # A stop signal that came while the run committed waits no longer than that.
        if keep is not None and summary.status == RunStatus.PUBLISHED and stop.received is None:
            prune(data_dir, keep)
        return summary
