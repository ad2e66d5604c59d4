"""Model history: every version of every model's attributes, listings and delistings.

A version is the whole row of attributes (``TRACKED``): what the page says, NULL where it
shows no value. An attribute the page shows but the run could not read (unparseable, or
two different values; the quality issue says which) is NULL in the current table, but it is
no news: the model's interval is left as it was, neither confirmed nor closed, and no
change is reported. If another attribute did change, the new version keeps the last value
read for the unread one. A model carried forward (its page failed for a passing reason) was
not observed: its interval stays as it was. A model keeps the start of its listing across versions;
when it leaves the site its last version closes and records ``delisted_at``, and if it
comes back a new listing starts.
"""

from __future__ import annotations

import pandas as pd

from transforms.contract.casting import conform
from transforms.contract.tables import MODEL_HISTORY
from transforms.contract.vocabulary import ChangeKind
from transforms.history import compare
from transforms.history.feed import change_rows
from transforms.history.intervals import INTERVAL_COLUMNS, Observation, Versioned, advance, subject
from transforms.history.observed import Observed

KEY = subject(MODEL_HISTORY)
LISTING = ("listed_from", "delisted_at")
TRACKED = tuple(c for c in MODEL_HISTORY.names if c not in {*KEY, *LISTING, *INTERVAL_COLUMNS})
SPEC = Versioned(MODEL_HISTORY, KEY, TRACKED, carried=LISTING)


def advance_models(
    history: pd.DataFrame, observed: Observed, run: Observation
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The next model history, and its changes (model added, removed, attribute changed)."""
    history = conform(history, MODEL_HISTORY)
    listing = (
        history[history["valid_to"].isna()]
        .sort_values("valid_from")
        .drop_duplicates("model_id", keep="last")
        .set_index("model_id")["listed_from"]
    )
    listed_from = observed.models["model_id"].map(listing).astype(object)
    current = observed.models.assign(
        listed_from=listed_from.where(listed_from.notna(), run.observed_at), delisted_at=None
    )
    current, unchanged = _last_read(history, current, observed.unread_attributes)
    step = advance(history, current, SPEC, run, unobserved=[observed.carried_models, unchanged])
    result = step.history
    delisted = result["model_id"].isin(step.removed["model_id"]) & (
        result["valid_to"] == run.observed_at
    ).fillna(False)
    result.loc[delisted.to_numpy(dtype=bool), "delisted_at"] = run.observed_at
    changes = pd.concat(
        [
            change_rows(step.added, ChangeKind.MODEL_ADDED),
            change_rows(step.removed, ChangeKind.MODEL_REMOVED),
            change_rows(step.changed, ChangeKind.ATTRIBUTE_CHANGED),
        ],
        ignore_index=True,
    )
    return conform(result, MODEL_HISTORY), changes


# An attribute read from another: unread with it.
DERIVED = {"provider_family": ("provider_family_key",)}


def _last_read(
    history: pd.DataFrame, current: pd.DataFrame, unread: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``current`` with each unread attribute of a model holding an open version set to the
    value that version holds (the last one read), and the models (one column, model_id)
    whose every other attribute agrees with their open version: nothing was read that
    differs, so their interval is left untouched."""
    unread = unread[unread["field"].isin(TRACKED)]
    no_news = current.iloc[:0][["model_id"]]
    if not len(unread) or not len(current):
        return current, no_news
    open_versions = (
        history[history["valid_to"].isna()]
        .sort_values("valid_from")
        .drop_duplicates("model_id", keep="last")
        .set_index("model_id")
    )
    current = current.copy()
    touched = current["model_id"].isin(unread["model_id"]) & current["model_id"].isin(
        open_versions.index
    )
    for field, models in unread.groupby("field")["model_id"]:
        rows = touched & current["model_id"].isin(models)
        for column in (str(field), *DERIVED.get(str(field), ())):
            last = current["model_id"].map(open_versions[column])
            current[column] = current[column].where(~rows, last)
    candidates = current[touched]
    old = open_versions.loc[candidates["model_id"]]
    differs = pd.Series(False, index=candidates.index)
    for column in TRACKED:
        table_type = next(c.type for c in MODEL_HISTORY.columns if c.name == column)
        differs |= compare.differs(old[column], candidates[column], table_type)
    return conform(current, MODEL_HISTORY, SPEC.columns), candidates.loc[~differs, ["model_id"]]
