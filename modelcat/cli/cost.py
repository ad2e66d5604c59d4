"""``modelcat cost``: what a request, or a month of them, costs, on the command line.

It prices through ``modelcat.api.cost`` (``cost()`` and ``rank_costs()``), which ask the
catalog's own ``request_cost`` / ``workload_costs`` macros, so the command, Python and SQL
always give the same exact answer.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from modelcat.api.cost import Cost, UnknownModel, cost, rank_costs
from modelcat.cli.terminal import api_notes, escape
from transforms.contract.vocabulary import TOKEN_METRICS, ExitCode, ServiceTier


class CostFormat(StrEnum):
    table = "table"
    json = "json"


class TierChoice(StrEnum):
    """``--service-tier``: a tier of the vocabulary (``ServiceTier``), or every tier."""

    standard = ServiceTier.STANDARD.value
    batch = ServiceTier.BATCH.value
    flex = ServiceTier.FLEX.value
    priority = ServiceTier.PRIORITY.value
    all = "all"


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
    service_tier: Annotated[
        TierChoice,
        typer.Option(
            "--service-tier",
            help="With --rank: the offers' service tier to rank ('all' for every tier); "
            "official prices are standard.",
        ),
    ] = TierChoice.standard,
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
        _fail("give a MODEL_ID, or --rank to rank every model", ExitCode.USAGE)
    if rank and (provider or region):
        _fail("--provider and --region price one offer: not with --rank", ExitCode.USAGE)
    if region is not None and provider is None:
        _fail("--region needs --provider", ExitCode.USAGE)
    if top is not None and not rank:
        _fail("--top needs --rank", ExitCode.USAGE)
    if service_tier is not TierChoice.standard and not (rank or model_id is None):
        _fail("--service-tier needs --rank (one offer's tier is its provider's)", ExitCode.USAGE)
    requests = 1 if requests_per_month is None else requests_per_month
    try:
        answer: Cost | list[Cost]
        with api_notes():  # an --as-of before the history begins: said on stderr
            if rank or model_id is None:
                answer = rank_costs(
                    input_tokens,
                    output_tokens=output_tokens,
                    cache_read_tokens=cache_read_tokens,
                    cache_write_tokens=cache_write_tokens,
                    requests=requests,
                    model_id=model_id,
                    top=top or 10,
                    service_tier=None if service_tier is TierChoice.all else service_tier.value,
                    as_of=as_of,
                    data_dir=data_dir,
                )
            else:
                answer = cost(
                    model_id,
                    input_tokens,
                    output_tokens=output_tokens,
                    cache_read_tokens=cache_read_tokens,
                    cache_write_tokens=cache_write_tokens,
                    provider=provider,
                    region=region,
                    requests=requests,
                    as_of=as_of,
                    data_dir=data_dir,
                )
    except (UnknownModel, FileNotFoundError, RuntimeError) as error:
        _fail(str(error), ExitCode.NOT_DONE)
    except ValueError as error:
        _fail(str(error), ExitCode.USAGE)
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


def _title(row: Cost) -> str:
    """The offer and its service tier, as rich markup."""
    return f"{_offer(row)} · {row.service_tier}"


def _print_cost(row: Cost, *, monthly: bool) -> None:
    out = Console(highlight=False, soft_wrap=True)
    per = f"per month ({row.requests:,} requests)" if monthly else "per request"
    out.print(f"[bold]{escape(row.model_id)}[/] · {_title(row)} · {per}")
    for kind in TOKEN_METRICS:
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
    table.add_column("service tier")
    for column in ("total", *TOKEN_METRICS):
        table.add_column(column, justify="right", overflow="fold")
    table.add_column("note", overflow="fold")
    for row in rows:
        notes = [row.reason or "", "exceeds context" if row.exceeds_context else ""]
        table.add_row(
            escape(row.model_id),
            _offer(row),
            row.service_tier,
            _usd(row.total_usd),
            *(_usd(getattr(row, f"{k}_usd")) for k in TOKEN_METRICS),
            escape("; ".join(n for n in notes if n)),
        )
    Console(width=max(120, Console().width)).print(table)
