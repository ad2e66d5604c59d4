"""The ``modelcat`` command: its commands, and how every way it can end is one line and a
documented exit code (``main``), never a traceback.

The commands live beside it: ``queries`` (``sql``, ``export``, ``quality``, ``changes``),
``cost``, ``report``, ``run_commands`` (``refresh``, ``rebuild``). Results go to standard output,
written by the one rule of ``modelcat.cli.formats``; progress, messages and errors go to
standard error (``modelcat.cli.terminal``).
"""

from __future__ import annotations

import gc
import os
import sys
import traceback
from collections.abc import Sequence
from typing import Annotated, Any, NoReturn

import typer

from modelcat import __version__
from modelcat.cli import queries
from modelcat.cli.cost import cost_command
from modelcat.cli.formats import printable
from modelcat.cli.report import report_command
from modelcat.cli.run_commands import rebuild_command, refresh_command
from modelcat.cli.terminal import UsageProblem, err, results, to_devnull
from transforms.contract.vocabulary import ExitCode

DEBUG_ENV = "MODELCAT_DEBUG"  # set to 1 to see the traceback of an unexpected error

app = typer.Typer(
    help="modelcat: a crawled, exact catalog of LLM models, prices and provider offers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


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


# A line each in `modelcat --help`, short enough to be shown whole at 80 columns.
app.command(name="refresh", short_help="Crawl the mirror, build the catalog, publish it.")(
    refresh_command
)
app.command(name="rebuild", short_help="Rebuild runs from the page archive, offline.")(
    rebuild_command
)
app.command(name="sql", short_help="Run read-only SQL against the catalog.")(queries.sql)
app.command(name="export", short_help="Export one table to CSV, JSON Lines or Parquet.")(
    queries.export
)
app.command(name="quality", short_help="The quality issues of the published run.")(queries.quality)
app.command(name="changes", short_help="What changed between runs, one change a line.")(
    queries.changes
)
app.command(name="discrepancies", short_help="Where the public catalogs disagree with the pages.")(
    queries.discrepancies
)
app.command(name="report", short_help="Write a static site of the catalog.")(report_command)
app.command(name="cost", short_help="What a request or a month of them costs, exactly.")(
    cost_command
)

# What to give an option, where typer would show a Python type (<str>, <list[str]>, <int>).
METAVARS = {
    "start_url": "URL",
    "setting": "NAME=VALUE",
    "data_dir": "DIR",
    "kind": "KIND",
    "delay": "SECONDS",
    "heartbeat": "SECONDS",
    "concurrency": "N",
    "keep": "N",
    "run": "RUN_ID",
    "query": "SQL",
    "table": "TABLE",
    "as_of": "TIME",
    "since": "last|RUN_ID|TIME",
    "model": "MODEL_ID",
    "model_id": "MODEL_ID",
    "provider": "NAME",
    "region": "REGION",
    "field": "FIELD",
    "input_tokens": "N",
    "output_tokens": "N",
    "cache_read_tokens": "N",
    "cache_write_tokens": "N",
    "requests_per_month": "N",
    "top": "K",
    "reference": "NAME=URL",
    "source": "SOURCE",
    "min_difference": "PCT",
}


def command() -> Any:  # typer's click command
    """The command line as click runs it, with help that reads the same off a terminal:
    plain text there (rich's panels cut long values short to fit), named metavars, and no
    metavar for a flag."""
    app.rich_markup_mode = "rich" if sys.stdout.isatty() else None
    root = typer.main.get_command(app)
    for sub in getattr(root, "commands", {}).values():
        for param in sub.params:
            if getattr(param, "is_flag", False):
                param.metavar = ""
            elif param.name in METAVARS:
                param.metavar = METAVARS[param.name]
                if param.param_type_name == "argument":  # its name says it: no <str> after it
                    setattr(param, "display_type_rich", lambda ctx: None)  # noqa: B010
    return root


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; every way it can end is an exit code and at most one line.

    0 done (for refresh and rebuild: published), 1 not published / the query failed / the
    catalog cannot answer, 2 bad usage, 3 the data directory is busy, 4 its state is broken
    past repair, 130 / 143 interrupted by SIGINT / SIGTERM.
    """
    try:
        return command()(args=argv, prog_name="modelcat", standalone_mode=False) or 0
    except typer.TyperException as error:  # the option parser's: unknown option, bad value
        return _usage_error(error)
    except UsageProblem as problem:
        err.print(f"modelcat: {printable(str(problem))}", markup=False, highlight=False)
        return ExitCode.USAGE
    except (typer.Abort, KeyboardInterrupt):
        err.print("modelcat: interrupted", markup=False, highlight=False)
        return ExitCode.SIGINT
    except BrokenPipeError:  # a reader went away: what the command did stands
        to_devnull(sys.stdout)
        return ExitCode.DONE
    except Exception as error:  # a bug or a broken environment: one line, unless debugging
        if os.environ.get(DEBUG_ENV):
            traceback.print_exc()
        err.print(
            f"modelcat: unexpected error: {type(error).__name__}: {printable(str(error))} "
            f"(set {DEBUG_ENV}=1 for the traceback)",
            markup=False,
            highlight=False,
        )
        return ExitCode.NOT_DONE


def program() -> NoReturn:
    """The ``modelcat`` process: ``main``, then exit with its code.

    What the command left (a refresh's frames, Arrow tables, DuckDB) is frozen first, so
    the interpreter's collection at exit does not walk it: 0.15 s less after a refresh."""
    code = main()
    gc.freeze()
    sys.exit(code)


def _usage_error(error: Any) -> int:
    context = getattr(error, "ctx", None)
    command = context.command_path if context is not None else "modelcat"
    if type(error).__name__ == "NoArgsIsHelpError":  # the error is the help
        if app.rich_markup_mode is None:  # rich printed it already while making it
            results.print(error.format_message(), markup=False, highlight=False)
        return ExitCode.DONE
    err.print(
        f"{command}: {printable(error.format_message())} (see {command} --help)",
        markup=False,
        highlight=False,
    )
    return getattr(error, "exit_code", ExitCode.USAGE)


if __name__ == "__main__":
    program()
