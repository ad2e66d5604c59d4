"""Tests for ``transforms.references.match``: each named rule, an exact id beating an alias,
genai-prices' clauses (first model wins, hostile patterns), unmatched entries."""

from __future__ import annotations

import json
from datetime import date

import pytest

from transforms.contract.vocabulary import ReferenceSource
from transforms.references.match import link_entries, undated
from transforms.references.parse import ReferenceEntry, parse_reference

OURS = [
    "gpt-4.1-mini",
    "gpt-4.1-mini-2025-04-14",
    "claude-sonnet-4-5",
    "claude-3-haiku-20240307",
    "gemini-2.5-pro",
    "o3",
    "o3-2025-04-16",
]


def links(source: ReferenceSource, body: object) -> dict[str, set[tuple[str, str]]]:
    entries = parse_reference(source, json.dumps(body).encode(), date(2026, 1, 1)).entries
    found, _ = link_entries(source, entries, OURS)
    result: dict[str, set[tuple[str, str]]] = {e.source_model: set() for e in entries}
    for link in found:
        result[entries[link.entry].source_model].add((link.model_id, str(link.rule)))
    return result


def test_exact_id() -> None:
    assert links(ReferenceSource.LITELLM, {"o3": {}})["o3"] == {("o3", "exact")}


def test_author_prefix_and_canonical_slug() -> None:
    found = links(
        ReferenceSource.OPENROUTER,
        {
            "data": [
                {"id": "openai/gpt-4.1-mini", "canonical_slug": "openai/gpt-4.1-mini-2025-04-14"}
            ]
        },
    )
    assert found["openai/gpt-4.1-mini"] == {
        ("gpt-4.1-mini", "author_prefix"),
        ("gpt-4.1-mini-2025-04-14", "author_prefix"),
    }


def test_provider_prefix_and_a_region_prefix() -> None:
    found = links(
        ReferenceSource.LITELLM,
        {"azure/o3": {}, "bedrock/us-east-1/claude-sonnet-4-5": {}},
    )
    assert found["azure/o3"] == {("o3", "provider_prefix")}
    assert found["bedrock/us-east-1/claude-sonnet-4-5"] == {
        ("claude-sonnet-4-5", "provider_prefix")
    }


def test_models_dev_ids_are_exact_within_their_provider() -> None:
    found = links(
        ReferenceSource.MODELS_DEV, {"google": {"id": "google", "models": {"gemini-2.5-pro": {}}}}
    )
    assert found["google/gemini-2.5-pro"] == {("gemini-2.5-pro", "exact")}


def test_source_match_first_model_of_a_provider_wins() -> None:
    body = [
        {
            "id": "anthropic",
            "models": [
                {"id": "claude-sonnet", "match": {"starts_with": "claude-sonnet"}},
                {"id": "claude-any", "match": {"regex": "^claude-"}},
            ],
        }
    ]
    found = links(ReferenceSource.GENAI_PRICES, body)
    assert found["anthropic/claude-sonnet"] == {("claude-sonnet-4-5", "source_match")}
    assert found["anthropic/claude-any"] == {("claude-3-haiku-20240307", "source_match")}


def test_date_suffix_both_ways_only_when_unambiguous() -> None:
    found = links(
        ReferenceSource.LITELLM,
        {"claude-sonnet-4-5-20250929": {}, "claude-3-haiku": {}, "gpt-4.1-mini-2024-01-01": {}},
    )
    assert found["claude-sonnet-4-5-20250929"] == {("claude-sonnet-4-5", "date_suffix")}
    assert found["claude-3-haiku"] == {("claude-3-haiku-20240307", "date_suffix")}
    # gpt-4.1-mini and gpt-4.1-mini-2025-04-14 share the undated id: which one is meant?
    assert found["gpt-4.1-mini-2024-01-01"] == set()


def test_an_exact_id_beats_an_alias() -> None:
    # o3-2025-04-16 is ours exactly; the undated entry would name it by date_suffix too
    found = links(
        ReferenceSource.LITELLM,
        {"o3": {}, "o3-2025-04-16": {}, "claude-3-haiku-20240307": {}, "claude-3-haiku": {}},
    )
    assert found["o3"] == {("o3", "exact")}
    assert found["o3-2025-04-16"] == {("o3-2025-04-16", "exact")}
    assert found["claude-3-haiku-20240307"] == {("claude-3-haiku-20240307", "exact")}
    assert found["claude-3-haiku"] == set()  # lost its alias link to the exact entry


def test_an_entry_that_matches_nothing_has_no_link() -> None:
    assert links(ReferenceSource.LITELLM, {"mistral-large": {}})["mistral-large"] == set()


def test_undated_pattern() -> None:
    assert undated("o3-2025-04-16") == "o3"
    assert undated("claude-3-haiku-20240307") == "claude-3-haiku"
    assert undated("claude-3-5-sonnet@20240620") == "claude-3-5-sonnet"
    assert undated("gpt-4-0613") == "gpt-4-0613"  # four digits are not a date


@pytest.mark.parametrize(
    ("clause", "why"),
    [
        ({"regex": "(a+"}, "missing"),
        ({"unknown": "x"}, "unknown clause"),
        ({"equals": 3}, "takes text"),
        ({"or": {"equals": "o3"}}, "takes a list"),
    ],
)
def test_a_clause_that_cannot_be_read_matches_nothing(clause: object, why: str) -> None:
    entry = ReferenceEntry("p/x", "x", "p", "p", match=clause)
    found, problems = link_entries(ReferenceSource.GENAI_PRICES, [entry], OURS)
    assert found == []
    assert [p.source_model for p in problems] == ["p/x"]
    assert why in problems[0].problem


def test_a_clause_nested_too_deep_matches_nothing() -> None:
    clause: object = {"equals": "o3"}
    for _ in range(40):
        clause = {"or": [clause]}
    entry = ReferenceEntry("p/x", "x", "p", "p", match=clause)
    found, problems = link_entries(ReferenceSource.GENAI_PRICES, [entry], OURS)
    assert found == []
    assert "nested deeper" in problems[0].problem


def test_a_catastrophic_backtracking_pattern_runs_in_linear_time() -> None:
    # On a backtracking engine this takes longer than the universe; RE2 answers at once.
    entry = ReferenceEntry("p/x", "x", "p", "p", match={"regex": "^(a+)+$"})
    hostile = ["a" * 5_000 + "b"]
    found, problems = link_entries(ReferenceSource.GENAI_PRICES, [entry], hostile)
    assert found == []
    assert problems == []
