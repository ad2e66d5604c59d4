"""What ``modelcat refresh`` prints while it runs and after: a live bar on a terminal (a
real pty), start/heartbeat/stage lines off one, nothing but the summary with --quiet, and
a reader that stops early (``| head -1``) never turns a published run into a failure."""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from modelcat.demo.mirror import MirrorHandler, MirrorServer
from tests.support import FAST, query, refresh

STAMPED = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ")
STAGES = ("crawl done", "build done", "history done", "publish done")


def slowly(handler: MirrorHandler, path: str) -> bool:
    """Model pages take a little while, so the crawl lasts long enough to watch."""
    if path.startswith("/llms/models/"):
        time.sleep(0.03)
    return False


def command(server: MirrorServer, data_dir: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "modelcat",
        "refresh",
        "--start-url",
        server.url("/llms.txt"),
        "--data-dir",
        str(data_dir),
        *FAST,
        *extra,
    ]


def test_off_a_terminal_start_heartbeats_and_stages_one_line_each(
    server: MirrorServer, tmp_path: Path
) -> None:
    server.faults = slowly
    # A long data directory makes the summary's catalog line longer than 80 columns.
    data_dir = tmp_path / ("a-data-directory-with-a-long-name-" * 3) / "data"
    result = subprocess.run(
        command(server, data_dir, "--heartbeat", "0.2", "--concurrency", "4"),
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "80"},
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert "\x1b" not in result.stderr + result.stdout
    assert "\r" not in result.stderr + result.stdout
    assert all(STAMPED.match(line) for line in lines), lines  # no line was wrapped
    assert lines[0].endswith("refresh started")
    assert any(line.endswith(f"crawling {server.url('/llms.txt')}") for line in lines)
    heartbeats = [line for line in lines if re.search(r"crawling: \d+/191 pages, ", line)]
    assert heartbeats, lines
    assert "pages/s" in heartbeats[-1]
    assert "left" in heartbeats[-1]
    done = [next(i for i, line in enumerate(lines) if stage in line) for stage in STAGES]
    assert done == sorted(done)
    assert "191 pages (189 model, 2 skipped)" in lines[done[0]]
    catalog = str(data_dir / "catalog.duckdb")
    assert f"  catalog: {catalog}" in result.stdout.splitlines()
    assert len(f"  catalog: {catalog}") > 80


def test_quiet_prints_the_summary_only(server: MirrorServer, data_dir: Path) -> None:
    result = refresh(server, data_dir, "--quiet", "--heartbeat", "0.01")
    assert result.returncode == 0
    assert result.stderr == ""
    assert result.stdout.startswith("run ")
    assert "published" in result.stdout.splitlines()[0]


def read_pty(master: int, process: subprocess.Popen, timeout: float = 300) -> bytes:
    """Everything the process writes to the terminal until it exits."""
    chunks, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        elif process.poll() is not None:
            break
    return b"".join(chunks)


def test_on_a_terminal_a_live_bar_with_total_rate_and_eta(
    server: MirrorServer, data_dir: Path
) -> None:
    server.faults = slowly
    master, terminal = os.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "160", "LINES": "40"}
    env.pop("NO_COLOR", None)
    process = subprocess.Popen(
        command(server, data_dir, "--concurrency", "4"),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=terminal,
        env=env,
    )
    os.close(terminal)
    try:
        shown = read_pty(master, process).decode("utf-8", "replace")
        stdout = process.stdout.read().decode() if process.stdout else ""
        assert process.wait(timeout=60) == 0
    finally:
        os.close(master)
        if process.stdout:
            process.stdout.close()
    assert "\x1b[" in shown  # a live display: it redraws
    assert re.search(r"\b\d+/191\b", shown), shown[-2000:]  # done/total
    assert "pages/s" in shown
    assert re.search(r"\d:\d\d:\d\d", shown)  # time left
    assert "━" in shown  # the bar
    for stage in STAGES:
        assert stage in shown
    assert stdout.startswith("run ")


@pytest.mark.parametrize("streams", ["", "2>&1"])
def test_a_reader_that_stops_early_does_not_fail_a_published_run(
    server: MirrorServer, data_dir: Path, streams: str
) -> None:
    shell = " ".join(f"'{part}'" for part in command(server, data_dir, "--heartbeat", "0.05"))
    result = subprocess.run(
        ["bash", "-c", f"{shell} {streams} | head -1; exit ${{PIPESTATUS[0]}}"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stdout.splitlines()) == 1
    assert query(data_dir, "SELECT count(*) FROM models")[0][0] == 189


def test_big_results_into_head(published: Path) -> None:
    sql = [sys.executable, "-m", "modelcat", "sql", "SELECT * FROM page_values"]
    for output in ("csv", "json", "table"):
        shell = " ".join(f"'{p}'" for p in [*sql, "--data-dir", str(published), "-f", output])
        result = subprocess.run(
            ["bash", "-c", f"{shell} | head -1; exit ${{PIPESTATUS[0]}}"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert (result.returncode, result.stderr) == (0, ""), output
