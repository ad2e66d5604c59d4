"""The README is an executable contract: its SQL queries run on a catalog published by a real
refresh, and its shell and Python examples run as written, from a clone after `make demo`, and
give what it says."""

from __future__ import annotations

import doctest
import os
import re
import subprocess
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.support import README

TEXT = README.read_text(encoding="utf-8")


def example_queries() -> list[str]:
    section = TEXT.split("## Example queries", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sql\n(.*?)```", section, re.DOTALL)
    statements = [s.strip() for block in blocks for s in block.split(";")]
    return [
        s for s in statements if s and not all(line.startswith("--") for line in s.splitlines())
    ]


@pytest.mark.parametrize("sql", example_queries(), ids=lambda sql: sql.splitlines()[0][:60])
def test_every_example_query_runs_on_a_published_catalog(published: Path, sql: str) -> None:
    with duckdb.connect(str(published / "catalog.duckdb"), read_only=True) as con:
        con.execute(sql).fetchall()


# `make` targets are how the README starts (`make demo`, which the fixture runs) and what CI
# runs (`make test`); `make refresh` crawls the live site. Every other line runs.
SKIPPED = ("make ",)


def shell_examples() -> list[tuple[str, str]]:
    """Each ```sh block, less its `make` lines, with the heading it is under."""
    examples = []
    for heading, body in re.findall(r"\n#+ ([^\n]+)\n|```sh\n(.*?)```", TEXT, re.DOTALL):
        if heading:
            current = heading
            continue
        script = "\n".join(line for line in body.splitlines() if not line.startswith(SKIPPED))
        if script.strip():
            examples.append((current, script))
    return examples


def python_examples() -> list[tuple[str, str]]:
    """Each ```pycon block (a doctest) with the heading it is under."""
    examples = []
    for heading, body in re.findall(r"\n#+ ([^\n]+)\n|```pycon\n(.*?)```", TEXT, re.DOTALL):
        if heading:
            current = heading
        else:
            examples.append((current, body))
    return examples


def run_shell(clone: Path, script: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "MODELCAT_DATA_DIR")}
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=clone, capture_output=True, text=True, timeout=300, check=False,
        env={**env, "NO_COLOR": "1"},
    )  # fmt: skip


SHELL = shell_examples()


def test_the_readme_has_its_examples() -> None:
    assert len(SHELL) >= 6
    assert len(python_examples()) >= 2


@pytest.mark.parametrize(
    "script", [s for _, s in SHELL], ids=[f"{h[:30]}: {s[:40]}" for h, s in SHELL]
)
def test_every_shell_example_runs_as_written(demo_clone: Path, script: str) -> None:
    result = run_shell(demo_clone, script)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (result.stdout + result.stderr).strip(), "every example says what it did"
    assert "error" not in result.stderr.lower(), result.stderr


@pytest.mark.parametrize("index", range(len(python_examples())))
def test_every_python_example_gives_what_it_says(
    demo_clone: Path, index: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    heading, block = python_examples()[index]
    for shell_heading, script in SHELL:  # what the section's shell examples write first
        if shell_heading == heading:
            assert run_shell(demo_clone, script).returncode == 0
    monkeypatch.chdir(demo_clone)
    example = doctest.DocTestParser().get_doctest(
        block, {}, f"README example {index}", str(README), 0
    )
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    out: list[str] = []
    runner.run(example, out=out.append)
    assert runner.failures == 0, "".join(out)


def four_questions() -> list[str]:
    return [s for heading, s in SHELL if heading == "Four questions, four commands"]


def test_the_four_questions_get_the_right_answers(demo_clone: Path) -> None:
    long_context, price_change, below_official, monthly = (
        run_shell(demo_clone, script).stdout for script in four_questions()
    )
    # Every model listed has 128K+ context and tool use, cheapest first.
    listed = re.findall(r"│ (\S+)\s+│ (\d+)\s+│ ([\d.]+)", long_context)
    assert len(listed) == 5
    assert all(int(window) >= 128_000 for _, window, _ in listed)
    assert [Decimal(p) for *_, p in listed] == sorted(Decimal(p) for *_, p in listed)
    # The demo's edit: the official price and OpenAI's offer, both 0.8 -> 0.7.
    assert price_change.splitlines()[1:] == [
        "  gpt-4.1-mini-2025-04-14 · official <=200K Context · input 0.8 → 0.7 (-12.5%)",
        "  gpt-4.1-mini-2025-04-14 · OpenAI · input 0.8 → 0.7 (-12.5%)",
    ]
    # No standard offer undercuts the official price; only batch ones do.
    assert "gpt" not in below_official
    assert "model_id" in below_official
    assert "USD per month" in monthly
    assert "batch" not in monthly.lower()


def test_the_change_feed_shown_is_what_the_demo_gives(demo_clone: Path) -> None:
    section = TEXT.split("### Reading the change feed", 1)[1]
    shown = re.search(r"```text\n(.*?)```", section, re.DOTALL).group(1)  # type: ignore[union-attr]
    got = run_shell(demo_clone, ".venv/bin/modelcat changes --data-dir data/demo --since last")
    run_id = re.compile(r"\d{8}T\d{9}Z")
    assert run_id.sub("RUN", got.stdout) == run_id.sub("RUN", shown)
