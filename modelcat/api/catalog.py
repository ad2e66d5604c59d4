"""The Python API: the catalog from a notebook or a script.

    import modelcat
    con = modelcat.open("data")                  # a read-only DuckDB connection
    models = modelcat.read("models")             # any table, as a pandas DataFrame
    then = modelcat.read("official_prices", as_of="2026-03-01")

Each ``open`` reads the catalog file as it is at that moment. DuckDB keeps one database
instance per file path in a process, so a second ``duckdb.connect(path)`` made while a
first is still open is served by the first one's instance: after a refresh replaced the
file it still sees the old catalog. ``open`` avoids that cache (a private in-memory
instance that attaches the file), so a notebook that holds an old connection and opens
a new one sees the new catalog in the new one; the old one keeps the version it opened.
"""

from __future__ import annotations

import os
import warnings
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import duckdb

from transforms.contract.layout import DataDir

if TYPE_CHECKING:
    import pandas as pd

DATA_DIR_ENV = "MODELCAT_DATA_DIR"
SCHEMA = "modelcat"  # the attached catalog's name: modelcat.models is models
# The tables whose past the history can answer, and the macro that does.
AS_OF_MACROS = {
    "models": "models_as_of",
    "official_prices": "prices_as_of",
    "provider_offers": "offers_as_of",
    "reference_models": "reference_models_as_of",
    "reference_prices": "reference_prices_as_of",
    "discrepancies": "discrepancies_as_of",
}


class CatalogNotFound(FileNotFoundError):
    """No catalog has been published in this data directory."""


class TimeOutOfRange(ValueError):
    """A time that is valid ISO 8601 but falls outside years 1 to 9999 in UTC."""


class BeforeHistory(UserWarning):
    """An as-of time before the catalog's history begins: nothing was recorded then, so
    every answer is empty. Warned, not raised: the empty answer is the true one."""


def data_dir_path(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """``data_dir``, else ``$MODELCAT_DATA_DIR``, else ``./data``."""
    return Path(data_dir if data_dir is not None else os.environ.get(DATA_DIR_ENV, "data"))


def open(  # modelcat.open, like the builtin, opens something to read
    data_dir: str | os.PathLike[str] | None = None, *, external_access: bool = True
) -> duckdb.DuckDBPyConnection:
    """A read-only DuckDB connection to the catalog in ``data_dir``.

    ``external_access=False`` also forbids files, extensions and the network (what
    ``modelcat sql`` runs with). Raises ``CatalogNotFound``.
    """
    catalog = DataDir(data_dir_path(data_dir)).catalog_file
    if not catalog.is_file():
        raise CatalogNotFound(f"no catalog at {catalog}; run `modelcat refresh` first")
    con = duckdb.connect(":memory:")
    path = str(catalog.resolve()).replace("'", "''")
    con.execute(f"ATTACH '{path}' AS {SCHEMA} (READ_ONLY)")
    con.execute(f"USE {SCHEMA}")
    if not external_access:
        # No files, extensions or network, and settings locked: a query can neither write a
        # file (logs, profiles) nor switch on what DuckDB aborts on (file logging with file
        # access off ended the process with SIGABRT).
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    return con


def tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The catalog's tables, sorted."""
    rows = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = ? ORDER BY 1", [SCHEMA]
    ).fetchall()
    return [row[0] for row in rows]


def read(
    table: str,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    as_of: str | date | datetime | None = None,
    decimals: Literal["exact", "float"] = "exact",
) -> pd.DataFrame:
    """One table as a pandas DataFrame in exact types: decimals stay Arrow decimals
    (``Decimal`` values), never floats; integers and booleans nullable.

    ``as_of`` (models, official_prices, provider_offers, reference_models,
    reference_prices, discrepancies): the table as the catalog stood at that time, from the
    history tables. A time without an offset is UTC.
    ``decimals="float"``: money as ``float64`` instead, for exploring (``describe()``, plots)
    where the nearest binary float will do; never for sums that must add up to the cent.
    """
    if decimals not in ("exact", "float"):
        raise ValueError(f"decimals must be 'exact' or 'float', not {decimals!r}")
    with open(data_dir) as con:
        known = tables(con)
        if table not in known:
            raise ValueError(f"no table {table!r}; tables: {', '.join(known)}")
        if as_of is None:
            relation = con.sql(f'SELECT * FROM "{table}"')
        elif table in AS_OF_MACROS:
            moment = utc_time(as_of)
            warn_before_history(con, moment)
            relation = con.sql(
                f"SELECT * FROM {AS_OF_MACROS[table]}(TIMESTAMP '{moment.isoformat(sep=' ')}')"
            )
        else:
            raise ValueError(
                f"as_of applies to {', '.join(AS_OF_MACROS)}; {table} is not a current table"
            )
        arrow = relation.to_arrow_table()
    from transforms.contract.casting import to_frame  # pandas loads only when a table is read

    frame = to_frame(arrow)
    if decimals == "float":
        import pyarrow as pa

        for field in arrow.schema:
            if pa.types.is_decimal(field.type):
                frame[field.name] = frame[field.name].astype("float64")
    return frame


def history_begins(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """When the catalog's history begins: the start of its first published run, when its
    first values were seen (None: no history yet)."""
    ((begins,),) = con.execute("SELECT min(valid_from) FROM model_history").fetchall()
    return begins


def before_history(con: duckdb.DuckDBPyConnection, moment: datetime) -> str | None:
    """One line saying that ``moment`` (naive UTC) is before the history begins, or None."""
    begins = history_begins(con)
    if begins is None or moment >= begins:
        return None
    return (
        f"as of {iso_utc(moment)} the catalog knows nothing: its history begins at "
        f"{iso_utc(begins)}, its first run"
    )


def warn_before_history(con: duckdb.DuckDBPyConnection, moment: datetime) -> None:
    """Warn (``BeforeHistory``) when ``moment`` is before the history begins."""
    note = before_history(con, moment)
    if note is not None:
        warnings.warn(note, BeforeHistory, stacklevel=3)


def iso_utc(moment: datetime) -> str:
    """A naive UTC time as ISO 8601 with ``Z``, as every output writes it."""
    return moment.isoformat() + "Z"


def utc_time(moment: str | date | datetime) -> datetime:
    """A moment as a naive UTC datetime (how the catalog stores times).

    Text is ISO 8601: ``2026-03-01``, ``2026-03-01T12:00``, ``2026-03-01 12:00:00Z``,
    ``2026-03-01T13:00+01:00``. A time with an offset is converted to UTC; one without is
    UTC already; a date is its midnight, UTC. Raises ``ValueError`` for other text or a
    time outside years 1 to 9999 in UTC (``TimeOutOfRange``), ``TypeError`` for another type.
    """
    given = moment
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment.strip())
        except ValueError:
            raise ValueError(
                f"{moment!r} is not an ISO 8601 date or time "
                "(e.g. 2026-03-01, 2026-03-01T12:00:00Z, 2026-03-01 13:00+01:00)"
            ) from None
    elif not isinstance(moment, date):  # datetime is a date too
        raise TypeError(f"a time is a str, date or datetime, not {type(moment).__name__}")
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day)
    if moment.tzinfo is not None:
        try:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
        except OverflowError:  # 0001-01-01T00:00+01:00 is before year 1 in UTC
            raise TimeOutOfRange(
                f"{given!s} is out of range: in UTC it falls outside years 1 to 9999"
            ) from None
    return moment
