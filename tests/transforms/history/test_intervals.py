"""The interval mechanism every history table shares (``transforms.history.intervals``): open,
confirm, close and meet, on a small table with a tracked column of every type."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

from tests.support.history_frames import RUN1, RUN2, RUN3, SAMPLES, SPEC, THINGS, TYPES, things
from transforms.contract.casting import conform
from transforms.history.compare import as_text
from transforms.history.intervals import Observation, advance


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
