"""What every ``modelcat`` command shares: where its output goes, how results are written,
how a command fails, and its exit codes.

Results go to standard output, written by the one rule of ``modelcat.cli.formats``; progress,
messages and errors go to standard error.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import duckdb
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from modelcat.api import catalog as api
from modelcat.cli import formats
from transforms.contract.vocabulary import ExitCode


class _Console(Console):
    """A reader that stops early (``| head``) is not an error: the run goes on, silent
    on that stream (rich's default exits 1, which would stop a refresh mid-crawl)."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        to_devnull(self.file)


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


def fail(message: str) -> NoReturn:
    err.print(formats.printable(message), markup=False, highlight=False)
    raise typer.Exit(ExitCode.NOT_DONE)


def result_rows(
    cursor: duckdb.DuckDBPyConnection, batch: int = 10_000
) -> Iterator[tuple[Any, ...]]:
    """A result's rows, a batch at a time: an export never holds a whole table."""
    while True:
        try:
            rows = cursor.fetchmany(batch)
        # A result may fail as it is read, too (a value Python cannot hold, say).
        except (duckdb.Error, ValueError, OverflowError) as error:
            fail(f"query failed: {error}")
        if not rows:
            return
        yield from rows


def one_row(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()
) -> tuple[Any, ...]:
    """The one row a query answers (a count, a run's column)."""
    row = con.execute(sql, list(params)).fetchone()
    if row is None:
        raise LookupError(f"no row for: {sql}")
    return row


def emit(columns: Sequence[str], rows: Iterable[Sequence[Any]], output: OutputFormat) -> None:
    with writing_results():
        if output is OutputFormat.json:
            formats.write_json(columns, rows, sys.stdout)
        elif output in (OutputFormat.csv, OutputFormat.csv_excel):
            formats.write_csv(columns, rows, sys.stdout, excel=output is OutputFormat.csv_excel)
        else:
            table = Table(show_lines=False)
            for column in columns:
                table.add_column(column, overflow="fold")  # wrap, never cut a value short
            for row in rows:
                table.add_row(*(Text(formats.table_cell(value)) for value in row))
            # On a terminal, its width; off one, as wide as the values (never wrapped).
            wide = results if results.is_terminal else _Console(width=1_000_000)
            wide.print(table)


@contextmanager
def writing_results() -> Iterator[None]:
    """Write results to standard output; a reader that stops early is not an error."""
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        to_devnull(sys.stdout)


def to_devnull(stream: Any) -> None:
    """Point a closed pipe's descriptor at /dev/null: Python flushes it again at exit."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, stream.fileno())
    except (AttributeError, OSError, ValueError):  # not a real file: nothing to redirect
        pass
    finally:
        os.close(devnull)


def escape(text: str | None) -> str:
    """``text`` shown as it is, never read as rich markup nor acted on by the terminal."""
    from rich.markup import escape as escape_markup

    return escape_markup(formats.printable(text or ""))


def note(message: str) -> None:
    """One line on standard error that qualifies a result (it is not an error)."""
    err.print(f"note: {message}", markup=False, highlight=False)


@contextmanager
def api_notes() -> Iterator[None]:
    """The API's ``BeforeHistory`` warnings as notes; any other warning shown as usual."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for warning in caught:
        if issubclass(warning.category, api.BeforeHistory):
            note(str(warning.message))
        else:
            warnings.showwarning(
                warning.message, warning.category, warning.filename, warning.lineno
            )


class UsageProblem(Exception):
    """Bad input that passed the option parser: one line, exit 2."""


def open_catalog(data_dir: Path, *, external_access: bool = False) -> duckdb.DuckDBPyConnection:
    try:
        return api.open(data_dir, external_access=external_access)
    except api.CatalogNotFound as missing:
        fail(str(missing))
    except duckdb.Error as error:
        fail(f"cannot open the catalog in {data_dir}: {error}")


def utc_time_option(option: str, text: str, *, run_id: bool = False):  # -> datetime
    try:
        return api.utc_time(text)
    except api.TimeOutOfRange as error:
        raise UsageProblem(f"{option}: {error}") from None
    except ValueError:
        also = "'last', a run id (like 20261126T053411123Z) or " if run_id else ""
        raise UsageProblem(
            f"{option}: {text!r} is not {also}an ISO 8601 date or time, e.g. 2026-03-01, "
            "2026-03-01T12:00:00Z, 2026-03-01 13:00+01:00 (converted to UTC)"
        ) from None
