"""The data contract: every published table, its columns, types, units and meaning.

This package is the single source of truth. Publishing casts frames to these Arrow types,
validation checks them with pandera (``transforms.build.validation``), the catalog carries the
descriptions as column comments, the Parquet files as field and schema metadata, each
snapshot's ``datapackage.json`` as a Frictionless Table Schema, and a test keeps the
README's data contract in step with it.

- ``columns``: how a table is declared (``Column``, ``Table``), the types and patterns
  columns share;
- ``current``, ``run``, ``history``: the tables of each layer, declared;
- ``casting``: frames to the contract's Arrow types and back, and each type in DuckDB;
- ``readme``: the README's contract block (``python -m transforms.contract``, ``make docs``).

Code outside the package imports every name from here but the README's block, which is
``transforms.contract.readme``'s (it reads ``TABLES``, so this module cannot import it).
``TABLES`` is the order the contract is published in: the README's, ``datapackage.json``'s.
"""

from __future__ import annotations

from transforms.contract.casting import (
    conform,
    describe,
    empty,
    pandas_dtype,
    sql_type,
    to_arrow,
    to_frame,
)
from transforms.contract.columns import (
    COUNTS,
    DESCRIPTION,
    METRIC,
    SHA256,
    SLUG,
    TEXT_LIST,
    TS,
    USD,
    Column,
    Table,
    never_negative,
)
from transforms.contract.current_tables import (
    MODELS,
    OFFER_PRICE_METRICS,
    OFFICIAL_PRICES,
    PROVENANCE,
    PROVIDER_OFFERS,
    UNREAD_PRICES,
)
from transforms.contract.history_tables import CHANGES, MODEL_HISTORY, OFFER_HISTORY, PRICE_HISTORY
from transforms.contract.run_tables import (
    PAGE_VALUES,
    PAGE_VALUES_SCHEMA,
    PAGES,
    QUALITY_ISSUES,
    RUNS,
)

__all__ = [
    "CHANGES",
    "COUNTS",
    "DESCRIPTION",
    "HISTORY_TABLES",
    "LATER_TABLES",
    "METRIC",
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
    "RUNS",
    "SHA256",
    "SLUG",
    "TABLES",
    "TEXT_LIST",
    "TS",
    "UNREAD_PRICES",
    "USD",
    "Column",
    "Table",
    "conform",
    "describe",
    "empty",
    "never_negative",
    "pandas_dtype",
    "sql_type",
    "to_arrow",
    "to_frame",
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
    )
}
HISTORY_TABLES = ("model_history", "price_history", "offer_history", "changes")
# Tables added after the first release: a snapshot published before them lacks their file,
# and whoever reads it takes them as empty (a data directory is never made invalid by an
# upgrade).
LATER_TABLES = frozenset({"unread_prices"})
