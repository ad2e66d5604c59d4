"""The crawl child started before the refresh knows what to crawl (``modelcat.run.child``):
a refresh that never crawls must not leave it behind, and a Ctrl-C while it waits is the
refresh's to handle, not a traceback on the terminal."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from modelcat.run.child import CrawlChild

STARTED_SECONDS = 3  # far longer than the child takes to reach its first line


def test_a_child_never_told_what_to_crawl_exits_when_stdin_closes() -> None:
    child = CrawlChild()
    assert child.process.stdin is not None
    child.process.stdin.close()
    assert child.pages.read() == b""  # the pipe ends: the child sent nothing
    assert child.process.wait(timeout=60) == 0
    child.end(stopping=False)


def test_leaving_the_block_leaves_no_child_running() -> None:
    with CrawlChild() as child:
        pass
    assert child.process.returncode is not None
    assert child.pages.closed


def test_an_error_before_the_crawl_leaves_no_child_running() -> None:
    with pytest.raises(RuntimeError), CrawlChild() as child:
        raise RuntimeError("the lock is held")
    assert child.process.returncode is not None
    assert child.pages.closed


def test_a_ctrl_c_while_waiting_is_ignored_and_stdin_still_ends_it(tmp_path: Path) -> None:
    errors = tmp_path / "stderr"
    with errors.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-I", "-m", "crawler"], stdin=subprocess.PIPE, stderr=stderr
        )
        time.sleep(STARTED_SECONDS)
        process.send_signal(signal.SIGINT)
        time.sleep(0.5)
        assert process.poll() is None, "a Ctrl-C ended the child before the refresh did"
        assert process.stdin is not None
        process.stdin.close()
        assert process.wait(timeout=60) == 0
    assert errors.read_text() == ""


def test_the_childs_stray_output_goes_to_the_crawl_log(tmp_path: Path) -> None:
    log = tmp_path / "crawl.log"
    log.write_text("before\n")
    script = (
        "import sys\n"
        "from crawler.__main__ import _write_output_to\n"
        f"_write_output_to({str(log)!r})\n"
        "print('to stdout', flush=True)\n"
        "print('to stderr', file=sys.stderr, flush=True)\n"
    )
    shown = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert (shown.stdout, shown.stderr) == ("", "")
    assert log.read_text() == "before\nto stdout\nto stderr\n"
