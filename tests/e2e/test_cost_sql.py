"""The cost macros as SQL: exact types, the largest inputs, agreement between the two macros
and with ``cost()``, DuckDB 1.x clients, and a property against an independent Decimal sum."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Context, Decimal
from pathlib import Path

import duckdb
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from modelcat.api.cost import COLUMNS, cost, rank_costs
from tests.support import modelcat
from tests.support.cost_site import SEED
from transforms.contract.tables import TABLES
from transforms.publish.cost import COST_MACROS, KINDS

EXAMPLES = int(os.environ.get("MODELCAT_HYPOTHESIS_EXAMPLES", "60"))
MAX_PRICE = Decimal("999999999.999999999")  # the largest DECIMAL(18,9)
EXACT = Context(prec=80)  # wide enough that the oracle below never rounds


@pytest.fixture(scope="module")
def con(priced: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    with duckdb.connect(str(priced / "catalog.duckdb"), read_only=True) as connection:
        yield connection


def row_of(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> dict:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    (row,) = cursor.fetchall()
    return dict(zip(names, row, strict=True))


@pytest.mark.parametrize(
    "call",
    [
        "workload_costs(150000, output_tokens := 2000)",
        "workload_costs(0, requests := 1000000000)",
        "workload_costs(250000, output_tokens := 1, cache_read_tokens := 5, as_of := now())",
        f"request_cost('{SEED}', 1000, cache_write_tokens := 10, provider := 'OpenAI')",
        "request_cost('max-price', 1000000000000, output_tokens := 1000000000000)",
    ],
)
def test_every_column_has_its_exact_type(con: duckdb.DuckDBPyConnection, call: str) -> None:
    described = {name: kind for name, kind, *_ in con.execute(f"DESCRIBE FROM {call}").fetchall()}
    assert tuple(described) == COLUMNS
    for kind in (*KINDS, "total"):
        assert described[f"{kind}_usd"] == "DECIMAL(38,15)"
    assert described["unpriced"] == described["billed_as_input"] == "VARCHAR[]"
    assert described["exceeds_context"] == "BOOLEAN"
    # And the values, not only the declared columns: typeof() of what came out.
    types = con.execute(
        f"SELECT DISTINCT {', '.join(f'typeof({k}_usd)' for k in (*KINDS, 'total'))} FROM {call}"
    ).fetchall()
    assert {t for row in types for t in row} == {"DECIMAL(38,15)"}


def oracle(prices: dict[str, Decimal], counts: dict[str, int], requests: int) -> Decimal:
    """Σ price x tokens x requests / 1,000,000 in Python's Decimal, rounding nothing."""
    total = Decimal(0)
    for kind, tokens in counts.items():
        total = EXACT.add(total, EXACT.multiply(EXACT.multiply(prices[kind], tokens), requests))
    return EXACT.divide(total, 1_000_000)


def test_the_largest_inputs_are_exact(con: duckdb.DuckDBPyConnection, priced: Path) -> None:
    usage = {"cache_read": 300_000_000_000, "cache_write": 200_000_000_000}
    sql = (
        "FROM request_cost('max-price', 1000000000000, output_tokens := 1000000000000, "
        "cache_read_tokens := 300000000000, cache_write_tokens := 200000000000, "
        "requests := ?)"
    )
    prices = dict.fromkeys(KINDS, MAX_PRICE)
    counts = {"input": 500_000_000_000, "output": 1_000_000_000_000, **usage}
    for requests in (1, 10_000_000):
        row = row_of(con, sql, [requests])
        assert row["total_usd"] == oracle(prices, counts, requests)
        assert row["output_usd"] == oracle(prices, {"output": counts["output"]}, requests)
    # ~2 x 10^24 dollars needs 40 digits at 15 decimals: an error, not a rounded number.
    with pytest.raises(duckdb.OutOfRangeException, match="Overflow"):
        con.execute(sql, [1_000_000_000]).fetchall()
    result = modelcat(
        "cost", "max-price", "--input-tokens", str(10**12), "--output-tokens", str(10**12),
        "--requests-per-month", str(10**9), "--data-dir", str(priced),
    )  # fmt: skip
    assert result.returncode == 2
    assert "too large to price exactly" in result.stderr
    assert result.stdout == ""


def test_a_trillion_tokens_a_billion_times_at_real_prices(con: duckdb.DuckDBPyConnection) -> None:
    """10^12-token prompts (the >200K tier: $2.5), 10^9 of them: exact."""
    row = row_of(con, "FROM request_cost('two-tier-1m', 1000000000000, requests := 1000000000)")
    assert row["total_usd"] == Decimal("2500000000000000")
    assert row["exceeds_context"] is True


@pytest.mark.parametrize(
    "bad",
    ["1.5", "-1", "NULL", "10.0::DOUBLE + 0.5", "'12x'"],
)
def test_a_token_count_must_be_a_whole_number(con: duckdb.DuckDBPyConnection, bad: str) -> None:
    """Never rounded to one: an error (text is not even a candidate for the check)."""
    refused = (duckdb.InvalidInputException, duckdb.ConversionException, duckdb.BinderException)
    with pytest.raises(refused):
        con.execute(f"FROM request_cost('{SEED}', {bad})").fetchall()
    with pytest.raises(refused):
        con.execute(f"FROM workload_costs(10, output_tokens := {bad})").fetchall()


def test_request_cost_is_workload_costs_of_one_model(con: duckdb.DuckDBPyConnection) -> None:
    args = "300000, output_tokens := 20, cache_read_tokens := 1000, cache_write_tokens := 7"
    workload = con.execute(
        f"FROM workload_costs({args}, service_tier := NULL) ORDER BY ALL"
    ).fetchall()
    models = [m for (m,) in con.execute("SELECT model_id FROM models ORDER BY 1").fetchall()]
    one_by_one = []
    for model_id in models:
        one_by_one += con.execute(f"FROM request_cost(?, {args})", [model_id]).fetchall()
        for (provider,) in con.execute(
            "SELECT DISTINCT provider FROM provider_offers WHERE model_id = ?", [model_id]
        ).fetchall():
            one_by_one += con.execute(
                f"FROM request_cost(?, {args}, provider := ?)", [model_id, provider]
            ).fetchall()
    assert sorted(one_by_one, key=repr) == sorted(workload, key=repr)
    # Every model once with its official prices, every offer once.
    offers = con.execute("SELECT count(*) FROM provider_offers").fetchone()[0]
    assert len(workload) == len(models) + offers


def test_rank_costs_is_the_ordered_macro(con: duckdb.DuckDBPyConnection) -> None:
    ranked = rank_costs(300_000, output_tokens=1000, data_dir=con)
    # Cheapest first among the rows that fit the context window, then those that exceed it,
    # then those without a total.
    fits = sorted(r.total_usd for r in ranked if r.total_usd is not None and not r.exceeds_context)
    over = sorted(r.total_usd for r in ranked if r.total_usd is not None and r.exceeds_context)
    unpriced = [r.total_usd for r in ranked if r.total_usd is None]
    assert fits
    assert over
    assert unpriced
    assert [r.total_usd for r in ranked] == fits + over + unpriced
    assert all(r.reason for r in ranked if r.total_usd is None)
    assert len(rank_costs(300_000, top=3, data_dir=con)) == 3


def test_macros_run_on_duckdb_1_x(priced: Path, con: duckdb.DuckDBPyConnection) -> None:
    """The 1.x CLI parses the macro text and answers exactly what DuckDB 2 answers."""
    cli = Path(sys.executable).with_name("duckdb")
    assert cli.exists(), "duckdb-cli (a dev dependency) is missing: run make install"
    version = subprocess.run([cli, "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("v1.")
    snapshot = (priced / "current").resolve()
    queries = [
        "FROM workload_costs(250000, output_tokens := 1000, cache_read_tokens := 300) ORDER BY ALL",
        f"FROM request_cost('{SEED}', 1000, cache_write_tokens := 10, provider := 'openai')",
        "FROM workload_costs(1000, as_of := now()) ORDER BY ALL",
    ]
    script = [
        *(
            f"CREATE TABLE {name} AS FROM read_parquet('{snapshot / name}.parquet');"
            for name in TABLES
        ),
        *(f"{macro};" for macro in COST_MACROS),
        ".mode json",
        *(f"{q};" for q in queries),
    ]
    result = subprocess.run(
        [cli, ":memory:"], input="\n".join(script), capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "Error" not in result.stderr, result.stderr
    answers = [json.loads(chunk) for chunk in result.stdout.replace("]\n[", "]\x00[").split("\x00")]
    for sql, answered in zip(queries, answers, strict=True):
        cursor = con.execute(f"SELECT * REPLACE ({_as_text()}) FROM ({sql})")
        names = [d[0] for d in cursor.description]
        expected = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        assert [_json_row(r) for r in answered] == [_json_row(r) for r in expected]


def _as_text() -> str:
    return ", ".join(f"CAST({k}_usd AS VARCHAR) AS {k}_usd" for k in (*KINDS, "total"))


def _json_row(row: dict) -> dict:
    """One row as comparable plain values: money as exact Decimal."""
    return {k: Decimal(v) if k.endswith("_usd") and v else v for k, v in row.items()}


# --- The property ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Tier:
    model_id: str
    label: str
    low: int  # exclusive, except 0 for the first tier
    high: int  # inclusive
    prices: dict[str, Decimal]


def tiers(con: duckdb.DuckDBPyConnection) -> list[Tier]:
    """The tiers of the fully priced tiered models, read straight from official_prices."""
    found: dict[tuple, dict[str, Decimal]] = {}
    for model_id, label, low, high, metric, price in con.execute(
        "SELECT model_id, tier_label, tier_min_tokens, tier_max_tokens, metric, usd_per_mtok "
        "FROM official_prices WHERE model_id IN ('two-tier-1m', 'three-tier', 'sonnet-long') "
        "AND metric IN ('input', 'output', 'cache_read', 'cache_write')"
    ).fetchall():
        found.setdefault((model_id, label, low, high), {})[metric] = price
    return [
        Tier(m, label, low, high if high is not None else low + 10**8, prices)
        for (m, label, low, high), prices in sorted(found.items())
    ]


@st.composite
def requests_in_a_tier(draw: st.DrawFn, all_tiers: list[Tier]) -> tuple[Tier, dict[str, int]]:
    tier = draw(st.sampled_from(all_tiers))
    prompt = draw(st.integers(tier.low + (tier.low > 0), tier.high))
    cache_read = draw(st.integers(0, prompt))
    cache_write = draw(st.integers(0, prompt - cache_read))
    return tier, {
        "input_tokens": prompt,
        "output_tokens": draw(st.integers(0, 10**8)),
        "cache_read_tokens": cache_read,
        "cache_write_tokens": cache_write,
        "requests": draw(st.integers(1, 10**9)),
    }


def billed(tier: Tier, usage: dict[str, int]) -> dict[str, int]:
    """Tokens per kind: a cache bucket with no price of its own is input."""
    counts = {"input": usage["input_tokens"], "output": usage["output_tokens"]}
    for kind in ("cache_read", "cache_write"):
        tokens = usage[f"{kind}_tokens"]
        if kind in tier.prices:
            counts[kind] = tokens
            counts["input"] -= tokens
    return counts


def total(con: duckdb.DuckDBPyConnection, model_id: str, usage: dict[str, int]) -> dict:
    """request_cost with ``usage`` (input_tokens first)."""
    named = "".join(f", {k} := ?" for k in list(usage)[1:])
    return row_of(con, f"FROM request_cost(?, ?{named})", [model_id, *usage.values()])


GROWS = {  # one more token of a kind: what changes in the request
    "input": ("input_tokens",),
    "output": ("output_tokens",),
    "cache_read": ("input_tokens", "cache_read_tokens"),
    "cache_write": ("input_tokens", "cache_write_tokens"),
}


@settings(max_examples=EXAMPLES, deadline=None)
@given(data=st.data())
def test_cost_is_the_exact_sum_and_grows_with_every_kind(
    con: duckdb.DuckDBPyConnection, data: st.DataObject
) -> None:
    tier, usage = data.draw(requests_in_a_tier(tiers(con)))
    row = total(con, tier.model_id, usage)
    assert row["tier_label"] == tier.label
    assert row["total_usd"] == oracle(tier.prices, billed(tier, usage), usage["requests"])
    rest = {k: v for k, v in usage.items() if k != "input_tokens"}
    assert (
        cost(tier.model_id, usage["input_tokens"], data_dir=con, **rest).total_usd
        == (row["total_usd"])
    )

    kind = data.draw(st.sampled_from(KINDS))
    more = data.draw(st.integers(1, 10**6))
    grown = {k: v + more if k in GROWS[kind] else v for k, v in usage.items()}
    assume(grown["input_tokens"] <= tier.high)
    bigger = total(con, tier.model_id, grown)
    assert bigger["tier_label"] == tier.label
    assert bigger["total_usd"] >= row["total_usd"]
