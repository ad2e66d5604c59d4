"""History through the real CLI against a loopback mirror: the cases issue 8 reproduced."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelcat.demo.mirror import MirrorServer
from tests.support import REPO, modelcat, query, refresh
from tests.support import history_site as site
from transforms.contract.tables import PROVENANCE, TABLES

FEED = "kind, model_id, provider, region, field, tier_label, old_value, new_value"
D = Decimal


def run_id(data_dir: Path) -> str:
    return json.loads(sorted((data_dir / "runs").glob("*/summary.json"))[-1].read_text())["run_id"]


def changes(data_dir: Path) -> list[tuple]:
    """The change feed of the latest run."""
    return sorted(
        query(data_dir, f"SELECT {FEED} FROM changes WHERE run_id = ?", [run_id(data_dir)]),
        key=repr,
    )


def published(server: MirrorServer, data_dir: Path) -> None:
    result = refresh(server, data_dir)
    assert result.returncode == 0, result.stdout + result.stderr


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def official_now(data_dir: Path) -> tuple[list[tuple], list[tuple]]:
    """prices_as_of at the current time, and official_prices' readable prices."""
    columns = "model_id, tier_label, tier_min_tokens, tier_max_tokens, metric, usd_per_mtok"
    as_of = query(data_dir, "SELECT * FROM prices_as_of(?) ORDER BY ALL", [now()])
    current = query(
        data_dir,
        f"SELECT {columns} FROM official_prices WHERE usd_per_mtok IS NOT NULL ORDER BY ALL",
    )
    return as_of, current


@pytest.fixture
def pages(tmp_path: Path) -> dict[str, site.Page]:
    return {m: site.new_page(m) for m in ("fable-a", "fable-b")}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "mirror").mkdir()
    return tmp_path / "mirror"


def test_make_demo_twice_publishes_both_times(tmp_path: Path) -> None:
    """The demo's second run used to crash: its pages all say Release date: Unknown, and a
    new port changed every page URL. Whatever the demo does, both publish and agree with
    their history."""
    data_dir = tmp_path / "demo"
    for _ in range(2):
        demo = [sys.executable, "-m", "modelcat.demo", "--data-dir", str(data_dir)]
        result = subprocess.run(demo, cwd=REPO, capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert {row[0] for row in query(data_dir, "SELECT status FROM runs")} == {"published"}
    models = f"SELECT * EXCLUDE ({', '.join(PROVENANCE['models'])}) FROM models"
    as_of = "SELECT * FROM models_as_of(?)"
    assert query(data_dir, f"{models} EXCEPT ALL {as_of}", [now()]) == []
    assert query(data_dir, f"{as_of} EXCEPT ALL {models}", [now()]) == []


def test_attributes_to_and_from_null_on_a_site_that_moved(
    root: Path, pages: dict, data_dir: Path
) -> None:
    """Both pages move (a new port) and say Release date: Unknown: on every changed row the
    old release date is NULL, and the move itself is no change."""
    for model_id, page in pages.items():
        pages[model_id] = page.edited(attributes=page.attributes | {"release_date": site.UNKNOWN})
    site.write_site(root, list(pages.values()))
    with MirrorServer(root) as first:
        published(first, data_dir)
    a, b = pages["fable-a"], pages["fable-b"]
    pages["fable-a"] = a.edited(attributes=a.attributes | {"release_date": site.DATES[0]})
    pages["fable-b"] = b.edited(
        attributes=b.attributes | {"display_name": site.NONE, "input_modalities": site.UNKNOWN}
    )
    site.write_site(root, list(pages.values()))
    with MirrorServer(root) as second:
        published(second, data_dir)
        feed = changes(data_dir)
    # The move changed where the values come from (page_url), not what they are: no event.
    assert feed == [
        ("attribute_changed", "fable-a", None, None, "release_date", None, None, "2025-04-14"),
        ("attribute_changed", "fable-b", None, None, "display_name", None, "Fable", None),
        ("attribute_changed", "fable-b", None, None, "input_modalities", None, "text", None),
    ]
    assert query(data_dir, "SELECT count(DISTINCT page_url) FROM models") == [(2,)]
    assert all(
        url.startswith(second.url("/")) for (url,) in query(data_dir, "SELECT page_url FROM models")
    )


def test_a_relabelled_tier_shows_in_history_and_as_of_agrees(
    root: Path, pages: dict, data_dir: Path
) -> None:
    a = pages["fable-a"]
    assert a.tiers[0].label == "<=200K Context"
    with MirrorServer(root) as server:
        site.write_site(root, list(pages.values()))
        published(server, data_dir)
        pages["fable-a"] = a.edited(tiers=site.TIER_SETS[1])  # <=256K | >256K, same prices
        site.write_site(root, list(pages.values()))
        published(server, data_dir)
    as_of, current = official_now(data_dir)
    assert as_of == current
    assert changes(data_dir) == [
        ("price_added", "fable-a", None, None, "input", "<=256K Context", None, "0.8"),
        ("price_added", "fable-a", None, None, "output", "<=256K Context", None, "1.6"),
        ("price_removed", "fable-a", None, None, "input", "<=200K Context", "0.8", None),
        ("price_removed", "fable-a", None, None, "output", "<=200K Context", "1.6", None),
    ]
    assert ("fable-a", "<=256K Context", 0, 256_000, "input", D("0.8")) in as_of


def test_unreadable_tier_labels_one_cell_one_event_and_one_price(
    root: Path, pages: dict, data_dir: Path
) -> None:
    a = pages["fable-a"]
    p = site.PRICES
    pages["fable-a"] = a.edited(
        tiers=site.TIER_SETS[-1],  # Standard | Batch: no bounds
        pricing=(("Input Price", (p[0], p[4])), ("Output Price", (p[1], p[0]))),
    )
    with MirrorServer(root) as server:
        site.write_site(root, list(pages.values()))
        published(server, data_dir)
        a = pages["fable-a"]
        pages["fable-a"] = a.edited(pricing=(("Input Price", (p[0], p[0])), a.pricing[1]))
        site.write_site(root, list(pages.values()))
        for _ in range(2):  # the change, then nothing
            published(server, data_dir)
            per_cell = query(
                data_dir,
                "SELECT count(*) FROM prices_as_of(?) GROUP BY model_id, tier_label, metric",
                [now()],
            )
            assert {row[0] for row in per_cell} == {1}
            as_of, current = official_now(data_dir)
            assert as_of == current
            kinds = query(data_dir, "SELECT kind FROM changes WHERE run_id = ?", [run_id(data_dir)])
            assert len(kinds) <= 1
        assert changes(data_dir) == []
    feed = query(data_dir, f"SELECT {FEED} FROM changes WHERE kind = 'price_changed'")
    assert feed == [("price_changed", "fable-a", None, None, "input", "Batch", "0.25", "0.8")]


def test_an_unreadable_price_is_kept_and_a_dash_removes_one(
    root: Path, pages: dict, data_dir: Path
) -> None:
    """Even when both leave the same metric NULL on one model, and on the runs after, when
    the unchanged page is reused rather than read again."""
    a = pages["fable-a"]
    p = site.PRICES
    openai = site.Offer("OpenAI", prices=(p[0], p[1], site.NONE, site.NONE))
    azure = site.Offer("Azure", site.REGIONS[1], prices=(p[4], p[1], site.NONE, site.NONE))
    pages["fable-a"] = a.edited(offers=(openai, azure))
    with MirrorServer(root) as server:
        site.write_site(root, list(pages.values()))
        published(server, data_dir)
        a = pages["fable-a"]
        unread = site.unreadable("ask sales")
        pages["fable-a"] = a.edited(
            offers=(
                site.Offer("OpenAI", prices=(unread, p[1], site.NONE, site.NONE)),
                site.Offer("Azure", site.REGIONS[1], prices=(site.NONE, p[1], *openai.prices[2:])),
            ),
            pricing=(("Input Price", (site.unreadable("$0.8/1K"), site.NONE)), a.pricing[1]),
        )
        site.write_site(root, list(pages.values()))
        for _ in range(2):  # the second run reuses the unchanged page's rows
            published(server, data_dir)
            offers = query(
                data_dir,
                "SELECT provider, input_usd_per_mtok FROM offers_as_of(?) "
                "WHERE model_id = 'fable-a' ORDER BY ALL",
                [now()],
            )
            assert offers == [("Azure", None), ("OpenAI", D("0.8"))]
            unread_cells = query(
                data_dir, "SELECT provider, tier_label, metric, raw_value FROM unread_prices"
            )
            assert sorted(unread_cells, key=repr) == sorted(
                [
                    (None, "<=200K Context", "input", "$0.8/1K"),
                    ("OpenAI", None, "input", "ask sales"),
                ],
                key=repr,
            )
            as_of, _ = official_now(data_dir)
            assert ("fable-a", "<=200K Context", 0, 200_000, "input", D("0.8")) in as_of
        pages_seen = query(data_dir, "SELECT outcome, count(*) FROM pages GROUP BY ALL")
    assert dict(pages_seen)["not_modified"] >= 3
    feed = query(data_dir, f"SELECT {FEED} FROM changes WHERE kind = 'price_removed'")
    assert feed == [("price_removed", "fable-a", "Azure", "us-east-1", "input", None, "0.25", None)]


def old_shape(snapshot: Path) -> None:
    """Rewrite a snapshot as the code before this history published it: price history keyed
    by tier_min_tokens (so unreadable tiers left one key open twice, at different prices), no
    provider_key in offer history, no tier_label in the feed, no unread_prices file."""
    prices = pq.read_table(snapshot / "price_history.parquet").to_pylist()
    standard = next(r for r in prices if r["tier_label"] == "Standard" and r["metric"] == "input")
    later = standard["valid_from"] + timedelta(milliseconds=1)
    prices.append(standard | {"usd_per_mtok": D("0.4"), "valid_from": later})
    order = [
        "model_id",
        "provider",
        "region",
        "metric",
        "tier_min_tokens",
        "tier_label",
        "tier_max_tokens",
        "usd_per_mtok",
        "valid_from",
        "valid_to",
        "first_run_id",
        "last_run_id",
    ]
    schema = pq.read_schema(snapshot / "price_history.parquet")
    table = pa.Table.from_pylist(prices, schema=schema).select(order)
    pq.write_table(table, snapshot / "price_history.parquet")
    for name, column in (("offer_history", "provider_key"), ("changes", "tier_label")):
        table = pq.read_table(snapshot / f"{name}.parquet")
        pq.write_table(table.drop_columns([column]), snapshot / f"{name}.parquet")
    (snapshot / "unread_prices.parquet").unlink()


def old_catalog(catalog: Path) -> None:
    """Rewrite the catalog as the code before this history built it from that snapshot."""
    with duckdb.connect(str(catalog)) as con:
        con.execute("DROP TABLE unread_prices")
        con.execute("ALTER TABLE offer_history DROP COLUMN provider_key")
        con.execute("ALTER TABLE changes DROP COLUMN tier_label")


def unreadable_tiers(pages: dict) -> None:
    """fable-a with tiers that have no bounds (Standard | Batch) and a second offer."""
    p = site.PRICES
    pages["fable-a"] = pages["fable-a"].edited(
        tiers=site.TIER_SETS[-1],
        pricing=(("Input Price", (p[0], p[4])),),
        offers=(site.Offer("Vertex Ai-Language-Models Batch", site.REGIONS[1]),),
    )


def test_a_data_directory_published_before_refreshes(
    root: Path, pages: dict, data_dir: Path
) -> None:
    unreadable_tiers(pages)
    with MirrorServer(root) as server:
        site.write_site(root, list(pages.values()))
        published(server, data_dir)
        old_shape((data_dir / "current").resolve())
        old_catalog(data_dir / "catalog.duckdb")
        published(server, data_dir)
        # The duplicate open interval is resolved once, as one change of that cell.
        assert changes(data_dir) == [
            ("price_changed", "fable-a", None, None, "input", "Standard", "0.4", "0.8")
        ]
        published(server, data_dir)
        assert changes(data_dir) == []
    as_of, current = official_now(data_dir)
    assert as_of == current
    offers = query(data_dir, "SELECT provider_key FROM offers_as_of(?) ORDER BY 1", [now()])
    assert offers == [("openai",), ("vertex-ai-language-models-batch",)]
    quality = modelcat("quality", "--data-dir", str(data_dir))
    assert quality.returncode == 0


def test_a_damaged_snapshot_from_before_is_written_again_in_its_own_shape(
    root: Path, pages: dict, data_dir: Path
) -> None:
    unreadable_tiers(pages)
    with MirrorServer(root) as server:
        site.write_site(root, list(pages.values()))
        published(server, data_dir)
        snapshot = (data_dir / "current").resolve()
        old_shape(snapshot)
        old_catalog(data_dir / "catalog.duckdb")
        (snapshot / "price_history.parquet").write_bytes(b"PAR1 cut short")
        result = refresh(server, data_dir)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "written again from the catalog" in result.stdout + result.stderr
        # The catalog held one interval per cell (the test's duplicate was in the snapshot).
        assert changes(data_dir) == []
    as_of, current = official_now(data_dir)
    assert as_of == current
    offers = query(data_dir, "SELECT provider_key FROM offers_as_of(?) ORDER BY 1", [now()])
    assert offers == [("openai",), ("vertex-ai-language-models-batch",)]


@pytest.mark.parametrize(
    ("table", "macro"),
    [
        ("models", "models_as_of"),
        ("official_prices", "prices_as_of"),
        ("provider_offers", "offers_as_of"),
    ],
)
def test_as_of_now_is_the_current_table_but_provenance(published: Path, table, macro) -> None:
    columns = [c for c in TABLES[table].names if c not in PROVENANCE.get(table, ())]
    described = query(published, f"DESCRIBE SELECT * FROM {macro}(?)", [now()])
    assert [row[0] for row in described] == columns
    select = ", ".join(columns)
    for first, second in ((f"{table}", f"{macro}(?)"), (f"{macro}(?)", f"{table}")):
        sql = f"SELECT {select} FROM {first} EXCEPT ALL SELECT {select} FROM {second}"
        assert query(published, sql, [now()]) == []


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Kolkata"])
@pytest.mark.parametrize(
    "macro",
    [
        "models_as_of({at})",
        "prices_as_of({at})",
        "offers_as_of({at})",
        "workload_costs(1000, as_of := {at})",
    ],
)
def test_as_of_reads_a_time_with_a_zone_as_that_instant(published: Path, zone, macro) -> None:
    """A TIMESTAMPTZ or offset text is the instant it names, whatever the session's TimeZone
    (DuckDB's own cast to TIMESTAMP would take the session's wall time)."""
    with duckdb.connect(str(published / "catalog.duckdb"), read_only=True) as con:
        (first,) = con.execute("SELECT min(valid_from) FROM model_history").fetchone()
        con.execute(f"SET TimeZone = '{zone}'")
        just_after, just_before = first + timedelta(seconds=1), first - timedelta(seconds=1)

        def rows(at: str) -> int:
            return con.execute(f"SELECT count(*) FROM {macro.format(at=at)}").fetchone()[0]

        held = rows(f"TIMESTAMP '{just_after}'")
        assert held > 0
        assert rows(f"TIMESTAMP '{just_before}'") == 0
        assert rows(f"TIMESTAMPTZ '{just_after}+00:00'") == held
        assert rows(f"TIMESTAMPTZ '{just_before}+00:00'") == 0
        assert rows(f"'{just_after}Z'") == held
        assert rows(f"'{(just_after + timedelta(hours=5)).isoformat()}+05:00'") == held


def test_an_attribute_the_run_cannot_read_leaves_history_untouched(
    mirror: Path, server: MirrorServer, data_dir: Path
) -> None:
    """Issue 18 item 11: an unparseable value, or two values for one field, is NULL in
    ``models`` with its quality issue; its model's version is neither confirmed nor closed,
    and the feed says nothing, neither when the page breaks nor when it is fixed."""
    models_dir = mirror / "llms" / "models"
    pages = {"o3": models_dir / "o3.md", "deepseek-chat": models_dir / "deepseek-chat.md"}
    originals = {model_id: page.read_text() for model_id, page in pages.items()}
    assert refresh(server, data_dir).returncode == 0
    first = run_id(data_dir)
    window = "SELECT context_window_tokens FROM models WHERE model_id = ?"
    read_before = {m: query(data_dir, window, [m])[0][0] for m in pages}
    assert all(read_before.values())

    def edit(model_id: str, text: str) -> None:
        pages[model_id].write_text(text)
        stat = pages[model_id].stat()
        os.utime(pages[model_id], (stat.st_atime, stat.st_mtime + 5))

    o3 = re.sub(r"- Context window: .*", "- Context window: about 1M", originals["o3"])
    line = re.search(r"- Context window: .*\n", originals["deepseek-chat"])
    assert line is not None
    twice = originals["deepseek-chat"].replace(line[0], line[0] + "- Context window: 999K\n", 1)
    edit("o3", o3)
    edit("deepseek-chat", twice)
    assert refresh(server, data_dir).returncode == 0
    second = run_id(data_dir)
    assert changes(data_dir) == []
    for model_id in pages:
        assert query(data_dir, window, [model_id]) == [(None,)]
        versions = query(
            data_dir,
            "SELECT context_window_tokens, valid_to, first_run_id, last_run_id "
            "FROM model_history WHERE model_id = ?",
            [model_id],
        )
        assert versions == [(read_before[model_id], None, first, first)]  # not confirmed
    issues = query(
        data_dir,
        "SELECT model_id, kind FROM quality_issues WHERE run_id = ? "
        "AND field = 'models.context_window_tokens' ORDER BY 1",
        [second],
    )
    assert issues == [("deepseek-chat", "conflicting_values"), ("o3", "unreadable_value")]
    # As of now, history answers with the last value read (as for an unread price).
    as_of = query(
        data_dir,
        "SELECT context_window_tokens FROM models_as_of(?) WHERE model_id = 'o3'",
        [now()],
    )
    assert as_of == [(read_before["o3"],)]

    for model_id, text in originals.items():
        edit(model_id, text)
    assert refresh(server, data_dir).returncode == 0
    third = run_id(data_dir)
    assert changes(data_dir) == []
    for model_id in pages:
        versions = query(
            data_dir,
            "SELECT context_window_tokens, valid_to, last_run_id FROM model_history "
            "WHERE model_id = ?",
            [model_id],
        )
        assert versions == [(read_before[model_id], None, third)]
