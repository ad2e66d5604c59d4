"""Model history: every version of every model's attributes, listings and delistings.

A version is the whole row of attributes (``TRACKED``): what the page says, NULL where it
shows no value or one the run could not read (the quality issue says which). Copying an old
value into a new version would claim this run read it, so an unreadable attribute versions
as NULL. A model carried forward (its page failed for a passing reason) was not observed:
its interval stays as it was. A model keeps the start of its listing across versions;
when it leaves the site its last version closes and records ``delisted_at``, and if it
comes back a new listing starts.
"""

from __future__ import annotations

import pandas as pd

from transforms.contract.casting import conform
from transforms.contract.tables import MODEL_HISTORY
from transforms.contract.vocabulary import ChangeKind
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
    step = advance(history, current, SPEC, run, unobserved=[observed.carried_models])
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
