"""Tests for ``modelcat.cli.xlsx``: a workbook written and read back with openpyxl, value by
value: decimals exact (numbers when Excel holds them, text when it would round them), text
never a formula, a sheet per table."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

openpyxl = pytest.importorskip("openpyxl")

from modelcat.cli.xlsx import CannotWrite, write_workbook  # noqa: E402

COLUMNS = ["model_id", "usd_per_mtok", "tokens", "seen_at", "day", "ok", "tags"]
TYPES = ["VARCHAR", "DECIMAL(18,9)", "BIGINT", "TIMESTAMP", "DATE", "BOOLEAN", "VARCHAR[]"]


def read_back(path: Path, table: str) -> list[list]:
    sheet = openpyxl.load_workbook(path)[table]
    return [[(c.value, c.data_type, c.number_format) for c in row] for row in sheet.iter_rows()]


def test_values_are_exact_and_typed(tmp_path: Path) -> None:
    rows = [
        ("gpt-4.1", Decimal("0.800000000"), 128000, datetime(2026, 3, 1, 12, 0, 0, 123000),
         date(2026, 3, 1), True, ["text", "image"]),
        # Text that Excel would read as a formula, a number or a date stays text.
        ("=1+1", Decimal("999999999.999999999"), 10**16, None, None, None, None),
        ("00123", Decimal("0E-9"), 0, None, None, False, []),
    ]  # fmt: skip
    path = tmp_path / "book.xlsx"
    assert write_workbook([("prices", COLUMNS, TYPES, rows)], path) == {"prices": 3}
    header, first, second, third = read_back(path, "prices")
    assert [v for v, _, _ in header] == [*COLUMNS[:3], "seen_at (UTC)", *COLUMNS[4:]]
    assert first[0] == ("gpt-4.1", "s", "General")
    value, kind, number_format = first[1]
    assert (Decimal(repr(value)), kind, number_format) == (Decimal("0.8"), "n", "0.000000000")
    assert first[2][:2] == (128000, "n")
    assert first[3][0] == datetime(2026, 3, 1, 12, 0, 0, 123000)
    assert first[5][:2] == (True, "b")
    assert first[6][:2] == ('["text","image"]', "s")
    # 18 significant digits: Excel would round it, so it is the exact text.
    assert second[0][:2] == ("=1+1", "s")
    assert second[1][:2] == ("999999999.999999999", "s")
    assert second[2][:2] == (str(10**16), "s")
    assert third[0][:2] == ("00123", "s")
    assert Decimal(repr(third[1][0])) == 0


def test_a_sheet_per_table(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    sheets = [("a", ["x"], ["INTEGER"], [(1,), (2,)]), ("b", ["y"], ["VARCHAR"], [])]
    assert write_workbook(sheets, path) == {"a": 2, "b": 0}
    assert openpyxl.load_workbook(path).sheetnames == ["a", "b"]


def test_a_control_character_is_refused_not_dropped(tmp_path: Path) -> None:
    with pytest.raises(CannotWrite, match=r"t!x row 1"):
        write_workbook([("t", ["x"], ["VARCHAR"], [("a\x0bb",)])], tmp_path / "book.xlsx")
