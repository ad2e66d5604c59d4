"""Any DuckDB client opens the catalog: the pip ``duckdb`` CLI (1.x, from the dev extra)
reads a catalog published by our DuckDB 2.x exactly as 2.x reads it, from another directory.

Every comparison casts values to text inside each engine and compares the texts, so a
decimal that lost a digit, a list or map read differently, or a missing comment shows.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.support import query

DUCKDB_CLI = Path(sys.executable).with_name("duckdb")

# A real call for each macro we know; any other macro in the catalog is called with NULL
# arguments, so a macro added later (request_cost, workload_costs...) is checked too.
EXAMPLE_CALLS = {
    "models_as_of": "models_as_of(TIMESTAMP '2999-01-01')",
    "prices_as_of": "prices_as_of(TIMESTAMP '2999-01-01')",
    "offers_as_of": "offers_as_of(TIMESTAMP '2999-01-01')",
    "workload_costs": "workload_costs(150000, output_tokens := 2000, cache_read_tokens := 1000)",
    "request_cost": "request_cost('gpt-4.1-mini-2025-04-14', 100000, output_tokens := 2000)",
}


def cli(catalog: Path, sql: str, cwd: Path) -> list[dict[str, Any]]:
    """One statement through the 1.x CLI, read-only; its rows as JSON objects."""
    result = subprocess.run(
        [str(DUCKDB_CLI), "-readonly", "-json", "-bail", str(catalog), "-c", sql],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout or "[]")


def ours(catalog: Path, sql: str) -> list[dict[str, Any]]:
    """The same statement through the DuckDB we publish with."""
    with duckdb.connect(str(catalog), read_only=True) as con:
        cursor = con.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def as_text(relation: str) -> str:
    """Every column of ``relation`` as text, in a stable order."""
    return f"SELECT COLUMNS(*)::VARCHAR FROM {relation} ORDER BY ALL"


@pytest.fixture(scope="module")
def catalog(published: Path) -> Path:
    return published / "catalog.duckdb"


def test_every_table_reads_the_same_through_the_cli(catalog: Path, tmp_path: Path) -> None:
    tables = [row[0] for row in query(catalog.parent, "SELECT table_name FROM duckdb_tables()")]
    assert {"models", "official_prices", "runs", "catalog_info"} <= set(tables)
    for table in tables:
        assert cli(catalog, as_text(table), tmp_path) == ours(catalog, as_text(table)), table


def test_types_and_comments_are_the_same_through_the_cli(catalog: Path, tmp_path: Path) -> None:
    columns = as_text(
        "(SELECT table_name, column_name, data_type, comment FROM duckdb_columns() "
        "WHERE NOT internal)"
    )
    tables = as_text("(SELECT table_name, comment FROM duckdb_tables())")
    for sql in (columns, tables):
        assert cli(catalog, sql, tmp_path) == ours(catalog, sql)
    comments = {
        (r["table_name"], r["column_name"]): r["comment"] for r in cli(catalog, columns, tmp_path)
    }
    assert "1,000,000 tokens" in comments[("official_prices", "usd_per_mtok")]
    assert all(comments[("models", c)] for c in ("model_id", "input_modalities"))


def test_decimals_lists_and_maps_keep_their_types(catalog: Path, tmp_path: Path) -> None:
    (price,) = cli(
        catalog,
        "SELECT typeof(usd_per_mtok) AS type, usd_per_mtok::VARCHAR AS text, "
        "usd_per_mtok * 3 = 2.4 AS exact FROM official_prices "
        "WHERE model_id = 'gpt-4.1-mini-2025-04-14' AND metric = 'input' AND tier_min_tokens = 0",
        tmp_path,
    )
    assert price == {"type": "DECIMAL(18,9)", "text": "0.800000000", "exact": True}
    modalities = (
        "SELECT typeof(input_modalities) AS type, input_modalities[1] AS first, "
        "len(input_modalities) AS n FROM models WHERE len(input_modalities) > 1 ORDER BY model_id"
    )
    (model, *_) = cli(catalog, modalities, tmp_path)
    assert model["type"] == "VARCHAR[]"
    assert cli(catalog, modalities, tmp_path) == ours(catalog, modalities)
    (run,) = cli(
        catalog,
        "SELECT typeof(quality_issues_by_kind) AS type, "
        "quality_issues_by_kind['overview_contradiction'] AS n FROM runs",
        tmp_path,
    )
    assert run == {"type": "MAP(VARCHAR, BIGINT)", "n": 1}
    total = "SELECT typeof(sum(usd_per_mtok)) AS type, sum(usd_per_mtok)::VARCHAR AS sum FROM "
    assert cli(catalog, total + "price_history", tmp_path) == ours(catalog, total + "price_history")


def _relation(name: str, kind: str, call: str) -> str:
    return f"(SELECT * FROM {call})" if kind == "table_macro" else f"(SELECT {call} AS value)"


def _call(catalog: Path, name: str, kind: str, parameters: list[str]) -> str:
    """How to call a macro, as a relation: its example, or NULL for every argument."""
    if name in EXAMPLE_CALLS:
        return _relation(name, kind, EXAMPLE_CALLS[name])
    # Parameters with defaults are listed too: find the arity 2.x accepts.
    for arity in range(len(parameters), -1, -1):
        relation = _relation(name, kind, f"{name}({', '.join(['NULL'] * arity)})")
        try:
            ours(catalog, f"SELECT * FROM {relation}")
        except duckdb.BinderException:
            continue
        return relation
    raise AssertionError(f"macro {name} binds with no number of NULL arguments")


def test_every_macro_runs_the_same_through_the_cli(catalog: Path, tmp_path: Path) -> None:
    macros = ours(
        catalog,
        "SELECT function_name, function_type, parameters FROM duckdb_functions() "
        "WHERE NOT internal AND function_type IN ('macro', 'table_macro') ORDER BY 1",
    )
    assert set(EXAMPLE_CALLS) <= {m["function_name"] for m in macros}
    for macro in macros:
        name = macro["function_name"]
        relation = _call(catalog, name, macro["function_type"], macro["parameters"])
        assert cli(catalog, as_text(relation), tmp_path) == ours(catalog, as_text(relation)), name
    (current,) = cli(catalog, "SELECT count(*) AS n FROM models_as_of(now())", tmp_path)
    assert current["n"] == 189
