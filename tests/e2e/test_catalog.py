"""End to end: crawl the demo mirror from a loopback server, then check the published
DuckDB catalog field by field against tests/fixtures/demo_expected.json."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq

from tests.support import REPO, query
from tests.support.expected import MODEL_FIELDS, OFFER_FIELDS


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def test_every_model_matches_expected(published: Path, expected: dict) -> None:
    columns = ", ".join(MODEL_FIELDS)
    rows = query(published, f"SELECT model_id, {columns} FROM models")
    models = {row[0]: dict(zip(MODEL_FIELDS, row[1:], strict=True)) for row in rows}
    assert set(models) == set(expected)
    for model_id, want in expected.items():
        got = models[model_id]
        for field in MODEL_FIELDS:
            value = got[field]
            if field == "release_date" and value is not None:
                value = value.isoformat()
            assert value == want[field], (model_id, field)


def test_every_official_price_matches_expected(published: Path, expected: dict) -> None:
    rows = query(
        published,
        "SELECT model_id, metric, tier_min_tokens, tier_max_tokens, usd_per_mtok "
        "FROM official_prices",
    )
    got = sorted((r[0], r[1], r[2], r[3], r[4]) for r in rows)
    want = sorted(
        (
            model_id,
            p["metric"],
            p["tier_min_tokens"],
            p["tier_max_tokens"],
            Decimal(p["usd_per_mtok"]),
        )
        for model_id, model in expected.items()
        for p in model["official_prices"]
    )
    assert got == want
    # Exact decimals, not floats, all the way into DuckDB.
    assert all(isinstance(r[4], Decimal) for r in rows)


def test_every_provider_offer_matches_expected(published: Path, expected: dict) -> None:
    rows = query(published, f"SELECT model_id, {', '.join(OFFER_FIELDS)} FROM provider_offers")
    got = sorted(rows, key=repr)
    want = sorted(
        (
            (
                model_id,
                o["provider"],
                o["region"],
                o["context_window_tokens"],
                o["max_output_tokens"],
                _decimal(o["input_usd_per_mtok"]),
                _decimal(o["output_usd_per_mtok"]),
                _decimal(o["cache_read_usd_per_mtok"]),
                _decimal(o["cache_write_usd_per_mtok"]),
            )
            for model_id, model in expected.items()
            for o in model["provider_offers"]
        ),
        key=repr,
    )
    assert got == want


def test_provenance_and_pages(published: Path, expected: dict) -> None:
    pages = dict(query(published, "SELECT outcome, count(*) FROM pages GROUP BY outcome"))
    assert pages == {"model": len(expected), "skipped": 2}  # llms.txt and the provider page
    skipped = query(published, "SELECT url, content_type FROM pages WHERE outcome = 'skipped'")
    assert sorted((url.rsplit("/", 1)[1], ct) for url, ct in skipped) == [
        ("llms.txt", None),
        ("openai.md", "provider-page"),
    ]
    rows = query(
        published,
        "SELECT page_url, canonical_url, page_generated_at, fetched_at, length(content_sha256) "
        "FROM models WHERE model_id = 'gpt-4.1-mini-2025-04-14'",
    )
    page_url, canonical, generated, fetched, sha_length = rows[0]
    assert page_url.endswith(expected["gpt-4.1-mini-2025-04-14"]["page_path"])
    assert canonical == "https://www.pipellm.ai/model/gpt-4.1-mini-2025-04-14"
    assert generated.isoformat() == "2026-03-27T06:53:30.752000"
    assert fetched > generated
    assert sha_length == 64


def test_column_types_follow_the_contract(published: Path) -> None:
    types = dict(
        query(
            published,
            "SELECT table_name || '.' || column_name, data_type FROM duckdb_columns()",
        )
    )
    assert types["models.context_window_tokens"] == "BIGINT"
    assert types["models.release_date"] == "DATE"
    assert types["models.input_modalities"] == "VARCHAR[]"
    assert types["models.supports_tool_use"] == "BOOLEAN"
    assert types["models.page_generated_at"] == "TIMESTAMP"
    assert types["official_prices.usd_per_mtok"] == "DECIMAL(18,9)"
    assert types["provider_offers.cache_write_usd_per_mtok"] == "DECIMAL(18,9)"


def test_parquet_snapshot_round_trips_with_declared_types(published: Path) -> None:
    current = published / "current"
    models = pq.read_table(current / "models.parquet")
    prices = pq.read_table(current / "official_prices.parquet")
    assert str(models.schema.field("context_window_tokens").type) == "int64"
    assert str(prices.schema.field("usd_per_mtok").type) == "decimal128(18, 9)"
    assert models.num_rows == query(published, "SELECT count(*) FROM models")[0][0]
    frame = prices.to_pandas()
    assert all(isinstance(v, Decimal) for v in frame["usd_per_mtok"])


def test_catalog_opens_from_another_directory(published: Path, tmp_path: Path) -> None:
    """The catalog holds its tables itself, so no relative path breaks elsewhere."""
    script = (
        "import duckdb, sys; con = duckdb.connect(sys.argv[1], read_only=True); "
        "print(con.execute('SELECT count(*) FROM official_prices').fetchone()[0])"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(published / "catalog.duckdb")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert int(out.stdout) == query(published, "SELECT count(*) FROM official_prices")[0][0] > 0


def test_scrapy_crawl_works_from_the_repo_root(server, tmp_path: Path) -> None:
    run_dir = tmp_path / "staged"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "scrapy",
            "crawl",
            "pipellm",
            "-a",
            f"start_urls={server.url('/llms.txt')}",
            "-s",
            f"MODELCAT_RUN_DIR={run_dir}",
            "-s",
            "DOWNLOAD_DELAY=0",
            "-s",
            "AUTOTHROTTLE_ENABLED=False",
            "-s",
            "CONCURRENT_REQUESTS_PER_DOMAIN=16",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = (run_dir / "pages.jsonl").read_text().splitlines()
    assert len(lines) == 191
    assert '"finish_reason": "finished"' in (run_dir / "crawl_stats.json").read_text()


def test_staged_page_values_are_written_in_the_contract_types(published: Path) -> None:
    """The crawl stages page_values that are published as they are: the files a real refresh
    wrote, staged and published, have the contract's columns and types."""
    from transforms.contract.tables import TABLES

    contract = TABLES["page_values"].arrow_schema
    (staged,) = (published / "runs").glob("*/page_values.parquet")
    for path in (staged, published / "current" / "page_values.parquet"):
        schema = pq.read_schema(path)
        assert schema.names == contract.names, path
        assert schema.types == contract.types, path
