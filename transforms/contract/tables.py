"""Every table the catalog publishes, in the order the contract lists them (``TABLES``: the
README's order, ``datapackage.json``'s), and the groups code asks about.

The tables are declared by layer in ``current_tables``, ``run_tables`` and
``history_tables``; this module names them all.
"""

from __future__ import annotations

from transforms.contract.columns import Table
from transforms.contract.current_tables import (
    MODELS,
    OFFER_PRICE_METRICS,
    OFFICIAL_PRICES,
    PROVENANCE,
    PROVIDER_OFFERS,
    UNREAD_PRICES,
)
from transforms.contract.history_tables import (
    CHANGES,
    DISCREPANCY_HISTORY,
    MODEL_HISTORY,
    OFFER_HISTORY,
    PRICE_HISTORY,
    REFERENCE_MODEL_HISTORY,
    REFERENCE_PRICE_HISTORY,
)
from transforms.contract.reference_tables import DISCREPANCIES, REFERENCE_MODELS, REFERENCE_PRICES
from transforms.contract.run_tables import (
    PAGE_VALUES,
    PAGE_VALUES_SCHEMA,
    PAGES,
    QUALITY_ISSUES,
    RUNS,
)

# Each table is declared in its layer's module; code names them from here.
__all__ = [
    "CHANGES",
    "DISCREPANCIES",
    "DISCREPANCY_HISTORY",
    "HISTORY_TABLES",
    "LATER_TABLES",
    "MODELS",
    "MODEL_HISTORY",
    "OFFER_HISTORY",
    "OFFER_PRICE_METRICS",
    "OFFICIAL_PRICES",
    "PAGES",
    "PAGE_VALUES",
    "PAGE_VALUES_SCHEMA",
    "PRICE_HISTORY",
    "PROVENANCE",
    "PROVIDER_OFFERS",
    "QUALITY_ISSUES",
    "REFERENCE_HISTORY_TABLES",
    "REFERENCE_MODELS",
    "REFERENCE_MODEL_HISTORY",
    "REFERENCE_PRICES",
    "REFERENCE_PRICE_HISTORY",
    "REFERENCE_TABLES",
    "RUNS",
    "TABLES",
    "UNREAD_PRICES",
]

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        MODELS,
        OFFICIAL_PRICES,
        PROVIDER_OFFERS,
        PAGES,
        QUALITY_ISSUES,
        UNREAD_PRICES,
        PAGE_VALUES,
        RUNS,
        MODEL_HISTORY,
        PRICE_HISTORY,
        OFFER_HISTORY,
        CHANGES,
        REFERENCE_MODELS,
        REFERENCE_PRICES,
        DISCREPANCIES,
        REFERENCE_MODEL_HISTORY,
        REFERENCE_PRICE_HISTORY,
        DISCREPANCY_HISTORY,
    )
}
REFERENCE_TABLES = ("reference_models", "reference_prices", "discrepancies")
REFERENCE_HISTORY_TABLES = (
    "reference_model_history",
    "reference_price_history",
    "discrepancy_history",
)
HISTORY_TABLES = (
    "model_history",
    "price_history",
    "offer_history",
    "changes",
    *REFERENCE_HISTORY_TABLES,
)
# Tables added after the first release: a snapshot published before them lacks their file,
# and whoever reads it takes them as empty (a data directory is never made invalid by an
# upgrade).
LATER_TABLES = frozenset({"unread_prices", *REFERENCE_TABLES, *REFERENCE_HISTORY_TABLES})
