"""The interval mechanism every history table shares.

A history table holds one row per value and validity interval: ``valid_from`` inclusive,
``valid_to`` exclusive, NULL ``valid_to`` while the value is current. Its ``key`` says what
a row is about and its ``tracked`` columns what it says. A run advances it with the rows it
observed:

- same key, same tracked values: the interval stays open and ``last_run_id`` moves on;
- same key, a tracked value differs: the interval closes at the run's ``observed_at`` and a
  new one opens at that instant, so the intervals of one key meet without gaps;
- a key the run no longer saw closes; a new key opens;
- rows the run could not observe (``unobserved``) keep their intervals exactly as they
  were: not confirmed, not closed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum

import numpy as np
import pandas as pd
from pandas.api.extensions import ExtensionArray

from transforms.contract.casting import STRING, conform
from transforms.contract.columns import Table
from transforms.history.compare import as_text, differs, last_of_each, positions, row_codes

INTERVAL_COLUMNS = ("valid_from", "valid_to", "first_run_id", "last_run_id")


def subject(table: Table) -> tuple[str, ...]:
    """What a history table's row is about: its contract's key without the interval's start."""
    return tuple(c for c in table.key if c != "valid_from")


CHANGE_COLUMNS = ("field", "old_value", "new_value")


@dataclass(frozen=True)
class Observation:
    """The run that observes: its id and when it started (UTC, naive)."""

    run_id: str
    observed_at: datetime


@dataclass(frozen=True)
class Versioned:
    """How one history table versions its rows."""

    table: Table
    key: tuple[str, ...]  # what a row is about: one open interval per key at most
    tracked: tuple[str, ...]  # what it says: any change opens a new interval
    carried: tuple[str, ...] = ()  # rides along with an interval without defining it

    @property
    def columns(self) -> list[str]:
        return [*self.key, *self.tracked, *self.carried]


class Fate(IntEnum):
    """What a run does to a row of the next history."""

    UNTOUCHED = 0  # closed before, or not observed: kept as it was
    CONFIRMED = 1  # observed unchanged: its last_run_id moves on
    CLOSED = 2  # changed, removed or superseded: its valid_to is the run's
    OPENED = 3  # a new interval, from the observed row


@dataclass(frozen=True)
class Advanced:
    """A history table after one run, and what the run found different."""

    history: pd.DataFrame  # sorted by key and valid_from
    added: pd.DataFrame  # current rows of keys with no open interval before
    removed: pd.DataFrame  # the open intervals of keys the run no longer saw
    changed: pd.DataFrame  # key columns + field, old_value, new_value: one row per change


def advance(
    history: pd.DataFrame,
    current: pd.DataFrame,
    spec: Versioned,
    run: Observation,
    unobserved: Sequence[pd.DataFrame] = (),
) -> Advanced:
    """Advance ``history`` with the ``current`` rows a run observed.

    Each frame of ``unobserved`` holds some of the key columns: an open interval or current
    row that agrees with one of its rows on those columns was not observed by this run.
    """
    history = conform(history, spec.table).reset_index(drop=True)
    current = conform(current, spec.table, spec.columns).reset_index(drop=True)
    # Rows are handled by their positions, and the result is taken from the two frames
    # a column at a time: frames of the rows matched, closed and opened would each hold
    # their columns again (at 50,000 models, the open price intervals are ~120 MB).
    is_open = history["valid_to"].isna().to_numpy(dtype=bool)
    frozen = is_open & _matches(history, unobserved)
    kept = np.flatnonzero(~_matches(current, unobserved))  # the rows observed

    # Versions before this one could leave two intervals of one key open: the latest stands.
    open_ones = history.loc[is_open & ~frozen, ["valid_from", "first_run_id"]]
    candidates = open_ones.sort_values(["valid_from", "first_run_id"]).index.to_numpy()
    history_codes, current_codes = row_codes([history, current], spec.key)
    candidate_codes, observed_codes = history_codes[candidates], current_codes[kept]
    latest = last_of_each(candidate_codes)
    live, superseded = candidates[latest], candidates[~latest]
    if not last_of_each(observed_codes).all():
        raise ValueError(f"{spec.table.name}: two observed rows share a key {spec.key}")

    # Where each open interval's key is among the observed rows, if it is.
    position = positions(candidate_codes[latest], observed_codes)
    matched = position >= 0
    old, new = live[matched], kept[position[matched]]
    seen = np.zeros(len(kept), dtype=bool)
    seen[position[matched]] = True
    removed, added = live[~matched], kept[~seen]
    changes = {
        c: differs(history[c].iloc[old], current[c].iloc[new], _type(spec, c)) for c in spec.tracked
    }
    changed = np.logical_or.reduce([*changes.values(), np.zeros(len(old), dtype=bool)])

    # The next history's rows, as positions in ``history`` followed by ``current``, and
    # what the run does to each. They are put in order by key (the codes sort as the key
    # does) and start, and each column is then taken once, in that order.
    parts = {
        Fate.UNTOUCHED: np.flatnonzero(~is_open | frozen),
        Fate.CONFIRMED: old[~changed],
        Fate.CLOSED: np.concatenate([old[changed], removed, superseded]),
        Fate.OPENED: len(history) + np.concatenate([new[changed], added]),
    }
    rows = np.concatenate(list(parts.values()))
    fates = np.repeat(np.array(list(parts), dtype=np.int8), [len(p) for p in parts.values()])
    starts = _interval_column(history, "valid_from", rows, fates, run)
    order = np.lexsort(
        (
            starts.to_numpy(dtype="datetime64[us]", na_value=np.datetime64("NaT")),
            np.concatenate([history_codes, current_codes])[rows],
        )
    )
    rows, fates = rows[order], fates[order]
    result = pd.DataFrame(
        {
            c: _interval_column(history, c, rows, fates, run)
            if c in INTERVAL_COLUMNS
            else _taken(history, current, c, rows)
            for c in spec.table.names
        }
    )
    return Advanced(
        history=conform(result, spec.table),
        added=current.iloc[added].reset_index(drop=True),
        removed=history.iloc[removed].reset_index(drop=True),
        changed=_changes(
            history.iloc[old[changed]],
            current.iloc[new[changed]],
            {c: mask[changed] for c, mask in changes.items()},
            spec,
        ),
    )


def _interval_column(
    history: pd.DataFrame, column: str, rows: np.ndarray, fates: np.ndarray, run: Observation
) -> ExtensionArray:
    """An interval column of the next history at ``rows``: the old row's value, or the
    run's where its ``fate`` sets one (an opened row's end is NULL)."""
    sets, value = {
        "valid_from": ({Fate.OPENED}, run.observed_at),
        "valid_to": ({Fate.CLOSED}, run.observed_at),
        "first_run_id": ({Fate.OPENED}, run.run_id),
        "last_run_id": ({Fate.CONFIRMED, Fate.OPENED}, run.run_id),
    }[column]
    at = np.where(fates == Fate.OPENED, -1, rows)  # an opened row has no old row
    at[np.isin(fates, list(sets))] = len(history)  # where the run's value goes
    old = history[column]
    both = pd.concat([old, pd.Series([value], dtype=old.dtype)], ignore_index=True)
    return both.array.take(at, allow_fill=True)


def _taken(
    history: pd.DataFrame, current: pd.DataFrame, column: str, rows: np.ndarray
) -> ExtensionArray:
    """``column`` at ``rows``: positions in ``history`` followed by those in ``current``."""
    return pd.concat([history[column], current[column]], ignore_index=True).array.take(rows)


def _matches(frame: pd.DataFrame, patterns: Sequence[pd.DataFrame]) -> np.ndarray:
    """Rows of ``frame`` that agree with some row of a pattern on the pattern's columns."""
    found = np.zeros(len(frame), dtype=bool)
    for pattern in patterns:
        if len(pattern) and len(frame):
            codes, value_set = row_codes([frame, pattern], list(pattern.columns))
            found |= np.isin(codes, value_set)
    return found


def _changes(
    old: pd.DataFrame, new: pd.DataFrame, changes: dict[str, np.ndarray], spec: Versioned
) -> pd.DataFrame:
    """One row per changed value: the key, the field, the value before and after as text."""
    rows = [
        new.loc[mask, list(spec.key)].assign(
            field=field,
            # Arrays, not Series: old and new rows are matched by position, not by index.
            old_value=pd.array(as_text(old.loc[mask, field], _type(spec, field)), dtype=STRING),
            new_value=pd.array(as_text(new.loc[mask, field], _type(spec, field)), dtype=STRING),
        )
        for field, mask in changes.items()
        if mask.any()
    ]
    if not rows:
        return new.iloc[:0][list(spec.key)].assign(field=None, old_value=None, new_value=None)
    return pd.concat(rows, ignore_index=True)


def _type(spec: Versioned, column: str):
    return next(c.type for c in spec.table.columns if c.name == column)
