"""Reference history: what the public catalogs said of each model, and each discrepancy,
with the interval it held (``reference_model_history``, ``reference_price_history``,
``discrepancy_history``), and their changes for the feed.

A catalog that could not be read this run is unobserved: its intervals stay as they were
(never closed, never reported removed). A discrepancy is observed whenever the run builds
it, carried reference values or not: it opens and closes with either side.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from transforms.contract.casting import STRING, conform, empty
from transforms.contract.columns import Table
from transforms.contract.tables import (
    DISCREPANCIES,
    DISCREPANCY_HISTORY,
    REFERENCE_MODEL_HISTORY,
    REFERENCE_MODELS,
    REFERENCE_PRICE_HISTORY,
    REFERENCE_PRICES,
)
from transforms.contract.vocabulary import ChangeKind, TableName
from transforms.history.feed import change_rows
from transforms.history.intervals import Observation, Versioned, advance, subject

LIMITS = ("context_window_tokens", "max_output_tokens")


def _spec(table: Table, *, tracked_from: Iterable[str]) -> Versioned:
    key = subject(table)
    interval = {"valid_from", "valid_to", "first_run_id", "last_run_id"}
    tracked = tuple(c for c in tracked_from if c not in key and c not in interval)
    return Versioned(table, key, tracked)


MODEL_SPEC = _spec(REFERENCE_MODEL_HISTORY, tracked_from=REFERENCE_MODEL_HISTORY.names)
PRICE_SPEC = _spec(REFERENCE_PRICE_HISTORY, tracked_from=REFERENCE_PRICE_HISTORY.names)
DISCREPANCY_SPEC = _spec(DISCREPANCY_HISTORY, tracked_from=DISCREPANCY_HISTORY.names)


def advance_references(
    previous: Mapping[str, pd.DataFrame],
    tables: Mapping[str, pd.DataFrame],
    unavailable: Iterable[str],
    run: Observation,
) -> tuple[dict[str, pd.DataFrame], list[pd.DataFrame]]:
    """The three reference history tables after ``run``, and their changes for the feed:
    ``reference_changed`` (a linked entry's price or limit), ``discrepancy_opened`` and
    ``discrepancy_closed``."""
    unobserved = [pd.DataFrame({"source": pd.array(sorted(unavailable), dtype=STRING)})]
    models = advance(
        conform(previous[TableName.REFERENCE_MODEL_HISTORY], REFERENCE_MODEL_HISTORY),
        _table(tables, REFERENCE_MODELS),
        MODEL_SPEC,
        run,
        unobserved,
    )
    prices = advance(
        conform(previous[TableName.REFERENCE_PRICE_HISTORY], REFERENCE_PRICE_HISTORY),
        _table(tables, REFERENCE_PRICES),
        PRICE_SPEC,
        run,
        unobserved,
    )
    discrepancies = advance(
        conform(previous[TableName.DISCREPANCY_HISTORY], DISCREPANCY_HISTORY),
        _table(tables, DISCREPANCIES),
        DISCREPANCY_SPEC,
        run,
    )
    limit_changes = models.changed[
        models.changed["field"].isin(LIMITS) & models.changed["model_id"].notna()
    ]
    price_changes = prices.changed[
        (prices.changed["field"] == "usd_per_mtok") & prices.changed["model_id"].notna()
    ]
    changes = [
        change_rows(limit_changes, ChangeKind.REFERENCE_CHANGED, provider=None),
        change_rows(
            price_changes,
            ChangeKind.REFERENCE_CHANGED,
            provider=None,
            field=price_changes["metric"],
        ),
        _discrepancy_rows(discrepancies.added, ChangeKind.DISCREPANCY_OPENED),
        _discrepancy_rows(discrepancies.removed, ChangeKind.DISCREPANCY_CLOSED),
    ]
    histories: dict[str, pd.DataFrame] = {
        TableName.REFERENCE_MODEL_HISTORY: models.history,
        TableName.REFERENCE_PRICE_HISTORY: prices.history,
        TableName.DISCREPANCY_HISTORY: discrepancies.history,
    }
    return histories, changes


def _table(tables: Mapping[str, pd.DataFrame], table: Table) -> pd.DataFrame:
    """A reference table of the run; empty when it has none (it fetched no catalog)."""
    return tables[table.name] if table.name in tables else empty(table)


def _discrepancy_rows(rows: pd.DataFrame, kind: ChangeKind) -> pd.DataFrame:
    """A discrepancy as a change: our value before the arrow, the catalog's after."""
    return change_rows(rows, kind, old_value=rows["our_value"], new_value=rows["source_value"])
