"""``modelcat export --format xlsx``: tables as one Excel workbook, a sheet per table, exact.

Excel holds a number as a binary double, exact to 15 significant digits. So a decimal is
written as a number (its digits as the catalog has them) with a fixed format showing its
scale (``0.000000000``), and one with more than 15 significant digits, which Excel would
round, is written as text; an integer beyond 15 digits likewise. Ids and every other text
are text cells, never read as formulas, numbers or dates. Times are Excel date-times
(UTC, which the header says). Lists and maps are their JSON text, as in CSV.

openpyxl is an optional extra (``pip install 'modelcat[xlsx]'``), imported only here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from modelcat.cli import formats

EXCEL_DIGITS = 15  # significant digits Excel keeps of a number
EXCEL_ROWS = 1_048_576  # rows in a sheet, the header included
# Characters an XLSX file cannot hold (XML 1.0 forbids them).
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_DECIMAL = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)")


class CannotWrite(ValueError):
    """A value an XLSX file cannot hold as it is; the message names the cell."""


def missing_openpyxl() -> str | None:
    """Why xlsx cannot be written here, or None."""
    try:
        import openpyxl  # noqa: F401
    except ImportError:
        return "--format xlsx needs openpyxl: pip install 'modelcat[xlsx]'"
    return None


def write_workbook(
    sheets: Iterable[tuple[str, Sequence[str], Sequence[str], Iterable[Sequence[Any]]]],
    path: Path,
) -> dict[str, int]:
    """Write each (table, column names, DuckDB column types, rows) as a sheet; rows per table."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    counts: dict[str, int] = {}
    for table, columns, types, rows in sheets:
        sheet = book.create_sheet(title=table)
        sheet.freeze_panes = "A2"
        header = []
        for name, kind in zip(columns, types, strict=True):
            cell = WriteOnlyCell(sheet, value=name + (" (UTC)" if "TIMESTAMP" in kind else ""))
            cell.font = Font(bold=True)
            cell.data_type = "s"
            header.append(cell)
        sheet.append(header)
        formats_by_column = [_number_format(kind) for kind in types]
        count = 0
        try:
            for count, row in enumerate(rows, start=1):
                if count >= EXCEL_ROWS:
                    raise CannotWrite(
                        f"{table} has more rows than an Excel sheet holds ({EXCEL_ROWS - 1:,})"
                    )
                sheet.append(
                    [
                        _cell(WriteOnlyCell, sheet, value, fmt, f"{table}!{name} row {count}")
                        for value, fmt, name in zip(row, formats_by_column, columns, strict=True)
                    ]
                )
        except CannotWrite:
            sheet.close()  # end the sheet's writer: nothing is saved
            raise
        counts[table] = count
    book.save(path)
    return counts


def _number_format(duckdb_type: str) -> str | None:
    """The fixed format of a DECIMAL column (its scale), or the date-time format."""
    match = _DECIMAL.fullmatch(duckdb_type)
    if match:
        scale = int(match.group(2))
        return "0." + "0" * scale if scale else "0"
    if duckdb_type.startswith("TIMESTAMP"):
        return "yyyy-mm-dd hh:mm:ss.000"
    if duckdb_type == "DATE":
        return "yyyy-mm-dd"
    return None


def _cell(make: Any, sheet: Any, value: Any, number_format: str | None, where: str) -> Any:
    if (
        (isinstance(value, Decimal) and _fits(value))
        or isinstance(value, bool)
        or (isinstance(value, int) and len(str(abs(value))) <= EXCEL_DIGITS)
        or (isinstance(value, datetime) and value.tzinfo is None)
        or type(value) is date
    ):
        cell = make(sheet, value=value)
    elif value is None:
        return make(sheet, value=None)
    else:  # text, and what Excel cannot hold exactly: as the CSV writes it
        text = formats.cell(value)
        if _ILLEGAL.search(text):
            raise CannotWrite(f"{where}: a control character an XLSX file cannot hold")
        cell = make(sheet, value=text)
        cell.data_type = "s"  # never a formula ('=…'), a number or a date
        return cell
    if number_format is not None:
        cell.number_format = number_format
    return cell


def _fits(number: Decimal) -> bool:
    """Whether Excel holds ``number`` exactly: at most 15 significant digits."""
    digits = number.normalize().as_tuple().digits
    return number.is_finite() and len(digits) <= EXCEL_DIGITS
