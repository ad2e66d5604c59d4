"""``modelcat report``: write the static site of the published catalog (``modelcat.report``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from modelcat.cli.terminal import DataDirOption, err, fail, results, writing_results


def report_command(
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="The site's directory (replaced whole if it is a report).",
            file_okay=False,
        ),
    ],
    data_dir: DataDirOption = Path("data"),
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Show the catalog as it stood at this time (ISO 8601; UTC unless it has an "
            "offset).",
        ),
    ] = None,
) -> None:
    """Write a static site of the catalog: models, prices over time, changes (with an Atom
    feed), a cost calculator, compare and data quality. Open its index.html."""
    write_report(out, data_dir, as_of)


def write_report(out: Path, data_dir: Path, as_of: str | None = None) -> None:
    """Build the site and say where it is; every failure is one line (exit 1)."""
    from modelcat.api.catalog import CatalogNotFound
    from modelcat.report.build import NotASite, build_report

    try:
        index = build_report(out, data_dir, as_of=as_of)
    except (CatalogNotFound, NotASite, ValueError) as error:
        fail(f"report: {error}")
    except OSError as error:
        fail(f"report: cannot write {out}: {error}")
    with writing_results():
        results.print(f"report: {index}", markup=False, highlight=False)
    err.print(f"open {index.resolve().as_uri()} in a browser", markup=False, highlight=False)
