"""How history compares values and writes them as change-feed text
(``transforms.history.compare``), for every type a history table holds."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.history_frames import SAMPLES, TYPES, things
from transforms.contract.casting import INT64, STRING
from transforms.contract.columns import TEXT_LIST, TS, USD
from transforms.history.compare import (
    as_text,
    differs,
    last_of_each,
    positions,
    row_codes,
    text,
)


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


OTHER = {
    "text": "b, c",
    "count": 0,
    "day": date(2024, 2, 29),
    "items": ["text"],
    "flag": True,
    "usd": Decimal("0.80"),  # the sample's price, written another way
    "moment": datetime(2025, 1, 1),
}


@pytest.mark.parametrize("column", TYPES)
@settings(max_examples=30)
@given(picks=st.lists(st.sampled_from([0, 1, 2]), max_size=10), split=st.integers(0, 10))
def test_change_feed_text_of_many_rows(column, picks, split) -> None:
    """Each row is written as its value alone would be, whatever repeats, NULLs and chunks
    (a column read back from Parquet) the column holds."""
    values = [[SAMPLES[column], OTHER[column], None][i] for i in picks]
    type_ = TYPES[column]
    chunks = [pa.array(values[:split], type_), pa.array(values[split:], type_)]
    read_back = pd.Series(pd.arrays.ArrowExtensionArray(pa.chunked_array(chunks, type_)))
    assert as_text(read_back, type_) == [text(value) for value in values]


KEY_PARTS = st.none() | st.text(alphabet=":-\x00\x1fab1", max_size=4)
NULLS = st.sampled_from([None, float("nan"), pd.NA])


@settings(max_examples=50)
@given(
    st.lists(st.tuples(KEY_PARTS, KEY_PARTS), min_size=1, max_size=6),
    st.lists(st.tuples(KEY_PARTS, KEY_PARTS), max_size=6),
    NULLS,
)
def test_row_codes_are_equal_exactly_when_the_rows_are(first, second, null) -> None:
    """Within a frame and across frames; every spelling of NULL is one NULL."""
    frames = [
        pd.DataFrame([[null if v is None else v for v in row] for row in rows], columns=["x", "y"])
        for rows in (first, second)
    ]
    codes = [c for part in row_codes(frames, ["x", "y"]) for c in part]
    rows = first + second
    assert len(codes) == len(rows)
    for i, one in enumerate(rows):
        for j, other in enumerate(rows):
            assert (codes[i] == codes[j]) == (one == other)


@settings(max_examples=50)
@given(
    st.lists(st.tuples(KEY_PARTS, st.none() | st.integers(-3, 3)), min_size=1, max_size=8),
    st.lists(st.tuples(KEY_PARTS, st.none() | st.integers(-3, 3)), max_size=8),
)
def test_row_codes_sort_as_the_rows_do(first, second) -> None:
    """Codes in ascending order put the rows in ``sort_values``' order: by each column in
    turn, NULL last; the history's next rows are ordered by them."""
    frames = [
        pd.DataFrame(rows, columns=["x", "y"]).astype({"x": STRING, "y": INT64})
        for rows in (first, second)
    ]
    whole = pd.concat(frames, ignore_index=True)
    codes = np.concatenate(row_codes(frames, ["x", "y"]))
    by_codes = whole.iloc[np.argsort(codes, kind="stable")].reset_index(drop=True)
    by_values = whole.sort_values(["x", "y"], kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(by_codes, by_values)


def test_row_codes_sort_past_64_bits() -> None:
    """Renumbered to stay exact, the codes keep the rows' order."""
    rows = [[2] + [1] * 32, [0] + [2] * 32, [1] + [0] * 32, [0] + [0] * 32, [None] + [0] * 32]
    frame = pd.DataFrame(rows, columns=[f"c{i}" for i in range(33)]).astype(INT64)
    (codes,) = row_codes([frame], list(frame.columns))
    assert np.argsort(codes).tolist() == [3, 1, 2, 0, 4]


def test_row_codes_stay_exact_past_64_bits() -> None:
    """33 columns of 3 values and NULL: combined naively, 4**33 wraps around 2**64 and the
    first column's difference vanishes."""
    rows = [[0] + [0] * 32, [1] + [0] * 32, [2] + [1] * 32, [0] + [2] * 32]
    frame = pd.DataFrame(rows, columns=[f"c{i}" for i in range(33)])
    (codes,) = row_codes([frame], list(frame.columns))
    assert len(set(codes.tolist())) == 4


@pytest.mark.parametrize(
    ("codes", "last"),
    [
        ([], []),
        ([7], [True]),
        ([7, 8, 7], [False, True, True]),
        ([7] * 3, [False, False, True]),
    ],
)
def test_last_of_each(codes, last) -> None:
    assert last_of_each(np.array(codes, dtype=np.int64)).tolist() == last


@pytest.mark.parametrize(
    ("codes", "distinct", "found"),
    [
        ([], [], []),
        ([3], [], [-1]),
        ([3, 5, 3, 9], [9, 3], [1, -1, 1, 0]),
    ],
)
def test_positions(codes, distinct, found) -> None:
    as_codes = [np.array(c, dtype=np.int64) for c in (codes, distinct)]
    assert positions(*as_codes).tolist() == found
