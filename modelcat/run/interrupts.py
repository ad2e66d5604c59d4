"""Stopping a run cleanly on SIGINT (Ctrl-C) or SIGTERM (systemd, ``timeout``, ``kill``).

While a refresh or rebuild runs, either signal raises ``Interrupted`` in the main thread, once,
at a point where stopping leaves nothing half done:

- never inside a step held whole (``StopSignals.held``: staging one page, starting or stopping
  the crawl): the signal waits for the step's end;
- never once the run has settled (``StopSignals.settle``: it is committing its catalog, or
  recording how it ended): publishing and the run's record take seconds and then the run
  ends as it would have; the signal is only noted (``received``).

Any further signal is noted, never raised again: a second Ctrl-C cannot break the cleanup
of the first. The process exits with 128 + the signal number, the shell's convention (130
for SIGINT, 143 for SIGTERM).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING

from transforms.contract.vocabulary import ExitCode

if TYPE_CHECKING:
    from modelcat.run.records import RunSummary

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(BaseException):  # like KeyboardInterrupt: no `except Exception` stops it
    """A stop signal ended the run before it published anything.

    ``summary`` is the interrupted run's record, when it had started one.
    """

    def __init__(self, signum: int, summary: RunSummary | None = None) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.summary = summary

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode(128 + self.signum)


class StopSignals:
    """The stop signals a run has received, and whether it may be stopped right now."""

    def __init__(self) -> None:
        self.received: int | None = None  # the first stop signal, if any
        self._holds = 0
        self._settled = False
        self._raised = False

    def handle(self, signum: int, _frame: FrameType | None) -> None:
        if self.received is None:
            self.received = signum
        self._raise_if_due()

    @contextmanager
    def held(self) -> Iterator[None]:
        """A step that must run whole: a stop signal arriving inside it is raised at its end."""
        self._holds += 1
        try:
            yield
        finally:
            self._holds -= 1
        self._raise_if_due()

    def settle(self) -> None:
        """From here on the run ends as it would have: signals are noted, never raised."""
        self._settled = True

    def _raise_if_due(self) -> None:
        if self.received is None or self._holds or self._settled or self._raised:
            return
        self._raised = True
        raise Interrupted(self.received)


@contextmanager
def stop_signals() -> Iterator[StopSignals]:
    """Route SIGINT and SIGTERM to a ``StopSignals`` for the duration of a run.

    Only the main thread may take signals; elsewhere (a run started from a worker thread)
    the process keeps its own handlers and nothing is raised. After a stop signal, the
    handlers stay: further signals are noted, and the process exits as the first asked.
    """
    stop = StopSignals()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = {signum: signal.signal(signum, stop.handle) for signum in STOP_SIGNALS}
    try:
        yield stop
    finally:
        # Once stopping, the process stays deaf to more: it is only saying how it ended.
        if stop.received is None:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
