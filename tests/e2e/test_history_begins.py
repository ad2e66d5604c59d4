"""An as-of time before the catalog's history begins: the answer is empty (nothing was
recorded then) and every way of asking says when the history begins, on the real CLI and
the Python API, on a catalog published by a real refresh."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

import modelcat
from tests.support import modelcat as run_modelcat
from tests.support import query

BEFORE = "2000-01-01"
SEED = "gpt-4.1-mini-2025-04-14"


def begins(published: Path) -> str:
    ((first,),) = query(published, "SELECT min(started_at) FROM runs WHERE status = 'published'")
    return first.isoformat() + "Z"


def test_sql_as_of_before_history_says_when_it_begins(published: Path) -> None:
    result = run_modelcat(
        "sql", "--as-of", BEFORE, "--format", "csv", "--data-dir", str(published),
        "SELECT count(*) AS n FROM models",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["n", "0"]
    (line,) = result.stderr.splitlines()
    assert line == (
        f"note: as of 2000-01-01T00:00:00Z the catalog knows nothing: its history begins at "
        f"{begins(published)}, its first run"
    )


def test_sql_as_of_within_history_adds_no_note(published: Path) -> None:
    result = run_modelcat(
        "sql", "--as-of", begins(published), "--format", "csv", "--data-dir", str(published),
        "SELECT count(*) > 0 AS known FROM models",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["known", "true"]
    assert result.stderr == ""


def test_cost_as_of_before_history_says_so_not_no_model(published: Path) -> None:
    one = run_modelcat(
        "cost", SEED, "--input-tokens", "10", "--as-of", BEFORE, "--data-dir", str(published)
    )
    assert one.returncode == 1
    assert f"history begins at {begins(published)}" in one.stderr
    assert "no model" not in one.stderr
    ranked = run_modelcat(
        "cost", "--rank", "--input-tokens", "10", "--as-of", BEFORE, "--format", "json",
        "--data-dir", str(published),
    )  # fmt: skip
    assert ranked.returncode == 0, ranked.stderr
    assert ranked.stdout.strip() == "[]"
    assert ranked.stderr.startswith("note: as of 2000-01-01T00:00:00Z the catalog knows nothing")
    assert f"history begins at {begins(published)}" in ranked.stderr


def test_python_warns_before_history(published: Path) -> None:
    with pytest.warns(modelcat.BeforeHistory, match=f"history begins at {begins(published)}"):
        assert modelcat.read("models", data_dir=published, as_of=BEFORE).empty
    with pytest.warns(modelcat.BeforeHistory):
        assert modelcat.rank_costs(10, data_dir=published, as_of=BEFORE) == []
    with pytest.raises(modelcat.UnknownModel, match="history begins at"):
        modelcat.cost(SEED, 10, data_dir=published, as_of=BEFORE)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not modelcat.read("models", data_dir=published, as_of=begins(published)).empty
