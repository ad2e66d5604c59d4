"""Small typed frames for the history tests: the runs, rows of the current tables (``model``,
``price``, ``offer``, ``unread``) as a run observes them, a ``Catalog`` whose history is
advanced run after run as a refresh does, the change feed as plain tuples, and a history
table with a tracked column of every type (``THINGS``, ``SPEC``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

import pandas as pd
import pyarrow as pa

from transforms.contract.casting import conform, empty
from transforms.contract.columns import TEXT_LIST, TS, USD, Column, Table
from transforms.contract.tables import (
    HISTORY_TABLES,
    MODEL_HISTORY,
    MODELS,
    OFFICIAL_PRICES,
    PROVIDER_OFFERS,
    TABLES,
    UNREAD_PRICES,
)
from transforms.history import advance_catalog
from transforms.history.intervals import Observation, Versioned
from transforms.history.observed import Observed

RUNS = [Observation(f"2026010{d}T000000000Z", datetime(2026, 1, d)) for d in range(1, 6)]
RUN1, RUN2, RUN3, RUN4, RUN5 = RUNS
D = Decimal


def frame(table: Table, rows: Iterable[dict]) -> pd.DataFrame:
    records = [[row.get(c) for c in table.names] for row in rows]
    return conform(pd.DataFrame(records, columns=table.names, dtype=object), table)


def model(model_id: str, **values: object) -> dict:
    return {
        "model_id": model_id,
        "page_url": f"http://127.0.0.1/llms/models/{model_id}.md",
        "fetched_at": datetime(2026, 1, 1),
        "content_sha256": "0" * 64,
        **values,
    }


def price(model_id: str, label: str, metric: str, usd: str | None, bounds=(0, None)) -> dict:
    low, high = bounds
    raw = f"${usd}" if usd is not None else "ask sales"
    return {
        "model_id": model_id,
        "tier_label": label,
        "tier_min_tokens": low,
        "tier_max_tokens": high,
        "metric": metric,
        "usd_per_mtok": None if usd is None else D(usd),
        "raw_value": raw,
    }


def offer(model_id: str, provider: str, region: str | None = None, **values: object) -> dict:
    return {
        "model_id": model_id,
        "provider": provider,
        "provider_key": provider.lower(),
        "service_tier": "standard",
        "region": region,
        **values,
    }


def unread(model_id: str, metric: str, *, label=None, provider=None, region=None) -> dict:
    return {
        "model_id": model_id,
        "provider": provider,
        "region": region,
        "tier_label": label,
        "metric": metric,
        "raw_value": "ask sales",
    }


def observed(
    models=(), official=(), offers=(), unread_prices=(), carried=(), unread_attributes=()
) -> Observed:
    ids = {m["model_id"] for m in models} | {
        r["model_id"] for r in [*official, *offers] if r["model_id"] not in carried
    }
    models = [*models, *(model(i) for i in sorted(ids - {m["model_id"] for m in models}))]
    tables = {
        "models": frame(MODELS, models),
        "official_prices": frame(OFFICIAL_PRICES, official),
        "provider_offers": frame(PROVIDER_OFFERS, offers),
        "unread_prices": frame(UNREAD_PRICES, unread_prices),
    }
    return Observed.of(tables, carried, unread_attributes)


class Catalog:
    """A catalog's history tables advanced run after run, as a refresh does."""

    def __init__(self) -> None:
        self.tables = {name: empty(TABLES[name]) for name in HISTORY_TABLES}
        self.runs = iter(RUNS)

    def run(self, seen: Observed) -> list[tuple]:
        """Advance one run; returns that run's changes, sorted."""
        at = next(self.runs)
        unread = seen.unread_attributes.itertuples(index=False, name=None)
        self.tables = advance_catalog(self.tables, seen_tables(seen), at, carried(seen), unread)
        changes = self.tables["changes"]
        return feed(changes[changes["run_id"] == at.run_id])

    def open(self, name: str, columns: list[str]) -> list[tuple]:
        history = self.tables[name]
        return rows_of(history[history["valid_to"].isna()], columns)


def seen_tables(seen: Observed) -> dict[str, pd.DataFrame]:
    return {
        "models": seen.models,
        "official_prices": seen.official_prices,
        "provider_offers": seen.provider_offers,
        "unread_prices": seen.unread_prices,
    }


def carried(seen: Observed) -> list[str]:
    return list(seen.carried_models["model_id"])


def rows_of(data: pd.DataFrame, columns: list[str]) -> list[tuple]:
    part = data[columns].astype(object)
    return sorted(map(tuple, part.where(part.notna(), None).values.tolist()), key=lambda r: repr(r))


FEED = ["kind", "model_id", "provider", "region", "field", "tier_label", "old_value", "new_value"]


def feed(changes: pd.DataFrame) -> list[tuple]:
    return rows_of(changes, FEED)


def change(
    kind, model_id, field=None, old=None, new=None, *, provider=None, region=None, tier=None
):
    return (str(kind), model_id, provider, region, field, tier, old, new)


# One tracked column of every type a history table holds.
TYPES = {
    "text": pa.string(),
    "count": pa.int64(),
    "day": pa.date32(),
    "items": TEXT_LIST,
    "flag": pa.bool_(),
    "usd": USD,
    "moment": TS,
}
SAMPLES = {
    "text": "a",
    "count": 128_000,
    "day": date(2025, 4, 14),
    "items": ["text", "image"],
    "flag": False,
    "usd": Decimal("0.8"),
    "moment": datetime(2026, 3, 27, 6, 53, 30, 752000),
}
THINGS = Table(
    "thing_history",
    "A history of every type, for these tests.",
    (
        Column("key", pa.string(), "", nullable=False),
        Column("part", pa.string(), ""),
        *(Column(name, type_, "") for name, type_ in TYPES.items()),
        *MODEL_HISTORY.columns[-4:],  # valid_from, valid_to, first_run_id, last_run_id
    ),
)
SPEC = Versioned(THINGS, key=("key", "part"), tracked=tuple(TYPES))


def things(*rows: dict) -> pd.DataFrame:
    """Current rows: a key (part NULL unless given) and tracked values (NULL unless given)."""
    records = [[row.get(column) for column in SPEC.columns] for row in rows]
    return conform(pd.DataFrame(records, columns=SPEC.columns, dtype=object), THINGS, SPEC.columns)
