"""Tests for ``modelcat.cli.change_lines``: each kind of change as one line, case by case."""

from __future__ import annotations

import pytest

from modelcat.cli.change_lines import COLUMNS, line, lines

M = "gpt-4.1-mini-2025-04-14"


def change(kind: str, **values: object) -> dict[str, object]:
    return {**dict.fromkeys(COLUMNS), "run_id": "20261205T084001493Z", "kind": kind,
            "model_id": M, **values}  # fmt: skip


@pytest.mark.parametrize(
    ("values", "text"),
    [
        (
            change(
                "price_changed", provider="OpenAI", field="input", old_value="0.8", new_value="0.7"
            ),
            f"{M} · OpenAI · input 0.8 → 0.7 (-12.5%)",
        ),
        (
            change(
                "price_changed",
                tier_label="<=200K Context",
                field="output",
                old_value="1.6",
                new_value="3.2",
            ),
            f"{M} · official <=200K Context · output 1.6 → 3.2 (+100.0%)",
        ),
        # From $0 there is no percentage, and none is made up.
        (
            change(
                "price_changed",
                provider="Acme",
                region="eu",
                field="input",
                old_value="0",
                new_value="0.1",
            ),
            f"{M} · Acme (eu) · input 0 → 0.1",
        ),
        # One third: shown to one decimal place, from exact decimals.
        (
            change("price_changed", provider="Acme", field="input", old_value="3", new_value="2"),
            f"{M} · Acme · input 3 → 2 (-33.3%)",
        ),
        (
            change(
                "attribute_changed",
                field="display_name",
                old_value="GPT-4.1 Mini",
                new_value="GPT-4.1 mini",
            ),
            f"{M} · display_name GPT-4.1 Mini → GPT-4.1 mini",
        ),
        # A public catalog's value: named after the model, ours first where both are shown.
        (
            change(
                "reference_changed",
                source="litellm",
                field="input",
                old_value="0.4",
                new_value="0.5",
            ),
            f"{M} · litellm · input 0.4 → 0.5 (+25.0%)",
        ),
        (
            change(
                "discrepancy_opened",
                source="openrouter",
                field="context_window_tokens",
                old_value="128000",
                new_value="1047576",
            ),
            f"{M} · openrouter · context_window_tokens differs: ours 128000, theirs 1047576",
        ),
        (
            change(
                "discrepancy_closed",
                source="models.dev",
                field="output",
                old_value="3.2",
                new_value="1.6",
            ),
            f"{M} · models.dev · output agrees again (was ours 3.2, theirs 1.6)",
        ),
        (
            change(
                "attribute_changed",
                field="context_window_tokens",
                old_value=None,
                new_value="128000",
            ),
            f"{M} · context_window_tokens (none) → 128000",
        ),
        (
            change("price_added", tier_label="Price", field="cache_read", new_value="0.2"),
            f"{M} · official Price · cache_read added: 0.2",
        ),
        (
            change(
                "price_removed",
                provider="OpenAI Batch",
                region="Global",
                field="input",
                old_value="0.4",
            ),
            f"{M} · OpenAI Batch (Global) · input removed (was 0.4)",
        ),
        (change("model_added"), f"{M} · model added"),
        (change("model_removed"), f"{M} · model removed"),
        (change("offer_added", provider="Bedrock"), f"{M} · Bedrock · offer added"),
        (change("offer_removed", provider="Xai"), f"{M} · Xai · offer removed"),
    ],
)
def test_each_kind_of_change_is_one_line(values: dict[str, object], text: str) -> None:
    assert line(values) == text


def test_lines_head_each_run_with_its_counts() -> None:
    first = ("20261205T083958589Z", "model_added", "a", None, None, None, None, None, None, None)
    second = [
        ("20261205T084001493Z", "model_added", "b", None, None, None, None, None, None, None),
        ("20261205T084001493Z", "model_removed", "a", None, None, None, None, None, None, None),
        ("20261205T084001493Z", "model_added", "c", None, None, None, None, None, None, None),
    ]
    assert list(lines([first, *second])) == [
        "run 20261205T083958589Z: 1 model_added",
        "  a · model added",
        "run 20261205T084001493Z: 2 model_added, 1 model_removed",
        "  b · model added",
        "  a · model removed",
        "  c · model added",
    ]
    assert list(lines([])) == []
