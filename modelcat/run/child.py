"""The crawl child process, started before the refresh knows what it will crawl.

The child (``python -I -m crawler``) imports Scrapy, about 0.6 s, while this process
imports pandas, pyarrow and DuckDB, takes the lock and checks the data directory, 0.6-1.1 s:
the two start-ups overlap instead of running one after the other. The child then waits for
its SPEC on stdin; a refresh that ends without crawling (the lock held, a broken state, an
interrupt) closes stdin or stops it, and it exits. When its crawl is over, the child
writes its stats, ends the pipe and shuts down (about 0.2 s) while the refresh builds; the
command line reaps it when the run is done (``end``). Only the standard library is imported
here, so the command line can start the child before it imports the run.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Sequence
from types import TracebackType
from typing import IO

CHILD_GRACE_SECONDS = 5  # how long a crawl being stopped may take to close before it is killed
# Isolated: only installed code, never a module of the working directory.
CRAWL_COMMAND = (sys.executable, "-I", "-m", "crawler")


class CrawlChild:
    """The crawl process and the pipe it hands pages down (``crawler.handover``)."""

    def __init__(self, command: Sequence[str] = CRAWL_COMMAND) -> None:
        read_end, write_end = os.pipe()
        try:
            self.process = subprocess.Popen(
                list(command),
                pass_fds=(write_end,),
                stdin=subprocess.PIPE,
            )
        except BaseException:
            os.close(read_end)
            raise
        finally:
            os.close(write_end)  # the child's copy alone: the pipe ends when the child ends it
        self.stream_fd = write_end  # the pipe's number in the child
        self.pages: IO[bytes] = os.fdopen(read_end, "rb")

    def tell(self, spec: str) -> None:
        """Start the crawl that SPEC (``crawler.spec.crawl_spec``) describes."""
        stdin = self.process.stdin
        assert stdin is not None
        with contextlib.suppress(BrokenPipeError):  # a child that died starting: the pages end
            stdin.write(spec.encode() + b"\n")
            stdin.close()

    def end(self, *, stopping: bool) -> None:
        """Wait for the child to exit. One being stopped is asked to (SIGTERM) at once, one
        that is not after ``CHILD_GRACE_SECONDS``; it is killed if it has not exited
        ``CHILD_GRACE_SECONDS`` later."""
        self.pages.close()
        if self.process.stdin is not None:  # never told what to crawl: it exits
            with contextlib.suppress(BrokenPipeError):
                self.process.stdin.close()
        if not stopping:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=CHILD_GRACE_SECONDS)
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.process.wait(timeout=CHILD_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> CrawlChild:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.end(stopping=kind is not None)
