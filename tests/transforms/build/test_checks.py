"""Quality: values that do not parse, values that contradict each other, rows that fail the
contract. Each case is a page as the site would serve it, run through the real parser,
frames, checks and validation; each asserts the issue *and* that no value was invented."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from tests.support import SEED_PAGE
from transforms.build.checks import semantic_issues
from transforms.build.issues import no_issues
from transforms.build.plan import plan_build
from transforms.build.tables import build_tables
from transforms.contract.layout import RunDir
from transforms.contract.vocabulary import PageOutcome
from transforms.pages.archive import PageArchive
from transforms.pages.items import PageItem
from transforms.pages.log import page_record
from transforms.pages.parse import parse_page
from transforms.pages.values import values_table

URL = "https://mirror.test/llms/models/m.md"

PAGE = """---
content_type: "model-detail-page"
generated_at: "2026-11-20T06:53:30.752Z"
---
# Model M
## Overview
{overview}
## Model Metadata
- Display name: Model M
- Model ID: {model_id}
- Provider family: Acme
- Release date: {release}
- Context window: {context}
- Max output: {output}
- Input modalities: text
- Output modalities: text
- Tool use support: Yes
- Computer use support: No
- Cache control support: Unknown
## Official Pricing ({unit})
| Metric | <=200K Context | >200K Context |
| --- | --- | --- |
| Input Price | {base} | {upper} |
| Output Price | $4 | $6 |

## Provider Availability
{offer_header}
| --- | --- | --- | --- | --- | --- | --- | --- |
{offers}
"""
OFFER_HEADER = (
    "| Provider | Region | Context Window | Max Output "
    "| Input Price | Output Price | Cache Read | Cache Write |"
)
DEFAULTS = {
    "overview": "Model M is a model.",
    "model_id": "m",
    "release": "2025-04-14",
    "context": "1,048,576",
    "output": "32K",
    "unit": "per 1M tokens",
    "base": "$1",
    "upper": "$2",
    "offers": "| Acme | — | 1.05M | 32K | $1 | $4 | — | — |",
}


def catalog_of(text: str, run_dir: Path) -> dict[str, pd.DataFrame]:
    """The validated tables of a run that fetched one page, staged as the crawler stages it."""
    page = parse_page(text, URL)
    item = PageItem(
        url=URL,
        final_url=URL,
        http_status=200,
        outcome=PageOutcome.MODEL,
        content_type=page.content_type,
        error=None,
        fetched_at=datetime(2026, 11, 26, 6, 0, tzinfo=UTC),
        content_sha256="0" * 64,
        problems=page.problems,
    )
    run_dir.mkdir()
    run = RunDir(run_dir)
    run.page_log.write_text(json.dumps(page_record(item)) + "\n")
    pq.write_table(values_table([(URL, "0" * 64, page)]), run.page_values)
    plan = plan_build(run, None, PageArchive(run_dir / "archive"))
    return build_tables(plan, "run").tables()


@pytest.fixture
def build(tmp_path: Path) -> Callable[..., dict[str, pd.DataFrame]]:
    """``build(context="128K", ...)``: the tables of the test page with those values."""
    runs = iter(range(1000))

    def with_fields(**fields: str) -> dict[str, pd.DataFrame]:
        text = PAGE.format(**{**DEFAULTS, **fields}, offer_header=OFFER_HEADER)
        return catalog_of(text, tmp_path / f"run{next(runs)}")

    return with_fields


def issues(tables: dict[str, pd.DataFrame], kind: str) -> list[dict]:
    frame = tables["quality_issues"]
    rows = frame[frame["kind"] == kind][["field", "raw_value", "problem"]]
    return rows.astype(object).where(rows.notna(), None).to_dict("records")


def price(tables: dict[str, pd.DataFrame], metric: str, tier_min: int) -> Decimal | None:
    prices = tables["official_prices"]
    row = prices[(prices["metric"] == metric) & (prices["tier_min_tokens"] == tier_min)]
    value = row["usd_per_mtok"].iloc[0]
    return None if pd.isna(value) else value


def test_no_rows_no_checks() -> None:
    """A build that reused every page checks nothing (the frames need no columns)."""
    empty = pd.DataFrame()
    pd.testing.assert_frame_equal(semantic_issues(empty, empty, empty), no_issues())


def test_a_clean_page_raises_no_issue(build) -> None:
    assert build()["quality_issues"].empty


def test_the_seed_overview_contradiction_is_flagged_not_fixed(tmp_path: Path) -> None:
    tables = catalog_of(SEED_PAGE.read_text(), tmp_path / "run")
    assert issues(tables, "overview_contradiction") == [
        {
            "field": "models.overview",
            "raw_value": "1 million token context",
            "problem": "the overview says 1M tokens of context; the metadata says 128K",
        }
    ]
    assert tables["models"]["context_window_tokens"].tolist() == [128_000]


@pytest.mark.parametrize(
    ("overview", "flagged"),
    [
        ("It has a 1 million token context window.", False),  # 1,048,576 is "1 million"
        ("It has a 2 million token context window.", True),
        ("It offers a 128K-token context.", True),
        ("It reads 1,048,576 tokens of context.", False),
        ("It is fast and cheap.", False),
    ],
)
def test_overview_claims_are_compared_within_their_rounding(
    build, overview: str, flagged: bool
) -> None:
    assert bool(issues(build(overview=overview), "overview_contradiction")) is flagged


def test_a_thousandfold_tier_price_is_flagged_and_kept_as_written(build) -> None:
    tables = build(base="$0.8", upper="$800")
    assert issues(tables, "price_outlier") == [
        {
            "field": "official_prices.input >200K Context",
            "raw_value": "$800",
            "problem": "100x or more away from the base tier's price $0.8 "
            "(a per-1K vs per-1M unit mistake?)",
        }
    ]
    assert price(tables, "input", 200_000) == Decimal("800")


def test_an_upper_tier_cheaper_than_the_base_is_flagged(build) -> None:
    tables = build(base="$3", upper="$2.5")
    assert [i["raw_value"] for i in issues(tables, "tier_price_inversion")] == ["$2.5"]
    assert issues(tables, "price_outlier") == []


def test_zero_prices_are_prices_and_never_ratio_outliers(build) -> None:
    tables = build(base="$0", upper="$5")
    assert price(tables, "input", 0) == Decimal("0")
    assert issues(tables, "price_outlier") == []


@pytest.mark.parametrize(
    ("offers", "fields"),
    [
        # 1,000x the official input price.
        (
            "| Acme | — | 1M | 32K | $1,000 | $4 | — | — |",
            ["provider_offers.input_usd_per_mtok Acme"],
        ),
        # 100x away from the median of three providers (and from the official price).
        (
            "| A | — | 1M | 32K | $1 | $4 | — | — |\n| B | — | 1M | 32K | $1.2 | $4 | — | — |\n"
            "| C | — | 1M | 32K | $1 | $400 | — | — |",
            ["provider_offers.output_usd_per_mtok C"],
        ),
        # A reseller's discount is not an outlier.
        ("| Acme Batch | Global | 1M | 32K | $0.5 | $2 | — | — |", []),
    ],
)
def test_provider_price_outliers(build, offers: str, fields: list[str]) -> None:
    tables = build(offers=offers)
    assert [i["field"] for i in issues(tables, "price_outlier")] == fields
    assert len(tables["provider_offers"]) == offers.count("\n") + 1


@pytest.mark.parametrize(
    ("context", "output", "offers", "kinds"),
    [
        (
            "128K",
            "200K",
            DEFAULTS["offers"],
            {"output_exceeds_context", "offer_context_exceeds_model"},
        ),
        # 1.05M is 1,048,576 shown rounded: no contradiction.
        ("1,048,576", "32K", "| Acme | — | 1.05M | 32K | $1 | $4 | — | — |", set()),
        ("1M", "32K", "| Acme | — | 2M | 64K | $1 | $4 | — | — |", {"offer_context_exceeds_model"}),
        ("1M", "32K", "| Acme | — | 1M | 2M | $1 | $4 | — | — |", {"output_exceeds_context"}),
    ],
)
def test_size_contradictions(
    build, context: str, output: str, offers: str, kinds: set[str]
) -> None:
    tables = build(context=context, output=output, offers=offers)
    found = set(tables["quality_issues"]["kind"])
    assert found == kinds


@pytest.mark.parametrize(
    ("field", "raw", "column"),
    [
        ("context", "128 thousand", "context_window_tokens"),
        ("output", "16KB", "max_output_tokens"),
        ("release", "2025-02-30", "release_date"),
    ],
)
def test_an_unreadable_value_is_null_plus_an_issue(
    build, field: str, raw: str, column: str
) -> None:
    tables = build(**{field: raw})
    assert tables["models"][column].isna().all()
    assert issues(tables, "unreadable_value") == [
        {
            "field": f"models.{column}",
            "raw_value": raw,
            "problem": issues(tables, "unreadable_value")[0]["problem"],
        }
    ]


def test_an_unreadable_price_keeps_its_row_with_a_null_price(build) -> None:
    tables = build(upper="$2 per M")
    assert price(tables, "input", 200_000) is None
    assert [i["raw_value"] for i in issues(tables, "unreadable_value")] == ["$2 per M"]


def test_prices_in_another_unit_are_not_converted(build) -> None:
    tables = build(unit="per 1K tokens")
    assert tables["official_prices"]["usd_per_mtok"].isna().all()
    assert len(issues(tables, "unsupported_price_unit")) == 4


def test_a_page_without_a_model_id_is_quarantined(build) -> None:
    tables = build(model_id="—")
    assert tables["models"].empty
    assert tables["pages"]["outcome"].tolist() == ["quarantined"]
    assert len(issues(tables, "missing_model_id")) == 1


def test_an_offer_written_twice_is_one_offer_and_a_differing_cell_is_null(build) -> None:
    # Two rows for one (provider, region) used to fail the contract's key and lose both.
    twice = "| Acme | — | 1M | 32K | $1 | $4 | — | — |\n| Acme | — | 1M | 32K | $2 | $4 | — | — |"
    tables = build(offers=twice)
    (offer,) = tables["provider_offers"].to_dict("records")
    assert pd.isna(offer["input_usd_per_mtok"])
    assert offer["output_usd_per_mtok"] == Decimal("4")
    assert issues(tables, "conflicting_values") == [
        {
            "field": "provider_offers.input_usd_per_mtok Acme",
            "raw_value": "$1 | $2",
            "problem": "written 2 times, with different values; left NULL",
        }
    ]
    assert issues(tables, "rejected_row") == []
