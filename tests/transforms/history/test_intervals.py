"""The interval mechanism every history table shares (``transforms.history.intervals``): open,
confirm, close and meet, on a small table with a tracked column of every type."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.history_frames import (
    RUN1,
    RUN2,
    RUN3,
    RUN4,
    SAMPLES,
    SPEC,
    THINGS,
    TYPES,
    things,
)
from transforms.contract.casting import conform, to_arrow
from transforms.history.compare import as_text, text
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


# A run checked against a plain model of the rules, row by row, on any history: keys with a
# NULL part, intervals of one key open twice (in any order, started at the same instant),
# closed ones, rows the run could not observe, values equal in another spelling (0.8, 0.80).
VALUES = {
    "text": [None, "a", "b"],
    "count": [None, 1, 2],
    "day": [None, date(2025, 4, 14)],
    "items": [None, [], ["text"], ["text", "image"]],
    "flag": [None, True, False],
    "usd": [None, Decimal("0.8"), Decimal("0.80"), Decimal("1.25")],
    "moment": [None, SAMPLES["moment"]],
}
KEYS = st.tuples(st.sampled_from(["a", "b", "c"]), st.sampled_from([None, "x"]))
TRACKED_VALUES = st.fixed_dictionaries({c: st.sampled_from(v) for c, v in VALUES.items()})
EARLIER = [RUN1, RUN2, RUN3]


@st.composite
def histories(draw: st.DrawFn) -> list[dict]:
    rows = []
    for key, part in draw(st.lists(KEYS, max_size=8)):
        start = draw(st.sampled_from(EARLIER))
        ends = [None, *(r.observed_at for r in EARLIER if r.observed_at > start.observed_at)]
        rows.append(
            {
                "key": key,
                "part": part,
                **draw(TRACKED_VALUES),
                "valid_from": start.observed_at,
                "valid_to": draw(st.sampled_from(ends)),
                # Usually the run that started it; earlier versions could leave any.
                "first_run_id": draw(st.sampled_from([start, *EARLIER])).run_id,
                "last_run_id": draw(st.sampled_from(EARLIER)).run_id,
            }
        )
    return rows


def plainly(history: list[dict], current: list[dict], unobserved: list[dict], at: Observation):
    """The rules, one row at a time: the next history, added, removed and changed."""

    def key(row: dict) -> tuple:
        return (row["key"], row["part"])

    def unseen(row: dict) -> bool:
        return any(all(row[c] == value for c, value in u.items()) for u in unobserved)

    observed = [row for row in current if not unseen(row)]
    by_key = {key(row): row for row in observed}
    assert len(by_key) == len(observed)
    untouched = [r for r in history if r["valid_to"] is not None or unseen(r)]
    candidates = sorted(
        (r for r in history if r["valid_to"] is None and not unseen(r)),
        key=lambda r: (r["valid_from"], r["first_run_id"]),
    )
    latest = {key(r): r for r in candidates}  # the last of each key in that order
    live = [r for r in candidates if latest[key(r)] is r]
    old = [r for r in live if key(r) in by_key]
    news = [by_key[key(r)] for r in old]
    pairs = [(o, n, [c for c in TYPES if o[c] != n[c]]) for o, n in zip(old, news, strict=True)]
    matched = {key(o) for o in old}
    added = [r for r in observed if key(r) not in matched]
    removed = [r for r in live if key(r) not in by_key]
    closing = {"valid_to": at.observed_at}
    opening = {"valid_from": at.observed_at, "valid_to": None}
    opening |= {"first_run_id": at.run_id, "last_run_id": at.run_id}
    parts = [
        *untouched,
        *(o | {"last_run_id": at.run_id} for o, _, fields in pairs if not fields),
        *(o | closing for o, _, fields in pairs if fields),
        *(r | closing for r in removed),
        *(r | closing for r in candidates if latest[key(r)] is not r),
        *(n | opening for _, n, fields in pairs if fields),
        *(r | opening for r in added),
    ]
    order = sorted(
        parts, key=lambda r: (r["key"], r["part"] is None, r["part"] or "", r["valid_from"])
    )
    changes = [
        (n["key"], n["part"], field, text(o[field]), text(n[field]))
        for field in TYPES
        for o, n, fields in pairs
        if field in fields
    ]
    return order, added, removed, changes


def rows_of(frame: pd.DataFrame, columns: list[str]) -> list[dict]:
    return to_arrow(frame, THINGS, columns).to_pylist()


@settings(max_examples=150, deadline=None)
@given(
    history=histories(),
    current=st.dictionaries(KEYS, TRACKED_VALUES, max_size=6),
    unobserved=st.lists(
        st.one_of(
            KEYS.map(lambda k: {"key": k[0], "part": k[1]}), KEYS.map(lambda k: {"key": k[0]})
        ),
        max_size=2,
    ),
)
def test_a_run_does_what_the_rules_say_row_by_row(history, current, unobserved) -> None:
    observed = [{"key": k, "part": p, **values} for (k, p), values in current.items()]
    patterns = [pd.DataFrame([u]).astype(object) for u in unobserved]
    frame = conform(pd.DataFrame(history, columns=THINGS.names, dtype=object), THINGS)
    step = advance(frame, things(*observed), SPEC, RUN4, unobserved=patterns)
    order, added, removed, changes = plainly(history, observed, unobserved, RUN4)
    equal = [c for c in THINGS.names if c not in TYPES]  # values compared by equality below
    got = rows_of(step.history, THINGS.names)
    assert [{c: r[c] for c in equal} for r in got] == [{c: r[c] for c in equal} for r in order]
    assert all(
        (g[c] == w[c] and type(g[c]) is type(w[c])) if w[c] is not None else g[c] is None
        for g, w in zip(got, order, strict=True)
        for c in TYPES
    )
    assert rows_of(step.added, list(SPEC.columns)) == [
        {c: r[c] for c in THINGS.names if c in SPEC.columns} for r in added
    ]
    assert [
        (r["key"], r["part"], r["valid_from"]) for r in rows_of(step.removed, THINGS.names)
    ] == [(r["key"], r["part"], r["valid_from"]) for r in removed]
    assert [
        tuple(r)
        for r in step.changed[["key", "part", "field", "old_value", "new_value"]]
        .astype(object)
        .where(step.changed.notna(), None)
        .itertuples(index=False)
    ] == changes
