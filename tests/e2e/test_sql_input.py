"""``modelcat sql`` reads its query from an argument, a file (``--file``) or standard input
(``-``, ``--file -``, or a pipe with no query), through the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import modelcat

# A multi-line query, as the README writes them: comments, several lines, a trailing ';'.
QUERY = """-- models with a long context
SELECT count(*) AS n
FROM models
WHERE context_window_tokens >= 1000000;
"""


def sql_with_stdin(published: Path, stdin: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "modelcat.cli", "sql", *args, "--data-dir", str(published),
         "--format", "csv"],
        input=stdin, capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip


def expected(published: Path) -> str:
    # As an argument, a query that starts with "--" follows "--" (the end of the options).
    result = modelcat("sql", "--data-dir", str(published), "--format", "csv", "--", QUERY)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("args", [[], ["-"], ["--file", "-"]])
def test_query_from_standard_input(published: Path, args: list[str]) -> None:
    result = sql_with_stdin(published, QUERY, *args)
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected(published)
    assert result.stdout.splitlines()[0] == "n"


def test_query_from_a_file(published: Path, tmp_path: Path) -> None:
    script = tmp_path / "long.sql"
    script.write_text(QUERY, encoding="utf-8")
    result = modelcat("sql", "--file", str(script), "--data-dir", str(published), "-f", "csv")
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected(published)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--file", "/nonexistent/q.sql"], "cannot read /nonexistent/q.sql"),
        (["SELECT 1", "--file", "-"], "not both"),
    ],
)
def test_bad_query_sources_exit_2(published: Path, args: list[str], message: str) -> None:
    result = sql_with_stdin(published, "", *args)
    assert result.returncode == 2
    assert message in result.stderr


def test_empty_standard_input_is_no_statement(published: Path) -> None:
    result = sql_with_stdin(published, "")
    assert result.returncode == 2
    assert "no statement" in result.stderr
