"""The ``modelcat`` command line: refresh the catalog, query it, export it.

Results go to standard output, written by the one rule of ``modelcat.formats``; progress,
messages and errors go to standard error. Every error is one line and a documented exit
code (see ``main``), never a traceback.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
import traceback
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import duckdb
import typer

from modelcat import __version__, api, formats
from modelcat.costs import cost_command
from modelcat.run_commands import rebuild_command, refresh_command
from modelcat.terminal import (
    EXIT_INTERRUPTED,
    EXIT_NOT_PUBLISHED,
    EXIT_PUBLISHED,
    EXIT_USAGE,
    DataDirOption,
    OutputFormat,
    emit,
    err,
    fail,
    result_rows,
    results,
    to_devnull,
    writing_results,
)
from transforms.vocabulary import RunStatus

DEBUG_ENV = "MODELCAT_DEBUG"  # set to 1 to see the traceback of an unexpected error
RUN_ID = re.compile(r"^\d{8}T\d{9}Z$")  # 20261126T053411123Z: UTC, sorts in run order

app = typer.Typer(
    help="modelcat: a crawled, exact catalog of LLM models, prices and provider offers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


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


app.command(name="refresh")(refresh_command)
app.command(name="rebuild")(rebuild_command)


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
            fail(f"query failed: {error}")
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
                fail(f"query failed: {error}")
            if cursor.description is not None:
                emit([d[0] for d in cursor.description], result_rows(cursor), output)


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
    with writing_results(), path.open("rb") as source:
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
            formats.write_jsonl(columns, result_rows(cursor), handle)
        else:
            excel = output is ExportFormat.csv_excel
            formats.write_csv(columns, result_rows(cursor), handle, excel=excel)


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
            fail(
                f"the catalog keeps the quality issues of its published run ({current}) only; "
                f"run {run_id} ({runs[run_id]}) found: "
                + _counts(con, "quality_issues_by_kind", run_id)
            )
        cursor = con.execute(
            "SELECT kind, model_id, field, raw_value, problem, page_url FROM quality_issues "
            "WHERE run_id = ? ORDER BY kind, model_id, field",
            [run_id],
        )
        emit([d[0] for d in cursor.description], result_rows(cursor), output)


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
        emit([d[0] for d in cursor.description], result_rows(cursor), output)


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
        fail(str(missing))
    except duckdb.Error as error:
        fail(f"cannot open the catalog in {data_dir}: {error}")


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
        to_devnull(sys.stdout)
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
