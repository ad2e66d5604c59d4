"""Tests for ``transforms.references.tables``: what is compared with what, equal values and
missing values are no discrepancy, tiers, offers, and a reference that cannot be read."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd

from transforms.contract.casting import conform
from transforms.contract.tables import MODELS, OFFICIAL_PRICES, PROVIDER_OFFERS
from transforms.contract.vocabulary import TableName
from transforms.pages.archive import PageArchive
from transforms.references.log import FetchRecord
from transforms.references.tables import ReferenceTables, reference_tables

FETCHED = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)


def whole(frame: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """The frame with every column of a table, the absent ones NULL."""
    frame = frame.reindex(columns=names).astype(object)
    return frame.where(frame.notna(), None)


def ours() -> dict[str, pd.DataFrame]:
    models = pd.DataFrame(
        {
            "model_id": ["gpt-x", "claude-y"],
            "provider_family_key": ["openai", "anthropic"],
            "context_window_tokens": [128_000, 200_000],
            "max_output_tokens": [16_000, None],
            "page_url": ["u1", "u2"],
            "fetched_at": [FETCHED.replace(tzinfo=None)] * 2,
            "content_sha256": ["0" * 64] * 2,
        }
    ).pipe(whole, MODELS.names)
    official = pd.DataFrame(
        [
            ("gpt-x", "t", 0, 200_000, "input", Decimal("0.80")),
            ("gpt-x", "t", 0, 200_000, "output", Decimal("3.2")),
            ("gpt-x", "t", 0, 200_000, "cache_read", None),
            ("claude-y", "a", 0, 200_000, "input", Decimal("3")),
            ("claude-y", "b", 200_000, None, "input", Decimal("6")),
            # two columns from one bound with two prices: not compared
            ("claude-y", "a", 0, 200_000, "output", Decimal("15")),
            ("claude-y", "batch", 0, 200_000, "output", Decimal("7.5")),
        ],
        columns=[
            "model_id",
            "tier_label",
            "tier_min_tokens",
            "tier_max_tokens",
            "metric",
            "usd_per_mtok",
        ],
    ).assign(raw_value="$")
    offers = pd.DataFrame(
        [
            ("claude-y", "Bedrock", "bedrock", None, 200_000, 4096, Decimal("3.3")),
            ("claude-y", "Vertex", "vertex", "us", 200_000, None, Decimal("3")),
            ("claude-y", "Vertex", "vertex", "eu", 200_000, None, Decimal("3.3")),
        ],
        columns=[
            "model_id",
            "provider",
            "provider_key",
            "region",
            "context_window_tokens",
            "max_output_tokens",
            "input_usd_per_mtok",
        ],
    ).pipe(whole, PROVIDER_OFFERS.names)
    return {
        TableName.MODELS: conform(models, MODELS),
        TableName.OFFICIAL_PRICES: conform(official, OFFICIAL_PRICES),
        TableName.PROVIDER_OFFERS: conform(offers, PROVIDER_OFFERS),
    }


def build(tmp_path: Path, bodies: dict[str, bytes | None]) -> ReferenceTables:
    archive = PageArchive(tmp_path / "archive")
    records = []
    for source, body in bodies.items():
        sha = hashlib.sha256(body).hexdigest() if body is not None else None
        if body is not None and sha is not None:
            archive.put(sha, body)
        error = None if body is not None else "HTTP 500"
        records.append(FetchRecord(source, f"http://x/{source}", FETCHED, 200, error, sha))
    return reference_tables(records, archive, None, ours(), date(2026, 12, 5))


LITELLM = {
    # equal (0.8 = 0.80), output differs, cache_read missing on our side, limits differ
    "gpt-x": {
        "input_cost_per_token": 8e-07,
        "output_cost_per_token": 1.6e-06,
        "cache_read_input_token_cost": 1e-07,
        "max_input_tokens": 1047576,
        "max_output_tokens": 16000,
    },
    # second tier differs, first agrees; max_output missing on ours
    "claude-y": {
        "input_cost_per_token": 3e-06,
        "output_cost_per_token": 1e-05,
        "input_cost_per_token_above_200k_tokens": 7.5e-06,
        "max_output_tokens": 64000,
    },
    "bedrock/claude-y": {"input_cost_per_token": 3.3e-06, "max_input_tokens": 100000},
    "vertex/claude-y": {"input_cost_per_token": 9e-06},  # two regions: ambiguous, none
    "mistral-z": {"input_cost_per_token": 2e-06},
}


def test_discrepancies_are_the_differing_values_only(tmp_path: Path) -> None:
    found = build(tmp_path, {"litellm": json.dumps(LITELLM).encode()})
    rows = found.discrepancies.astype(object).where(found.discrepancies.notna(), None)
    got = {
        (r.model_id, r.source_model, r.provider, r.field, r.tier_min_tokens): (
            r.our_value,
            r.source_value,
            r.difference_pct,
        )
        for r in rows.itertuples()
    }
    assert got == {
        ("gpt-x", "gpt-x", None, "output", 0): ("3.2", "1.6", Decimal("-50.0000")),
        ("gpt-x", "gpt-x", None, "context_window_tokens", None): (
            "128000",
            "1047576",
            Decimal("718.4188"),
        ),
        ("claude-y", "claude-y", None, "input", 200_000): ("6", "7.5", Decimal("25.0000")),
        ("claude-y", "bedrock/claude-y", "Bedrock", "context_window_tokens", None): (
            "200000",
            "100000",
            Decimal("-50.0000"),
        ),
    }
    assert set(found.discrepancies["match_rule"]) == {"exact", "provider_prefix"}


def test_reference_rows_keep_every_entry_and_the_exact_price(tmp_path: Path) -> None:
    found = build(tmp_path, {"litellm": json.dumps(LITELLM).encode()})
    models = found.reference_models.set_index("source_model")
    assert pd.isna(models.loc["mistral-z", "model_id"])
    assert models.loc["bedrock/claude-y", "match_rule"] == "provider_prefix"
    prices = found.reference_prices
    row = prices[(prices["source_model"] == "gpt-x") & (prices["metric"] == "input")].iloc[0]
    assert row["usd_per_mtok"] == Decimal("0.8")
    assert row["raw_value"] == "8e-07"
    (report,) = found.reports
    assert (report.entries, report.matched, report.discrepancies) == (5, 4, 4)


def test_an_unreadable_reference_is_an_issue_and_no_rows_without_history(tmp_path: Path) -> None:
    found = build(tmp_path, {"litellm": b"<html>login</html>", "openrouter": None})
    assert found.reference_models.empty
    assert found.discrepancies.empty
    issues = found.issues.frame()
    assert sorted(issues["field"]) == ["litellm", "openrouter"]
    assert set(issues["kind"]) == {"reference_unavailable"}
    assert {r.source: r.unavailable for r in found.reports} == {
        "litellm": "an HTML or XML page, not JSON",
        "openrouter": "HTTP 500",
    }
