"""The ``modelcat`` commands an analyst uses on a published catalog: sql, export, quality,
changes. Each runs the real CLI in its own process against a real catalog."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.support import modelcat, query

PRICE_SQL = (
    "SELECT model_id, usd_per_mtok FROM official_prices "
    "WHERE model_id = 'gpt-4.1-mini-2025-04-14' AND metric = 'input' AND tier_min_tokens = 0"
)


def test_help_lists_every_command() -> None:
    result = modelcat("--help")
    assert result.returncode == 0
    for command in ("refresh", "rebuild", "sql", "export", "quality", "changes"):
        assert command in result.stdout


@pytest.mark.parametrize(
    ("output", "read"),
    [
        ("csv", lambda text: list(csv.DictReader(io.StringIO(text)))),
        ("json", json.loads),
    ],
)
def test_sql_prices_stay_exact_in_every_format(published: Path, output: str, read) -> None:
    result = modelcat("sql", PRICE_SQL, "--data-dir", str(published), "--format", output)
    assert result.returncode == 0, result.stderr
    (row,) = read(result.stdout)
    assert row["model_id"] == "gpt-4.1-mini-2025-04-14"
    assert isinstance(row["usd_per_mtok"], str)  # text, so no reader turns it into a float
    assert Decimal(row["usd_per_mtok"]) == Decimal("0.8")


def test_sql_table_format_shows_whole_values(published: Path) -> None:
    result = modelcat("sql", PRICE_SQL, "--data-dir", str(published))
    assert result.returncode == 0
    assert "gpt-4.1-mini-2025-04-14" in result.stdout.replace("\n", "").replace("│", "")
    assert "0.800000000" in result.stdout


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM models",
        "CREATE TABLE x AS SELECT 1",
        "COPY models TO '/tmp/modelcat-should-not-exist.csv'",
        "ATTACH '/tmp/modelcat-other.duckdb' AS other",
    ],
)
def test_sql_is_read_only(published: Path, statement: str) -> None:
    result = modelcat("sql", statement, "--data-dir", str(published))
    assert result.returncode == 1
    assert "query failed" in result.stderr
    assert query(published, "SELECT count(*) FROM models")[0][0] == 189
    assert not Path("/tmp/modelcat-should-not-exist.csv").exists()


def test_sql_without_a_catalog_says_so(tmp_path: Path) -> None:
    result = modelcat("sql", "SELECT 1", "--data-dir", str(tmp_path / "empty"))
    assert result.returncode == 1
    assert "modelcat refresh" in result.stderr


def test_export_round_trips_in_every_format(published: Path, tmp_path: Path) -> None:
    want = {
        (r[0], r[1], r[2], r[3]): r[4]
        for r in query(
            published,
            "SELECT model_id, tier_label, metric, raw_value, usd_per_mtok FROM official_prices",
        )
    }

    def check(rows: list[dict]) -> None:
        got = {
            (r["model_id"], r["tier_label"], r["metric"], r["raw_value"]): Decimal(
                str(r["usd_per_mtok"])
            )
            for r in rows
        }
        assert got == want

    for output in ("csv", "jsonl", "parquet"):
        out = tmp_path / f"prices.{output}"
        result = modelcat(
            "export", "official_prices", "--format", output, "--out", str(out),
            "--data-dir", str(published),
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert f"wrote {len(want)} rows" in result.stderr
        if output == "csv":
            check(list(csv.DictReader(out.open())))
        elif output == "jsonl":
            rows = [json.loads(line) for line in out.read_text().splitlines()]
            assert all(isinstance(r["usd_per_mtok"], str) for r in rows)
            check(rows)
        else:
            table = pq.read_table(out)
            assert str(table.schema.field("usd_per_mtok").type) == "decimal128(18, 9)"
            check(table.to_pylist())


def test_export_refuses_an_unknown_table(published: Path, tmp_path: Path) -> None:
    result = modelcat(
        "export", "nope", "--format", "csv", "--out", str(tmp_path / "x.csv"),
        "--data-dir", str(published),
    )  # fmt: skip
    assert result.returncode == 2
    assert "models" in result.stderr
    assert not (tmp_path / "x.csv").exists()


def test_quality_lists_the_runs_issues(published: Path) -> None:
    result = modelcat("quality", "--data-dir", str(published), "--format", "json")
    assert result.returncode == 0
    issues = json.loads(result.stdout)
    assert [(i["kind"], i["model_id"]) for i in issues] == [
        ("overview_contradiction", "gpt-4.1-mini-2025-04-14")
    ]


def test_changes_of_a_first_run_are_all_additions(published: Path) -> None:
    result = modelcat("changes", "--data-dir", str(published), "--format", "csv")
    assert result.returncode == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 189
    assert {r["kind"] for r in rows} == {"model_added"}
    later = modelcat("changes", "--since", "2999-01-01", "--data-dir", str(published), "-f", "csv")
    assert later.stdout.strip().splitlines() == [
        "observed_at,run_id,kind,model_id,provider,region,field,tier_label,tier_min_tokens,"
        "old_value,new_value,source"
    ]


def test_sql_as_of_rejects_a_non_time(published: Path) -> None:
    result = modelcat("sql", "SELECT 1", "--as-of", "yesterday", "--data-dir", str(published))
    assert result.returncode == 2
    assert "is not an ISO 8601 date or time" in result.stderr


def test_the_catalog_describes_its_columns(published: Path) -> None:
    comments = dict(
        query(
            published,
            "SELECT table_name || '.' || column_name, comment FROM duckdb_columns() "
            "WHERE table_name = 'official_prices'",
        )
    )
    assert "1,000,000 tokens" in comments["official_prices.usd_per_mtok"]


COMMANDS = ("refresh", "rebuild", "sql", "export", "quality", "changes", "cost")


@pytest.mark.parametrize("args", [[], *([c] for c in COMMANDS)])
def test_help_off_a_terminal_is_whole_and_plain(args: list[str]) -> None:
    """Off a terminal at its default 80 columns nothing is cut short (no '…' or '...'),
    no option shows a Python type or <bool>, and no line is wider than 80 columns."""
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    result = subprocess.run(
        [sys.executable, "-m", "modelcat.cli", *args, "--help"],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "Usage: modelcat" in text
    for cut in ("…", "...", "<bool>", "<str>", "<int>", "<float>", "list[", "╭"):
        # click marks an argument taken many times with '...' (COMMAND [ARGS]..., {TABLE}...).
        assert cut not in re.sub(r"(?<=[A-Z\]}])\.\.\.(?=\s|$)", "", text), cut
    assert max(len(line) for line in text.splitlines()) <= 80
    if args == ["changes"]:
        assert "--kind KIND" in text
        assert "attribute_changed" in text
