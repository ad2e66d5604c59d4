"""One rule per type for every text output (``modelcat.cli.formats``), table-driven over the
DuckDB types the catalog publishes and the ones a query can make. End to end, the same value
reads the same through ``sql`` and ``export``: ``tests/e2e/test_formats.py``."""

from __future__ import annotations

import io
import json
import math
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from uuid import UUID

import duckdb
import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelcat.cli.formats import (
    EXCEL_BOM,
    cell,
    json_value,
    printable,
    table_cell,
    write_csv,
    write_json,
    write_jsonl,
)
from transforms.contract.columns import sql_type
from transforms.contract.tables import TABLES

# (DuckDB literal, CSV/table text, JSON value): each row is the rule for one type.
RULES = [
    ("0::DECIMAL(18,9)", "0.000000000", "0.000000000"),
    ("0.8::DECIMAL(18,9)", "0.800000000", "0.800000000"),
    ("123456789.000000001::DECIMAL(18,9)", "123456789.000000001", "123456789.000000001"),
    ("-2.5::DECIMAL(18,9)", "-2.500000000", "-2.500000000"),
    ("1e-9::DECIMAL(18,9)", "0.000000001", "0.000000001"),
    ("0.4::DECIMAL(38,20)", "0.40000000000000000000", "0.40000000000000000000"),
    (
        "570000.0000000001::DECIMAL(38,20)",
        "570000.00000000010000000000",
        "570000.00000000010000000000",
    ),
    ("-50::DECIMAL(38,4)", "-50.0000", "-50.0000"),
    ("'x'::VARCHAR", "x", "x"),
    ("'≤200K, \"quoted\"'::VARCHAR", '≤200K, "quoted"', '≤200K, "quoted"'),
    ("''::VARCHAR", "", ""),
    ("42::BIGINT", "42", 42),
    ("-7::INTEGER", "-7", -7),
    ("true", "true", True),
    ("false", "false", False),
    ("DATE '2026-03-01'", "2026-03-01", "2026-03-01"),
    ("TIMESTAMP '2026-03-01 12:00:00'", "2026-03-01T12:00:00Z", "2026-03-01T12:00:00Z"),
    (
        "TIMESTAMP '2026-03-01 12:00:00.123456'",
        "2026-03-01T12:00:00.123456Z",
        "2026-03-01T12:00:00.123456Z",
    ),
    ("TIMESTAMPTZ '2026-03-01 13:00:00+01:00'", "2026-03-01T12:00:00Z", "2026-03-01T12:00:00Z"),
    ("['text', 'image']::VARCHAR[]", '["text","image"]', ["text", "image"]),
    ("[]::VARCHAR[]", "[]", []),
    ("[0.5::DECIMAL(18,9), NULL]", '["0.500000000",null]', ["0.500000000", None]),
    ("MAP {'unreadable_value': 2::BIGINT}", '{"unreadable_value":2}', {"unreadable_value": 2}),
    ("MAP {}::MAP(VARCHAR, BIGINT)", "{}", {}),
    ("{'a': 1, 'b': DATE '2026-01-02'}", '{"a":1,"b":"2026-01-02"}', {"a": 1, "b": "2026-01-02"}),
    ("1.5::DOUBLE", "1.5", 1.5),
    ("'nan'::DOUBLE", "NaN", "NaN"),
    ("'-inf'::DOUBLE", "-Infinity", "-Infinity"),
    ("INTERVAL 1 DAY + INTERVAL 90 MINUTE", "P1DT1H30M", "P1DT1H30M"),
    ("TIME '01:02:03'", "01:02:03", "01:02:03"),
    ("'\\x01\\xff'::BLOB", "01ff", "01ff"),
    ("NULL::DECIMAL(18,9)", "", None),
    ("NULL::VARCHAR[]", "", None),
]


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'Europe/Paris'")  # TIMESTAMPTZ must still come out UTC
    return connection


@pytest.mark.parametrize(("literal", "text", "data"), RULES, ids=[r[0] for r in RULES])
def test_one_rule_per_type(con: duckdb.DuckDBPyConnection, literal: str, text: str, data) -> None:
    (value,) = con.execute(f"SELECT {literal}").fetchone()
    assert cell(value) == text
    if data is not None or text == "":
        assert json_value(value) == data
    json.dumps(json_value(value), allow_nan=False)  # always valid JSON


def test_the_rules_cover_every_type_the_catalog_publishes() -> None:
    published = {sql_type(column.type) for table in TABLES.values() for column in table.columns}
    covered = {literal.rsplit("::", 1)[-1] for literal, _, _ in RULES if "::" in literal}
    covered |= {"BOOLEAN", "DATE", "TIMESTAMP", "MAP(VARCHAR, BIGINT)"}  # written as literals
    assert published <= covered, published - covered


@pytest.mark.parametrize(
    ("duration", "text"),
    [
        (timedelta(0), "P0D"),
        (timedelta(days=2), "P2D"),
        (timedelta(hours=1), "PT1H"),
        (timedelta(seconds=4, microseconds=500000), "PT4.5S"),
        (timedelta(microseconds=5), "PT0.000005S"),
        (timedelta(days=1, seconds=3661), "P1DT1H1M1S"),
        (-timedelta(hours=1), "-PT1H"),
    ],
)
def test_durations_are_iso_8601(duration: timedelta, text: str) -> None:
    assert cell(duration) == text


def test_python_values_follow_the_same_rule() -> None:
    paris = timezone(timedelta(hours=1))
    assert cell(datetime(2026, 3, 1, 13, 0, tzinfo=paris)) == "2026-03-01T12:00:00Z"
    assert cell(datetime(2026, 3, 1, tzinfo=UTC)) == "2026-03-01T00:00:00Z"
    assert cell(Decimal("0E-9")) == "0.000000000"
    assert cell(Decimal("1E+2")) == "100"
    assert cell(UUID(int=1)) == "00000000-0000-0000-0000-000000000001"
    assert cell(date(2026, 1, 2)) == "2026-01-02"
    assert cell(time(1, 2)) == "01:02:00"
    assert json_value({1: [Decimal("1.0")]}) == {"1": ["1.0"]}
    assert json_value(math.inf) == "Infinity"


@given(st.decimals(allow_nan=False, allow_infinity=False, places=9, min_value=-1e9, max_value=1e9))
def test_decimals_are_fixed_point_and_exact(value: Decimal) -> None:
    text = cell(value)
    assert "E" not in text.upper()
    assert Decimal(text) == value
    assert json_value(value) == text


def test_writers_agree_with_the_cell_rule() -> None:
    columns = ["price", "modalities", "at", "missing"]
    rows = [(Decimal("0E-9"), ["text"], datetime(2026, 3, 1), None)]
    plain, excel, array, lines = io.StringIO(), io.StringIO(), io.StringIO(), io.StringIO()
    write_csv(columns, rows, plain)
    write_csv(columns, rows, excel, excel=True)
    write_json(columns, rows, array)
    write_jsonl(columns, rows, lines)
    assert plain.getvalue() == (
        'price,modalities,at,missing\n0.000000000,"[""text""]",2026-03-01T00:00:00Z,\n'
    )
    assert excel.getvalue() == EXCEL_BOM + plain.getvalue().replace("\n", "\r\n")
    record = {"price": "0.000000000", "modalities": ["text"], "at": "2026-03-01T00:00:00Z"}
    assert json.loads(array.getvalue()) == [record | {"missing": None}]
    assert [json.loads(line) for line in lines.getvalue().splitlines()] == [
        record | {"missing": None}
    ]
    empty = io.StringIO()
    write_json(columns, [], empty)
    assert json.loads(empty.getvalue()) == []


# (value, as a table shows it): what a terminal would act on is shown escaped.
PRINTABLE = [
    ("gpt-4.1", "gpt-4.1"),
    ("évolué ≤200K 模型", "évolué ≤200K 模型"),
    ("tab\tand\nnewline", "tab\tand\nnewline"),
    ("x\x1b]0;title\x07\x1b[2J", "x\\x1b]0;title\\x07\\x1b[2J"),
    ("cr\rover", "cr\\x0dover"),
    ("nul\x00del\x7f", "nul\\x00del\\x7f"),
    ("c1 csi\x9b2J nel\x85", "c1 csi\\x9b2J nel\\x85"),
    ("bidi \u202eevil\u202c", "bidi \\u202eevil\\u202c"),
    ("isolates \u2066a\u2069 \u2067b\u2068", "isolates \\u2066a\\u2069 \\u2067b\\u2068"),
    ("marks \u200e\u200f\u061c", "marks \\u200e\\u200f\\u061c"),
    ("back\\slash", "back\\slash"),
]


@pytest.mark.parametrize(("value", "shown"), PRINTABLE)
def test_a_table_cell_escapes_what_a_terminal_acts_on(value: str, shown: str) -> None:
    assert printable(value) == shown
    assert table_cell(value) == shown
    assert cell(value) == value  # CSV and JSON are data: every value as it is


CODES = [*range(0x20), *range(0x7F, 0xA0), 0x61C, 0x200E, 0x200F, *range(0x202A, 0x202F)]
ACTING = {chr(code) for code in [*CODES, *range(0x2066, 0x206A)]} - {"\t", "\n"}


@given(st.text())
def test_nothing_a_terminal_acts_on_reaches_a_table(text: str) -> None:
    shown = printable(text)
    assert not set(shown) & ACTING
    if not set(text) & ACTING:
        assert shown == text


def test_a_list_in_a_table_is_escaped_too() -> None:
    assert table_cell(["a\x1b[31m", "b\u202e"]) == '["a\\u001b[31m","b\\u202e"]'
