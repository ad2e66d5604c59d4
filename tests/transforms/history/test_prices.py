"""Price history (``transforms.history.prices``): official and offer prices, tiers relabelled or
unreadable, cells a run could not read; on small typed frames."""

from __future__ import annotations

import pytest

from tests.support.history_frames import (
    RUN1,
    RUN3,
    RUN5,
    Catalog,
    D,
    change,
    frame,
    model,
    observed,
    offer,
    price,
    rows_of,
    unread,
)
from transforms.contract.tables import OFFICIAL_PRICES
from transforms.contract.vocabulary import ChangeKind as K
from transforms.history.observed import Observed

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
