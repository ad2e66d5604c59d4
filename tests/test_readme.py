"""The README is documentation people act on: its contract and its queries must be true."""

from __future__ import annotations

import ast
import re
import signal
import subprocess

from tests.support import REPO
from transforms.contract.readme import README_END, README_START, contract_markdown
from transforms.contract.tables import TABLES
from transforms.contract.vocabulary import ExitCode

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_the_contract_in_the_readme_is_the_one_in_the_code() -> None:
    block = README.split(README_START, 1)[1].split(README_END, 1)[0]
    assert block.strip() == contract_markdown().strip(), "run `make docs`"
    for table in TABLES.values():
        for column in table.columns:
            assert f"| `{column.name}` |" in block


def test_make_help_lists_the_targets_the_readme_names() -> None:
    listed = subprocess.run(
        ["make", "help"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    for target in (
        "install",
        "demo",
        "test",
        "lint",
        "format",
        "refresh",
        "docs",
        "bench",
        "clean",
    ):
        assert f"make {target} " in listed


def test_ci_runs_the_readme_test_command() -> None:
    assert "make test" in (REPO / ".ci" / "run").read_text()
    assert "make test" in README


def test_the_exit_code_table_lists_every_code_the_command_exits_with() -> None:
    section = README.split("### Exit codes", 1)[1].split("\n#", 1)[0]
    documented = {int(code) for code in re.findall(r"^\| (\d+) \|", section, re.MULTILINE)}
    stop_signals = {128 + signal.SIGINT, 128 + signal.SIGTERM}
    assert documented == {int(code) for code in ExitCode}
    assert stop_signals <= documented


def test_how_it_works_has_a_row_for_every_layer() -> None:
    """The layer table names every room of the three packages (``crawler/`` is one, the
    subpackages of ``transforms/`` and ``modelcat/`` are one each), and no room that is gone."""
    section = README.split("## How it works", 1)[1].split("\n## ", 1)[0]
    listed = set(
        re.findall(r"^\| [\w ]+ \| `((?:crawler|transforms|modelcat)/[\w/]*)` \|", section, re.M)
    )
    rooms = {"crawler/"} | {
        f"{package}/{path.parent.name}/"
        for package in ("transforms", "modelcat")
        for path in (REPO / package).glob("*/__init__.py")
    }
    assert listed == rooms


def test_every_module_says_what_it_owns() -> None:
    """The file-by-file detail lives in the modules' own docstrings."""
    silent = [
        path.relative_to(REPO).as_posix()
        for package in ("crawler", "transforms", "modelcat")
        for path in (REPO / package).rglob("*.py")
        if not (ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or "").strip()
    ]
    assert silent == []
