"""History: what the catalog said, and since when, across runs.

A run advances the history tables of the previous snapshot with what it observed:

- ``intervals``: the interval mechanism they share (open, confirm, close, meet);
- ``compare``: how values are compared and written as change-feed text;
- ``models``, ``prices``, ``offers``: model_history, price_history, offer_history;
- ``references``: the public catalogs' values and the discrepancies, as history;
- ``feed``: the change feed of the run;
- ``observed``: the typed input, the run's current tables and what it could not observe.

Values a run could not observe (a model carried forward, a price cell or a model attribute
it could not read) keep their intervals untouched.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from transforms.history.feed import change_feed
from transforms.history.intervals import Observation
from transforms.history.models import advance_models
from transforms.history.observed import Observed
from transforms.history.offers import advance_offers
from transforms.history.prices import advance_prices
from transforms.history.references import advance_references

__all__ = ["Observation", "Observed", "advance_catalog"]


def advance_catalog(
    previous: Mapping[str, pd.DataFrame],
    tables: Mapping[str, pd.DataFrame],
    run: Observation,
    carried_models: Iterable[str],
    unread_attributes: Iterable[tuple[str, str]] = (),
    unavailable_references: Iterable[str] = (),
) -> dict[str, pd.DataFrame]:
    """Every history table and the change feed after ``run``.

    ``previous`` holds the last snapshot's history tables (empty on the first run; any
    version this project published loads), ``tables`` the run's validated current tables
    and its reference tables, ``unread_attributes`` the (model_id, models column) the pages
    show but the run could not read, ``unavailable_references`` the catalogs it could not
    read.
    """
    observed = Observed.of(tables, carried_models, unread_attributes)
    model_history, model_changes = advance_models(previous["model_history"], observed, run)
    price_history, price_changes = advance_prices(previous["price_history"], observed, run)
    offer_history, offer_changes = advance_offers(previous["offer_history"], observed, run)
    references, reference_changes = advance_references(
        previous, tables, unavailable_references, run
    )
    changes = change_feed(
        previous["changes"],
        [model_changes, offer_changes, price_changes, *reference_changes],
        run,
    )
    return {
        "model_history": model_history,
        "price_history": price_history,
        "offer_history": offer_history,
        "changes": changes,
        **references,
    }
