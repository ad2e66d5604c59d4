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

    # The parts of the next history: untouched, confirmed, closed (from ``history``) and
    # opened (from ``current``), sorted by key and start as one stable sort of them would.
    untouched, confirmed = np.flatnonzero(~is_open | frozen), old[~changed]
    closed = np.concatenate([old[changed], removed, superseded])
    opened = np.concatenate([new[changed], added])
    from_history = np.concatenate([untouched, confirmed, closed])
    interval = list(INTERVAL_COLUMNS)
    spans = history[interval]
    parts = [
        spans.iloc[untouched],
        spans.iloc[confirmed].assign(last_run_id=run.run_id),
        spans.iloc[closed].assign(valid_to=run.observed_at),
        pd.DataFrame(index=range(len(opened))).assign(
            valid_from=run.observed_at,
            valid_to=pd.NaT,  # type: ignore[arg-type]  # the stubs leave NaT out
            first_run_id=run.run_id,
            last_run_id=run.run_id,
        ),
    ]
    intervals = conform(pd.concat(parts, ignore_index=True), spec.table, interval)
    # Rows of the next history as positions in ``history`` followed by ``current``.
    rows = np.concatenate([from_history, len(history) + opened])
    sort_by = [*spec.key, "valid_from"]
    keys = pd.DataFrame({c: _taken(history, current, c, rows) for c in spec.key})
    order = keys.assign(valid_from=intervals["valid_from"]).sort_values(sort_by).index.to_numpy()
    taken = {c: keys[c].array.take(order) for c in spec.key}
    del keys  # one copy of the key columns at a time
    rows = rows[order]
    for c in spec.table.names:
        if c in INTERVAL_COLUMNS:
            taken[c] = intervals[c].array.take(order)
        elif c not in taken:
            taken[c] = _taken(history, current, c, rows)
    result = pd.DataFrame({c: taken.pop(c) for c in spec.table.names})
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
