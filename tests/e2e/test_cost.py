"""``modelcat cost``, ``request_cost`` and ``cost()`` on a catalog published from a loopback
mirror whose pages follow the providers' published tier rules. Every case runs the real CLI
and checks that the SQL macro and the Python function say exactly the same.

Expected costs are worked out by hand below each case: price x tokens / 1,000,000.
"""

from __future__ import annotations

import json
import os
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from modelcat.api.cost import UnknownModel, cost, rank_costs
from tests.support import modelcat, query
from tests.support.cost_site import SEED, VERTEX, agreed, answer, cli_args, sql_row


def usd(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


# (model, input tokens, other usage, tier, total or None, unpriced, billed as input)
CASES = [
    # At the bound: <=200K holds 200,000. 200,000 x $1.25 + 1,000 x $10.
    ("two-tier-1m", 200_000, {"output_tokens": 1000}, "<=200K Context", "0.26", [], []),
    # Just below. 199,999 x $1.25.
    ("two-tier-1m", 199_999, {}, "<=200K Context", "0.24999875", [], []),
    # One above: every token at the upper tier's prices. 200,001 x $2.5 + 1,000 x $15.
    ("two-tier-1m", 200_001, {"output_tokens": 1000}, ">200K Context", "0.5150025", [], []),
    # Cached tokens count toward the prompt: 150K fresh + 60K cached read is above 200K.
    # 150,000 x $2.5 + 60,000 x $0.625.
    (
        "two-tier-1m",
        210_000,
        {"cache_read_tokens": 60_000},
        ">200K Context",
        "0.4125",
        [],
        [],
    ),
    # No cache-write price: those tokens are input. 1,000 x $1.25.
    (
        "two-tier-1m",
        1000,
        {"cache_write_tokens": 400},
        "<=200K Context",
        "0.00125",
        [],
        ["cache_write"],
    ),
    # A 0-token prompt falls in the first tier. 1,000,000 x $10.
    ("two-tier-1m", 0, {"output_tokens": 1_000_000}, "<=200K Context", "10", [], []),
    # Three tiers, each bound from both sides.
    ("three-tier", 128_000, {}, "<=128K Context", "0.128", [], []),
    ("three-tier", 128_001, {}, "128K-1M", "0.256002", [], []),
    ("three-tier", 1_000_000, {}, "128K-1M", "2", [], []),
    ("three-tier", 1_000_001, {}, ">1M Context", "4.000004", [], []),
    # 1,000,000 x $4 + 500,000 x $0.4 + 10,000 x $16.
    (
        "three-tier",
        1_500_000,
        {"cache_read_tokens": 500_000, "output_tokens": 10_000},
        ">1M Context",
        "4.36",
        [],
        [],
    ),
    # Four kinds: 50,000 x $3 + 20,000 x $0.3 + 30,000 x $3.75 + 2,000 x $15.
    (
        "sonnet-long",
        100_000,
        {"cache_read_tokens": 20_000, "cache_write_tokens": 30_000, "output_tokens": 2000},
        "<=200K Context",
        "0.2985",
        [],
        [],
    ),
    # Long context: 100,000 x $6 + 100,000 x $0.6 + 50,000 x $7.5 + 4,000 x $22.5.
    (
        "sonnet-long",
        250_000,
        {"cache_read_tokens": 100_000, "cache_write_tokens": 50_000, "output_tokens": 4000},
        ">200K Context",
        "1.125",
        [],
        [],
    ),
    # An offer's prices hold at every prompt size: 100,000 x $3 + 100,000 x $0.3
    # + 50,000 x $3.75 + 4,000 x $15.
    (
        "sonnet-long",
        250_000,
        {
            "cache_read_tokens": 100_000,
            "cache_write_tokens": 50_000,
            "output_tokens": 4000,
            "provider": "anthropic",
        },
        None,
        "0.5775",
        [],
        [],
    ),
    # "—" for output above 200K: fine while no output is asked for (250,000 x $1.6)...
    ("upper-dash", 250_000, {}, ">200K Context", "0.4", [], []),
    # ...unknown as soon as it is, never the base tier's output price.
    ("upper-dash", 250_000, {"output_tokens": 100}, ">200K Context", None, ["output"], []),
    # The page shows no output price at all.
    ("embedding", 1000, {}, "<=200K Context", "0.00013", [], []),
    ("embedding", 1000, {"output_tokens": 10}, "<=200K Context", None, ["output"], []),
    # The seed page: a 130K prompt is priced (and flagged: the window is 128K)...
    (SEED, 130_000, {}, "<=200K Context", "0.104", [], []),
    # ...a 250K prompt has no tier at all: its >200K column is all "—".
    (SEED, 250_000, {}, None, None, ["input"], []),
    # The seed page's OpenAI offer has no cache-write price: billed as input. 1,000 x $0.8.
    (
        SEED,
        1000,
        {"cache_write_tokens": 500, "provider": "OpenAI"},
        None,
        "0.0008",
        [],
        ["cache_write"],
    ),
    # Headers that are not tiers: nothing is chosen.
    ("batch-columns", 1000, {}, None, None, ["input"], []),
    # A readable tier holds the prompt, but an unreadable one might too: no pick.
    ("mixed-columns", 1000, {}, None, None, ["input"], []),
    # Overlapping tiers: the column that overlaps another has no bounds (an overlapping_tiers
    # issue), so, as with any unreadable column, no tier is picked at any prompt size.
    ("overlapping-tiers", 500_000, {}, None, None, ["input"], []),
    ("overlapping-tiers", 1000, {}, None, None, ["input"], []),
    # One unbounded column: 5,000,000 x $0.5 + 1,000 x $1.5 (far over the 32K window).
    ("flat-price", 5_000_000, {"output_tokens": 1000}, "Price", "2.5015", [], []),
    # An unreadable price is unknown: it is neither skipped nor billed as input.
    ("unreadable-cells", 1000, {}, "<=200K Context", "0.001", [], []),
    ("unreadable-cells", 1000, {"output_tokens": 10}, "<=200K Context", None, ["output"], []),
    (
        "unreadable-cells",
        1000,
        {"cache_read_tokens": 100},
        "<=200K Context",
        None,
        ["cache_read"],
        [],
    ),
    (
        "unreadable-cells",
        1000,
        {"cache_read_tokens": 100, "provider": "Acme"},
        None,
        None,
        ["cache_read"],
        [],
    ),
    # A month: 1,000,000 requests of 1,000 x $1.25 + 100 x $10.
    (
        "two-tier-1m",
        1000,
        {"output_tokens": 100, "requests": 1_000_000},
        "<=200K Context",
        "2250",
        [],
        [],
    ),
    # One region of a provider with two: 1,000 x $1.4.
    (
        "two-tier-1m",
        1000,
        {"provider": "Vertex Ai-Language-Models", "region": "us-east5"},
        None,
        "0.0014",
        [],
        [],
    ),
]


@pytest.mark.parametrize(
    ("model_id", "input_tokens", "usage", "tier", "total", "unpriced", "as_input"), CASES
)
def test_cost_follows_the_published_rules(
    priced: Path,
    model_id: str,
    input_tokens: int,
    usage: dict,
    tier: str | None,
    total: str | None,
    unpriced: list[str],
    as_input: list[str],
) -> None:
    row = answer(priced, model_id, input_tokens, **usage)
    assert row["tier_label"] == tier
    assert usd(row["total_usd"]) == usd(total)
    assert row["unpriced"] == unpriced
    assert row["billed_as_input"] == as_input
    assert (row["reason"] is None) == (total is not None)
    assert row["provider"] is None or row["provider"].lower() == usage["provider"].lower()
    if total is not None:  # the parts add up to the total
        parts = [usd(row[f"{k}_usd"]) for k in ("input", "output", "cache_read", "cache_write")]
        assert sum(parts) == usd(row["total_usd"])


def test_the_reason_says_why_there_is_no_total(priced: Path) -> None:
    assert (
        "no official tier holds a prompt of 250000 tokens"
        in agreed(priced, SEED, 250_000)["reason"]
    )
    assert "Batch, Standard" in agreed(priced, "batch-columns", 10)["reason"]
    assert "tier bounds unreadable (Batch)" in agreed(priced, "mixed-columns", 10)["reason"]
    assert (
        "tier bounds unreadable (>200K Context)"
        in (agreed(priced, "overlapping-tiers", 500_000)["reason"])
    )
    assert (
        "no price for output in tier >200K Context"
        in (agreed(priced, "upper-dash", 250_000, output_tokens=1)["reason"])
    )


def test_exceeds_context_uses_the_offer_window_when_it_has_one(priced: Path) -> None:
    assert agreed(priced, SEED, 130_000)["exceeds_context"] is True
    assert agreed(priced, SEED, 128_000)["exceeds_context"] is False
    # The Gemini offer shows no window of its own: the model's 1,048,576 applies.
    gemini = agreed(priced, "two-tier-1m", 1_048_577, provider="Gemini")
    assert gemini["context_window_tokens"] == 1_048_576
    assert gemini["exceeds_context"] is True
    # Vertex's offer says 1M: 1,000,001 tokens exceed it, though not the model's 1,048,576.
    vertex = agreed(priced, "two-tier-1m", 1_000_001, provider=VERTEX, region="Global")
    assert (vertex["context_window_tokens"], vertex["exceeds_context"]) == (1_000_000, True)
    assert agreed(priced, "two-tier-1m", 1_000_001)["exceeds_context"] is False
    acme = agreed(priced, "unreadable-cells", 128_001, provider="Acme")
    assert (acme["context_window_tokens"], acme["exceeds_context"]) == (128_000, True)


def test_the_price_ignores_a_tier_label_it_cannot_read(priced: Path) -> None:
    """batch-columns has prices, but which one a request pays cannot be told."""
    assert query(
        priced, "SELECT count(*) FROM official_prices WHERE model_id = 'batch-columns'"
    ) == [(4,)]
    row = agreed(priced, "batch-columns", 1000, output_tokens=1000)
    assert row["total_usd"] is None
    assert (row["input_usd"], row["output_usd"]) == (None, None)


@pytest.mark.parametrize(
    "usage",
    [
        {"cache_read_tokens": 600, "cache_write_tokens": 500},
        {"cache_read_tokens": 1001},
        {"output_tokens": -1},
        {"requests": -5},
    ],
)
def test_impossible_usage_exits_2(priced: Path, usage: dict) -> None:
    result = modelcat(*cli_args("two-tier-1m", 1000, **usage), "--data-dir", str(priced))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "impossible usage" in result.stderr
    assert result.stdout == ""
    with pytest.raises(ValueError, match="impossible usage"):
        cost("two-tier-1m", 1000, data_dir=priced, **usage)
    with pytest.raises(duckdb.InvalidInputException, match="impossible usage"):
        sql_row(priced, "two-tier-1m", 1000, **usage)


def test_negative_input_is_impossible_usage(priced: Path) -> None:
    result = modelcat("cost", SEED, "--input-tokens", "-1", "--data-dir", str(priced))
    assert result.returncode == 2
    assert "input_tokens must be a whole number >= 0" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["cost", "no-such-model", "--input-tokens", "10"], "no model 'no-such-model'"),
        (["cost", SEED, "--input-tokens", "10", "--provider", "Nobody"], "providers: OpenAI"),
        (
            [
                "cost",
                "two-tier-1m",
                "--input-tokens",
                "10",
                "--provider",
                "Gemini",
                "--region",
                "x",
            ],
            "region",
        ),
    ],
)
def test_unknown_model_or_offer_exits_1(priced: Path, args: list[str], message: str) -> None:
    result = modelcat(*args, "--data-dir", str(priced))
    assert result.returncode == 1, result.stdout + result.stderr
    assert message in result.stderr


def test_unknown_model_from_python(priced: Path) -> None:
    with pytest.raises(UnknownModel):
        cost("no-such-model", 10, data_dir=priced)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["cost", "--input-tokens", "10"], "MODEL_ID"),
        (
            [
                "cost",
                "two-tier-1m",
                "--input-tokens",
                "10",
                "--provider",
                "Vertex Ai-Language-Models",
            ],
            "several regions (Global, us-east5)",
        ),
        (["cost", SEED, "--input-tokens", "10", "--region", "Global"], "--region needs"),
        (["cost", "--rank", "--input-tokens", "10", "--provider", "OpenAI"], "not with --rank"),
        (["cost", SEED, "--input-tokens", "10", "--top", "3"], "--top needs --rank"),
        (
            ["cost", SEED, "--input-tokens", "10", "--as-of", "last tuesday"],
            "'last tuesday' is not an ISO 8601 date or time",
        ),
        (["cost", SEED, "--input-tokens", str(2**63)], "input_tokens must be at most"),
        (["cost", SEED, "--input-tokens", "ten"], "--input-tokens"),
        (["cost", SEED], "--input-tokens"),
    ],
)
def test_bad_options_exit_2(priced: Path, args: list[str], message: str) -> None:
    result = modelcat(*args, "--data-dir", str(priced))
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr.replace("\n", " ")


def test_rank_is_the_macro_ordered_by_total(priced: Path) -> None:
    result = modelcat(
        "cost", "--rank", "--top", "5", "--input-tokens", "300000", "--output-tokens", "1000",
        "--format", "json", "--data-dir", str(priced),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    ranked = json.loads(result.stdout)
    totals = query(
        priced,
        "SELECT model_id, provider, region, CAST(total_usd AS VARCHAR) "
        "FROM workload_costs(300000, output_tokens := 1000) "
        "ORDER BY total_usd IS NULL, exceeds_context IS TRUE, total_usd, model_id, "
        "provider NULLS FIRST, region NULLS FIRST LIMIT 5",
    )
    assert [(r["model_id"], r["provider"], r["region"], r["total_usd"]) for r in ranked] == totals
    # 300,000 x $0.5 + 1,000 x $1.5 is the lowest total, but flat-price's window is 32K:
    # every row that takes the request ranks before it.
    assert not any(r["exceeds_context"] for r in ranked)
    assert ranked[0]["model_id"] != "flat-price"
    everything = json.loads(
        modelcat(
            "cost", "--rank", "--top", "1000", "--input-tokens", "300000",
            "--output-tokens", "1000", "--format", "json", "--data-dir", str(priced),
        ).stdout
    )  # fmt: skip
    flat = next(i for i, r in enumerate(everything) if r["model_id"] == "flat-price")
    assert Decimal(everything[flat]["total_usd"]) == Decimal("0.1515")
    assert Decimal(everything[flat]["total_usd"]) < Decimal(ranked[0]["total_usd"])
    assert all(not r["exceeds_context"] for r in everything[:flat])
    assert any(r["provider"] is not None for r in ranked)


def test_rank_one_model_lists_its_official_price_and_offers(priced: Path) -> None:
    result = modelcat(
        "cost", "two-tier-1m", "--rank", "--input-tokens", "300000", "--format", "json",
        "--data-dir", str(priced),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    ranked = json.loads(result.stdout)
    # Offers have no tiers: 300,000 x $1.25 beats the official >200K price (x $2.5).
    assert [(r["provider"], r["region"], r["total_usd"]) for r in ranked] == [
        ("Gemini", None, "0.375000000000000"),
        ("Vertex Ai-Language-Models", "Global", "0.375000000000000"),
        ("Vertex Ai-Language-Models", "us-east5", "0.420000000000000"),
        (None, None, "0.750000000000000"),
    ]


def ranked_offers(priced: Path, *tier: str) -> list[tuple[str | None, str, str]]:
    result = modelcat(
        "cost", "two-tier-1m", "--rank", "--input-tokens", "300000", "--format", "json",
        *tier, "--data-dir", str(priced),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return [(r["provider"], r["service_tier"], r["total_usd"]) for r in json.loads(result.stdout)]


def test_rank_compares_one_service_tier(priced: Path) -> None:
    """The batch offer (300,000 x $0.625) is cheapest of all, but it is another product:
    the default ranking is the standard tier's, and the tier is named in every row."""
    standard = ranked_offers(priced)
    assert f"{VERTEX} Batch" not in [p for p, _, _ in standard]
    assert {t for _, t, _ in standard} == {"standard"}
    assert ranked_offers(priced, "--service-tier", "batch") == [
        (f"{VERTEX} Batch", "batch", "0.187500000000000")
    ]
    everything = ranked_offers(priced, "--service-tier", "all")
    assert everything[0] == (f"{VERTEX} Batch", "batch", "0.187500000000000")
    assert everything[1:] == standard
    assert ranked_offers(priced, "--service-tier", "flex") == []
    table = modelcat(
        "cost", "two-tier-1m", "--rank", "--input-tokens", "10", "--service-tier", "all",
        "--data-dir", str(priced),
    )  # fmt: skip
    assert "service tier" in table.stdout
    assert "batch" in table.stdout.replace(f"{VERTEX} Batch", "")
    # The macro and Python take the same choice.
    assert query(
        priced,
        "SELECT provider, service_tier FROM workload_costs(10, service_tier := 'batch')",
    ) == [(f"{VERTEX} Batch", "batch")]
    batch = rank_costs(10, service_tier="batch", data_dir=priced)
    assert [(r.provider, r.service_tier) for r in batch] == [(f"{VERTEX} Batch", "batch")]
    with pytest.raises(ValueError, match="unknown service tier"):
        rank_costs(10, service_tier="economy", data_dir=priced)


def test_one_offer_is_priced_at_its_own_tier(priced: Path) -> None:
    """Naming the batch provider prices its offer; its tier comes from its label."""
    row = answer(priced, "two-tier-1m", 300_000, provider=f"{VERTEX} Batch")
    assert (row["service_tier"], row["total_usd"]) == ("batch", "0.187500000000000")
    result = modelcat(
        "cost", "two-tier-1m", "--input-tokens", "10", "--service-tier", "batch",
        "--data-dir", str(priced),
    )  # fmt: skip
    assert result.returncode == 2
    assert "--service-tier needs --rank" in result.stderr


def test_table_format_shows_exact_dollars(priced: Path) -> None:
    result = modelcat(
        "cost", "two-tier-1m", "--input-tokens", "199999", "--requests-per-month", "3",
        "--data-dir", str(priced),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "$0.74999625" in result.stdout  # 3 x 199,999 x $1.25, not rounded
    assert "per month (3 requests)" in result.stdout
    unknown = modelcat("cost", SEED, "--input-tokens", "250000", "--data-dir", str(priced))
    assert unknown.returncode == 0
    assert "no official tier holds a prompt of 250000 tokens" in unknown.stdout


def test_table_format_prints_page_text_as_written(priced: Path) -> None:
    """Brackets in a provider's name are text, not terminal markup."""
    result = modelcat(
        "cost", "flat-price", "--input-tokens", "10", "--provider", "acme [eu]",
        "--data-dir", str(priced),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Acme [eu]" in result.stdout
    ranked = modelcat(
        "cost", "flat-price", "--rank", "--input-tokens", "10", "--data-dir", str(priced)
    )
    assert "Acme [eu]" in ranked.stdout


def test_no_catalog_exits_1(tmp_path: Path) -> None:
    result = modelcat("cost", SEED, "--input-tokens", "1", "--data-dir", str(tmp_path))
    assert result.returncode == 1
    assert "modelcat refresh" in result.stderr


def test_catalog_from_an_older_release_says_to_rebuild(priced: Path, tmp_path: Path) -> None:
    """A catalog published before the cost macros existed."""
    old = tmp_path / "old"
    old.mkdir()
    shutil.copyfile(priced / "catalog.duckdb", old / "catalog.duckdb")
    with duckdb.connect(str(old / "catalog.duckdb")) as con:
        con.execute("DROP MACRO TABLE request_cost")
        con.execute("DROP MACRO TABLE workload_costs")
    result = modelcat("cost", SEED, "--input-tokens", "1", "--data-dir", str(old))
    assert result.returncode == 1
    assert "modelcat rebuild" in result.stderr


def test_cost_reads_modelcat_data_dir_from_the_environment(
    priced: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODELCAT_DATA_DIR", os.fspath(priced))
    assert cost("flat-price", 2).total_usd == Decimal("0.000001")  # 2 x $0.5
