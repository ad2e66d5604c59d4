"""The ``modelcat`` command line: refresh the catalog, query it, export it."""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import duckdb
import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table

from transforms.layout import DataDir

# The crawler and transforms (Scrapy, pandas, pandera) load only for refresh and rebuild,
# so the commands analysts run many times a day start in a fraction of the time.
if TYPE_CHECKING:
    from crawler.items import PageItem
    from modelcat.refresh import RunSummary

EXIT_PUBLISHED = 0
EXIT_NOT_PUBLISHED = 1
EXIT_LOCKED = 3

app = typer.Typer(
    help="modelcat: a crawled, exact catalog of LLM models, prices and provider offers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)

DataDirOption = Annotated[
    Path,
    typer.Option(
        "--data-dir",
        envvar="MODELCAT_DATA_DIR",
        help="Where the catalog lives (env MODELCAT_DATA_DIR).",
        file_okay=False,
    ),
]


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


class ExportFormat(StrEnum):
    csv = "csv"
    jsonl = "jsonl"
    parquet = "parquet"


@app.command(name="refresh")
def refresh_command(
    start_url: Annotated[
        list[str] | None,
        typer.Option("--start-url", help="Index URL to start from; repeatable."),
    ] = None,
    data_dir: DataDirOption = Path("data"),
    delay: Annotated[
        float | None,
        typer.Option(
            help="Seconds between requests to a host (default: polite, with AutoThrottle)."
        ),
    ] = None,
    concurrency: Annotated[
        int | None, typer.Option(min=1, help="Requests in flight (default: polite).")
    ] = None,
    setting: Annotated[
        list[str] | None,
        typer.Option("--set", "-s", help="Any Scrapy setting, NAME=VALUE; repeatable."),
    ] = None,
    allow_shrink: Annotated[
        bool,
        typer.Option(help="Publish even if the run lost over 25% of the previous models."),
    ] = False,
    keep: Annotated[
        int | None,
        typer.Option(min=1, help="Keep raw pages and snapshots of the last N runs only."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the summary.")] = False,
) -> None:
    """Crawl the mirror, build the catalog and publish it (Parquet + DuckDB).

    Exits 0 when a catalog was published, 1 when nothing was (the previous catalog is kept),
    3 when another refresh holds the data directory.
    """
    from modelcat.refresh import CrawlOptions, RefreshLocked, refresh

    options = CrawlOptions(
        start_urls=list(start_url or CrawlOptions().start_urls),
        delay=delay,
        concurrency=concurrency,
        settings=dict(_name_value(s) for s in setting or []),
    )
    progress = _Progress(enabled=not quiet and err.is_terminal)
    try:
        with progress:
            summary = refresh(
                DataDir(data_dir), options, progress.page, allow_shrink=allow_shrink, keep=keep
            )
    except RefreshLocked as locked:
        err.print(f"[red]refresh refused:[/] {locked}")
        raise typer.Exit(EXIT_LOCKED) from None
    _print_summary(summary, data_dir)
    raise typer.Exit(EXIT_PUBLISHED if summary.status == "published" else EXIT_NOT_PUBLISHED)


def _name_value(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise typer.BadParameter(f"expected NAME=VALUE, got {text!r}", param_hint="--set")
    return name.strip(), value.strip()


@app.command(name="rebuild")
def rebuild_command(
    run: Annotated[
        str | None,
        typer.Option(help="First run to re-derive (default: the latest published run)."),
    ] = None,
    data_dir: DataDirOption = Path("data"),
) -> None:
    """Re-run the transforms on archived pages, without the network; republish.

    Re-derives RUN and every later published run, in order, so a parser fix reaches them.
    """
    from modelcat.refresh import RefreshLocked, rebuild

    try:
        summaries = rebuild(DataDir(data_dir), run)
    except RefreshLocked as locked:
        err.print(f"[red]rebuild refused:[/] {locked}")
        raise typer.Exit(EXIT_LOCKED) from None
    except ValueError as error:
        err.print(f"[red]rebuild refused:[/] {error}")
        raise typer.Exit(EXIT_NOT_PUBLISHED) from None
    for summary in summaries:
        _print_summary(summary, data_dir)
    published = summaries and all(s.status == "published" for s in summaries)
    raise typer.Exit(EXIT_PUBLISHED if published else EXIT_NOT_PUBLISHED)


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="SQL to run against the catalog.")],
    data_dir: DataDirOption = Path("data"),
    output: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.table,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Answer as the catalog stood at this UTC time (e.g. 2026-03-01): models, "
            "official_prices and provider_offers then come from the history tables.",
        ),
    ] = None,
) -> None:
    """Run a read-only SQL query against the catalog."""
    with _open_catalog(data_dir) as con:
        if as_of is not None:
            _travel(con, as_of)
        try:
            cursor = con.execute(query)
        except duckdb.Error as error:
            err.print(f"[red]query failed:[/] {error}")
            raise typer.Exit(1) from None
        if cursor.description is None:
            return
        columns = [d[0] for d in cursor.description]
        _emit(columns, cursor.fetchall(), output)


@app.command()
def export(
    table: Annotated[str, typer.Argument(help="Table to export, e.g. models.")],
    output: Annotated[ExportFormat, typer.Option("--format", "-f")],
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write.", dir_okay=False)],
    data_dir: DataDirOption = Path("data"),
) -> None:
    """Export one table to CSV, JSON Lines or Parquet. Prices stay exact in every format."""
    with _open_catalog(data_dir, external_access=True) as con:
        tables = {
            row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()
        }
        if table not in tables:
            err.print(f"[red]no table {table!r}[/]; tables: {', '.join(sorted(tables))}")
            raise typer.Exit(2)
        described = con.execute(f'DESCRIBE "{table}"').fetchall()
        # JSON has no decimal type and most readers parse numbers as floats: send text.
        select = ", ".join(
            f'CAST("{name}" AS VARCHAR) AS "{name}"'
            if output is ExportFormat.jsonl and kind.startswith("DECIMAL")
            else f'"{name}"'
            for name, kind, *_ in described
        )
        options = {
            ExportFormat.csv: "FORMAT csv, HEADER true",
            ExportFormat.jsonl: "FORMAT json",
            ExportFormat.parquet: "FORMAT parquet, COMPRESSION zstd",
        }[output]
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(f".{out.name}.partial")
        target = str(partial).replace("'", "''")
        con.execute(f"COPY (SELECT {select} FROM \"{table}\") TO '{target}' ({options})")
        os.replace(partial, out)
        count = con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
    err.print(f"wrote {count} rows of {table} to {out}")


@app.command()
def quality(
    run: Annotated[str | None, typer.Option(help="Run id (default: the published run).")] = None,
    data_dir: DataDirOption = Path("data"),
    output: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.table,
) -> None:
    """List the quality issues a run found: unreadable values, contradictions, rejects."""
    with _open_catalog(data_dir) as con:
        run_id = (
            run
            or con.execute("SELECT max(run_id) FROM runs WHERE status = 'published'").fetchone()[0]
        )
        cursor = con.execute(
            "SELECT kind, model_id, field, raw_value, problem, page_url FROM quality_issues "
            "WHERE run_id = ? ORDER BY kind, model_id, field",
            [run_id],
        )
        _emit([d[0] for d in cursor.description], cursor.fetchall(), output)


@app.command()
def changes(
    since: Annotated[
        str | None,
        typer.Option(help="A run id, or a date/time (UTC): changes after it. Default: all."),
    ] = None,
    data_dir: DataDirOption = Path("data"),
    output: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.table,
) -> None:
    """What changed between runs: models added and removed, prices and attributes changed."""
    where, params = "", []
    if since is not None:
        # Run ids are UTC timestamps like 20261126T053411123Z and sort as they run.
        if since[:8].isdigit() and "T" in since and since.endswith("Z"):
            where, params = "WHERE run_id > ?", [since]
        else:
            where, params = "WHERE observed_at >= CAST(? AS TIMESTAMP)", [since]
    with _open_catalog(data_dir) as con:
        cursor = con.execute(
            "SELECT observed_at, run_id, kind, model_id, provider, region, field, tier_label, "
            "tier_min_tokens, "
            f"old_value, new_value FROM changes {where} "
            "ORDER BY observed_at, kind, model_id, provider, field",
            params,
        )
        _emit([d[0] for d in cursor.description], cursor.fetchall(), output)


def _travel(con: duckdb.DuckDBPyConnection, as_of: str) -> None:
    """Shadow the current tables with their state at ``as_of`` (temporary views)."""
    try:
        con.execute("SELECT CAST(? AS TIMESTAMP)", [as_of])
    except duckdb.Error:
        err.print(f"[red]--as-of {as_of!r} is not a date or time[/]")
        raise typer.Exit(2) from None
    literal = "'" + as_of.replace("'", "''") + "'"
    for view, macro in (
        ("models", "models_as_of"),
        ("official_prices", "prices_as_of"),
        ("provider_offers", "offers_as_of"),
    ):
        con.execute(f"CREATE TEMP VIEW {view} AS SELECT * FROM {macro}({literal})")


def _open_catalog(data_dir: Path, *, external_access: bool = False) -> duckdb.DuckDBPyConnection:
    catalog = DataDir(data_dir).catalog
    if not catalog.exists():
        err.print(f"[red]no catalog at {catalog}[/]; run `modelcat refresh` first")
        raise typer.Exit(1)
    config = {} if external_access else {"enable_external_access": "false"}
    return duckdb.connect(str(catalog), read_only=True, config=config)


def _plain(value: Any) -> Any:
    """A value for CSV/JSON: exact decimals as text, dates as ISO 8601."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _emit(columns: Sequence[str], rows: Iterable[Sequence[Any]], output: OutputFormat) -> None:
    if output is OutputFormat.json:
        records = [dict(zip(columns, map(_plain, row), strict=True)) for row in rows]
        json.dump(records, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    elif output is OutputFormat.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(
                json.dumps(v) if isinstance(v, list) else ("" if v is None else _plain(v))
                for v in map(_plain, row)
            )
    else:
        table = Table(show_lines=False)
        for column in columns:
            table.add_column(column, overflow="fold")  # wrap, never cut a value short
        for row in rows:
            table.add_row(*("" if v is None else str(_plain(v)) for v in row))
        Console(width=max(120, Console().width)).print(table)


class _Progress:
    """A live line on a terminal while the crawl runs; silent otherwise."""

    def __init__(self, *, enabled: bool) -> None:
        self.counts: dict[str, int] = {}
        self.live = Live(console=err, refresh_per_second=8, transient=True) if enabled else None

    def page(self, item: PageItem) -> None:
        self.counts[item.outcome] = self.counts.get(item.outcome, 0) + 1
        if self.live is not None:
            done = sum(self.counts.values())
            parts = ", ".join(f"{n} {o}" for o, n in sorted(self.counts.items()))
            self.live.update(f"crawling: {done} pages ({parts})")

    def __enter__(self) -> _Progress:
        if self.live is not None:
            self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.__exit__(None, None, None)


def _print_summary(summary: RunSummary, data_dir: Path) -> None:
    out = Console()
    style = {"published": "green", "refused": "yellow"}.get(summary.status, "red")
    out.print(f"[bold]run {summary.run_id}[/]: [{style}]{summary.status}[/]")
    if summary.message:
        out.print(f"  {summary.message}")
    outcomes = ", ".join(f"{n} {o}" for o, n in sorted(summary.pages_by_outcome.items()))
    out.print(
        f"  pages: {summary.pages_seen} seen, {summary.pages_fetched} fetched, "
        f"{summary.pages_retried} retried ({outcomes})"
    )
    out.print(
        f"  models: {summary.models_published} published, {summary.official_prices} official "
        f"prices, {summary.provider_offers} provider offers"
    )
    issues = ", ".join(f"{n} {k}" for k, n in sorted(summary.quality_issues_by_kind.items()))
    out.print(
        f"  quality issues: {sum(summary.quality_issues_by_kind.values())} ({issues or 'none'})"
    )
    for page in summary.failed_pages[:20]:
        out.print(f"  [red]{page['outcome']}[/] {page['url']}: {page['error']}")
    if len(summary.failed_pages) > 20:
        out.print(f"  … and {len(summary.failed_pages) - 20} more: SELECT * FROM pages")
    if summary.models_carried_forward:
        out.print(
            f"  {summary.models_carried_forward} models carried forward from the previous "
            "catalog: their pages failed this time"
        )
    if summary.status == "published":
        changed = ", ".join(f"{n} {k}" for k, n in sorted(summary.changes_by_kind.items()))
        out.print(f"  changes: {sum(summary.changes_by_kind.values())} ({changed or 'none'})")
    timing = ", ".join(f"{stage} {seconds:.1f}s" for stage, seconds in summary.seconds.items())
    out.print(f"  time: {timing}")
    if summary.status == "published":
        out.print(f"  catalog: {DataDir(data_dir).catalog}")


if __name__ == "__main__":
    app()
