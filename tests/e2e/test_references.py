"""The public catalogs end to end: ``modelcat refresh --reference`` against loopback copies
of the demo's reference files, the published reference tables and discrepancies, broken
references, and a reference edited between two runs."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from modelcat.demo import DEMO_MIRROR
from modelcat.demo.mirror import MirrorServer
from tests.support import modelcat, query, refresh

SOURCES = ("litellm", "openrouter", "models.dev", "genai-prices")


def references(server: MirrorServer, **paths: str) -> list[str]:
    """``--reference`` options for the mirror's reference files (or ``paths`` instead)."""
    options = []
    for source in SOURCES:
        path = paths.get(source.replace(".", "_").replace("-", "_"), f"/references/{source}.json")
        options += ["--reference", f"{source}={server.url(path)}"]
    return options


def published(data_dir: Path, mirror: Path, server: MirrorServer) -> str:
    result = refresh(server, data_dir, *references(server))
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def discrepancies(data_dir: Path, *options: str) -> list[dict]:
    result = modelcat("discrepancies", "--data-dir", str(data_dir), "--format", "json", *options)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, MirrorServer]]:
    mirror = tmp_path_factory.mktemp("references") / "mirror"
    shutil.copytree(DEMO_MIRROR, mirror)
    with MirrorServer(mirror) as server:
        yield mirror, server


@pytest.fixture(scope="module")
def demo(site: tuple[Path, MirrorServer], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One refresh with the demo's four reference files."""
    data_dir = tmp_path_factory.mktemp("demo") / "data"
    mirror, server = site
    summary = published(data_dir, mirror, server)
    assert (
        "references: genai-prices 12 entries, 12 matched; litellm 15 entries, 14 matched; "
        "models.dev 14 entries, 14 matched; openrouter 13 entries, 12 matched; "
        "discrepancies: 26"
    ) in summary
    return data_dir


def test_the_seed_page_disagrees_with_every_catalog(demo: Path) -> None:
    found = discrepancies(demo, "--model", "gpt-4.1-mini-2025-04-14", "--field", "input")
    assert {(row["source"], row["match_rule"]) for row in found} == {
        ("litellm", "exact"),
        ("models.dev", "exact"),
        ("openrouter", "author_prefix"),  # its canonical slug
        ("genai-prices", "source_match"),
    }
    for row in found:
        assert (row["our_value"], row["source_value"]) == ("0.8", "0.4")
        assert row["difference_pct"] == "-50.0000"
        assert row["tier_min_tokens"] == 0
        assert row["provider"] is None
    limits = discrepancies(
        demo, "--model", "gpt-4.1-mini-2025-04-14", "--field", "context_window_tokens"
    )
    assert {(r["our_value"], r["source_value"]) for r in limits} == {("128000", "1047576")}


def test_planted_disagreements_and_agreements(demo: Path) -> None:
    found = {
        (r["model_id"], r["source"], r["field"], r["tier_min_tokens"]): (
            r["our_value"],
            r["source_value"],
        )
        for r in discrepancies(demo)
    }
    assert found[("gpt-4o", "litellm", "output", 0)] == ("10", "15")
    assert found[("gpt-4o-mini", "models.dev", "cache_read", 0)] == ("0.075", "0.08")
    assert found[("claude-sonnet-4-5", "openrouter", "output", 0)] == ("15", "16")
    assert found[("deepseek-chat", "genai-prices", "context_window_tokens", None)] == (
        "131072",
        "128000",
    )
    # every other value of these entries agrees, written differently or not (0.60 = 6e-07)
    assert not [k for k in found if k[0] == "gpt-4o-mini" and k[1] == "litellm"]
    assert not [k for k in found if k[0] in {"o3", "gemini-2.5-pro", "gpt-5"}]


def test_filters(demo: Path) -> None:
    every = discrepancies(demo)
    big = discrepancies(demo, "--min-difference", "10")
    assert big
    assert {r["model_id"] for r in big} < {r["model_id"] for r in every}
    assert all(abs(Decimal(r["difference_pct"])) >= 10 for r in big)
    only = discrepancies(demo, "--source", "models.dev", "--field", "cache_read")
    assert {(r["source"], r["field"]) for r in only} == {("models.dev", "cache_read")}
    typo = modelcat("discrepancies", "--data-dir", str(demo), "--source", "litelm")
    assert typo.returncode == 2
    assert "no catalog 'litelm'; catalogs: litellm, openrouter" in typo.stderr


def test_every_rule_links_and_unmatched_entries_stay(demo: Path) -> None:
    rules = {rule for (rule,) in query(demo, "SELECT DISTINCT match_rule FROM reference_models")}
    assert rules == {
        "exact",
        "author_prefix",
        "provider_prefix",
        "source_match",
        "date_suffix",
        None,
    }
    unmatched = query(
        demo, "SELECT source, source_model FROM reference_models WHERE model_id IS NULL"
    )
    assert ("litellm", "mistral-large-latest") in unmatched
    # OpenRouter's -1 is no price: NULL, with a quality issue naming the source and key
    assert query(
        demo,
        "SELECT usd_per_mtok, raw_value FROM reference_prices "
        "WHERE source = 'openrouter' AND source_model = 'openrouter/auto' AND metric = 'input'",
    ) == [(None, "-1")]
    issues = query(demo, "SELECT field FROM quality_issues WHERE kind = 'reference_value'")
    assert ("openrouter: openrouter/auto pricing.prompt",) in issues


FLOAT_TRAPS = {
    "o3": {"input_cost_per_token": "0.15", "output_cost_per_token": "1.1e-06"},
    "gpt-5": {"input_cost_per_token": "3e-06", "output_cost_per_token": "0.5700000000000001"},
}


def test_float_traps_are_exact_through_the_catalog(
    site: tuple[Path, MirrorServer], tmp_path: Path
) -> None:
    mirror, server = site
    body = ",".join(
        f'"{key}": {{' + ", ".join(f'"{k}": {v}' for k, v in spec.items()) + "}"
        for key, spec in FLOAT_TRAPS.items()
    )
    (mirror / "traps.json").write_text("{" + body + "}")
    models_dev = (
        '{"openai": {"id": "openai", "models": {"o3": '
        '{"cost": {"input": 0.15, "output": 0.5700000000000001}}}}}'
    )
    (mirror / "traps-md.json").write_text(models_dev)
    data_dir = tmp_path / "data"
    result = refresh(
        server, data_dir, *references(server, litellm="/traps.json", models_dev="/traps-md.json")
    )
    assert result.returncode == 0, result.stderr
    rows = query(
        data_dir,
        "SELECT source, source_model, metric, raw_value, usd_per_mtok::VARCHAR "
        "FROM reference_prices WHERE source IN ('litellm', 'models.dev') ORDER BY ALL",
    )
    exact = {(s, m, metric, raw): Decimal(value) for s, m, metric, raw, value in rows}
    assert exact == {
        ("litellm", "gpt-5", "input", "3e-06"): Decimal("3"),
        ("litellm", "gpt-5", "output", "0.5700000000000001"): Decimal("570000.0000000001"),
        ("litellm", "o3", "input", "0.15"): Decimal("150000"),
        ("litellm", "o3", "output", "1.1e-06"): Decimal("1.1"),
        ("models.dev", "openai/o3", "input", "0.15"): Decimal("0.15"),
        ("models.dev", "openai/o3", "output", "0.5700000000000001"): Decimal("0.5700000000000001"),
    }


BROKEN = {
    "litellm": None,  # gone: HTTP 404
    "openrouter": b"<!DOCTYPE html><html><body>Just a moment...</body></html>",  # HTML, 200
    "models.dev": b'{"openai": {"id": "openai", "models": {"o3": {"cost": {"inp',  # truncated
    "genai-prices": b'{"providers": {"openai": []}}',  # a shape it does not know
}


def test_a_broken_reference_never_stops_the_run(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    shutil.copytree(DEMO_MIRROR, mirror)
    data_dir = tmp_path / "data"
    with MirrorServer(mirror) as server:
        published(data_dir, mirror, server)
        before = query(data_dir, "SELECT * FROM reference_models ORDER BY ALL")
        prices = query(data_dir, "SELECT * FROM reference_prices ORDER BY ALL")
        found = query(data_dir, "SELECT * FROM discrepancies ORDER BY ALL")
        for source, body in BROKEN.items():
            path = mirror / "references" / f"{source}.json"
            if body is None:
                path.unlink()
            else:
                path.write_bytes(body)
        result = refresh(server, data_dir, *references(server))
    assert result.returncode == 0, result.stdout + result.stderr
    for source in SOURCES:
        assert f"{source}" in result.stdout
    assert "unavailable: HTTP 404; carried forward" in result.stdout
    assert "unavailable: an HTML or XML page, not JSON; carried forward" in result.stdout
    # carried forward as they were, their old fetched_at included; nothing reported removed
    assert query(data_dir, "SELECT * FROM reference_models ORDER BY ALL") == before
    assert query(data_dir, "SELECT * FROM reference_prices ORDER BY ALL") == prices
    assert query(data_dir, "SELECT * FROM discrepancies ORDER BY ALL") == found
    issues = dict(
        query(
            data_dir,
            "SELECT field, problem FROM quality_issues WHERE kind = 'reference_unavailable'",
        )
    )
    assert set(issues) == set(SOURCES)
    assert "HTTP 404" in issues["litellm"]
    assert "not JSON" in issues["models.dev"]
    assert "'data'" not in issues["genai-prices"]
    assert "not a JSON list" in issues["genai-prices"]
    assert query(
        data_dir,
        "SELECT count(*) FROM changes WHERE source IS NOT NULL AND run_id = "
        "(SELECT max(run_id) FROM runs)",
    ) == [(0,)]
    assert query(data_dir, "SELECT count(*) FROM models") == [(189,)]


def test_a_reference_edited_between_two_runs(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    shutil.copytree(DEMO_MIRROR, mirror)
    data_dir = tmp_path / "data"
    litellm = mirror / "references" / "litellm.json"
    with MirrorServer(mirror) as server:
        published(data_dir, mirror, server)
        (first,) = query(data_dir, "SELECT max(started_at)::VARCHAR FROM runs")[0]
        text = litellm.read_text()
        old_gpt_4o = '"gpt-4o": {"litellm_provider": "openai", "max_input_tokens": 128000'
        assert old_gpt_4o in text
        entries = json.loads(text)
        entries["gpt-4o"]["output_cost_per_token"] = 1e-05  # now agrees: 10 per 1M
        entries["o3"]["input_cost_per_token"] = 2.5e-06  # now disagrees: 2.5 vs 2
        litellm.write_text(json.dumps(entries))
        published(data_dir, mirror, server)
    (second,) = query(data_dir, "SELECT max(started_at)::VARCHAR FROM runs")[0]
    # the catalogs not edited were revalidated (304) and read again from the archive
    (last_run,) = sorted((data_dir / "runs").iterdir())[-1:]
    fetched = [
        json.loads(line) for line in (last_run / "references.jsonl").read_text().splitlines()
    ]
    assert {line["source"]: line["http_status"] for line in fetched} == {
        "litellm": 200,
        "openrouter": 304,
        "models.dev": 304,
        "genai-prices": 304,
    }
    feed = query(
        data_dir,
        "SELECT kind, model_id, field, old_value, new_value FROM changes "
        "WHERE source = 'litellm' AND observed_at = (SELECT max(observed_at) FROM changes) "
        "AND model_id IN ('gpt-4o', 'o3') ORDER BY ALL",
    )
    assert feed == [
        ("discrepancy_closed", "gpt-4o", "output", "10", "15"),
        ("discrepancy_opened", "o3", "input", "2", "2.5"),
        ("reference_changed", "gpt-4o", "output", "15", "10"),
        ("reference_changed", "o3", "input", "2", "2.5"),
    ]
    history = query(
        data_dir,
        "SELECT model_id, valid_from::VARCHAR, valid_to::VARCHAR FROM discrepancy_history "
        "WHERE source = 'litellm' AND source_model IN ('gpt-4o', 'o3') "
        "AND field IN ('input', 'output')",
    )
    assert sorted(history) == [("gpt-4o", first, second), ("o3", second, None)]
    then = discrepancies(data_dir, "--source", "litellm", "--as-of", first)
    now = discrepancies(data_dir, "--source", "litellm")
    assert ("gpt-4o", "output") in {(r["model_id"], r["field"]) for r in then}
    assert ("gpt-4o", "output") not in {(r["model_id"], r["field"]) for r in now}
    assert ("o3", "input") in {(r["model_id"], r["field"]) for r in now}
    prices_then = query(
        data_dir,
        "SELECT usd_per_mtok::VARCHAR FROM reference_prices_as_of(?::TIMESTAMP) "
        "WHERE source = 'litellm' AND source_model = 'o3' AND metric = 'input'",
        [first],
    )
    assert [Decimal(v) for (v,) in prices_then] == [Decimal(2)]


def test_rebuild_rederives_the_reference_tables_from_the_archive(demo: Path) -> None:
    tables = ("reference_models", "reference_prices", "discrepancies")
    before = {t: query(demo, f"SELECT * FROM {t} ORDER BY ALL") for t in tables}
    result = modelcat("rebuild", "--data-dir", str(demo))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "references: genai-prices 12 entries" in result.stdout
    assert {t: query(demo, f"SELECT * FROM {t} ORDER BY ALL") for t in tables} == before
