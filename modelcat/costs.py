"""What a request, or a month of them, costs: ``modelcat cost`` and ``cost()`` for Python.

Both ask the catalog's own ``request_cost`` / ``workload_costs`` macros (``transforms/cost.py``),
so SQL, the command line and Python always give the same exact answer.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import duckdb
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from modelcat import api
from transforms.cost import KINDS

EXIT_ANSWERED = 0
EXIT_UNKNOWN = 1
EXIT_USAGE = 2


class UnknownModel(LookupError):
    """No such model (or no such offer) in the catalog, or not at ``as_of``."""


@dataclass(frozen=True)
class Cost:
    """One row of ``workload_costs``: money exact (``Decimal``), NULL as ``None``."""

    model_id: str
    provider: str | None  # None: the model's official prices
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
    Raises ``UnknownModel``, or ``ValueError`` for impossible usage.
    """
    usage = Usage(input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, requests)
    with _connection(data_dir) as con:
        rows = _request(con, model_id, usage, provider, as_of)
        if not rows:
            raise UnknownModel(_unknown(con, model_id, usage, provider, as_of))
    if region is not None:
        rows = [row for row in rows if row.region == region]
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
    as_of: str | date | datetime | None = None,
    data_dir: DataDirOrConnection = None,
) -> list[Cost]:
    """Every model's official prices and every offer (or one model's), cheapest first.

    Rows whose request exceeds the context window come after those that fit, and unpriced
    rows (``total_usd`` None) last. ``top`` keeps the first ``top`` rows.
    """
    usage = Usage(input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, requests)
    where, params = ("WHERE model_id = ?", [model_id]) if model_id is not None else ("", [])
    limit = "" if top is None else f"LIMIT {int(top)}"
    with _connection(data_dir) as con:
        rows = _rows(
            con,
            # A row whose request exceeds its context window is no way to send it: after
            # those that fit, before those without a total.
            f"FROM workload_costs({_ARGS}) {where} ORDER BY total_usd IS NULL, "
            "exceeds_context IS TRUE, total_usd, model_id, provider NULLS FIRST, "
            f"region NULLS FIRST {limit}",
            [*_usage_params(usage, as_of), *params],
        )
        if model_id is not None and not rows:
            raise UnknownModel(_unknown(con, model_id, usage, None, as_of))
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
            f"FROM workload_costs({_ARGS}) WHERE model_id = ? AND provider IS NOT NULL",
            [*_usage_params(usage, as_of), model_id],
        )
        names = ", ".join(sorted({row.provider or "" for row in sellers})) or "none"
        return f"no provider {provider!r} sells {model_id}{when} (providers: {names})"
    return f"no model {model_id!r} in the catalog{when}"


# The macros count tokens in BIGINT: a larger count is impossible usage, said in our words.
_MOST_TOKENS = 2**63 - 1


def _usage_params(usage: Usage, as_of: str | date | datetime | None) -> list[Any]:
    """The macros' parameters; ``as_of`` read as ``modelcat.read`` reads it (UTC)."""
    counts = asdict(usage)
    for name, count in counts.items():
        if isinstance(count, int) and count > _MOST_TOKENS:
            raise ValueError(
                f"impossible usage: {name} must be at most {_MOST_TOKENS}, got {count}"
            )
    return [*counts.values(), None if as_of is None else api.utc_time(as_of)]


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
    return [
        Cost(**{k: tuple(v) if isinstance(v, list) else v for k, v in zip(names, row, strict=True)})
        for row in cursor.fetchall()
    ]


def _message(error: duckdb.Error) -> str:
    return str(error).split("Error: ", 1)[-1].strip()


@contextmanager
def _connection(data_dir: DataDirOrConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    if isinstance(data_dir, duckdb.DuckDBPyConnection):
        yield data_dir
        return
    con = api.open(data_dir, external_access=False)  # raises CatalogNotFound
    try:
        yield con
    finally:
        con.close()


# --- The command ---------------------------------------------------------------------------


class CostFormat(StrEnum):
    table = "table"
    json = "json"


# Over 60 lines in one piece: a typer command's signature is its list of options.
def cost_command(
    input_tokens: Annotated[
        int, typer.Option(help="Prompt tokens per request, cached ones included.")
    ],
    model_id: Annotated[
        str | None, typer.Argument(help="The model to price (with --rank: rank its offers).")
    ] = None,
    output_tokens: Annotated[int, typer.Option(help="Output tokens per request.")] = 0,
    cache_read_tokens: Annotated[
        int, typer.Option(help="Of the input tokens, those read from the cache.")
    ] = 0,
    cache_write_tokens: Annotated[
        int, typer.Option(help="Of the input tokens, those written to the cache.")
    ] = 0,
    provider: Annotated[
        str | None, typer.Option(help="Price this provider's offer, not the official prices.")
    ] = None,
    region: Annotated[str | None, typer.Option(help="The offer's region, if several.")] = None,
    requests_per_month: Annotated[
        int | None, typer.Option(help="Price a month of this many such requests.")
    ] = None,
    rank: Annotated[
        bool, typer.Option("--rank", help="Rank every model and offer, cheapest first.")
    ] = False,
    top: Annotated[
        int | None, typer.Option(min=1, help="With --rank: how many rows [default: 10].")
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", help="Price as the catalog stood then (UTC unless it has an offset)."
        ),
    ] = None,
    data_dir: Annotated[
        Path,
        typer.Option(
            "--data-dir", envvar="MODELCAT_DATA_DIR", file_okay=False, help="Where the catalog is."
        ),
    ] = Path("data"),
    output: Annotated[CostFormat, typer.Option("--format", "-f")] = CostFormat.table,
) -> None:
    """What a request (or a month of them) costs, exactly, on a model or on every model.

    Exits 0 when answered (even if the total is unknown: see `reason`), 1 for an unknown
    model or provider, 2 for impossible usage or bad options.
    """
    if model_id is None and not rank:
        _fail("give a MODEL_ID, or --rank to rank every model", EXIT_USAGE)
    if rank and (provider or region):
        _fail("--provider and --region price one offer: not with --rank", EXIT_USAGE)
    if region is not None and provider is None:
        _fail("--region needs --provider", EXIT_USAGE)
    if top is not None and not rank:
        _fail("--top needs --rank", EXIT_USAGE)
    usage = {
        "output_tokens": output_tokens,
        "cache_read_tokens": cache_read_tokens,
        "cache_write_tokens": cache_write_tokens,
        "requests": 1 if requests_per_month is None else requests_per_month,
        "as_of": as_of,
        "data_dir": data_dir,
    }
    try:
        if rank:
            answer: Cost | list[Cost] = rank_costs(
                input_tokens, model_id=model_id, top=top or 10, **usage
            )
        else:
            answer = cost(model_id, input_tokens, provider=provider, region=region, **usage)
    except (UnknownModel, FileNotFoundError, RuntimeError) as error:
        _fail(str(error), EXIT_UNKNOWN)
    except ValueError as error:
        _fail(str(error), EXIT_USAGE)
    if output is CostFormat.json:
        _print_json(answer)
    elif isinstance(answer, list):
        _print_ranking(answer, monthly=requests_per_month is not None)
    else:
        _print_cost(answer, monthly=requests_per_month is not None)


def _fail(message: str, code: int) -> NoReturn:
    Console(stderr=True, soft_wrap=True).print(f"[red]cost:[/] {escape(message)}", highlight=False)
    raise typer.Exit(code)


def _print_json(answer: Cost | list[Cost]) -> None:
    def plain(row: Cost) -> dict[str, Any]:
        return {
            k: format(v, "f") if isinstance(v, Decimal) else list(v) if isinstance(v, tuple) else v
            for k, v in asdict(row).items()
        }

    records = [plain(r) for r in answer] if isinstance(answer, list) else plain(answer)
    json.dump(records, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def _usd(value: Decimal | None) -> str:
    """Exact dollars, trailing zeros trimmed (never rounded); blank when unknown."""
    return "" if value is None else "$" + format(value.normalize(), ",f")


def _offer(row: Cost) -> str:
    """Who sells at these prices, as rich markup (page text escaped)."""
    if row.provider is None:
        return f"official, tier {escape(row.tier_label)}" if row.tier_label else "official"
    return escape(row.provider + (f" ({row.region})" if row.region else ""))


def _print_cost(row: Cost, *, monthly: bool) -> None:
    out = Console(highlight=False, soft_wrap=True)
    per = f"per month ({row.requests:,} requests)" if monthly else "per request"
    out.print(f"[bold]{escape(row.model_id)}[/] · {_offer(row)} · {per}")
    for kind in KINDS:
        out.print(f"  {kind:<12} {_usd(getattr(row, f'{kind}_usd')) or 'unknown'}")
    out.print(f"  [bold]{'total':<12} {_usd(row.total_usd) or 'unknown'}[/]")
    if row.reason:
        out.print(f"  [yellow]no total:[/] {escape(row.reason)}")
    if row.billed_as_input:
        out.print(f"  billed as input (no price of their own): {', '.join(row.billed_as_input)}")
    if row.exceeds_context:
        out.print(
            f"  [yellow]the prompt exceeds the context window[/] ({row.context_window_tokens:,})"
        )


def _print_ranking(rows: list[Cost], *, monthly: bool) -> None:
    table = Table(title="USD per month" if monthly else "USD per request", title_justify="left")
    table.add_column("model_id", overflow="fold")
    table.add_column("offer", overflow="fold")
    for column in ("total", *KINDS):
        table.add_column(column, justify="right", overflow="fold")
    table.add_column("note", overflow="fold")
    for row in rows:
        notes = [row.reason or "", "exceeds context" if row.exceeds_context else ""]
        table.add_row(
            escape(row.model_id),
            _offer(row),
            _usd(row.total_usd),
            *(_usd(getattr(row, f"{k}_usd")) for k in KINDS),
            escape("; ".join(n for n in notes if n)),
        )
    Console(width=max(120, Console().width)).print(table)
