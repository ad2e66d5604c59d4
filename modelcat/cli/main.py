"""The ``modelcat`` command: its commands, and how every way it can end is one line and a
documented exit code (``main``), never a traceback.

The commands live beside it: ``queries`` (``sql``, ``export``, ``quality``, ``changes``),
``cost``, ``report``, ``run_commands`` (``refresh``, ``rebuild``). Results go to standard output,
written by the one rule of ``modelcat.cli.formats``; progress, messages and errors go to
standard error (``modelcat.cli.terminal``).
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence
from typing import Annotated, Any

import typer

from modelcat import __version__
from modelcat.cli import queries
from modelcat.cli.cost import cost_command
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


app.command(name="refresh")(refresh_command)
app.command(name="rebuild")(rebuild_command)
app.command(name="sql")(queries.sql)
app.command(name="export")(queries.export)
app.command(name="quality")(queries.quality)
app.command(name="changes")(queries.changes)
app.command(name="cost")(cost_command)
app.command(name="report")(report_command)


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
            f"modelcat: unexpected error: {type(error).__name__}: {error} "
            f"(set {DEBUG_ENV}=1 for the traceback)",
            markup=False,
            highlight=False,
        )
        return ExitCode.NOT_DONE


def _usage_error(error: Any) -> int:
    context = getattr(error, "ctx", None)
    command = context.command_path if context is not None else "modelcat"
    if type(error).__name__ == "NoArgsIsHelpError":  # typer printed the help making it
        return ExitCode.DONE
    err.print(
        f"{command}: {error.format_message()} (see {command} --help)",
        markup=False,
        highlight=False,
    )
    return getattr(error, "exit_code", ExitCode.USAGE)


if __name__ == "__main__":
    sys.exit(main())
