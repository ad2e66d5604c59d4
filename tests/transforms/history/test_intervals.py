"""The interval mechanism and value comparison every history table shares, on small frames."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.contract.casting import conform
from transforms.contract.columns import TEXT_LIST, TS, USD, Column, Table
from transforms.contract.tables import MODEL_HISTORY
from transforms.history.compare import as_text, differs, last_of_each, row_keys
from transforms.history.intervals import Observation, Versioned, advance

RUN1 = Observation("20260101T000000000Z", datetime(2026, 1, 1))
RUN2 = Observation("20260102T000000000Z", datetime(2026, 1, 2))
RUN3 = Observation("20260103T000000000Z", datetime(2026, 1, 3))

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


def run(history: pd.DataFrame | None, *rows: dict, at: Observation = RUN1, **options):
    history = (
        history if history is not None else conform(pd.DataFrame(columns=THINGS.names), THINGS)
    )
    return advance(history, things(*rows), SPEC, at, **options)


def cells(frame: pd.DataFrame, columns: list[str]) -> list[list]:
    """The frame's values as plain Python lists, NULL as None."""
    part = frame[columns].astype(object)
    return part.where(part.notna(), None).values.tolist()


def intervals(history: pd.DataFrame, key: str = "a") -> list[tuple]:
    rows = history[history["key"] == key]
    return list(
        zip(
            rows["valid_from"].astype(object),
            rows["valid_to"].astype(object).where(rows["valid_to"].notna(), None),
            rows["first_run_id"],
            rows["last_run_id"],
            strict=True,
        )
    )


# --- compare ------------------------------------------------------------------------------


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


# --- advance -------------------------------------------------------------------------------


def test_first_run_opens_an_interval_per_key() -> None:
    step = run(None, {"key": "a", "text": "x"}, {"key": "b"})
    assert intervals(step.history) == [(RUN1.observed_at, None, RUN1.run_id, RUN1.run_id)]
    assert sorted(step.added["key"]) == ["a", "b"]
    assert step.removed.empty
    assert step.changed.empty


def test_same_value_extends_the_interval() -> None:
    first = run(None, {"key": "a", "text": "x", "items": ["text"]}).history
    step = run(first, {"key": "a", "text": "x", "items": ["text"]}, at=RUN2)
    assert intervals(step.history) == [(RUN1.observed_at, None, RUN1.run_id, RUN2.run_id)]
    assert step.added.empty
    assert step.removed.empty
    assert step.changed.empty


def test_a_change_closes_and_opens_intervals_that_meet() -> None:
    first = run(None, {"key": "a", "usd": Decimal("0.8")}).history
    step = run(first, {"key": "a", "usd": Decimal("1.25")}, at=RUN2)
    assert intervals(step.history) == [
        (RUN1.observed_at, RUN2.observed_at, RUN1.run_id, RUN1.run_id),
        (RUN2.observed_at, None, RUN2.run_id, RUN2.run_id),
    ]
    assert cells(step.changed, ["key", "field", "old_value", "new_value"]) == [
        ["a", "usd", "0.8", "1.25"]
    ]


@pytest.mark.parametrize("column", TYPES)
@pytest.mark.parametrize("direction", ["null to value", "value to null"])
def test_null_and_value_on_every_changed_row_of_every_type(column, direction) -> None:
    """The demo's crash: the tracked value is NULL on every changed row, old or new."""
    values = [None, SAMPLES[column]] if direction == "null to value" else [SAMPLES[column], None]
    keys = ["a", "b", "c"]
    first = run(None, *({"key": k, column: values[0]} for k in keys)).history
    step = run(first, *({"key": k, column: values[1]} for k in keys), at=RUN2)
    texts = as_text(pd.Series(values, dtype=object), TYPES[column])
    assert cells(step.changed, ["key", "field", "old_value", "new_value"]) == [
        [k, column, *texts] for k in keys
    ]
    open_ = step.history[step.history["valid_to"].isna()]
    assert open_[column].isna().all() == (values[1] is None)
    assert len(step.history) == 6


def test_every_column_null_on_every_row_changes_nothing() -> None:
    first = run(None, {"key": "a"}, {"key": "b", "part": None}).history
    step = run(first, {"key": "a"}, {"key": "b"}, at=RUN2)
    assert step.changed.empty
    assert (step.history["last_run_id"] == RUN2.run_id).all()


def test_a_key_gone_closes_and_one_coming_back_opens_anew() -> None:
    first = run(None, {"key": "a", "text": "x"}).history
    gone = run(first, at=RUN2)
    assert gone.removed["key"].tolist() == ["a"]
    back = run(gone.history, {"key": "a", "text": "x"}, at=RUN3)
    assert back.added["key"].tolist() == ["a"]
    assert intervals(back.history) == [
        (RUN1.observed_at, RUN2.observed_at, RUN1.run_id, RUN1.run_id),
        (RUN3.observed_at, None, RUN3.run_id, RUN3.run_id),
    ]


def test_null_key_parts_match_null() -> None:
    first = run(None, {"key": "a", "part": None, "count": 1}, {"key": "a", "part": "p"}).history
    step = run(first, {"key": "a", "part": None, "count": 2}, {"key": "a", "part": "p"}, at=RUN2)
    assert cells(step.changed, ["key", "part", "old_value"]) == [["a", None, "1"]]
    assert step.added.empty
    assert step.removed.empty


@pytest.mark.parametrize(
    "unobserved",
    [
        pd.DataFrame({"key": ["a"], "part": [None]}),  # the whole key
        pd.DataFrame({"key": ["a"]}),  # a leading part of it: every key of that model
    ],
    ids=["key", "part of the key"],
)
def test_unobserved_rows_keep_their_intervals_untouched(unobserved) -> None:
    first = run(None, {"key": "a", "text": "x"}, {"key": "b", "text": "y"}).history
    # The run saw "a" differently, or not at all: either way it is not observed.
    for rows in ([{"key": "a", "text": "changed"}], []):
        step = run(first, *rows, {"key": "b", "text": "y"}, at=RUN2, unobserved=[unobserved])
        assert intervals(step.history, "a") == intervals(first, "a")
        assert step.added.empty
        assert step.removed.empty
        assert step.changed.empty
        assert intervals(step.history, "b")[0][3] == RUN2.run_id


def test_closed_intervals_are_never_touched() -> None:
    history = run(run(None, {"key": "a", "count": 1}).history, {"key": "a", "count": 2}, at=RUN2)
    step = run(history.history, {"key": "a", "count": 1}, at=RUN3)
    assert intervals(step.history)[:2] == [
        *intervals(history.history)[:1],
        (RUN2.observed_at, RUN3.observed_at, RUN2.run_id, RUN2.run_id),
    ]


def test_two_open_intervals_of_one_key_leave_one() -> None:
    """Earlier versions could leave a key open twice: the latest stands, the other closes."""
    older = run(None, {"key": "a", "count": 1}).history
    newer = run(None, {"key": "a", "count": 2}, at=RUN2).history
    history = pd.concat([older, newer], ignore_index=True)
    step = run(history, {"key": "a", "count": 2}, at=RUN3)
    assert step.changed.empty
    assert step.added.empty
    assert step.removed.empty
    assert intervals(step.history) == [
        (RUN1.observed_at, RUN3.observed_at, RUN1.run_id, RUN1.run_id),
        (RUN2.observed_at, None, RUN2.run_id, RUN3.run_id),
    ]


def test_two_observed_rows_of_one_key_are_a_bug() -> None:
    with pytest.raises(ValueError, match="share a key"):
        run(None, {"key": "a", "count": 1}, {"key": "a", "count": 2})
