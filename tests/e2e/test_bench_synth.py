"""The benchmark's synthetic mirrors read back exactly: a refresh of one publishes the models,
prices and offers it was generated from, with no quality issue; after ``mutate``, the next
refresh publishes the mutated truth."""

from __future__ import annotations

import json
from pathlib import Path

from bench import synth
from modelcat.demo.mirror import MirrorServer
from tests.support import current_tables, modelcat, query, refresh

MODEL_COLUMNS = (
    "model_id, display_name, provider_family, release_date, context_window_tokens, "
    "max_output_tokens, input_modalities, output_modalities, supports_tool_use, "
    "supports_computer_use, supports_cache_control, overview, page_generated_at"
)
OFFER_COLUMNS = (
    "model_id, provider, region, context_window_tokens, max_output_tokens, input_usd_per_mtok, "
    "output_usd_per_mtok, cache_read_usd_per_mtok, cache_write_usd_per_mtok"
)


def expected_models(mirror: synth.Mirror) -> set[tuple]:
    return {
        (
            m.model_id,
            m.display_name,
            m.provider_family,
            m.release_date,
            m.context_window_tokens,
            m.max_output_tokens,
            m.input_modalities,
            m.output_modalities,
            m.supports_tool_use,
            m.supports_computer_use,
            m.supports_cache_control,
            m.overview,
            m.generated_at.replace(tzinfo=None),
        )
        for m in mirror.models
    }


def expected_prices(mirror: synth.Mirror) -> set[tuple]:
    return {
        (p.model_id, p.tier.label, p.tier.min_tokens, p.tier.max_tokens, p.metric, p.usd)
        for m in mirror.models
        for p in m.official_prices()
    }


def expected_offers(mirror: synth.Mirror) -> set[tuple]:
    return {
        (
            m.model_id,
            o.provider,
            o.region,
            o.context_window_tokens,
            o.max_output_tokens,
            o.input_usd,
            o.output_usd,
            o.cache_read_usd,
            o.cache_write_usd,
        )
        for m in mirror.models
        for o in m.offers
    }


def published(data_dir: Path) -> tuple[set[tuple], set[tuple], set[tuple]]:
    # Modality lists become tuples: rows are compared as sets.
    models = {
        tuple(tuple(v) if isinstance(v, list) else v for v in row)
        for row in query(data_dir, f"SELECT {MODEL_COLUMNS} FROM models")
    }
    prices = set(
        query(
            data_dir,
            "SELECT model_id, tier_label, tier_min_tokens, tier_max_tokens, metric, usd_per_mtok "
            "FROM official_prices",
        )
    )
    offers = set(query(data_dir, f"SELECT {OFFER_COLUMNS} FROM provider_offers"))
    return models, prices, offers


def assert_publishes(mirror: synth.Mirror, server: MirrorServer, data_dir: Path) -> None:
    result = refresh(server, data_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    models, prices, offers = published(data_dir)
    assert models == expected_models(mirror)
    assert prices == expected_prices(mirror)
    assert offers == expected_offers(mirror)
    issues = query(data_dir, "SELECT kind, field, raw_value, problem FROM quality_issues")
    assert issues == []


def test_synthetic_mirror_refreshes_into_what_it_was_generated_from(
    tmp_path: Path, data_dir: Path
) -> None:
    mirror = synth.generate(50, seed=7)
    root = tmp_path / "synthetic"
    synth.write(mirror, root)
    with MirrorServer(root) as server:
        assert_publishes(mirror, server, data_dir)

        changed, changes = synth.mutate(mirror, seed=3, change_prices=3, drop=2, add=2)
        stats = synth.write(changed, root)
        # Only the index and the touched pages are rewritten; the rest keep their validators.
        assert stats.written == 1 + 3 + 2
        assert stats.removed == 2
        assert (len(changes.changed), len(changes.dropped), len(changes.added)) == (3, 2, 2)
        assert_publishes(changed, server, data_dir)


def test_a_mirror_built_while_it_is_crawled_publishes_what_a_rebuild_does(
    tmp_path: Path, data_dir: Path
) -> None:
    """2,500 pages: more than one chunk of page values (``values.CHUNK_ROWS``), so the
    refresh builds chunks of its pages while the crawl runs (``transforms.build.ahead``).
    The catalog is the generated truth, and a rebuild, which builds every chunk after
    reading it back from the archive, publishes the same tables."""
    mirror = synth.generate(2_500, seed=11)
    root = tmp_path / "synthetic"
    synth.write(mirror, root)
    with MirrorServer(root) as server:
        assert_publishes(mirror, server, data_dir)
    (run,) = (data_dir / "runs").iterdir()
    summary = json.loads((run / "summary.json").read_text())
    assert 1_500 <= summary["pages_built_ahead"] < 2_500
    crawled = current_tables(data_dir)
    rebuilt = modelcat("rebuild", "--data-dir", str(data_dir))
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert current_tables(data_dir) == crawled
