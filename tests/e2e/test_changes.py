"""``modelcat changes`` for people: filters, ``--since last`` and one change a line, on the
catalog ``make demo`` builds (two real refreshes, the second over an edited mirror)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support import modelcat

PRICED = "gpt-4.1-mini-2025-04-14"


def changes(clone: Path, *args: str) -> str:
    result = modelcat("changes", "--data-dir", str(clone / "data" / "demo"), *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_since_last_is_what_the_last_run_found_one_a_line(demo_clone: Path) -> None:
    out = changes(demo_clone, "--since", "last")
    head, *body = out.splitlines()
    assert head.startswith("run ")
    assert head.endswith(": 1 attribute_changed, 1 model_removed, 2 price_changed")
    assert body == [
        f"  {PRICED} · display_name GPT-4.1 Mini → GPT-4.1 mini",
        "  claude-3-opus-20240229 · model removed",
        f"  {PRICED} · official <=200K Context · input 0.8 → 0.7 (-12.5%)",
        f"  {PRICED} · OpenAI · input 0.8 → 0.7 (-12.5%)",
    ]
    assert max(len(line) for line in out.splitlines()) <= 80


def test_filters_narrow_the_feed(demo_clone: Path) -> None:
    everything = json.loads(changes(demo_clone, "--format", "json"))
    from_pages = [c for c in everything if c["source"] is None]
    assert len(from_pages) == 189 + 4  # the first run's models, then the edits
    # The rest is what the demo's reference catalogs disagree with, found by the first run.
    assert {c["kind"] for c in everything if c["source"] is not None} == {"discrepancy_opened"}
    priced = json.loads(changes(demo_clone, "--format", "json", "--model", PRICED))
    assert {c["model_id"] for c in priced} == {PRICED}
    # added, then display name and two input prices
    assert len([c for c in priced if c["source"] is None]) == 4
    kinds = json.loads(
        changes(demo_clone, "-f", "json", "--kind", "model_removed", "--kind", "price_changed")
    )
    assert sorted(c["kind"] for c in kinds) == ["model_removed", "price_changed", "price_changed"]
    offers = json.loads(changes(demo_clone, "-f", "json", "--provider", "openai"))
    assert [(c["provider"], c["field"]) for c in offers] == [("OpenAI", "input")]
    fields = json.loads(changes(demo_clone, "-f", "json", "--field", "display_name"))
    assert [c["new_value"] for c in fields] == ["GPT-4.1 mini"]
    both = json.loads(
        changes(demo_clone, "-f", "json", "--field", "input", "--model", "claude-3-haiku-20240307")
    )
    assert both == []


def test_since_last_and_a_run_id_agree(demo_clone: Path) -> None:
    runs = json.loads(
        modelcat(
            "sql", "--data-dir", str(demo_clone / "data" / "demo"), "-f", "json",
            "SELECT run_id FROM runs WHERE status = 'published' ORDER BY run_id",
        ).stdout
    )  # fmt: skip
    first = runs[0]["run_id"]
    assert changes(demo_clone, "--since", first) == changes(demo_clone, "--since", "last")


@pytest.mark.parametrize("args", [["--format", "table"], ["--format", "csv"]])
def test_the_wide_formats_stay(demo_clone: Path, args: list[str]) -> None:
    out = changes(demo_clone, "--since", "last", *args)
    assert "old_value" in out
    assert "tier_min_tokens" in out


def test_a_bad_kind_is_a_usage_error(demo_clone: Path) -> None:
    result = modelcat(
        "changes", "--kind", "price_rise", "--data-dir", str(demo_clone / "data" / "demo")
    )
    assert result.returncode == 2
    assert "price_changed" in result.stderr
