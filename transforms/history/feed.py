"""The change feed: what each run found different from the run before.

Every history table reports its own changes (``change_rows``); the feed of a run keeps
them all but those that follow from a bigger one: a model added or removed brings its
offers and prices with it, an offer added or removed its prices.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from transforms.contract.casting import conform, empty
from transforms.contract.tables import CHANGES
from transforms.contract.vocabulary import ChangeKind
from transforms.history.compare import row_codes
from transforms.history.intervals import Observation

COLUMNS = tuple(c for c in CHANGES.names if c not in {"run_id", "observed_at"})
OFFER = ["model_id", "provider", "region"]
# Events that come with their model's (or offer's) arrival or departure.
ARRIVALS = [ChangeKind.OFFER_ADDED, ChangeKind.PRICE_ADDED]
DEPARTURES = [ChangeKind.OFFER_REMOVED, ChangeKind.PRICE_REMOVED]


def change_rows(rows: pd.DataFrame, kind: ChangeKind, **values: object) -> pd.DataFrame:
    """``rows`` as changes of ``kind``: the columns they share with the feed, then
    ``values`` (Series over ``rows`` or constants); the rest NULL."""
    if rows.empty:  # most tables, most runs: conforming no rows still casts through Arrow
        return empty(CHANGES)[list(COLUMNS)]
    columns = {c: rows[c] for c in COLUMNS if c in rows} | values
    frame = pd.DataFrame(columns, index=rows.index).assign(kind=str(kind))
    return conform(frame.reindex(columns=list(COLUMNS)), CHANGES, COLUMNS).reset_index(drop=True)


def upgrade(changes: pd.DataFrame) -> pd.DataFrame:
    """The feed as published before it named an official price's tier label, or the
    public catalog of a change."""
    for added in ("tier_label", "source"):
        if added not in changes:
            changes = changes.assign(**{added: None})
    return changes


def change_feed(
    previous: pd.DataFrame, found: Sequence[pd.DataFrame], run: Observation
) -> pd.DataFrame:
    """The feed so far plus this run's changes, less those that follow from bigger ones."""
    changes = pd.concat(found, ignore_index=True)
    kind = changes["kind"]
    nested = pd.Series(False, index=changes.index)
    for parent, children in (
        (ChangeKind.MODEL_ADDED, ARRIVALS),
        (ChangeKind.MODEL_REMOVED, DEPARTURES),
    ):
        moved = changes.loc[kind == parent, "model_id"]
        nested |= kind.isin(children) & changes["model_id"].isin(moved)
    for parent, child in (
        (ChangeKind.OFFER_ADDED, ChangeKind.PRICE_ADDED),
        (ChangeKind.OFFER_REMOVED, ChangeKind.PRICE_REMOVED),
    ):
        (codes,) = row_codes([changes], OFFER)
        offer_price = (kind == child) & changes["provider"].notna()
        nested |= offer_price & np.isin(codes, codes[(kind == parent).to_numpy(dtype=bool)])
    stamped = changes[~nested.to_numpy(dtype=bool)].assign(
        run_id=run.run_id, observed_at=run.observed_at
    )
    return conform(pd.concat([upgrade(previous), stamped], ignore_index=True), CHANGES)
