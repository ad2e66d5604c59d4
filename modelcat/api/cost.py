"""What a request, or a month of them, costs, from Python: ``cost()`` and ``rank_costs()``.

Both ask the catalog's own ``request_cost`` / ``workload_costs`` macros
(``transforms/publish/cost.py``), so SQL, the command line (``modelcat.cli.cost``) and
Python always give the same exact answer.
"""

from __future__ import annotations

import operator
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from modelcat.api import catalog
from transforms.contract.vocabulary import ServiceTier


class UnknownModel(LookupError):
    """No such model (or no such offer) in the catalog, or not at ``as_of``."""


@dataclass(frozen=True)
class Cost:
    """One row of ``workload_costs``: money exact (``Decimal``), NULL as ``None``."""

    model_id: str
    provider: str | None  # None: the model's official prices
    service_tier: str  # standard (official prices too), batch, flex or priority
    region: str | None
    tier_label: str | None
    tier_min_tokens: int | None
    tier_max_tokens: int | None
    requests: int
    input_usd: Decimal | None
    output_usd: Decimal | None
    cache_read_usd: Decimal | None
    cache_write_usd: Decimal | None
    total_usd: Decimal | None  # None when a used kind has no price, or no tier applies
    unpriced: tuple[str, ...]
    billed_as_input: tuple[str, ...]
    exceeds_context: bool | None
    context_window_tokens: int | None
    reason: str | None  # why total_usd is None


COLUMNS = tuple(f.name for f in fields(Cost))


@dataclass(frozen=True)
class Usage:
    """Token counts of one request; ``input_tokens`` includes the cached ones."""

    input_tokens: int
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    requests: int = 1


# Where the catalog is: a data directory, or a DuckDB connection open on one.
DataDirOrConnection = duckdb.DuckDBPyConnection | Path | str | None


def cost(
    model_id: str,
    input_tokens: int,
    *,
    output_tokens: int = 0,
    cache_read_tokens: int = 0,
    cache_write_tokens: int = 0,
    provider: str | None = None,
    region: str | None = None,
    requests: int = 1,
    as_of: str | date | datetime | None = None,
    data_dir: DataDirOrConnection = None,
) -> Cost:
    """What ``requests`` requests of this size cost on a model (or one provider's offer).

    ``data_dir`` is a data directory or an open DuckDB connection (default
    ``$MODELCAT_DATA_DIR`` or ``./data``). ``as_of`` prices as the catalog stood then (UTC
    unless it says otherwise).
    Counts are whole numbers from 0 (any integer type, numpy's too). Raises
    ``UnknownModel``, ``ValueError`` for impossible usage or time, ``TypeError`` for a count
    that is not a whole number (a bool, a float, text) or an id that is not text.
    """
    usage = _usage(input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, requests)
    _text("model_id", model_id)
    _text("provider", provider, optional=True)
    _text("region", region, optional=True)
    with _connection(data_dir) as con:
        rows = _request(con, model_id, usage, provider, as_of)
        if not rows:
            note = None if as_of is None else catalog.before_history(con, catalog.utc_time(as_of))
            raise UnknownModel(note or _unknown(con, model_id, usage, provider, as_of))
    if region is not None:
        rows = [row for row in rows if row.region == region]
    if len({row.provider for row in rows}) > 1:
        names = ", ".join(sorted({str(row.provider) for row in rows}))
        raise ValueError(f"providers {names} all match {provider!r}: name one exactly as written")
    if len(rows) > 1:
        regions = ", ".join(str(row.region or "—") for row in rows)
        raise ValueError(f"{provider} sells {model_id} in several regions ({regions}): pick one")
    if not rows:
        raise UnknownModel(f"{provider} does not sell {model_id} in region {region!r}")
    return rows[0]


def rank_costs(
    input_tokens: int,
    *,
    output_tokens: int = 0,
    cache_read_tokens: int = 0,
    cache_write_tokens: int = 0,
    requests: int = 1,
    model_id: str | None = None,
    top: int | None = None,
    service_tier: str | None = ServiceTier.STANDARD,
    as_of: str | date | datetime | None = None,
    data_dir: DataDirOrConnection = None,
) -> list[Cost]:
    """Every model's official prices and every offer (or one model's), cheapest first.

    Only offers of ``service_tier`` (default standard, as official prices are; ``None``: every
    tier), so batch discounts do not rank against standard prices. Rows whose request exceeds
    the context window come after those that fit, and unpriced rows (``total_usd`` None) last.
    ``top`` keeps the first ``top`` rows. Counts and ``top`` are checked as ``cost`` checks its
    counts.
    """
    usage = _usage(input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, requests)
    _text("model_id", model_id, optional=True)
    where, params = ("WHERE model_id = ?", [model_id]) if model_id is not None else ("", [])
    limit = "" if top is None else f"LIMIT {_count('top', top)}"
    with _connection(data_dir) as con:
        note = None if as_of is None else catalog.before_history(con, catalog.utc_time(as_of))
        rows = _rows(
            con,
            # A row whose request exceeds its context window is no way to send it: after
            # those that fit, before those without a total.
            f"FROM workload_costs({_ARGS}, service_tier := ?) {where} ORDER BY total_usd IS NULL, "
            "exceeds_context IS TRUE, total_usd, model_id, provider NULLS FIRST, "
            f"region NULLS FIRST {limit}",
            [*_usage_params(usage, as_of), _tier(service_tier), *params],
        )
        # A known model always has its official row, whatever the tier asked for.
        if model_id is not None and not rows and not _request(con, model_id, usage, None, as_of):
            raise UnknownModel(note or _unknown(con, model_id, usage, None, as_of))
    if note is not None:
        warnings.warn(note, catalog.BeforeHistory, stacklevel=2)
    return rows


_ARGS = (
    "?, output_tokens := ?, cache_read_tokens := ?, cache_write_tokens := ?, requests := ?, "
    "as_of := ?"
)


def _request(
    con: duckdb.DuckDBPyConnection,
    model_id: str,
    usage: Usage,
    provider: str | None,
    as_of: str | date | datetime | None,
) -> list[Cost]:
    return _rows(
        con,
        f"FROM request_cost(?, {_ARGS}, provider := ?) ORDER BY region NULLS FIRST",
        [model_id, *_usage_params(usage, as_of), provider],
    )


def _unknown(
    con: duckdb.DuckDBPyConnection,
    model_id: str,
    usage: Usage,
    provider: str | None,
    as_of: str | date | datetime | None,
) -> str:
    """Why nothing matched: which model or offer the catalog does not have."""
    when = "" if as_of is None else f" as of {as_of}"
    if provider is not None and _request(con, model_id, usage, None, as_of):
        sellers = _rows(
            con,
            f"FROM workload_costs({_ARGS}, service_tier := NULL) "
            "WHERE model_id = ? AND provider IS NOT NULL",
            [*_usage_params(usage, as_of), model_id],
        )
        names = ", ".join(sorted({row.provider or "" for row in sellers})) or "none"
        return f"no provider {provider!r} sells {model_id}{when} (providers: {names})"
    return f"no model {model_id!r} in the catalog{when}"


def _tier(service_tier: str | None) -> str | None:
    """The tier as the vocabulary spells it, or ``ValueError`` naming the tiers."""
    if service_tier is None:
        return None
    try:
        return ServiceTier(str(service_tier).lower()).value
    except ValueError:
        names = ", ".join(ServiceTier)
        raise ValueError(f"unknown service tier {service_tier!r} (one of: {names})") from None


# The macros count tokens in BIGINT: a larger count is impossible usage, said in our words.
_MOST_TOKENS = 2**63 - 1


def _usage(*counts: Any) -> Usage:
    """The counts of a request as a ``Usage``, each checked by ``_count``."""
    names = [f.name for f in fields(Usage)]
    return Usage(*(_count(name, count) for name, count in zip(names, counts, strict=True)))


def _count(name: str, value: Any) -> int:
    """A whole number from 0 to the macros' largest, as an ``int``: any integer type (numpy's
    too), never a bool, a float or text."""
    if isinstance(value, bool) or not hasattr(type(value), "__index__"):
        raise TypeError(f"{name} must be a whole number, not {type(value).__name__} {value!r}")
    count = operator.index(value)
    if count < 0:
        raise ValueError(f"impossible usage: {name} must be a whole number >= 0, got {count}")
    if count > _MOST_TOKENS:
        raise ValueError(f"impossible usage: {name} must be at most {_MOST_TOKENS}, got {count}")
    return count


def _text(name: str, value: Any, *, optional: bool = False) -> None:
    if not (isinstance(value, str) or (optional and value is None)):
        kind = "a str or None" if optional else "a str"
        raise TypeError(f"{name} must be {kind}, not {type(value).__name__} {value!r}")


def _usage_params(usage: Usage, as_of: str | date | datetime | None) -> list[Any]:
    """The macros' parameters; ``as_of`` read as ``modelcat.read`` reads it (UTC)."""
    return [*asdict(usage).values(), None if as_of is None else catalog.utc_time(as_of)]


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[Cost]:
    try:
        cursor = con.execute(sql, params)
    except (duckdb.InvalidInputException, duckdb.ConversionException) as error:
        raise ValueError(_message(error)) from None
    except duckdb.OutOfRangeException as error:
        raise ValueError(f"too large to price exactly in DECIMAL(38,15): {error}") from None
    except duckdb.CatalogException as error:
        raise RuntimeError(
            f"this catalog has no cost macros ({_message(error)}): "
            "run `modelcat rebuild` to republish it with them"
        ) from None
    names = [d[0] for d in cursor.description]
    return [_cost(dict(zip(names, row, strict=True))) for row in cursor.fetchall()]


def _cost(row: dict[str, Any]) -> Cost:
    """A macro's row as a ``Cost``: lists (the kinds it names) as tuples."""
    values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in row.items()}
    return Cost(**values)


def _message(error: duckdb.Error) -> str:
    return str(error).split("Error: ", 1)[-1].strip()


@contextmanager
def _connection(data_dir: DataDirOrConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    if isinstance(data_dir, duckdb.DuckDBPyConnection):
        yield data_dir
        return
    con = catalog.open(data_dir, external_access=False)  # raises CatalogNotFound
    try:
        yield con
    finally:
        con.close()
