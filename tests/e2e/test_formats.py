"""One rule per type, end to end: a value of each type the catalog publishes reads the same
through ``modelcat sql`` (table, csv, csv-excel, json) and ``modelcat export``, run for real
on the published demo catalog (the rule itself: ``tests/modelcat/cli/test_formats.py``)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from modelcat.cli.formats import EXCEL_BOM, cell
from tests.support import modelcat, query

PROBE = (
    "SELECT model_id, release_date, input_modalities, supports_tool_use, fetched_at, "
    "context_window_tokens FROM models WHERE model_id = 'gpt-4.1-mini-2025-04-14'"
)


def _expected(published: Path) -> dict[str, str]:
    (row,) = query(published, PROBE)
    names = [
        "model_id",
        "release_date",
        "input_modalities",
        "supports_tool_use",
        "fetched_at",
        "context_window_tokens",
    ]
    return dict(zip(names, map(cell, row), strict=True))


def test_sql_csv_json_and_table_write_one_rule(published: Path) -> None:
    want = _expected(published)
    assert want["fetched_at"].endswith("Z")
    assert "T" in want["fetched_at"]
    as_csv = modelcat("sql", PROBE, "--data-dir", str(published), "-f", "csv")
    assert list(csv.DictReader(io.StringIO(as_csv.stdout))) == [want]
    as_json = json.loads(modelcat("sql", PROBE, "--data-dir", str(published), "-f", "json").stdout)
    assert [{k: cell(v) for k, v in row.items()} for row in as_json] == [want]
    assert isinstance(as_json[0]["supports_tool_use"], bool)
    assert isinstance(as_json[0]["input_modalities"], list)
    table = modelcat("sql", PROBE, "--data-dir", str(published)).stdout
    for text in want.values():
        assert text in table


def test_a_zero_price_is_fixed_point_everywhere(published: Path, tmp_path: Path) -> None:
    zero = "SELECT 0::DECIMAL(18,9) AS usd_per_mtok"
    for output in ("table", "csv", "csv-excel", "json"):
        result = modelcat("sql", zero, "--data-dir", str(published), "-f", output)
        assert "0.000000000" in result.stdout, output
        assert "E-9" not in result.stdout, output


def test_export_csv_and_jsonl_write_the_rule_of_sql(published: Path, tmp_path: Path) -> None:
    rows = {
        "csv": list(csv.DictReader(io.StringIO(_export(published, tmp_path, "csv")))),
        "csv-excel": list(csv.DictReader(io.StringIO(_export(published, tmp_path, "csv-excel")))),
        "jsonl": [json.loads(line) for line in _export(published, tmp_path, "jsonl").splitlines()],
    }
    sql = modelcat("sql", "SELECT * FROM runs", "--data-dir", str(published), "-f", "csv")
    assert rows["csv"] == list(csv.DictReader(io.StringIO(sql.stdout)))
    assert rows["csv-excel"] == rows["csv"]
    (run,) = rows["jsonl"]
    assert run["quality_issues_by_kind"] == {"overview_contradiction": 1}  # a map, as JSON
    assert run["start_urls"][0].startswith("http://127.0.0.1:")  # a list, as JSON
    assert run["started_at"].endswith("Z")
    assert json.loads(rows["csv"][0]["quality_issues_by_kind"]) == run["quality_issues_by_kind"]


def _export(published: Path, tmp_path: Path, output: str) -> str:
    out = tmp_path / f"runs.{output}"
    result = modelcat(
        "export", "runs", "--format", output, "--out", str(out), "--data-dir", str(published)
    )
    assert result.returncode == 0, result.stderr
    raw = out.read_bytes()
    if output == "csv-excel":
        assert raw.startswith(EXCEL_BOM.encode())
        assert b"\r\n" in raw
        return raw.decode("utf-8-sig")
    assert not raw.startswith(EXCEL_BOM.encode())
    return raw.decode("utf-8")
