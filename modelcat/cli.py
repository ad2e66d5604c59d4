"""The ``modelcat`` command line: refresh the catalog, query it, export it.

Results go to standard output, written by the one rule of ``modelcat.formats``; progress,
messages and errors go to standard error. Every error is one line and a documented exit
code (see ``main``), never a traceback.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import sys
import tempfile
import traceback
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import duckdb
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from modelcat import __version__, api, formats
from modelcat.costs import cost_command
from transforms.layout import DataDir
from transforms.vocabulary import RunStatus

# The crawler and transforms (Scrapy, pandas, pandera) load only for refresh and rebuild,
# so the commands analysts run many times a day start in a fraction of the time.
if TYPE_CHECKING:
    from modelcat.progress import RunProgress
    from modelcat.runs import RunSummary

EXIT_PUBLISHED = 0
EXIT_NOT_PUBLISHED = 1  # also: a query failed, or the catalog cannot answer
EXIT_USAGE = 2
EXIT_LOCKED = 3  # another process holds the data directory
EXIT_BROKEN_STATE = 4  # the data directory's state is broken past repair
# A stop signal exits 128 + its number, as the shell reports a process it killed: 130 for
# SIGINT (Ctrl-C), 143 for SIGTERM.
EXIT_INTERRUPTED = 130
UNCHANGED = "interrupted; the published catalog is unchanged"
DEBUG_ENV = "MODELCAT_DEBUG"  # set to 1 to see the traceback of an unexpected error
HEARTBEAT_SECONDS = 30.0
RUN_ID = re.compile(r"^\d{8}T\d{9}Z$")  # 20261126T053411123Z: UTC, sorts in run order

app = typer.Typer(
    help="modelcat: a crawled, exact catalog of LLM models, prices and provider offers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class _Console(Console):
    """A reader that stops early (``| head``) is not an error: the run goes on, silent
    on that stream (rich's default exits 1, which would stop a refresh mid-crawl)."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        _to_devnull(self.file)


# Off a terminal (a cron log, a pipe) lines are never wrapped: one line stays greppable.
results = _Console(soft_wrap=True)  # standard output: results and summaries
err = _Console(stderr=True, soft_wrap=True)  # standard error: progress, messages, errors

DataDirOption = Annotated[
    Path,
    typer.Option(
        "--data-dir",
        envvar=api.DATA_DIR_ENV,
        help="Where the catalog lives (env MODELCAT_DATA_DIR).",
        file_okay=False,
    ),
]


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    csv_excel = "csv-excel"  # UTF-8 with a byte order mark and CRLF, for spreadsheets
    json = "json"


class ExportFormat(StrEnum):
    csv = "csv"
    csv_excel = "csv-excel"
    jsonl = "jsonl"
    parquet = "parquet"


class UsageProblem(Exception):
    """Bad input that passed the option parser: one line, exit 2."""


def _version(value: bool) -> None:
    if value:
        results.print(f"modelcat {__version__}", markup=False, highlight=False)
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", is_eager=True, callback=_version, help="Print the version."),
    ] = False,
) -> None:
    """modelcat: a crawled, exact catalog of LLM models, prices and provider offers."""


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
        typer.Option(
            "--set",
            "-s",
            help="A crawl setting, NAME=VALUE; repeatable. Network, retry, politeness, "
            "timeout, size-cap and log-level settings only (see the README).",
        ),
    ] = None,
    allow_shrink: Annotated[
        bool,
        typer.Option(help="Publish even if the run lost over 25% of the previous models."),
    ] = False,
    keep: Annotated[
        int | None,
        typer.Option(min=1, help="Keep raw pages and snapshots of the last N runs only."),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress: print only the summary.")
    ] = False,
    heartbeat: Annotated[
        float,
        typer.Option(min=0, help="Off a terminal: seconds between progress lines (0: none)."),
    ] = HEARTBEAT_SECONDS,
) -> None:
    """Crawl the mirror, build the catalog and publish it (Parquet + DuckDB).

    Exits 0 when a catalog was published, 1 when nothing was (the previous catalog is kept),
    3 when another process holds the data directory, 4 when its local state is broken past
    repair, 130 / 143 when stopped by SIGINT / SIGTERM (nothing published).
    """
    # The first line shows at once; the crawler and transforms take seconds to import.
    with _run_errors("refresh", data_dir), _progress(quiet=quiet, heartbeat=heartbeat) as progress:
        from modelcat.crawl_settings import CrawlOptions
        from modelcat.refresh import refresh

        options = CrawlOptions(
            start_urls=list(start_url or CrawlOptions().start_urls),
            delay=delay,
            concurrency=concurrency,
            settings=dict(_name_value(s) for s in setting or []),
        )
        progress.crawling(options.start_urls)
        summary = refresh(
            DataDir(data_dir),
            options,
            progress.page,
            allow_shrink=allow_shrink,
            keep=keep,
            on_stage=progress.stage,
        )
    code = EXIT_PUBLISHED if summary.status == RunStatus.PUBLISHED else EXIT_NOT_PUBLISHED
    _print_summary(summary, data_dir)
    raise typer.Exit(code)


@contextmanager
def _run_errors(command: str, data_dir: Path) -> Iterator[None]:
    """How a refresh or rebuild that did not end normally is told, and its exit code."""
    from modelcat.interrupts import Interrupted  # signals only: the first line stays quick

    try:
        yield
    except KeyboardInterrupt:  # before the run took over the signals: nothing had started
        _deaf()
        err.print(UNCHANGED)
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except Interrupted as interrupt:
        _deaf()
        if interrupt.summary is not None:
            _print_summary(interrupt.summary, data_dir)
        err.print(f"{UNCHANGED} ({interrupt.signal_name})")
        raise typer.Exit(interrupt.exit_code) from None
    except Exception as error:
        # Raised by modules the run has imported already.
        from modelcat.lock import RefreshLocked
        from transforms.publish import BrokenState, CatalogInUse

        if isinstance(error, RefreshLocked | CatalogInUse):
            err.print(f"[red]{command} refused:[/] {_escape(str(error))}")
            raise typer.Exit(EXIT_LOCKED) from None
        if isinstance(error, BrokenState):
            err.print(f"[red]{command} refused:[/] {_escape(str(error))}")
            raise typer.Exit(EXIT_BROKEN_STATE) from None
        raise


def _deaf() -> None:
    """Ignore stop signals from here to the exit: the run has stopped and is saying so.
    (Ignored, not handled: at exit Python resets handled signals to the default, which a
    second Ctrl-C would then kill with a code other than the one documented.)"""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)


def _name_value(text: str) -> tuple[str, Any]:
    from modelcat.crawl_settings import user_setting

    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise typer.BadParameter(f"expected NAME=VALUE, got {text!r}", param_hint="--set")
    try:
        return name.strip(), user_setting(name.strip(), value.strip())
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--set") from None


def _progress(*, quiet: bool, heartbeat: float) -> RunProgress:
    from modelcat.progress import Mode, RunProgress

    mode = Mode.QUIET if quiet else Mode.LIVE if err.is_terminal else Mode.LINES
    return RunProgress(err, mode, heartbeat=heartbeat)


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
        from modelcat.rebuild import rebuild

        try:
            summaries = rebuild(DataDir(data_dir), run)
        except ValueError as error:
            err.print(f"[red]rebuild refused:[/] {_escape(str(error))}")
            raise typer.Exit(EXIT_NOT_PUBLISHED) from None
    published = summaries and all(s.status == RunStatus.PUBLISHED for s in summaries)
    for summary in summaries:
        _print_summary(summary, data_dir, rebuilt=True)
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
            help="Answer as the catalog stood at this time (ISO 8601; UTC unless it has an "
            "offset, e.g. 2026-03-01): models, official_prices and provider_offers then come "
            "from the history tables.",
        ),
    ] = None,
) -> None:
    """Run read-only SQL against the catalog. Several statements: each result in turn
    (table format only)."""
    with _open_catalog(data_dir) as con:
        if as_of is not None:
            _travel(con, as_of)
        try:
            statements = [s.query for s in con.extract_statements(query)]
        except duckdb.Error as error:
            _fail(f"query failed: {error}")
        if not statements:
            raise UsageProblem("sql: no statement given")
        if len(statements) > 1 and output is not OutputFormat.table:
            raise UsageProblem(
                f"--format {output} writes one result: give one statement (got "
                f"{len(statements)}), or use --format table"
            )
        for statement in statements:
            try:
                cursor = con.execute(statement)
            except duckdb.Error as error:
                _fail(f"query failed: {error}")
            if cursor.description is not None:
                _emit([d[0] for d in cursor.description], _rows(cursor), output)


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
        raise UsageProblem("export: Parquet is binary: redirect standard output, or use --out FILE")
    with _open_catalog(data_dir, external_access=True) as con:
        tables = api.tables(con)
        if table not in tables:
            err.print(f"[red]no table {table!r}[/]; tables: {', '.join(tables)}")
            raise typer.Exit(EXIT_USAGE)
        # A private directory beside the target (or a temporary one for standard output):
        # nobody else can plant a file or a link where the export is written.
        where = target.parent if target is not None else None
        with tempfile.TemporaryDirectory(dir=where, prefix=".modelcat-export-") as scratch:
            partial = Path(scratch) / f"{table}.{output}"
            if output is ExportFormat.parquet:
                literal = str(partial).replace("'", "''")
                con.execute(f"COPY \"{table}\" TO '{literal}' (FORMAT parquet, COMPRESSION zstd)")
            else:
                _write_text_export(con, table, output, partial)
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
        raise UsageProblem(
            f"export: refusing to write {out}: it is inside the data directory {data_dir}, "
            "which only modelcat writes; export to a path outside it"
        )
    if target.exists() and not target.is_file():
        raise UsageProblem(
            f"export: refusing to write over {out}: it is not a regular file "
            "(for standard output, use --out -)"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


def _to_stdout(path: Path) -> None:
    with _results(), path.open("rb") as source:
        shutil.copyfileobj(source, sys.stdout.buffer)
        sys.stdout.buffer.flush()


def _write_text_export(
    con: duckdb.DuckDBPyConnection, table: str, output: ExportFormat, path: Path
) -> None:
    """CSV or JSON Lines by the same rule as every other text output."""
    cursor = con.execute(f'SELECT * FROM "{table}"')
    columns = [d[0] for d in cursor.description]
    with path.open("w", encoding="utf-8", newline="") as handle:
        if output is ExportFormat.jsonl:
            formats.write_jsonl(columns, _rows(cursor), handle)
        else:
            excel = output is ExportFormat.csv_excel
            formats.write_csv(columns, _rows(cursor), handle, excel=excel)


@app.command()
def quality(
    run: Annotated[str | None, typer.Option(help="Run id (default: the published run).")] = None,
    data_dir: DataDirOption = Path("data"),
    output: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.table,
) -> None:
    """List the quality issues a run found: unreadable values, contradictions, rejects."""
    with _open_catalog(data_dir) as con:
        runs = dict(con.execute("SELECT run_id, status FROM runs ORDER BY run_id").fetchall())
        # The catalog's own run: the last one published before it was built.
        current = max((r for r, s in runs.items() if s == RunStatus.PUBLISHED), default=None)
        if run is not None and run not in runs:
            raise UsageProblem(f"quality: no run {run!r} in the catalog; runs: {_some(runs)}")
        run_id = run or current
        if run_id != current:
            _fail(
                f"the catalog keeps the quality issues of its published run ({current}) only; "
                f"run {run_id} ({runs[run_id]}) found: "
                + _counts(con, "quality_issues_by_kind", run_id)
            )
        cursor = con.execute(
            "SELECT kind, model_id, field, raw_value, problem, page_url FROM quality_issues "
            "WHERE run_id = ? ORDER BY kind, model_id, field",
            [run_id],
        )
        _emit([d[0] for d in cursor.description], _rows(cursor), output)


def _some(runs: dict[str, str], shown: int = 5) -> str:
    """The latest runs with their status, for an error message."""
    latest = [f"{r} ({s})" for r, s in list(runs.items())[-shown:]]
    more = f" and {len(runs) - shown} earlier" if len(runs) > shown else ""
    return (", ".join(latest) + more) if runs else "none"


def _counts(con: duckdb.DuckDBPyConnection, column: str, run_id: str) -> str:
    (counts,) = con.execute(f"SELECT {column} FROM runs WHERE run_id = ?", [run_id]).fetchone()
    return ", ".join(f"{n} {kind}" for kind, n in sorted((counts or {}).items())) or "none"


@app.command()
def changes(
    since: Annotated[
        str | None,
        typer.Option(
            help="A run id, or an ISO 8601 date/time (UTC unless it has an offset): changes "
            "after it. Default: all."
        ),
    ] = None,
    data_dir: DataDirOption = Path("data"),
    output: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.table,
) -> None:
    """What changed between runs: models added and removed, prices and attributes changed."""
    where, params = "", []
    if since is not None:
        if RUN_ID.match(since):
            where, params = "WHERE run_id > ?", [since]
        else:
            where, params = "WHERE observed_at >= ?", [_utc_time("--since", since, run_id=True)]
    with _open_catalog(data_dir) as con:
        cursor = con.execute(
            "SELECT observed_at, run_id, kind, model_id, provider, region, field, tier_label, "
            "tier_min_tokens, "
            f"old_value, new_value FROM changes {where} "
            "ORDER BY observed_at, kind, model_id, provider, field",
            params,
        )
        _emit([d[0] for d in cursor.description], _rows(cursor), output)


def _utc_time(option: str, text: str, *, run_id: bool = False):  # -> datetime
    try:
        return api.utc_time(text)
    except ValueError:
        also = "a run id (like 20261126T053411123Z) or " if run_id else ""
        raise UsageProblem(
            f"{option}: {text!r} is not {also}an ISO 8601 date or time, e.g. 2026-03-01, "
            "2026-03-01T12:00:00Z, 2026-03-01 13:00+01:00 (converted to UTC)"
        ) from None


app.command(name="cost")(cost_command)


def _travel(con: duckdb.DuckDBPyConnection, as_of: str) -> None:
    """Shadow the current tables with their state at ``as_of`` (temporary views)."""
    moment = _utc_time("--as-of", as_of).isoformat(sep=" ")
    for view, macro in api.AS_OF_MACROS.items():
        con.execute(f"CREATE TEMP VIEW {view} AS SELECT * FROM {macro}(TIMESTAMP '{moment}')")


def _open_catalog(data_dir: Path, *, external_access: bool = False) -> duckdb.DuckDBPyConnection:
    try:
        return api.open(data_dir, external_access=external_access)
    except api.CatalogNotFound as missing:
        _fail(str(missing))
    except duckdb.Error as error:
        _fail(f"cannot open the catalog in {data_dir}: {error}")


def _fail(message: str) -> NoReturn:
    err.print(message, markup=False, highlight=False)
    raise typer.Exit(EXIT_NOT_PUBLISHED)


def _rows(cursor: duckdb.DuckDBPyConnection, batch: int = 10_000) -> Iterator[tuple[Any, ...]]:
    """A result's rows, a batch at a time: an export never holds a whole table."""
    while True:
        try:
            rows = cursor.fetchmany(batch)
        # A result may fail as it is read, too (a value Python cannot hold, say).
        except (duckdb.Error, ValueError, OverflowError) as error:
            _fail(f"query failed: {error}")
        if not rows:
            return
        yield from rows


def _emit(columns: Sequence[str], rows: Iterable[Sequence[Any]], output: OutputFormat) -> None:
    with _results():
        if output is OutputFormat.json:
            formats.write_json(columns, rows, sys.stdout)
        elif output in (OutputFormat.csv, OutputFormat.csv_excel):
            formats.write_csv(columns, rows, sys.stdout, excel=output is OutputFormat.csv_excel)
        else:
            table = Table(show_lines=False)
            for column in columns:
                table.add_column(column, overflow="fold")  # wrap, never cut a value short
            for row in rows:
                table.add_row(*(Text(formats.cell(value)) for value in row))
            # On a terminal, its width; off one, as wide as the values (never wrapped).
            wide = results if results.is_terminal else _Console(width=1_000_000)
            wide.print(table)


@contextmanager
def _results() -> Iterator[None]:
    """Write results to standard output; a reader that stops early is not an error."""
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        _to_devnull(sys.stdout)


def _to_devnull(stream: Any) -> None:
    """Point a closed pipe's descriptor at /dev/null: Python flushes it again at exit."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, stream.fileno())
    except (AttributeError, OSError, ValueError):  # not a real file: nothing to redirect
        pass
    finally:
        os.close(devnull)


def _print_summary(summary: RunSummary, data_dir: Path, *, rebuilt: bool = False) -> None:
    with _results():
        for line in summary_lines(summary, data_dir, rebuilt=rebuilt):
            results.print(line, highlight=False)


def summary_lines(summary: RunSummary, data_dir: Path, *, rebuilt: bool = False) -> list[str]:
    """What a run did, in a few lines (``summary.json`` has it all)."""
    style = {"published": "green", "refused": "yellow"}.get(summary.status, "red")
    lines = [f"[bold]run {summary.run_id}[/]: [{style}]{summary.status}[/]"]
    if summary.message:
        lines.append(f"  {_escape(summary.message)}")
    for repaired in summary.recovered:
        lines.append(f"  [yellow]recovered:[/] {_escape(repaired)}")
    outcomes = ", ".join(f"{n} {o}" for o, n in sorted(summary.pages_by_outcome.items()))
    if rebuilt:
        lines.append(f"  pages: {summary.pages_seen}, re-read from the archive ({outcomes})")
    else:
        retried = f"; {summary.pages_retried} needed a retry" if summary.pages_retried else ""
        lines.append(f"  pages: {summary.pages_seen} ({outcomes}){retried}")
    lines.append(
        f"  models: {summary.models_published} published, {summary.official_prices} official "
        f"prices, {summary.provider_offers} provider offers"
    )
    issues = ", ".join(f"{n} {k}" for k, n in sorted(summary.quality_issues_by_kind.items()))
    total = sum(summary.quality_issues_by_kind.values())
    lines.append(f"  quality issues: {total} ({issues or 'none'})")
    for page in summary.failed_pages[:20]:
        url, error = _escape(page["url"]), _escape(page["error"])
        lines.append(f"  [red]{page['outcome']}[/] {url}: {error}")
    if len(summary.failed_pages) > 20:
        lines.append(f"  … and {len(summary.failed_pages) - 20} more: SELECT * FROM pages")
    if summary.models_carried_forward:
        lines.append(
            f"  {summary.models_carried_forward} models carried forward from the previous "
            "catalog: their pages failed this time"
        )
    if summary.status == RunStatus.PUBLISHED:
        changed = ", ".join(f"{n} {k}" for k, n in sorted(summary.changes_by_kind.items()))
        lines.append(f"  changes: {sum(summary.changes_by_kind.values())} ({changed or 'none'})")
    if summary.seconds:
        timing = ", ".join(f"{stage} {secs:.1f}s" for stage, secs in summary.seconds.items())
        lines.append(f"  time: {timing}")
    catalog = DataDir(data_dir).catalog
    if summary.status == RunStatus.PUBLISHED:
        lines.append(f"  catalog: {catalog}")
    else:
        lines.append(f"  nothing was published: {_still_live(data_dir)}")
    return lines


def _still_live(data_dir: Path) -> str:
    from transforms.publish import CatalogInUse, published_snapshot

    catalog = DataDir(data_dir).catalog
    try:
        publication, problem = published_snapshot(DataDir(data_dir))
    except CatalogInUse as busy:
        return str(busy)
    if problem is not None:
        return f"the catalog at {catalog} is as it was ({problem})"
    if publication is None:
        return "no catalog has been published here yet"
    return f"the catalog at {catalog} is unchanged ({publication})"


def _escape(text: str | None) -> str:
    from rich.markup import escape

    return escape(text or "")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; every way it can end is an exit code and at most one line.

    0 done (for refresh and rebuild: published), 1 not published / the query failed / the
    catalog cannot answer, 2 bad usage, 3 the data directory is busy, 4 its state is broken
    past repair, 130 / 143 interrupted by SIGINT / SIGTERM.
    """
    try:
        return app(args=argv, prog_name="modelcat", standalone_mode=False) or 0
    except typer.TyperException as error:  # the option parser's: unknown option, bad value
        return _usage_error(error)
    except UsageProblem as problem:
        err.print(f"modelcat: {problem}", markup=False, highlight=False)
        return EXIT_USAGE
    except (typer.Abort, KeyboardInterrupt):
        err.print("modelcat: interrupted", markup=False, highlight=False)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # a reader went away: what the command did stands
        _to_devnull(sys.stdout)
        return EXIT_PUBLISHED
    except Exception as error:  # a bug or a broken environment: one line, unless debugging
        if os.environ.get(DEBUG_ENV):
            traceback.print_exc()
        err.print(
            f"modelcat: unexpected error: {type(error).__name__}: {error} "
            f"(set {DEBUG_ENV}=1 for the traceback)",
            markup=False,
            highlight=False,
        )
        return EXIT_NOT_PUBLISHED


def _usage_error(error: Any) -> int:
    context = getattr(error, "ctx", None)
    command = context.command_path if context is not None else "modelcat"
    if type(error).__name__ == "NoArgsIsHelpError":  # typer printed the help making it
        return EXIT_PUBLISHED
    err.print(
        f"{command}: {error.format_message()} (see {command} --help)",
        markup=False,
        highlight=False,
    )
    return getattr(error, "exit_code", EXIT_USAGE)


if __name__ == "__main__":
    sys.exit(main())
