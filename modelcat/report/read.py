"""What the site shows, read from the published catalog in one read-only connection.

Values keep the catalog's exact types (``Decimal`` for money, ints for tokens); with
``as_of`` the current tables come from the catalog's as-of macros and the rest is cut at
that time, so a report of the past shows what the catalog held then.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import duckdb

from modelcat.api import catalog as api
from modelcat.api.cost import COLUMNS as COST_COLUMNS
from transforms.contract.vocabulary import CACHE_METRICS, TOKEN_METRICS, RunStatus

Row = dict[str, Any]
KINDS = tuple(str(k) for k in TOKEN_METRICS)
CACHE_KINDS = tuple(str(k) for k in CACHE_METRICS)
# Tables another part of the catalog may add (reference catalogs): shown when present.
REFERENCE_TABLES = ("reference_models", "reference_prices", "discrepancies")
# (title, input tokens, output tokens, cache read tokens): the overview's preset workloads.
PRESETS = (
    ("A chat turn: 2,000 in, 500 out", 2_000, 500, 0),
    ("Retrieval: 20,000 in (15,000 cached), 1,000 out", 20_000, 1_000, 15_000),
    ("A long document: 300,000 in, 2,000 out", 300_000, 2_000, 0),
)
MODEL_COLUMNS = (
    "model_id, display_name, provider_family, provider_family_key, release_date, "
    "context_window_tokens, max_output_tokens, input_modalities, output_modalities, "
    "supports_tool_use, supports_computer_use, supports_cache_control, overview"
)
URL_COLUMNS = "page_url, canonical_url"  # provenance: current tables only


@dataclass
class Catalog:
    run_id: str  # the published run the report shows
    publication: str  # its snapshot's name (a run id, or one and .rebuilt-STAMP)
    published_at: datetime  # when that run finished
    as_of: datetime | None
    models: list[Row]
    official: list[Row]
    offers: list[Row]
    unread: list[Row]
    history: list[Row]  # price_history rows, cut at as_of
    changes: list[Row]
    runs: list[Row]
    issues: list[Row]  # quality_issues, every run
    presets: list[tuple[str, list[Row]]]
    null_shares: list[tuple[str, str, int, int]]  # table, column, NULLs, rows
    references: dict[str, tuple[list[str], list[Row]]] = field(default_factory=dict)

    @property
    def until(self) -> datetime:
        """Where open history intervals end on a chart: the report's moment."""
        return self.as_of or self.published_at


def read_catalog(con: duckdb.DuckDBPyConnection, as_of: datetime | None) -> Catalog:
    at = None if as_of is None else f"TIMESTAMP '{as_of.isoformat(sep=' ')}'"
    runs = _rows(
        con,
        "SELECT * FROM runs"
        + ("" if at is None else f" WHERE started_at <= {at}")
        + " ORDER BY run_id",
    )
    published = [r for r in runs if r["status"] == RunStatus.PUBLISHED]
    if not published:
        raise ValueError("the catalog had no published run at that time")
    info = dict(con.execute("SELECT key, value FROM catalog_info").fetchall())
    publication = str(info.get("snapshot", published[-1]["run_id"]))
    shown = published[-1] if at is not None else _run_of(published, publication)
    if at is not None:
        publication = shown["run_id"]
    cut = "" if at is None else f" WHERE observed_at <= {at}"
    held = "" if at is None else f" WHERE valid_from <= {at}"
    if at is None:
        models = _rows(con, f"SELECT {MODEL_COLUMNS}, {URL_COLUMNS} FROM models ORDER BY model_id")
        official = _rows(con, "SELECT * EXCLUDE (raw_value) FROM official_prices ORDER BY ALL")
        offers = _rows(con, "SELECT * FROM provider_offers ORDER BY ALL")
        unread = _rows(con, "SELECT * FROM unread_prices ORDER BY ALL")
    else:
        # History keeps no URLs: link the page the model is read from now, if any.
        models = _rows(
            con,
            f"SELECT {MODEL_COLUMNS}, {URL_COLUMNS} FROM models_as_of({at}) "
            f"LEFT JOIN (SELECT model_id, {URL_COLUMNS} FROM models) USING (model_id) "
            "ORDER BY model_id",
        )
        official = _rows(con, f"SELECT * FROM prices_as_of({at}) ORDER BY ALL")
        offers = _rows(con, f"SELECT * FROM offers_as_of({at}) ORDER BY ALL")
        unread = []  # history keeps the last price read: the past has no unread cells
    history = _rows(
        con,
        "SELECT * REPLACE ("
        + ("valid_to" if at is None else f"CASE WHEN valid_to > {at} THEN NULL ELSE valid_to END")
        + " AS valid_to) FROM price_history"
        + held
        + " ORDER BY model_id, provider NULLS FIRST, region NULLS FIRST, tier_min_tokens, "
        "tier_label, metric, valid_from",
    )
    changes = _rows(
        con,
        f"SELECT * FROM changes{cut} ORDER BY observed_at DESC, model_id, kind, "
        "provider NULLS FIRST, region NULLS FIRST, field NULLS FIRST, tier_min_tokens NULLS FIRST, "
        "tier_label NULLS FIRST",
    )
    run_ids = {r["run_id"] for r in runs}
    issues = [
        r for r in _rows(con, "SELECT * FROM quality_issues ORDER BY ALL") if r["run_id"] in run_ids
    ]
    return Catalog(
        run_id=shown["run_id"],
        publication=publication,
        published_at=shown["finished_at"] or shown["started_at"],
        as_of=as_of,
        models=models,
        official=official,
        offers=offers,
        unread=unread,
        history=history,
        changes=changes,
        runs=runs,
        issues=issues,
        presets=[(title, _cheapest(con, i, o, c, at)) for title, i, o, c in PRESETS],
        null_shares=_null_shares(con) if at is None else [],
        references={t: _table(con, t) for t in REFERENCE_TABLES if t in api.tables(con)},
    )


def _run_of(published: list[Row], publication: str) -> Row:
    run_id = publication.split(".", 1)[0]
    for run in published:
        if run["run_id"] == run_id:
            return run
    return published[-1]


def _cheapest(
    con: duckdb.DuckDBPyConnection, prompt: int, output: int, cached: int, at: str | None
) -> list[Row]:
    """The five cheapest rows that fit, by the catalog's own ``workload_costs``."""
    return _rows(
        con,
        f"SELECT {', '.join(COST_COLUMNS)} FROM workload_costs({prompt}, output_tokens := "
        f"{output}, cache_read_tokens := {cached}, as_of := {at or 'NULL'}) "
        "WHERE total_usd IS NOT NULL AND exceeds_context IS NOT TRUE "
        "ORDER BY total_usd, model_id, provider NULLS FIRST, region NULLS FIRST LIMIT 5",
    )


def _null_shares(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, int, int]]:
    """How many of each current table's cells are NULL, per column."""
    out: list[tuple[str, str, int, int]] = []
    for table in ("models", "official_prices", "provider_offers"):
        columns = [r[0] for r in con.execute(f'DESCRIBE "{table}"').fetchall()]
        counts = ", ".join(f'count(*) - count("{c}")' for c in columns)
        row = con.execute(f'SELECT count(*), {counts} FROM "{table}"').fetchone()
        assert row is not None
        total, *nulls = row
        out.extend((table, c, n, total) for c, n in zip(columns, nulls, strict=True))
    return out


def _table(con: duckdb.DuckDBPyConnection, table: str) -> tuple[list[str], list[Row]]:
    cursor = con.execute(f'SELECT * FROM "{table}" ORDER BY ALL')
    names = [d[0] for d in cursor.description]
    return names, [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[Row]:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def price_units(value: Decimal | None) -> str | None:
    """A price in units of 10⁻⁹ USD per 1M tokens, as integer text (the calculator's BigInt);
    exact: prices have at most 9 decimals (DECIMAL(18,9))."""
    if value is None:
        return None
    scaled = value.scaleb(9)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"price {value} has more than 9 decimals")
    return str(int(scaled))
