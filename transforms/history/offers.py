"""Offer history: each provider offer's attributes (its prices are in price history).

An offer is keyed by model, provider and region; a new key is ``offer_added``, a key gone is
``offer_removed`` and a changed attribute ``attribute_changed`` (with the provider and
region). Unlike a model's, an offer attribute the run could not read still versions as NULL
(its quality issue does not name the offer); the offers of a model carried forward are left
as they were.
"""

from __future__ import annotations

import pandas as pd

from transforms.build import normalize as n
from transforms.contract.casting import conform
from transforms.contract.tables import OFFER_HISTORY
from transforms.contract.vocabulary import ChangeKind
from transforms.history.feed import change_rows
from transforms.history.intervals import Observation, Versioned, advance, subject
from transforms.history.observed import Observed

KEY = subject(OFFER_HISTORY)
TRACKED = ("provider_key", "service_tier", "context_window_tokens", "max_output_tokens")
SPEC = Versioned(OFFER_HISTORY, KEY, TRACKED)


def upgrade(history: pd.DataFrame) -> pd.DataFrame:
    """Offer history as published before provider_key or service_tier was tracked: derive
    them the way the offers table does, so upgrading reports no change."""
    provider = history["provider"].astype(n.STRING)
    if "provider_key" not in history:
        history = history.assign(provider_key=n.slug(provider))
    if "service_tier" not in history:
        history = history.assign(service_tier=n.service_tier(provider))
    return history


def advance_offers(
    history: pd.DataFrame, observed: Observed, run: Observation
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The next offer history, and its changes (offer added, removed, attribute changed)."""
    history = conform(upgrade(history), OFFER_HISTORY)
    step = advance(
        history, observed.provider_offers, SPEC, run, unobserved=[observed.carried_models]
    )
    changes = pd.concat(
        [
            change_rows(step.added, ChangeKind.OFFER_ADDED),
            change_rows(step.removed, ChangeKind.OFFER_REMOVED),
            change_rows(step.changed, ChangeKind.ATTRIBUTE_CHANGED),
        ],
        ignore_index=True,
    )
    return step.history, changes
