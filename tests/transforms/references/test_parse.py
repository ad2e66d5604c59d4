"""Tests for ``transforms.references.parse``: each format, exact prices from the literal
text (the float traps), values that are not values, and files that are not the format."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from transforms.contract.vocabulary import ReferenceSource
from transforms.references.parse import (
    ParsedReference,
    ReferencePrice,
    UnreadableReference,
    exact_text,
    parse_reference,
)

TODAY = date(2026, 12, 5)


def litellm(spec: str) -> ParsedReference:
    return parse_reference(ReferenceSource.LITELLM, f'{{"m": {spec}}}'.encode(), TODAY)


def input_price(parsed: ParsedReference) -> ReferencePrice:
    (price,) = [p for p in parsed.entries[0].prices if p.metric == "input"]
    return price


# literal per token -> exactly this per 1M tokens (no float ever in between)
PER_TOKEN = [
    ("4e-07", "0.4"),
    ("1.1e-06", "1.1"),
    ("3e-06", "3"),
    ("0.5700000000000001", "570000.0000000001"),
    ("1.25E-7", "0.125"),
    ("0.000015", "15"),
    ("0", "0"),
    ("2", "2000000"),
    ("1.23456789012345678e-9", "0.00123456789012345678"),
    ("1234567890.12345678901234567890e-6", "1234567890.1234567890123456789"),
]


@pytest.mark.parametrize(("literal", "per_mtok"), PER_TOKEN)
def test_litellm_per_token_literal_is_exact_per_million(literal: str, per_mtok: str) -> None:
    price = input_price(litellm(f'{{"input_cost_per_token": {literal}}}'))
    assert price.usd_per_mtok == Decimal(per_mtok)
    assert exact_text(price.usd_per_mtok) == per_mtok
    assert price.raw_value == literal


@pytest.mark.parametrize(("literal", "per_mtok"), PER_TOKEN)
def test_openrouter_per_token_text_is_exact_per_million(literal: str, per_mtok: str) -> None:
    body = {"data": [{"id": "a/m", "pricing": {"prompt": literal}}]}
    parsed = parse_reference(ReferenceSource.OPENROUTER, json.dumps(body).encode(), TODAY)
    assert input_price(parsed).usd_per_mtok == Decimal(per_mtok)


@pytest.mark.parametrize("literal", ["0.15", "0.5700000000000001", "3", "0.075", "1e-3"])
def test_models_dev_per_million_literal_is_kept(literal: str) -> None:
    body = (
        f'{{"openai": {{"id": "openai", "models": {{"m": {{"cost": {{"input": {literal}}}}}}}}}}}'
    )
    parsed = parse_reference(ReferenceSource.MODELS_DEV, body.encode(), TODAY)
    price = input_price(parsed)
    assert price.usd_per_mtok == Decimal(literal)
    assert price.raw_value == literal


@given(st.decimals(min_value=0, max_value=10, allow_nan=False, allow_infinity=False, places=14))
def test_any_decimal_literal_per_token_is_that_literal_times_a_million(value: Decimal) -> None:
    for literal in (str(value), f"{value:e}", format(value, "f")):
        price = input_price(litellm(f'{{"input_cost_per_token": {literal}}}'))
        assert price.usd_per_mtok == Decimal(literal) * 1_000_000
        assert price.raw_value == literal


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ('"-1"', "variable"),
        ('"-0.5"', "negative"),
        ('"free"', "not a number"),
        ("null", "not a number"),
        ('"NaN"', "not a number"),
        ('"1e-30"', "decimal places"),
        ('"1.23456789012345678e-10"', "decimal places"),
    ],
)
def test_a_value_that_is_not_a_price_is_none_with_a_problem(raw: str, why: str) -> None:
    body = f'{{"data": [{{"id": "a/m", "pricing": {{"prompt": {raw}}}}}]}}'
    parsed = parse_reference(ReferenceSource.OPENROUTER, body.encode(), TODAY)
    assert input_price(parsed).usd_per_mtok is None
    (problem,) = parsed.problems
    assert problem.source_model == "a/m"
    assert problem.key == "pricing.prompt"
    assert why in problem.problem


@pytest.mark.parametrize("limit", ["0", "-5", "1.5", '"big"'])
def test_a_limit_of_zero_or_not_whole_is_no_value(limit: str) -> None:
    parsed = litellm(f'{{"max_input_tokens": {limit}, "max_output_tokens": 8192}}')
    assert parsed.entries[0].context_window_tokens is None
    assert parsed.entries[0].max_output_tokens == 8192
    assert [p.key for p in parsed.problems] == ["max_input_tokens"]


def test_litellm_keys_prefixes_tiers_and_sample_spec() -> None:
    body = b"""{"sample_spec": {"input_cost_per_token": 0},
      "claude-x": {"litellm_provider": "anthropic", "input_cost_per_token": 3e-06,
        "input_cost_per_token_above_200k_tokens": 6e-06, "output_cost_per_token": 1.5e-05,
        "cache_read_input_token_cost": 3e-07, "cache_creation_input_token_cost": 3.75e-06},
      "azure/gpt-x": {"litellm_provider": "azure", "input_cost_per_token": 4.4e-07}}"""
    parsed = parse_reference(ReferenceSource.LITELLM, body, TODAY)
    first, azure = parsed.entries
    assert (first.source_model, first.provider, first.offer_provider) == (
        "claude-x",
        "anthropic",
        None,
    )
    assert (azure.source_model, azure.model, azure.offer_provider) == (
        "azure/gpt-x",
        "gpt-x",
        "azure",
    )
    prices = {
        (p.metric, p.tier_min_tokens, p.tier_max_tokens): p.usd_per_mtok for p in first.prices
    }
    assert prices == {
        ("input", 0, 200_000): Decimal("3"),
        ("input", 200_000, None): Decimal("6"),
        ("output", 0, None): Decimal("15"),
        ("cache_read", 0, None): Decimal("0.3"),
        ("cache_write", 0, None): Decimal("3.75"),
    }


def test_openrouter_author_canonical_slug_and_limits() -> None:
    body = {
        "data": [
            {
                "id": "openai/gpt-4.1-mini",
                "canonical_slug": "openai/gpt-4.1-mini-2025-04-14",
                "context_length": 1047576,
                "top_provider": {"max_completion_tokens": 32768},
                "pricing": {"prompt": "0.0000004", "completion": "0.0000016"},
            }
        ]
    }
    (entry,) = parse_reference(ReferenceSource.OPENROUTER, json.dumps(body).encode(), TODAY).entries
    assert (entry.model, entry.provider, entry.aliases) == (
        "gpt-4.1-mini",
        "openai",
        ("gpt-4.1-mini-2025-04-14",),
    )
    assert (entry.context_window_tokens, entry.max_output_tokens) == (1047576, 32768)
    assert [(p.metric, p.usd_per_mtok) for p in entry.prices] == [
        ("input", Decimal("0.4")),
        ("output", Decimal("1.6")),
    ]


def test_models_dev_provider_model_limits_and_context_tier() -> None:
    body = b"""{"google": {"id": "google", "models": {"gemini-2.5-pro": {
        "cost": {"input": 1.25, "output": 10, "context_over_200k": {"input": 2.5, "output": 15}},
        "limit": {"context": 1048576, "output": 65536}}}}}"""
    (entry,) = parse_reference(ReferenceSource.MODELS_DEV, body, TODAY).entries
    assert entry.source_model == "google/gemini-2.5-pro"
    assert entry.offer_provider == "google"
    assert (entry.context_window_tokens, entry.max_output_tokens) == (1048576, 65536)
    prices = {
        (p.metric, p.tier_min_tokens, p.tier_max_tokens): p.usd_per_mtok for p in entry.prices
    }
    assert prices[("input", 0, 200_000)] == Decimal("1.25")
    assert prices[("output", 200_000, None)] == Decimal("15")


def test_genai_prices_dated_entries_pick_the_one_in_force_and_tiers() -> None:
    body = b"""[{"id": "openai", "models": [{"id": "gpt-x", "match": {"equals": "gpt-x"},
        "context_window": 128000,
        "prices": [
          {"prices": {"input_mtok": 5}},
          {"constraint": {"start_date": "2026-01-01"}, "prices": {"input_mtok": 2,
             "output_mtok": {"base": 8, "tiers": [{"start": 200000, "price": 12}]}}},
          {"constraint": {"start_date": "2027-01-01"}, "prices": {"input_mtok": 1}}]}]}]"""
    (entry,) = parse_reference(ReferenceSource.GENAI_PRICES, body, TODAY).entries
    assert entry.source_model == "openai/gpt-x"
    prices = {(p.metric, p.tier_min_tokens): p.usd_per_mtok for p in entry.prices}
    assert prices == {
        ("input", 0): Decimal("2"),
        ("output", 0): Decimal("8"),
        ("output", 200_000): Decimal("12"),
    }
    early = parse_reference(ReferenceSource.GENAI_PRICES, body, date(2025, 6, 1)).entries[0]
    assert [(p.metric, p.usd_per_mtok) for p in early.prices] == [("input", Decimal("5"))]


def test_genai_prices_older_start_key_and_a_time_of_day_window_is_not_the_list_price() -> None:
    body = b"""[{"id": "deepseek", "models": [{"id": "deepseek-chat", "match": {"equals": "x"},
        "prices": [
          {"prices": {"input_mtok": 0.27}},
          {"constraint": {"start": "2025-09-05T16:00:00Z"}, "prices": {"input_mtok": 0.28}},
          {"constraint": {"start_time": "16:30:00Z", "end_time": "00:30:00Z"},
           "prices": {"input_mtok": 0.135}}]}]}]"""
    (entry,) = parse_reference(ReferenceSource.GENAI_PRICES, body, TODAY).entries
    assert [(p.metric, p.usd_per_mtok) for p in entry.prices] == [("input", Decimal("0.28"))]


@pytest.mark.parametrize(
    ("source", "body"),
    [
        (ReferenceSource.LITELLM, b"<!doctype html><html><body>Sign in</body></html>"),
        (ReferenceSource.LITELLM, b'{"gpt-x": {"input_cost_per_token": 4e-0'),
        (ReferenceSource.LITELLM, b"[1, 2, 3]"),
        (ReferenceSource.OPENROUTER, b'{"models": []}'),
        (ReferenceSource.MODELS_DEV, b'{"openai": {"id": "openai"}}'),
        (ReferenceSource.GENAI_PRICES, b'{"providers": []}'),
        (ReferenceSource.GENAI_PRICES, b"\xff\xfe not text"),
        (ReferenceSource.LITELLM, b"[" * 100_000),
        (ReferenceSource.LITELLM, b'{"a": NaN}'),
        (ReferenceSource.GENAI_PRICES, b'[{"id": "p", "models": 3}]'),
        (ReferenceSource.GENAI_PRICES, b'[{"id": "p", "models": []}, "x"]'),
        (
            ReferenceSource.MODELS_DEV,
            b'{"p": {"models": {"m": {"cost": {"context_over_200k": 3}}}}, "q": []}',
        ),
    ],
)
def test_a_file_that_is_not_the_format_is_unreadable(source: ReferenceSource, body: bytes) -> None:
    with pytest.raises(UnreadableReference):
        parse_reference(source, body, TODAY)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("0.80"), "0.8"),
        (Decimal("4E+1"), "40"),
        (Decimal("0.000"), "0"),
        (1047576, "1047576"),
    ],
)
def test_exact_text_has_no_trailing_zeros_and_no_exponent(value: Decimal | int, text: str) -> None:
    assert exact_text(value) == text


def test_a_repeated_entry_or_tier_keeps_the_first_and_says_so() -> None:
    body = {
        "data": [
            {"id": "a/m", "pricing": {"prompt": "0.000001"}},
            {"id": "a/m", "pricing": {"prompt": "0.000002"}},
        ]
    }
    parsed = parse_reference(ReferenceSource.OPENROUTER, json.dumps(body).encode(), TODAY)
    assert [e.source_model for e in parsed.entries] == ["a/m"]
    assert input_price(parsed).usd_per_mtok == Decimal(1)
    assert [p.problem for p in parsed.problems] == ["repeated entry; the first is kept"]
    tiers = litellm(
        '{"input_cost_per_token_above_1m_tokens": 1e-06, '
        '"input_cost_per_token_above_1000k_tokens": 2e-06}'
    )
    assert [(p.tier_min_tokens, p.usd_per_mtok) for p in tiers.entries[0].prices] == [
        (1_000_000, Decimal(1))
    ]
    assert len(tiers.problems) == 1


def test_a_tier_that_is_not_an_object_is_a_problem_not_a_failure() -> None:
    body = b"""[{"id": "p", "models": [{"id": "m", "match": {"equals": "m"},
        "prices": {"input_mtok": {"base": 1, "tiers": [3, {"start": 200000, "price": 2}]}}}]}]"""
    parsed = parse_reference(ReferenceSource.GENAI_PRICES, body, TODAY)
    prices = [(p.tier_min_tokens, p.usd_per_mtok) for p in parsed.entries[0].prices]
    assert prices == [(0, Decimal(1)), (200_000, Decimal(2))]
    assert [p.key for p in parsed.problems] == ["prices.input_mtok.tiers[0]"]
