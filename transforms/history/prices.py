"""Price history: every price, official and per provider, with the interval it held.

A price is keyed by what it is the price of: model, provider and region (offers), tier
(official prices: the tier's label and its bounds) and metric. A tier is identified by its
label even when its bounds cannot be read (``Standard | Batch``); a relabelled tier is a
different tier, so its prices are removed and added again.

What the run observed decides each cell:
- a price: the interval holding it continues, or a new one opens (``price_added``,
  ``price_changed``);
- ``—`` or no such row any more: the interval closes (``price_removed``);
- a cell the page shows but the run could not read (``Observed.unread_prices``), or any
  price of a model carried forward: untouched, neither confirmed nor closed. Whatever
  bounds its tier has now, the open interval of that cell keeps the last price read.
"""

from __future__ import annotations

import pandas as pd

from transforms.contract.casting import conform
from transforms.contract.columns import USD
from transforms.contract.tables import OFFER_PRICE_METRICS, PRICE_HISTORY
from transforms.contract.vocabulary import ChangeKind
from transforms.history.compare import as_text
from transforms.history.feed import change_rows
from transforms.history.intervals import Observation, Versioned, advance, subject
from transforms.history.observed import Observed

KEY = subject(PRICE_HISTORY)  # the tier by its label and its bounds
CELL = ("model_id", "provider", "region", "tier_label", "metric")  # a cell, whatever its bounds
SPEC = Versioned(PRICE_HISTORY, KEY, tracked=("usd_per_mtok",))


def stated_prices(official: pd.DataFrame, offers: pd.DataFrame) -> pd.DataFrame:
    """Every price the current tables state, in price_history's columns: official prices
    (provider NULL) and each offer's prices (tier NULL); NULL prices left out."""
    rows = [official.assign(provider=None, region=None)]
    for column, metric in OFFER_PRICE_METRICS.items():
        rows.append(
            offers[["model_id", "provider", "region", column]]
            .rename(columns={column: "usd_per_mtok"})
            .assign(metric=metric, tier_label=None, tier_min_tokens=None, tier_max_tokens=None)
        )
    # Each part typed and rid of its NULL prices before they are put together: a column
    # of NULLs would otherwise make the whole column one of objects.
    typed = [
        conform(part[part["usd_per_mtok"].notna()], PRICE_HISTORY, SPEC.columns) for part in rows
    ]
    return conform(pd.concat(typed, ignore_index=True), PRICE_HISTORY, SPEC.columns)


def advance_prices(
    history: pd.DataFrame, observed: Observed, run: Observation
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The next price history, and its changes (price added, removed, changed)."""
    current = stated_prices(observed.official_prices, observed.provider_offers)
    unread = observed.unread_prices[list(CELL)]
    step = advance(history, current, SPEC, run, unobserved=[unread, observed.carried_models])
    changes = pd.concat(
        [
            change_rows(
                step.added,
                ChangeKind.PRICE_ADDED,
                field=step.added["metric"],
                new_value=as_text(step.added["usd_per_mtok"], USD),
            ),
            change_rows(
                step.removed,
                ChangeKind.PRICE_REMOVED,
                field=step.removed["metric"],
                old_value=as_text(step.removed["usd_per_mtok"], USD),
            ),
            change_rows(step.changed, ChangeKind.PRICE_CHANGED, field=step.changed["metric"]),
        ],
        ignore_index=True,
    )
    return step.history, changes
