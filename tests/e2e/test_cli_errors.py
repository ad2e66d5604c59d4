"""Bad input gets one clear line and the documented exit code, never a traceback; times
with an offset are converted to UTC; a run's summary says what happened in plain words."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from modelcat.demo.mirror import MirrorHandler, MirrorServer
from tests.support import modelcat, query, refresh

# (arguments, exit code, what the one line says). {data} is a published data directory,
# {empty} one without a catalog, {file} a regular file, {junk} a directory whose catalog
# is not a DuckDB file.
BAD_INPUTS = [
    (["nope"], 2, "No such command 'nope'"),
    (["sql"], 2, "no statement given"),  # standard input is empty
    (["sql", "SELECT 1", "--data-dir", "{data}", "--format", "xml"], 2, "'xml' is not one of"),
    (["sql", "SELEC 1", "--data-dir", "{data}"], 1, "query failed: Parser Error"),
    (["sql", "SELECT 1; SELECT 2", "--data-dir", "{data}", "-f", "csv"], 2, "one statement"),
    (["sql", "  ", "--data-dir", "{data}"], 2, "no statement"),
    (["sql", "SELECT 1", "--data-dir", "{data}", "--as-of", "yesterday"], 2, "--as-of"),
    (["sql", "SELECT 1", "--data-dir", "{empty}"], 1, "run `modelcat refresh` first"),
    (["sql", "SELECT 1", "--data-dir", "{file}"], 2, "is a file"),
    (["sql", "SELECT 1", "--data-dir", "{junk}"], 1, "cannot open the catalog"),
    (["changes", "--since", "yesterday", "--data-dir", "{data}"], 2, "not 'last', a run id"),
    (["changes", "--since", "2026-13-45", "--data-dir", "{data}"], 2, "ISO 8601"),
    # Valid ISO 8601, but outside years 1 to 9999 once in UTC.
    (
        ["sql", "SELECT 1", "--data-dir", "{data}", "--as-of", "0001-01-01T00:00+01:00"],
        2,
        "--as-of: 0001-01-01T00:00+01:00 is out of range",
    ),
    (
        ["changes", "--since", "9999-12-31T23:00-05:00", "--data-dir", "{data}"],
        2,
        "--since: 9999-12-31T23:00-05:00 is out of range",
    ),
    (
        [
            "cost",
            "o3",
            "--input-tokens",
            "1",
            "--as-of",
            "9999-12-31T23:00-05:00",
            "--data-dir",
            "{data}",
        ],
        2,
        "9999-12-31T23:00-05:00 is out of range",
    ),
    (
        ["quality", "--run", "nope", "--data-dir", "{data}"],
        2,
        "no run 'nope' in the catalog; runs: 2",
    ),
    (["export", "nope", "-f", "csv", "-o", "{out}", "--data-dir", "{data}"], 2, "no table"),
    (["export", "models", "-f", "xml", "-o", "{out}", "--data-dir", "{data}"], 2, "'xml'"),
    (["refresh", "--concurrency", "0", "--data-dir", "{empty}"], 2, "--concurrency"),
    (["refresh", "--keep", "0", "--data-dir", "{empty}"], 2, "--keep"),
    (["refresh", "--set", "NOVALUE", "--data-dir", "{empty}", "-q"], 2, "NAME=VALUE"),
    (["refresh", "--heartbeat", "-1", "--data-dir", "{empty}"], 2, "--heartbeat"),
    (["rebuild", "--data-dir", "{empty}"], 1, "nothing to rebuild"),
]


@pytest.fixture(scope="module")
def places(published: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("places")
    (root / "file").write_text("not a directory")
    (root / "junk").mkdir()
    (root / "junk" / "catalog.duckdb").write_bytes(b"this is not a database" * 100)
    return {
        "data": str(published),
        "empty": str(root / "empty"),
        "file": str(root / "file"),
        "junk": str(root / "junk"),
        "out": str(root / "out.csv"),
    }


@pytest.mark.parametrize(
    ("arguments", "code", "says"), BAD_INPUTS, ids=[" ".join(a[:2]) for a, _, _ in BAD_INPUTS]
)
def test_bad_input_is_one_clear_line(
    places: dict[str, str], arguments: list[str], code: int, says: str
) -> None:
    result = modelcat(*(a.format(**places) for a in arguments))
    assert "Traceback" not in result.stderr
    assert result.returncode == code, result.stderr
    first, *rest = result.stderr.strip().splitlines()
    assert says in first
    # DuckDB points at the place in the query a parser error is: that pointer may follow.
    assert not rest or first.startswith("query failed: Parser Error"), result.stderr
    assert result.stdout == ""
    assert not Path(places["out"]).exists()


def test_no_arguments_show_the_help() -> None:
    result = modelcat()
    assert result.returncode == 0
    assert "refresh" in result.stdout
    assert "--version" in result.stdout


def _run_start(published: Path) -> datetime:
    return query(published, "SELECT started_at FROM runs")[0][0]


def test_as_of_with_an_offset_is_converted_to_utc(published: Path) -> None:
    started = _run_start(published)
    count = "SELECT count(*) AS n FROM models"

    def models_at(moment: str) -> int:
        result = modelcat(
            "sql", count, "--data-dir", str(published), "-f", "json", "--as-of", moment
        )
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)[0]["n"]

    # Half an hour before the run, in UTC and as a +01:00 clock (which reads half an hour after).
    before = started - timedelta(minutes=30)
    local = (before + timedelta(hours=1)).isoformat(sep=" ") + "+01:00"
    assert models_at(before.isoformat() + "Z") == 0
    assert models_at(local) == 0
    assert models_at((started + timedelta(minutes=30)).isoformat()) == 189
    since = modelcat("changes", "--since", local, "--data-dir", str(published), "-f", "json")
    assert len(json.loads(since.stdout)) == 189


def test_several_statements_show_each_result(published: Path) -> None:
    result = modelcat(
        "sql", "SELECT 41 + 1 AS answer; SELECT 'second' AS which", "--data-dir", str(published)
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.index("42") < result.stdout.index("second")


def test_quality_of_a_run_the_catalog_does_not_hold(mirror: Path, data_dir: Path) -> None:
    with MirrorServer(mirror) as server:
        assert refresh(server, data_dir).returncode == 0
        refused = refresh(server, data_dir, path="/no-such-index.txt")
        assert refused.returncode == 1
        assert refresh(server, data_dir).returncode == 0
    first, _refused, current = [r[0] for r in query(data_dir, "SELECT run_id FROM runs ORDER BY 1")]
    older = modelcat("quality", "--run", first, "--data-dir", str(data_dir))
    assert older.returncode == 1
    assert f"published run ({current}) only" in older.stderr
    assert "1 overview_contradiction" in older.stderr
    assert modelcat("quality", "--run", current, "--data-dir", str(data_dir)).returncode == 0
    said = refused.stdout.splitlines()
    assert said[0].endswith(": refused")
    catalog = data_dir / "catalog.duckdb"
    assert f"  nothing was published: the catalog at {catalog} is unchanged ({first})" in said


def fail_one_page(handler: MirrorHandler, path: str) -> bool:
    if path.endswith("/o3.md"):
        handler.answer(500, b"boom\n", "text/plain")
        return True
    return False


def test_the_summary_keeps_retries_apart_from_outcomes(mirror: Path, data_dir: Path) -> None:
    with MirrorServer(mirror) as server:
        server.faults = fail_one_page
        result = refresh(server, data_dir)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    (pages,) = [line for line in lines if line.startswith("  pages:")]
    assert pages == "  pages: 191 (1 failed, 188 model, 2 skipped); 1 needed a retry"
    rebuilt = modelcat("rebuild", "--data-dir", str(data_dir))
    assert rebuilt.returncode == 0, rebuilt.stderr
    (pages,) = [line for line in rebuilt.stdout.splitlines() if line.startswith("  pages:")]
    assert pages == "  pages: 191, re-read from the archive (1 failed, 188 model, 2 skipped)"
    assert "fetched" not in rebuilt.stdout
