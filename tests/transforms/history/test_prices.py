"""Model, price and offer history and the change feed, each on small typed frames."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

import pandas as pd
import pytest

from transforms.build import frames
from transforms.contract.casting import conform, empty
from transforms.contract.columns import Table
from transforms.contract.tables import (
    CHANGES,
    HISTORY_TABLES,
    MODELS,
    OFFICIAL_PRICES,
    PROVENANCE,
    PROVIDER_OFFERS,
    TABLES,
    UNREAD_PRICES,
)
from transforms.contract.vocabulary import ChangeKind as K
from transforms.history import advance_catalog
from transforms.history import offers as offer_history
from transforms.history import prices as price_history
from transforms.history.feed import change_feed, change_rows
from transforms.history.intervals import Observation
from transforms.history.models import TRACKED, advance_models
from transforms.history.observed import Observed
from transforms.history.offers import advance_offers
from transforms.history.prices import advance_prices

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


def observed(models=(), official=(), offers=(), unread_prices=(), carried=()) -> Observed:
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
    return Observed.of(tables, carried)


class Catalog:
    """A catalog's history tables advanced run after run, as a refresh does."""

    def __init__(self) -> None:
        self.tables = {name: empty(TABLES[name]) for name in HISTORY_TABLES}
        self.runs = iter(RUNS)

    def run(self, seen: Observed) -> list[tuple]:
        """Advance one run; returns that run's changes, sorted."""
        at = next(self.runs)
        self.tables = advance_catalog(self.tables, seen_tables(seen), at, carried(seen))
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


# --- model history -------------------------------------------------------------------------


def test_every_column_of_the_current_tables_is_in_history_or_provenance() -> None:
    """As-of at the current time can only return the current tables if history holds every
    column they publish: in the key or tracked, or declared provenance (not versioned)."""
    assert set(MODELS.names) == {"model_id", *TRACKED, *PROVENANCE["models"]}
    official = set(price_history.KEY) | set(price_history.SPEC.tracked)
    assert set(OFFICIAL_PRICES.names) - official == set(PROVENANCE["official_prices"])
    assert set(PROVIDER_OFFERS.names) - set(offer_history.KEY) - set(offer_history.TRACKED) == {
        *price_history.OFFER_PRICE_METRICS
    }


def test_a_model_keeps_its_listing_across_versions_and_a_relisting_starts_anew() -> None:
    catalog = Catalog()
    catalog.run(observed([model("a"), model("b")]))
    assert catalog.run(observed([model("a", display_name="A2")])) == [
        change(K.ATTRIBUTE_CHANGED, "a", "display_name", None, "A2"),
        change(K.MODEL_REMOVED, "b"),
    ]
    assert catalog.run(observed([model("a", display_name="A2"), model("b")])) == [
        change(K.MODEL_ADDED, "b")
    ]
    history = catalog.tables["model_history"]
    assert rows_of(
        history, ["model_id", "listed_from", "delisted_at", "valid_from", "valid_to"]
    ) == sorted(
        [
            ("a", RUN1.observed_at, None, RUN1.observed_at, RUN2.observed_at),
            ("a", RUN1.observed_at, None, RUN2.observed_at, None),
            ("b", RUN1.observed_at, RUN2.observed_at, RUN1.observed_at, RUN2.observed_at),
            ("b", RUN3.observed_at, None, RUN3.observed_at, None),
        ],
        key=repr,
    )


@pytest.mark.parametrize(
    ("field", "old", "new", "old_text", "new_text"),
    [
        ("release_date", None, date(2025, 4, 14), None, "2025-04-14"),
        ("release_date", date(2025, 4, 14), None, "2025-04-14", None),
        ("context_window_tokens", 128_000, 1_050_000, "128000", "1050000"),
        ("context_window_tokens", 128_000, None, "128000", None),
        ("input_modalities", ["text"], ["text", "image"], "text", "text, image"),
        ("input_modalities", None, ["text"], None, "text"),
        ("supports_tool_use", None, False, None, "false"),
        ("supports_tool_use", True, None, "true", None),
        ("provider_family_key", None, "openai", None, "openai"),
        ("overview", "Fast.", "Fast and cheap.", "Fast.", "Fast and cheap."),
        ("page_url", "http://127.0.0.1:1/a.md", "http://127.0.0.1:2/a.md", None, None),
    ],
)
def test_each_attribute_change_is_one_event(field, old, new, old_text, new_text) -> None:
    """Every other model keeps the value NULL (the demo: release date Unknown on every page)."""
    others = [model(i) for i in ("b", "c")]
    catalog = Catalog()
    catalog.run(observed([model("a", **{field: old}), *others]))
    changes = catalog.run(observed([model("a", **{field: new}), *others]))
    if field == "page_url":
        old_text, new_text = old, new
    assert changes == [change(K.ATTRIBUTE_CHANGED, "a", field, old_text, new_text)]


def test_every_model_moving_at_once_with_every_other_attribute_null() -> None:
    catalog = Catalog()
    catalog.run(observed([model(i) for i in "abc"]))
    moved = [model(i, page_url=f"http://127.0.0.1:2/{i}.md") for i in "abc"]
    changes = catalog.run(observed(moved))
    assert [(c[0], c[1], c[4]) for c in changes] == [
        ("attribute_changed", i, "page_url") for i in "abc"
    ]


def test_a_model_carried_forward_is_left_exactly_as_it_was() -> None:
    catalog = Catalog()
    catalog.run(observed([model("a", display_name="A")], [price("a", "Price", "input", "1")]))
    before = catalog.tables["model_history"].copy()
    prices = catalog.tables["price_history"].copy()
    # Whatever the carried rows say, the run did not see them.
    seen = observed(
        [model("a", display_name="changed")],
        [price("a", "Price", "input", "2")],
        carried=["a"],
    )
    assert catalog.run(seen) == []
    pd.testing.assert_frame_equal(catalog.tables["model_history"], before)
    pd.testing.assert_frame_equal(catalog.tables["price_history"], prices)


# --- price history -------------------------------------------------------------------------

BASE, LONG = (0, 200_000), (200_000, None)


def test_a_relabelled_tier_is_removed_and_added_even_with_the_same_prices() -> None:
    catalog = Catalog()
    catalog.run(
        observed(
            official=[
                price("a", "<=200K Context", "input", "0.8", BASE),
                price("a", "<=200K Context", "output", "3.2", BASE),
                price("a", ">200K Context", "input", "1.6", LONG),
            ]
        )
    )
    relabelled = [
        price("a", "<=256K Context", "input", "0.8", (0, 256_000)),
        price("a", "<=256K Context", "output", "3.2", (0, 256_000)),
        price("a", ">256K Context", "input", "1.6", (256_000, None)),
    ]
    assert catalog.run(observed(official=relabelled)) == sorted(
        [
            change(K.PRICE_REMOVED, "a", "input", "0.8", tier="<=200K Context"),
            change(K.PRICE_REMOVED, "a", "output", "3.2", tier="<=200K Context"),
            change(K.PRICE_REMOVED, "a", "input", "1.6", tier=">200K Context"),
            change(K.PRICE_ADDED, "a", "input", None, "0.8", tier="<=256K Context"),
            change(K.PRICE_ADDED, "a", "output", None, "3.2", tier="<=256K Context"),
            change(K.PRICE_ADDED, "a", "input", None, "1.6", tier=">256K Context"),
        ],
        key=repr,
    )
    columns = ["tier_label", "tier_min_tokens", "tier_max_tokens", "metric", "usd_per_mtok"]
    assert catalog.open("price_history", columns) == rows_of(
        frame(OFFICIAL_PRICES, relabelled), columns
    )


def test_a_tier_whose_bounds_change_under_the_same_label_is_a_new_price() -> None:
    catalog = Catalog()
    catalog.run(observed(official=[price("a", "Standard", "input", "0.8", (0, None))]))
    changes = catalog.run(observed(official=[price("a", "Standard", "input", "0.8", (None, None))]))
    assert changes == sorted(
        [
            change(K.PRICE_ADDED, "a", "input", None, "0.8", tier="Standard"),
            change(K.PRICE_REMOVED, "a", "input", "0.8", tier="Standard"),
        ],
        key=repr,
    )


def test_unreadable_tiers_one_changed_cell_is_one_event_and_unchanged_is_none() -> None:
    """Standard | Batch: both tiers' bounds NULL; the label tells them apart."""
    unbounded = (None, None)

    def page(batch: str) -> Observed:
        return observed(
            official=[
                price("a", "Standard", "input", "0.8", unbounded),
                price("a", "Batch", "input", batch, unbounded),
                price("a", "Standard", "output", "3.2", unbounded),
                price("a", "Batch", "output", "1.6", unbounded),
            ]
        )

    catalog = Catalog()
    catalog.run(page("0.4"))
    assert catalog.run(page("0.5")) == [
        change(K.PRICE_CHANGED, "a", "input", "0.4", "0.5", tier="Batch")
    ]
    assert catalog.run(page("0.5")) == []
    assert catalog.open("price_history", ["tier_label", "metric", "usd_per_mtok"]) == sorted(
        [
            ("Standard", "input", D("0.8")),
            ("Batch", "input", D("0.5")),
            ("Standard", "output", D("3.2")),
            ("Batch", "output", D("1.6")),
        ],
        key=repr,
    )


@pytest.mark.parametrize(
    ("now", "unread_now", "expected"),
    [
        # A cell that shows a price nobody can read: untouched, neither confirmed nor closed.
        ([price("a", "Price", "input", None)], [unread("a", "input", label="Price")], []),
        # "—" (no row): the price is gone.
        ([], [], [change(K.PRICE_REMOVED, "a", "input", "0.8", tier="Price")]),
    ],
    ids=["unreadable", "dash"],
)
def test_an_official_price_unread_is_kept_and_one_removed_is_closed(now, unread_now, expected):
    catalog = Catalog()
    catalog.run(observed([model("a")], [price("a", "Price", "input", "0.8")]))
    assert catalog.run(observed([model("a")], now, unread_prices=unread_now)) == expected
    columns = ["usd_per_mtok", "last_run_id"]
    assert catalog.open("price_history", columns) == (
        [(D("0.8"), RUN1.run_id)] if not expected else []
    )


def test_an_unreadable_offer_price_is_kept_while_another_providers_dash_is_removed() -> None:
    catalog = Catalog()
    catalog.run(
        observed(
            offers=[
                offer("a", "OpenAI", input_usd_per_mtok=D("0.8")),
                offer("a", "Azure", "us", input_usd_per_mtok=D("0.9")),
            ]
        )
    )
    now = observed(
        offers=[offer("a", "OpenAI"), offer("a", "Azure", "us")],  # both inputs NULL now
        unread_prices=[unread("a", "input", provider="OpenAI")],  # but only OpenAI's unread
    )
    assert catalog.run(now) == [
        change(K.PRICE_REMOVED, "a", "input", "0.9", provider="Azure", region="us")
    ]
    assert catalog.open("price_history", ["provider", "usd_per_mtok"]) == [("OpenAI", D("0.8"))]


def test_a_cell_never_read_leaves_no_price() -> None:
    catalog = Catalog()
    seen = observed(
        official=[price("a", "Price", "input", None)],
        unread_prices=[unread("a", "input", label="Price")],
    )
    assert catalog.run(seen) == [change(K.MODEL_ADDED, "a")]
    assert catalog.run(seen) == []
    assert catalog.tables["price_history"].empty


def test_an_unread_cell_keeps_its_price_whatever_its_tier_bounds_are_now() -> None:
    catalog = Catalog()
    catalog.run(observed(official=[price("a", "Standard", "input", "0.8", (0, None))]))
    now = observed(
        official=[price("a", "Standard", "input", None, (None, None))],
        unread_prices=[unread("a", "input", label="Standard")],
    )
    assert catalog.run(now) == []
    assert catalog.open("price_history", ["tier_min_tokens", "usd_per_mtok"]) == [(0, D("0.8"))]


def test_a_price_read_again_after_an_unread_run_continues_or_changes() -> None:
    catalog = Catalog()
    readable = observed(official=[price("a", "Price", "input", "0.8")])
    unreadable = observed(
        official=[price("a", "Price", "input", None)],
        unread_prices=[unread("a", "input", label="Price")],
    )
    catalog.run(readable)
    catalog.run(unreadable)
    assert catalog.run(readable) == []
    catalog.run(unreadable)
    assert catalog.run(observed(official=[price("a", "Price", "input", "1")])) == [
        change(K.PRICE_CHANGED, "a", "input", "0.8", "1", tier="Price")
    ]
    history = catalog.tables["price_history"]
    assert rows_of(history, ["usd_per_mtok", "valid_from", "valid_to", "last_run_id"]) == sorted(
        [
            (D("0.8"), RUN1.observed_at, RUN5.observed_at, RUN3.run_id),
            (D("1"), RUN5.observed_at, None, RUN5.run_id),
        ],
        key=repr,
    )


# --- offer history -------------------------------------------------------------------------


def test_offers_added_removed_and_changed() -> None:
    catalog = Catalog()
    catalog.run(observed(offers=[offer("a", "OpenAI", context_window_tokens=128_000)]))
    second = [
        offer("a", "OpenAI", context_window_tokens=200_000, input_usd_per_mtok=D("1")),
        offer("a", "Azure", "us", input_usd_per_mtok=D("2")),
    ]
    assert catalog.run(observed(offers=second)) == sorted(
        [
            change(
                K.ATTRIBUTE_CHANGED,
                "a",
                "context_window_tokens",
                "128000",
                "200000",
                provider="OpenAI",
            ),
            change(K.OFFER_ADDED, "a", provider="Azure", region="us"),
            change(K.PRICE_ADDED, "a", "input", None, "1", provider="OpenAI"),
        ],
        key=repr,
    )
    assert catalog.run(observed(offers=second[1:])) == [
        change(K.OFFER_REMOVED, "a", provider="OpenAI")
    ]


def test_offer_history_from_before_provider_key_reports_no_change() -> None:
    seen = observed(offers=[offer("a", "Vertex Ai Batch", "us")])
    history, _ = advance_offers(empty(TABLES["offer_history"]), seen, RUN1)
    old = history.drop(columns="provider_key")
    seen = observed(offers=[offer("a", "Vertex Ai Batch", "us", provider_key="vertex-ai-batch")])
    history, changes = advance_offers(old, seen, RUN2)
    assert changes.empty
    assert history["provider_key"].tolist() == ["vertex-ai-batch"]


# --- the change feed -----------------------------------------------------------------------


def feed_rows(*changes: tuple) -> pd.DataFrame:
    return frame(CHANGES, [dict(zip(FEED, c, strict=True)) for c in changes])


def test_a_model_or_offer_added_or_removed_brings_its_prices_along() -> None:
    found = feed_rows(
        change(K.MODEL_ADDED, "new"),
        change(K.OFFER_ADDED, "new", provider="OpenAI"),
        change(K.PRICE_ADDED, "new", "input", None, "1", tier="Price"),
        change(K.MODEL_REMOVED, "gone"),
        change(K.PRICE_REMOVED, "gone", "input", "1", provider="OpenAI"),
        change(K.OFFER_REMOVED, "kept", provider="Azure", region="us"),
        change(K.PRICE_REMOVED, "kept", "input", "2", provider="Azure", region="us"),
        change(K.PRICE_REMOVED, "kept", "input", "3", provider="Azure"),
        change(K.PRICE_REMOVED, "kept", "input", "4", tier="Price"),
        change(K.PRICE_ADDED, "kept", "output", None, "5", provider="Azure", region="us"),
    )
    previous = empty(CHANGES).drop(columns="tier_label")  # as published before tier_label
    result = change_feed(previous, [found], RUN1)
    assert feed(result) == sorted(
        [
            change(K.MODEL_ADDED, "new"),
            change(K.MODEL_REMOVED, "gone"),
            change(K.OFFER_REMOVED, "kept", provider="Azure", region="us"),
            change(K.PRICE_REMOVED, "kept", "input", "3", provider="Azure"),
            change(K.PRICE_REMOVED, "kept", "input", "4", tier="Price"),
            change(K.PRICE_ADDED, "kept", "output", None, "5", provider="Azure", region="us"),
        ],
        key=repr,
    )
    assert set(result["run_id"]) == {RUN1.run_id}
    assert set(result["observed_at"]) == {RUN1.observed_at}


def test_change_rows_take_the_feed_columns_and_leave_the_rest_null() -> None:
    rows = pd.DataFrame({"model_id": ["a"], "tier_min_tokens": [0], "ignored": ["x"]})
    result = change_rows(rows, K.PRICE_ADDED, field="input", new_value=["0.8"])
    assert list(result.columns) == [c for c in CHANGES.names if c not in {"run_id", "observed_at"}]
    assert rows_of(
        result, ["kind", "model_id", "field", "tier_min_tokens", "new_value", "old_value"]
    ) == [("price_added", "a", "input", 0, "0.8", None)]


def test_prices_and_models_accept_empty_inputs() -> None:
    seen = observed()
    for advance_one, name in (
        (advance_models, "model_history"),
        (advance_prices, "price_history"),
        (advance_offers, "offer_history"),
    ):
        history, changes = advance_one(empty(TABLES[name]), seen, RUN1)
        assert history.empty
        assert changes.empty


# --- the unread cells frames.build hands over --------------------------------------------


def test_unread_prices_are_the_cells_shown_but_not_read() -> None:
    official = pd.DataFrame(
        {
            "page_url": ["p"] * 3,
            "model_id": ["a"] * 3,
            "tier_label": ["Standard", "Batch", "Batch"],
            "metric": ["input", "input", "output"],
            # A '—' is no official row at all: a NULL price is one that did not read.
            "usd_per_mtok": [D("0.8"), None, None],
            "raw_value": ["$0.8", "$0.4/1K", "$1"],  # the last one: a unit not per 1M
        }
    )
    offers = pd.DataFrame(
        {
            "page_url": ["p", "p"],
            "model_id": ["a", "a"],
            "provider": ["OpenAI", "Azure"],
            "region": [None, "us"],
            **{c: [None, None] for c in frames.OFFER_PRICE_METRICS},
            "input_usd_per_mtok_raw": ["ask sales", "—"],
            "output_usd_per_mtok_raw": [None, "N/A"],
            "cache_read_usd_per_mtok_raw": ["-", ""],
            "cache_write_usd_per_mtok_raw": [None, "$$"],
            # Withheld from reading (another unit, conflicting copies): its text is kept
            # apart, the raw column is NULL like a '—', and it is unread all the same.
            **{f"{c}_withheld": [None, None] for c in frames.OFFER_PRICE_METRICS},
            "output_usd_per_mtok_withheld": ["$3.2 | $9.9", None],
        }
    )
    unread = frames.unread_prices(official, offers)
    assert rows_of(unread, [*frames.UNREAD_COLUMNS, "raw_value"]) == sorted(
        [
            ("p", "a", None, None, "Batch", "input", "$0.4/1K"),
            ("p", "a", None, None, "Batch", "output", "$1"),
            ("p", "a", "OpenAI", None, None, "input", "ask sales"),
            ("p", "a", "OpenAI", None, None, "output", "$3.2 | $9.9"),
            ("p", "a", "Azure", "us", None, "cache_write", "$$"),
        ],
        key=repr,
    )
