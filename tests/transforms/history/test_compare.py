"""How history compares values and writes them as change-feed text
(``transforms.history.compare``), for every type a history table holds."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.history_frames import SAMPLES, TYPES, things
from transforms.contract.columns import TEXT_LIST, TS, USD
from transforms.history.compare import as_text, differs, last_of_each, row_keys


@pytest.mark.parametrize("column", TYPES)
@pytest.mark.parametrize(
    ("old", "new", "different"),
    [
        ("sample", "sample", False),
        (None, None, False),
        (None, "sample", True),
        ("sample", None, True),
    ],
)
def test_differs_for_every_type_null_equals_only_null(column, old, new, different) -> None:
    value = {"sample": SAMPLES[column], None: None}
    frame = things({"key": "a", column: value[old]}, {"key": "b", column: value[new]})
    assert differs(
        frame[column].iloc[:1], frame[column].iloc[1:].set_axis([0]), TYPES[column]
    ).tolist() == [different]


@pytest.mark.parametrize(
    ("type_", "old", "new", "different"),
    [
        (USD, Decimal("0.8"), Decimal("0.800"), False),
        (USD, Decimal("0.8"), Decimal("0.800000001"), True),
        (TEXT_LIST, ["text, image"], ["text", "image"], True),
        (TEXT_LIST, ["text"], ["text", "text"], True),
        (pa.string(), "", None, True),
        (pa.bool_(), False, None, True),
        (pa.int64(), 0, None, True),
    ],
)
def test_differs_compares_values_not_text(type_, old, new, different) -> None:
    before = pd.Series([old], dtype=object)
    after = pd.Series([new], dtype=object)
    assert differs(before, after, type_).tolist() == [different]


def optional(values: st.SearchStrategy) -> st.SearchStrategy:
    return st.none() | values


VALUES = {
    "text": st.text(max_size=3),
    "count": st.integers(-(2**63), 2**63 - 1),
    "day": st.dates(),
    "items": st.lists(st.text(max_size=2), max_size=3),
    "flag": st.booleans(),
    "usd": st.decimals(min_value=0, max_value=10**8, places=9),
    "moment": st.datetimes(),
}


@pytest.mark.parametrize("column", TYPES)
@settings(max_examples=30)
@given(data=st.data())
def test_differs_is_python_inequality(column, data) -> None:
    values = optional(VALUES[column])
    pairs = data.draw(st.lists(st.tuples(values, values), max_size=8))
    old = pd.Series([a for a, _ in pairs], dtype=object)
    new = pd.Series([b for _, b in pairs], dtype=object)
    assert differs(old, new, TYPES[column]).tolist() == [a != b for a, b in pairs]


@pytest.mark.parametrize(
    ("type_", "value", "text"),
    [
        (USD, Decimal("0.800000000"), "0.8"),
        (USD, Decimal("100"), "100"),
        (USD, Decimal("0"), "0"),
        (USD, Decimal("1250.5"), "1250.5"),
        (pa.bool_(), True, "true"),
        (pa.bool_(), False, "false"),
        (pa.date32(), date(2025, 4, 14), "2025-04-14"),
        (TS, datetime(2026, 3, 27, 6, 53, 30, 752000), "2026-03-27T06:53:30.752000"),
        (TEXT_LIST, ["text", "image"], "text, image"),
        (pa.int64(), 128000, "128000"),
        (pa.string(), "Openai", "Openai"),
        (USD, None, None),
        (TEXT_LIST, None, None),
    ],
)
def test_change_feed_text(type_, value, text) -> None:
    assert as_text(pd.Series([value], dtype=object), type_) == [text]


KEY_PARTS = st.none() | st.text(alphabet=":-\x00\x1fab1", max_size=4)


@settings(max_examples=50)
@given(st.lists(st.tuples(KEY_PARTS, KEY_PARTS), min_size=2, max_size=6))
def test_row_keys_are_equal_exactly_when_the_rows_are(rows) -> None:
    frame = pd.DataFrame(rows, columns=["x", "y"], dtype=object)
    keys = row_keys(frame, ["x", "y"]).to_pylist()
    for i, first in enumerate(rows):
        for j, second in enumerate(rows):
            assert (keys[i] == keys[j]) == (first == second)


@pytest.mark.parametrize(
    ("keys", "last"),
    [
        ([], []),
        (["a"], [True]),
        (["a", "b", "a"], [False, True, True]),
        (["a"] * 3, [False, False, True]),
    ],
)
def test_last_of_each(keys, last) -> None:
    assert last_of_each(pa.array(keys, pa.string())).tolist() == last
