"""The ``modelcat`` command line: refresh the catalog, query it, export it."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import duckdb
import typer
from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from transforms.layout import DataDir

# The crawler and transforms (Scrapy, pandas, pandera) load only for refresh and rebuild,
# so the commands analysts run many times a day start in a fraction of the time.
if TYPE_CHECKING:
    from crawler.items import PageItem
    from modelcat.runs import RunSummary

EXIT_PUBLISHED = 0
EXIT_NOT_PUBLISHED = 1
EXIT_USAGE = 2
EXIT_LOCKED = 3
EXIT_BROKEN_STATE = 4
# A stop signal exits 128 + its number, as the shell reports a process it killed.
EXIT_SIGINT = 130
UNCHANGED = "interrupted; the published catalog is unchanged"

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
    3 when another process holds the data directory, 4 when its local state is broken past
    repair, 130 / 143 when stopped by SIGINT / SIGTERM (nothing published).
    """
    settings = dict(_name_value(s) for s in setting or [])
    progress = _Progress(enabled=not quiet and err.is_terminal)
    with _run_errors("refresh", data_dir):
        from modelcat.refresh import CrawlOptions, refresh

        options = CrawlOptions(
            start_urls=list(start_url or CrawlOptions().start_urls),
            delay=delay,
            concurrency=concurrency,
            settings=settings,
        )
        with progress:
            summary = refresh(
                DataDir(data_dir), options, progress.page, allow_shrink=allow_shrink, keep=keep
            )
    _print_summary(summary, data_dir)
    raise typer.Exit(EXIT_PUBLISHED if summary.status == "published" else EXIT_NOT_PUBLISHED)


@contextmanager
def _run_errors(command: str, data_dir: Path) -> Iterator[None]:
    """How a refresh or rebuild that did not end normally is told, and its exit code."""
    try:
        from modelcat.interrupts import Interrupted
        from modelcat.refresh import RefreshLocked
        from transforms.publish import BrokenState, CatalogInUse

        yield
    except KeyboardInterrupt:  # before the run took over the signals: nothing had started
        _deaf()
        err.print(UNCHANGED)
        raise typer.Exit(EXIT_SIGINT) from None
    except Interrupted as interrupt:
        _deaf()
        if interrupt.summary is not None:
            _print_summary(interrupt.summary, data_dir)
        err.print(f"{UNCHANGED} ({interrupt.signal_name})")
        raise typer.Exit(interrupt.exit_code) from None
    except (RefreshLocked, CatalogInUse) as busy:
        err.print(f"[red]{command} refused:[/] {busy}", soft_wrap=True)
        raise typer.Exit(EXIT_LOCKED) from None
    except BrokenState as broken:
        err.print(f"[red]{command} refused:[/] {broken}", soft_wrap=True)
        raise typer.Exit(EXIT_BROKEN_STATE) from None


def _deaf() -> None:
    """Ignore stop signals from here to the exit: the run has stopped and is saying so.
    (Ignored, not handled: at exit Python resets handled signals to the default, which a
    second Ctrl-C would then kill with a code other than the one documented.)"""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)


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
    with _run_errors("rebuild", data_dir):
        from modelcat.refresh import rebuild

        try:
            summaries = rebuild(DataDir(data_dir), run)
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
    out: Annotated[
        Path,
        typer.Option(
            "--out", "-o", help="File to write, or - for standard output.", dir_okay=False
        ),
    ],
    data_dir: DataDirOption = Path("data"),
) -> None:
    """Export one table to CSV, JSON Lines or Parquet. Prices stay exact in every format.

    The file is written whole or not at all (a temporary file beside it, renamed over it).
    Refuses a path inside the data directory, or one that exists and is not a regular file.
    """
    to_stdout = str(out) == "-"
    target = None if to_stdout else _export_target(out, data_dir)
    if to_stdout and output is ExportFormat.parquet and sys.stdout.isatty():
        err.print("[red]Parquet is binary:[/] redirect standard output, or use --out FILE")
        raise typer.Exit(EXIT_USAGE)
    with _open_catalog(data_dir, external_access=True) as con:
        tables = {
            row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()
        }
        if table not in tables:
            err.print(f"[red]no table {table!r}[/]; tables: {', '.join(sorted(tables))}")
            raise typer.Exit(EXIT_USAGE)
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
        # A private directory beside the target (or a temporary one for standard output):
        # nobody else can plant a file or a link where the export is written.
        where = target.parent if target is not None else None
        with tempfile.TemporaryDirectory(dir=where, prefix=".modelcat-export-") as scratch:
            partial = Path(scratch) / f"{table}.{output}"
            literal = str(partial).replace("'", "''")
            con.execute(f"COPY (SELECT {select} FROM \"{table}\") TO '{literal}' ({options})")
            if target is not None:
                os.replace(partial, target)
            else:
                _to_stdout(partial)
        count = con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
    err.print(f"wrote {count} rows of {table} to {target or 'standard output'}")


def _export_target(out: Path, data_dir: Path) -> Path:
    """Where an export to ``out`` goes (symlinks resolved), if it may go there; exits 2 if
    that is inside the data directory or something other than a regular file."""
    target = out.expanduser().resolve()
    root = data_dir.expanduser().resolve()
    if target.is_relative_to(root):
        err.print(
            f"[red]refusing to write {out}:[/] it is inside the data directory {data_dir}, "
            "which only modelcat writes; export to a path outside it",
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_USAGE)
    if target.exists() and not target.is_file():
        err.print(
            f"[red]refusing to write over {out}:[/] it is not a regular file "
            "(for standard output, use --out -)",
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_USAGE)
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


def _to_stdout(path: Path) -> None:
    try:
        with path.open("rb") as source:
            shutil.copyfileobj(source, sys.stdout.buffer)
        sys.stdout.buffer.flush()
    except BrokenPipeError:  # the reader stopped early (| head): not an error worth a trace
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(1) from None


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
            "SELECT observed_at, run_id, kind, model_id, provider, field, tier_min_tokens, "
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
    for repaired in summary.recovered:
        out.print(f"  [yellow]recovered:[/] {escape(repaired)}")
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
    if summary.seconds:
        timing = ", ".join(f"{stage} {secs:.1f}s" for stage, secs in summary.seconds.items())
        out.print(f"  time: {timing}")
    if summary.status == "published":
        out.print(f"  catalog: {DataDir(data_dir).catalog}")


if __name__ == "__main__":
    app()
