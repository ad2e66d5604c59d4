"""What ``modelcat refresh`` shows while it runs, on standard error.

On a terminal: a live bar with pages done of the total (known once the index is read:
the pages it links that the spider follows), the rate and the time left, then a line per
step (crawl, build, history, publish). Off a terminal (cron, systemd, a pipe): a start
line, a heartbeat line every ``heartbeat`` seconds and a line per step, each one line
with a UTC time, never a control code. Quiet: nothing.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum
from types import TracebackType
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from crawler.site import follows
from transforms.contract.vocabulary import PageOutcome, Step

if TYPE_CHECKING:
    from transforms.pages.items import PageItem

DOING = {
    Step.CRAWL: "crawling",
    Step.BUILD: "building the catalog",
    Step.HISTORY: "advancing the history",
    Step.PUBLISH: "publishing",
}


class Mode(StrEnum):
    LIVE = "live"  # a terminal
    LINES = "lines"  # a log: start, heartbeats, steps
    QUIET = "quiet"


class PageCount:
    """Pages crawled so far, and how many the crawl will fetch as far as is known yet.

    Every URL the spider requests ends as exactly one item, so the total is the start
    URLs plus every link it follows from the pages seen so far (and on-site redirect
    targets); it is known once the index is read and grows if another index turns up.
    """

    def __init__(self, start_urls: Sequence[str]) -> None:
        self.hosts = {urlsplit(url).netloc for url in start_urls}
        self.expected: set[str] = set(start_urls)
        self.index_read = False
        self.done = 0
        self.outcomes: Counter[str] = Counter()

    def add(self, item: PageItem) -> None:
        self.done += 1
        self.outcomes[str(item.outcome)] += 1
        self.expected.add(item.url)
        if item.outcome is PageOutcome.REDIRECTED and item.final_url:
            self.expected.add(item.final_url)
        if item.links:
            self.index_read = True
            self.expected.update(link for link in item.links if follows(link, self.hosts))

    @property
    def total(self) -> int | None:
        return max(len(self.expected), self.done) if self.index_read else None

    def describe(self) -> str:
        return ", ".join(f"{n} {outcome}" for outcome, n in sorted(self.outcomes.items()))


class _Rate(ProgressColumn):
    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:.1f} pages/s" if task.speed else "", style="progress.data.speed")


class RunProgress:
    """Progress of one refresh: ``crawling`` once the start URLs are known, then ``page``
    and ``step`` are the run's callbacks. The first line shows at once, before the crawler
    (seconds of imports) has loaded."""

    def __init__(self, console: Console, mode: Mode, *, heartbeat: float = 30) -> None:
        self.console = console
        self.mode = mode
        self.count = PageCount([])
        self.heartbeat = heartbeat
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.current: Step | None = None
        self.step_started = time.monotonic()
        self.bar: Progress | None = None
        self.task: TaskID | None = None
        self.beat: threading.Thread | None = None

    def __enter__(self) -> RunProgress:
        if self.mode is Mode.LIVE:
            self.bar = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                _Rate(),
                TimeRemainingColumn(),
                TextColumn("{task.fields[outcomes]}"),
                console=self.console,
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task("starting the refresh", total=None, outcomes="")
        elif self.mode is Mode.LINES:
            self._line("refresh started")
            if self.heartbeat > 0:
                self.beat = threading.Thread(target=self._beat, name="heartbeat", daemon=True)
                self.beat.start()
        return self

    def crawling(self, start_urls: Sequence[str]) -> None:
        """The crawl's start URLs are known: count pages against them."""
        with self.lock:
            self.count = PageCount(start_urls)
            urls = ", ".join(start_urls)
            if self.bar is not None and self.task is not None:
                self.bar.update(self.task, description=f"crawling {urls}")
            self._line(f"crawling {urls}", live=False)

    def page(self, item: PageItem) -> None:
        with self.lock:
            self.count.add(item)
            if self.bar is not None and self.task is not None:
                if self.count.total is not None:
                    self.bar.update(self.task, description="crawling")
                self.bar.update(
                    self.task,
                    completed=self.count.done,
                    total=self.count.total,
                    outcomes=self.count.describe(),
                )

    def step(self, step: Step) -> None:
        """A step begins; the one before it is done."""
        with self.lock:
            self._finish_step()
            self.current, self.step_started = step, time.monotonic()
            if self.bar is not None and self.task is not None and step is not Step.CRAWL:
                self.bar.reset(self.task, total=None, description=DOING[step])
                self.bar.update(self.task, outcomes="")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stopped.set()
        with self.lock:
            if exc_type is None:
                self._finish_step()
            self.current = None
            if self.bar is not None:
                self.bar.stop()
        if self.beat is not None:
            self.beat.join()

    def _finish_step(self) -> None:
        if self.current is None:
            return
        seconds = time.monotonic() - self.step_started
        detail = ""
        if self.current is Step.CRAWL:
            detail = f": {self.count.done} pages ({self.count.describe() or 'none'})"
        self._line(f"{self.current} done in {seconds:.1f}s{detail}")

    def _status(self) -> str:
        seconds = time.monotonic() - self.step_started
        if self.current is None:
            return f"starting: {seconds:.0f}s so far"
        if self.current is not Step.CRAWL:
            return f"{DOING[self.current]}: {seconds:.0f}s so far"
        done, total = self.count.done, self.count.total
        rate = done / seconds if seconds > 0 else 0.0
        if total is None:
            return f"crawling: {done} pages, waiting for the index ({seconds:.0f}s so far)"
        left = (total - done) / rate if rate > 0 else None
        eta = f", about {left:.0f}s left" if left is not None else ""
        return f"crawling: {done}/{total} pages, {rate:.1f} pages/s{eta} ({self.count.describe()})"

    def _beat(self) -> None:
        while not self.stopped.wait(self.heartbeat):
            with self.lock:
                if not self.stopped.is_set():
                    self._line(self._status())

    def _line(self, text: str, *, live: bool = True) -> None:
        """A line of the log; ``live=False``: not on a terminal, where the bar shows it."""
        if self.mode is Mode.QUIET or (self.mode is Mode.LIVE and not live):
            return
        if self.mode is Mode.LINES:
            text = f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ} {text}"
        self.console.print(text, markup=False, highlight=False, soft_wrap=True)
