"""The analyst's commands: ``sql``, ``export``, ``quality`` and ``changes``.

Each reads the published catalog through a read-only connection (``modelcat.api``) and
writes its result by the one rule of ``modelcat.cli.formats``.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import duckdb
import typer

from modelcat.api import catalog as api
from modelcat.cli import change_lines, formats, xlsx
from modelcat.cli.terminal import (
    DataDirOption,
    OutputFormat,
    UsageProblem,
    emit,
    err,
    fail,
    note,
    one_row,
    open_catalog,
    result_rows,
    results,
    utc_time_option,
    writing_results,
)
from transforms.contract.vocabulary import ChangeKind, ExitCode, ReferenceSource, RunStatus

RUN_ID = re.compile(r"^\d{8}T\d{9}Z$")  # 20261126T053411123Z: UTC, sorts in run order


class ExportFormat(StrEnum):
    csv = "csv"
    csv_excel = "csv-excel"
    jsonl = "jsonl"
    parquet = "parquet"
    xlsx = "xlsx"  # an Excel workbook, a sheet per table (the optional openpyxl)


def sql(
    query: Annotated[
        str | None,
        typer.Argument(
            help="SQL to run against the catalog; - (or nothing, from a pipe) reads it from "
            "standard input.",
            show_default=False,
        ),
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            help="Read the SQL from this file (- for standard input).",
            dir_okay=False,
            allow_dash=True,
        ),
    ] = None,
    data_dir: DataDirOption = Path("data"),
    output: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.table,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Answer as the catalog stood at this time (ISO 8601; UTC unless it has an "
            "offset, e.g. 2026-03-01): models, official_prices, provider_offers, "
            "reference_models, reference_prices and discrepancies then come from the "
            "history tables.",
        ),
    ] = None,
) -> None:
    """Run read-only SQL against the catalog. Several statements: each result in turn
    (table format only)."""
    query = _sql_text(query, file)
    if not query.strip():
        raise UsageProblem("sql: no statement given")
    with open_catalog(data_dir) as con:
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


def _sql_text(query: str | None, file: Path | None) -> str:
    """The SQL to run: the argument, a file, or standard input (``-``, or a pipe)."""
    if query is not None and file is not None:
        raise UsageProblem("sql: give the query as an argument or with --file, not both")
    if file is not None and str(file) != "-":
        try:
            return file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise UsageProblem(f"sql: cannot read {file}: {error}") from None
    if query is not None and query != "-":
        return query
    if file is None and query is None and sys.stdin.isatty():
        raise UsageProblem("sql: give a query, --file FILE, or - to read it from standard input")
    return sys.stdin.read()


def export(
    table: Annotated[
        list[str],
        typer.Argument(
            help="Table to export, e.g. models; with --format xlsx, several (a sheet each).",
            show_default=False,
        ),
    ],
    output: Annotated[ExportFormat, typer.Option("--format", "-f")],
    out: Annotated[
        Path,
        typer.Option(
            "--out", "-o", help="File to write, or - for standard output.", dir_okay=False
        ),
    ],
    data_dir: DataDirOption = Path("data"),
) -> None:
    """Export one table to CSV, JSON Lines or Parquet, or tables to an Excel workbook.
    Prices stay exact in every format.

    The file is written whole or not at all (a temporary file beside it, renamed over it).
    Refuses a path inside the data directory, or one that exists and is not a regular file.
    """
    names = list(dict.fromkeys(table))
    if len(names) > 1 and output is not ExportFormat.xlsx:
        raise UsageProblem(
            f"export: --format {output} writes one table (got {len(names)}); "
            "--format xlsx writes several, a sheet each"
        )
    if output is ExportFormat.xlsx and (problem := xlsx.missing_openpyxl()):
        raise UsageProblem(f"export: {problem}")
    to_stdout = str(out) == "-"
    target = None if to_stdout else _export_target(out, data_dir)
    binary = output in (ExportFormat.parquet, ExportFormat.xlsx)
    if to_stdout and binary and sys.stdout.isatty():
        raise UsageProblem(
            f"export: {output} is binary: redirect standard output, or use --out FILE"
        )
    with open_catalog(data_dir, external_access=True) as con:
        tables = api.tables(con)
        unknown = [name for name in names if name not in tables]
        if unknown:
            err.print(f"[red]no table {unknown[0]!r}[/]; tables: {', '.join(tables)}")
            raise typer.Exit(ExitCode.USAGE)
        # A private directory beside the target (or a temporary one for standard output):
        # nobody else can plant a file or a link where the export is written.
        where = target.parent if target is not None else None
        with tempfile.TemporaryDirectory(dir=where, prefix=".modelcat-export-") as scratch:
            partial = Path(scratch) / f"export.{output}"
            if output is ExportFormat.xlsx:
                counts = _write_workbook(con, names, partial)
            elif output is ExportFormat.parquet:
                literal = str(partial).replace("'", "''")
                con.execute(
                    f"COPY \"{names[0]}\" TO '{literal}' (FORMAT parquet, COMPRESSION zstd)"
                )
            else:
                _write_text_export(con, names[0], output, partial)
            if output is not ExportFormat.xlsx:
                (count,) = one_row(con, f'SELECT count(*) FROM "{names[0]}"')
                counts = {names[0]: count}
            if target is not None:
                os.replace(partial, target)
            else:
                _to_stdout(partial)
    wrote = ", ".join(f"{n} rows of {name}" for name, n in counts.items())
    err.print(f"wrote {wrote} to {target or 'standard output'}", markup=False)


def _write_workbook(con: duckdb.DuckDBPyConnection, names: list[str], path: Path) -> dict[str, int]:
    def sheets():  # one table at a time, its rows a batch at a time
        for name in names:
            cursor = con.execute(f'SELECT * FROM "{name}"')
            columns = [d[0] for d in cursor.description]
            types = [str(d[1]) for d in cursor.description]
            yield name, columns, types, result_rows(cursor)

    try:
        return xlsx.write_workbook(sheets(), path)
    except xlsx.CannotWrite as problem:
        fail(f"export: {problem}")


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


def quality(
    run: Annotated[str | None, typer.Option(help="Run id (default: the published run).")] = None,
    data_dir: DataDirOption = Path("data"),
    output: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.table,
) -> None:
    """List the quality issues a run found: unreadable values, contradictions, rejects."""
    with open_catalog(data_dir) as con:
        runs = dict(con.execute("SELECT run_id, status FROM runs ORDER BY run_id").fetchall())
        # The catalog's own run: the last one published before it was built.
        published = max((r for r, s in runs.items() if s == RunStatus.PUBLISHED), default=None)
        if run is not None and run not in runs:
            raise UsageProblem(f"quality: no run {run!r} in the catalog; runs: {_some(runs)}")
        run_id = run or published
        if run_id is not None and run_id != published:
            fail(
                f"the catalog keeps the quality issues of its published run ({published}) only; "
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
    (counts,) = one_row(con, f"SELECT {column} FROM runs WHERE run_id = ?", [run_id])
    return ", ".join(f"{n} {kind}" for kind, n in sorted((counts or {}).items())) or "none"


class ChangesFormat(StrEnum):
    lines = "lines"  # one change a line, grouped by run: for people
    table = "table"
    csv = "csv"
    csv_excel = "csv-excel"
    json = "json"


# The wide table needs about this many columns; narrower, or off a terminal, lines read better.
WIDE_TERMINAL = 160
LAST = "last"


def changes(
    since: Annotated[
        str | None,
        typer.Option(
            help="Changes after this: 'last' (the previous published run: what the last run "
            "found), a run id, or an ISO 8601 date/time (UTC unless it has an offset). "
            "Default: all."
        ),
    ] = None,
    model: Annotated[
        list[str] | None, typer.Option("--model", help="Only this model id (repeatable).")
    ] = None,
    kind: Annotated[
        list[ChangeKind] | None,
        typer.Option(
            "--kind",
            help="Only this kind (repeatable): " + ", ".join(ChangeKind) + ".",
        ),
    ] = None,
    provider: Annotated[
        list[str] | None,
        typer.Option("--provider", help="Only this provider's offers, any case (repeatable)."),
    ] = None,
    field: Annotated[
        list[str] | None,
        typer.Option("--field", help="Only this attribute or price metric (repeatable)."),
    ] = None,
    data_dir: DataDirOption = Path("data"),
    output: Annotated[
        ChangesFormat | None,
        typer.Option(
            "--format",
            "-f",
            help="lines (one change a line) off a terminal or on one narrower than "
            f"{WIDE_TERMINAL} columns, else table.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """What changed between runs: models added and removed, prices and attributes changed,
    a public catalog's value changed, a discrepancy opened or closed."""
    where: list[str] = []
    params: list[object] = []
    for column, values in (("model_id", model), ("kind", kind), ("field", field)):
        if values:
            where.append(f"{column} IN ({', '.join('?' for _ in values)})")
            params += [str(v) for v in values]
    if provider:
        where.append(f"lower(provider) IN ({', '.join('lower(?)' for _ in provider)})")
        params += provider
    with open_catalog(data_dir) as con:
        if since is not None:
            where_since, since_params = _since(con, since)
            where += where_since
            params += since_params
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        if _format(output) is ChangesFormat.lines:
            cursor = con.execute(
                f"SELECT {', '.join(change_lines.COLUMNS)} FROM changes {clause} "
                "ORDER BY run_id, kind, model_id, provider NULLS FIRST, region, field, tier_label, "
                "source",
                params,
            )
            with writing_results():
                for text in change_lines.lines(result_rows(cursor)):
                    results.print(formats.printable(text), markup=False, highlight=False)
            return
        cursor = con.execute(
            "SELECT observed_at, run_id, kind, model_id, provider, region, field, tier_label, "
            "tier_min_tokens, "
            f"old_value, new_value, source FROM changes {clause} "
            "ORDER BY observed_at, kind, model_id, provider, field",
            params,
        )
        emit([d[0] for d in cursor.description], result_rows(cursor), OutputFormat(_format(output)))


def _format(output: ChangesFormat | None) -> ChangesFormat:
    """The format asked for; by default lines, unless on a terminal wide enough for the table."""
    if output is not None:
        return output
    wide = results.is_terminal and results.width >= WIDE_TERMINAL
    return ChangesFormat.table if wide else ChangesFormat.lines


def _since(con: duckdb.DuckDBPyConnection, since: str) -> tuple[list[str], list[object]]:
    """The condition for ``--since``: after a run (``last``: the previous published one), or
    from a time on."""
    if since.strip().lower() == LAST:
        published = [
            r
            for (r,) in con.execute(
                "SELECT run_id FROM runs WHERE status = ? ORDER BY run_id DESC LIMIT 2",
                [RunStatus.PUBLISHED.value],
            ).fetchall()
        ]
        # With one published run, everything it found (all of it is since "before it").
        return (["run_id > ?"], [published[1]]) if len(published) == 2 else ([], [])
    if RUN_ID.match(since):
        return ["run_id > ?"], [since]
    return ["observed_at >= ?"], [utc_time_option("--since", since, run_id=True)]


def _travel(con: duckdb.DuckDBPyConnection, as_of: str) -> None:
    """Shadow the current tables with their state at ``as_of`` (temporary views)."""
    moment = utc_time_option("--as-of", as_of)
    before = api.before_history(con, moment)
    if before is not None:
        note(before)
    for view, macro in api.AS_OF_MACROS.items():
        con.execute(
            f"CREATE TEMP VIEW {view} AS SELECT * FROM {macro}"
            f"(TIMESTAMP '{moment.isoformat(sep=' ')}')"
        )


def discrepancies(
    source: Annotated[
        str | None,
        typer.Option(help="Only this catalog: litellm, openrouter, models.dev or genai-prices."),
    ] = None,
    field: Annotated[
        str | None,
        typer.Option(
            help="Only this field: input, output, cache_read, cache_write, "
            "context_window_tokens or max_output_tokens."
        ),
    ] = None,
    model: Annotated[str | None, typer.Option(help="Only this model id.")] = None,
    min_difference: Annotated[
        float | None,
        typer.Option(
            "--min-difference",
            min=0,
            help="Only differences of at least PCT percent either way (a difference from 0 "
            "always shows).",
            metavar="PCT",
        ),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="The discrepancies open at this time (ISO 8601; UTC)."),
    ] = None,
    data_dir: DataDirOption = Path("data"),
    output: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.table,
) -> None:
    """Where the public catalogs (LiteLLM, OpenRouter, models.dev, genai-prices) disagree
    with the pages: our value, theirs, and by how much."""
    if source is not None and source not in set(ReferenceSource):
        known = ", ".join(ReferenceSource)
        raise UsageProblem(f"discrepancies: no catalog {source!r}; catalogs: {known}")
    conditions: list[str] = []
    params: list[object] = []
    for column, value in (("source", source), ("field", field), ("model_id", model)):
        if value is not None:
            conditions.append(f"{column} = ?")
            params.append(value)
    if min_difference is not None:
        conditions.append("(difference_pct IS NULL OR abs(difference_pct) >= ?)")
        params.append(min_difference)
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    with open_catalog(data_dir) as con:
        if as_of is not None:
            _travel(con, as_of)
        cursor = con.execute(
            "SELECT model_id, source, source_model, match_rule, provider, field, "
            f"tier_min_tokens, our_value, source_value, difference_pct FROM discrepancies {where} "
            "ORDER BY model_id, source, source_model, provider NULLS FIRST, field, "
            "tier_min_tokens",
            params,
        )
        emit([d[0] for d in cursor.description], result_rows(cursor), output)
