"""The change feed (``transforms.history.feed``): one row per change, the feed columns only."""

from __future__ import annotations

from itertools import pairwise

import pandas as pd
import pytest

from tests.support.history_frames import FEED, RUN1, change, feed, frame, rows_of
from transforms.contract.casting import empty
from transforms.contract.tables import CHANGES
from transforms.contract.vocabulary import ChangeKind as K
from transforms.history.feed import change_feed, change_rows


def feed_rows(*changes: tuple) -> pd.DataFrame:
    return frame(CHANGES, [dict(zip(FEED, c, strict=True)) for c in changes])


FOUND = (
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


@pytest.mark.parametrize(
    ("cuts", "backwards"),
    [((), False), ((1, 2), False), ((3,), False), ((0, 5, 5, 10), False), ((2, 4, 6, 8), True)],
    ids=["one part", "model, offer, rest", "added, removed", "empty parts", "pairs backwards"],
)
def test_a_model_or_offer_added_or_removed_brings_its_prices_along(cuts, backwards) -> None:
    """Whatever parts the changes come in (each history table gives its own), and in
    whatever order, a change nested under one of another part goes."""
    found = feed_rows(*FOUND)
    bounds = [0, *cuts, len(found)]
    parts = [found.iloc[a:b] for a, b in pairwise(bounds)]
    parts = parts[::-1] if backwards else parts
    previous = empty(CHANGES).drop(columns="tier_label")  # as published before tier_label
    result = change_feed(previous, parts, RUN1)
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


@pytest.mark.parametrize("given", [{}, {"field": "input", "provider": None}])
def test_no_rows_are_no_changes_in_the_feeds_columns_and_types(given) -> None:
    """Most runs change nothing in most tables: no rows give the same empty frame that one
    row taken away from its changes gives."""
    rows = pd.DataFrame({"model_id": ["a"], "tier_min_tokens": [0], "ignored": ["x"]})
    taken_away = change_rows(rows, K.PRICE_ADDED, **given).iloc[:0].reset_index(drop=True)
    none = change_rows(rows.iloc[:0], K.PRICE_ADDED, **given)
    pd.testing.assert_frame_equal(none, taken_away)
    assert none.columns.equals(taken_away.columns)
