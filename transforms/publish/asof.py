"""Point-in-time access, stored in the catalog file: ``models_as_of(ts)``,
``prices_as_of(ts)`` and ``offers_as_of(ts)`` answer from the history tables as the catalog
stood at a time ``ts``, and so do ``reference_models_as_of(ts)``,
``reference_prices_as_of(ts)`` and ``discrepancies_as_of(ts)``; ``utc_timestamp`` is how
they (and the cost macros) read it.

Each macro returns the columns of its current table less provenance
(``transforms.contract.PROVENANCE``), so at the current time it returns the current table,
but for the price cells the run could not read (history keeps the last price it read).

History's timestamps are naive UTC. DuckDB's cast of a TIMESTAMPTZ to TIMESTAMP gives the
wall time in the session's ``TimeZone``, and its cast of text with an offset to TIMESTAMP
drops the offset; so any value whose text ends in an offset goes through TIMESTAMPTZ to UTC.
"""

from __future__ import annotations

from transforms.contract.columns import Table
from transforms.contract.tables import (
    DISCREPANCIES,
    MODELS,
    OFFER_PRICE_METRICS,
    OFFICIAL_PRICES,
    PROVENANCE,
    PROVIDER_OFFERS,
    REFERENCE_MODELS,
    REFERENCE_PRICES,
)

# A time of day followed by a UTC offset (how a TIMESTAMPTZ prints, or text a user wrote).
_OFFSET = r"[0-9]:[0-9]{2}(:[0-9]{2}(\.[0-9]*)?)?\s*(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)$"


def utc_timestamp(expression: str) -> str:
    """SQL for ``expression`` (a TIMESTAMP, TIMESTAMPTZ, DATE or text) as a naive UTC time."""
    return (
        f"CASE WHEN regexp_matches(CAST({expression} AS VARCHAR), '{_OFFSET}') "
        f"THEN timezone('UTC', CAST(CAST({expression} AS VARCHAR) AS TIMESTAMPTZ)) "
        f"ELSE CAST({expression} AS TIMESTAMP) END"
    )


def _at(table: str = "") -> str:
    """Rows valid at ``ts``: ``valid_from`` inclusive, ``valid_to`` exclusive."""
    prefix = f"{table}." if table else ""
    at = utc_timestamp("ts")
    return f"{prefix}valid_from <= {at} AND ({prefix}valid_to IS NULL OR {prefix}valid_to > {at})"


def _columns(table: Table) -> str:
    """The columns of a current table that history holds (all but provenance), for SELECT."""
    return ", ".join(c for c in table.names if c not in PROVENANCE.get(table.name, ()))


_PRICE_COLUMNS = ", ".join(
    f"max(usd_per_mtok) FILTER (metric = '{metric}') AS {column}"
    for column, metric in OFFER_PRICE_METRICS.items()
)
_OFFER_COLUMNS = ", ".join(
    ("p." if c in OFFER_PRICE_METRICS else "o.") + c for c in PROVIDER_OFFERS.names
)
AS_OF_MACROS = (
    f"""CREATE MACRO models_as_of(ts) AS TABLE
        SELECT {_columns(MODELS)} FROM model_history WHERE {_at()}""",
    f"""CREATE MACRO prices_as_of(ts) AS TABLE
        SELECT {_columns(OFFICIAL_PRICES)}
        FROM price_history WHERE provider IS NULL AND {_at()}""",
    f"""CREATE MACRO offers_as_of(ts) AS TABLE
        WITH prices AS (
            SELECT model_id, provider, region, {_PRICE_COLUMNS}
            FROM price_history WHERE provider IS NOT NULL AND {_at()}
            GROUP BY ALL
        )
        SELECT {_OFFER_COLUMNS}
        FROM offer_history o LEFT JOIN prices p
          ON p.model_id = o.model_id AND p.provider = o.provider
         AND p.region IS NOT DISTINCT FROM o.region
        WHERE {_at("o")}""",
    f"""CREATE MACRO reference_models_as_of(ts) AS TABLE
        SELECT {_columns(REFERENCE_MODELS)} FROM reference_model_history WHERE {_at()}""",
    f"""CREATE MACRO reference_prices_as_of(ts) AS TABLE
        SELECT {_columns(REFERENCE_PRICES)} FROM reference_price_history WHERE {_at()}""",
    f"""CREATE MACRO discrepancies_as_of(ts) AS TABLE
        SELECT {_columns(DISCREPANCIES)} FROM discrepancy_history WHERE {_at()}""",
)
