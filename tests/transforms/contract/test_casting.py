"""Frames meeting the contract (``transforms.contract.casting``): ``conform`` gives exactly
what a cast through the table's Arrow schema gives, whichever columns are already in their
contract dtype and whichever are not."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.history_frames import SAMPLES, THINGS
from transforms.contract.casting import conform, to_arrow, to_frame

VALUES = {
    **SAMPLES,
    "key": "k",
    "part": "p",
    "valid_from": datetime(2026, 1, 1),
    "valid_to": datetime(2026, 1, 2),
    "first_run_id": "20260101T000000000Z",
    "last_run_id": "20260102T000000000Z",
}
# How a column can arrive: as Python objects, in its contract dtype, or in a dtype pandas
# would infer (pandas 3's ``str`` for text, whose NULL is NaN: not the contract's).
SHAPES = ("object", "contract", "inferred")
WIDTH = len(THINGS.names)


def through_arrow(frame: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
    """What conforming is: the frame cast to the table's Arrow schema and read back."""
    return to_frame(to_arrow(frame, THINGS, columns)).set_axis(frame.index)


def column(name: str, shape: str, present: list[bool]) -> pd.Series:
    values = [VALUES[name] if here else None for here in present]
    objects = pd.Series(values, dtype=object)
    if shape == "contract":
        return conform(pd.DataFrame({name: objects}), THINGS, [name])[name]
    if shape == "inferred":
        return pd.Series(values) if any(present) else objects
    return objects


@given(
    shapes=st.lists(st.sampled_from(SHAPES), min_size=WIDTH, max_size=WIDTH),
    present=st.lists(
        st.lists(st.booleans(), min_size=3, max_size=3), min_size=WIDTH, max_size=WIDTH
    ),
    order=st.permutations(THINGS.names),
    index=st.permutations([7, 3, 5]),
    extra=st.booleans(),
    subset=st.none() | st.sets(st.sampled_from(THINGS.names), min_size=1),
)
def test_conform_is_the_cast_through_arrow(shapes, present, order, index, extra, subset):
    made = {
        name: column(name, shape, rows)
        for name, shape, rows in zip(THINGS.names, shapes, present, strict=True)
    }
    frame = pd.DataFrame({name: made[name] for name in order})
    frame.index = index
    if extra:
        frame["not_in_the_table"] = 1.5
    columns = sorted(subset) if subset is not None else None

    conformed = conform(frame, THINGS, columns)

    expected = through_arrow(frame, columns)
    pd.testing.assert_frame_equal(conformed, expected, check_exact=True)
    assert list(conformed.columns) == [c for c in THINGS.names if columns is None or c in columns]


def test_a_frame_in_the_contract_is_taken_as_it_is():
    frame = through_arrow(pd.DataFrame({n: [VALUES[n], None] for n in THINGS.names}, dtype=object))

    conformed = conform(frame[list(reversed(THINGS.names))], THINGS)

    pd.testing.assert_frame_equal(conformed, frame, check_exact=True)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("count", "many"),
        ("count", 1.5),  # Arrow alone makes it 1
        ("count", Decimal("128000.5")),  # and this 128000
        ("count", True),
        ("count", 2**63),
        ("flag", "yes"),
        ("usd", "0.8"),
        ("day", "2025-04-14"),
    ],
)
def test_a_value_the_type_cannot_hold_fails_loudly(name, value):
    frame = pd.DataFrame({n: [VALUES[n]] for n in THINGS.names}, dtype=object)
    frame[name] = pd.Series([value], dtype=object)

    with pytest.raises((pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError)):
        conform(frame, THINGS)


def test_a_name_twice_fails_rather_than_picking_one():
    frame = through_arrow(pd.DataFrame({n: [VALUES[n]] for n in THINGS.names}, dtype=object))
    twice = pd.concat([frame, frame[["count"]]], axis=1)

    with pytest.raises(ValueError, match=r"thing_history: frame has columns \['count'\] twice"):
        conform(twice, THINGS)


def test_a_missing_column_is_named():
    frame = pd.DataFrame({n: [VALUES[n]] for n in THINGS.names if n != "day"}, dtype=object)

    with pytest.raises(ValueError, match=r"thing_history: frame lacks columns \['day'\]"):
        conform(frame, THINGS)


@pytest.mark.parametrize(
    "written", [[128000.0, float("nan")], [Decimal("1.28E+5"), None], [128000, None]]
)
def test_whole_numbers_are_counts_however_written(written):
    frame = pd.DataFrame({n: [VALUES[n]] * 2 for n in THINGS.names}, dtype=object)
    frame["count"] = pd.Series(written, dtype=object)

    assert conform(frame, THINGS)["count"].tolist() == [128000, pd.NA]
