"""How every text output writes a value: one rule per type, for ``sql``, ``quality``,
``changes`` (table, CSV, JSON) and ``export`` (CSV, JSON Lines).

| type | CSV and table | JSON |
| --- | --- | --- |
| DECIMAL | fixed point with its scale: ``0.800000000``, never ``8E-1`` | the same, as a string |
| list, map, struct | JSON text: ``["text","image"]``, ``{"k":1}`` | array, object |
| TIMESTAMP (UTC) | ISO 8601 with ``Z``: ``2026-03-01T12:00:00Z`` | the same, as a string |
| TIMESTAMPTZ | converted to UTC, then as TIMESTAMP | the same, as a string |
| DATE, TIME | ISO 8601: ``2026-03-01``, ``12:00:00`` | the same, as a string |
| BOOLEAN | ``true`` / ``false`` | true / false |
| integer | digits | number |
| DOUBLE | shortest repr; ``NaN``, ``Infinity``, ``-Infinity`` | number; those 3 as strings |
| INTERVAL | ISO 8601 duration: ``P1DT2H`` | the same, as a string |
| BLOB | hexadecimal | the same, as a string |
| NULL | empty | null |

Inside lists and maps the JSON rule applies to each element. Money never passes through a
binary float: DuckDB hands us ``Decimal`` values and they are written digit for digit.

A table is read on a terminal, so its cells are ``printable``: a control character or a
bidirectional override in a value is shown escaped (``\\x1b``, ``\\u202e``), never sent to
the terminal to act on. CSV and JSON are data and carry every value as it is.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import IO, Any

# Excel reads a CSV as UTF-8 only when it starts with a byte order mark.
EXCEL_BOM = "\ufeff"
_NON_FINITE = {math.inf: "Infinity", -math.inf: "-Infinity"}
# What a terminal acts on rather than shows: C0 controls but tab and newline (ESC starts
# escape sequences, CR overwrites a line, BEL rings), DEL, C1 controls (U+009B is a one-byte
# CSI), and the bidirectional marks, embeddings, overrides and isolates that reorder text.
_ACTING = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def json_value(value: Any) -> Any:
    """``value`` as JSON data (what ``json.dumps`` writes), by the rule above."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        return _NON_FINITE.get(value, value)
    if isinstance(value, list | tuple):
        return [json_value(item) for item in value]
    if isinstance(value, dict):
        return {_key(key): json_value(item) for key, item in value.items()}
    return _scalar_text(value)


def cell(value: Any) -> str:
    """``value`` as one CSV field or table cell, by the rule above."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple | dict):
        return json.dumps(json_value(value), ensure_ascii=False, separators=(",", ":"))
    text = json_value(value)
    return text if isinstance(text, str) else json.dumps(text)


def printable(text: str) -> str:
    """``text`` safe to show on a terminal: what a terminal would act on, escaped."""
    return _ACTING.sub(_escaped, text)


def _escaped(match: re.Match[str]) -> str:
    code = ord(match[0])
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def table_cell(value: Any) -> str:
    """``value`` as a table cell: its ``cell`` text, ``printable``."""
    return printable(cell(value))


def _key(key: Any) -> str:
    return key if isinstance(key, str) else cell(key)


def _scalar_text(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat() + "Z"
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return _duration(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return str(value)


def _duration(value: timedelta) -> str:
    """ISO 8601 duration: ``P1DT2H3M4.5S``; negative durations get a leading minus."""
    sign, value = ("-", -value) if value < timedelta(0) else ("", value)
    hours, rest = divmod(value.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    fraction = f"{seconds}.{value.microseconds:06d}".rstrip("0") if value.microseconds else ""
    parts = [f"{hours}H" if hours else "", f"{minutes}M" if minutes else ""]
    parts.append(f"{fraction or seconds}S" if seconds or value.microseconds else "")
    clock = "".join(parts)
    days = f"{value.days}D" if value.days or not clock else ""
    return f"{sign}P{days}{'T' + clock if clock else ''}"


def write_csv(
    columns: Sequence[str], rows: Iterable[Sequence[Any]], stream: IO[str], *, excel: bool = False
) -> None:
    """A header and the rows; ``excel``: a UTF-8 byte order mark and CRLF line ends."""
    if excel:
        stream.write(EXCEL_BOM)
    writer = csv.writer(stream, lineterminator="\r\n" if excel else "\n")
    writer.writerow(columns)
    writer.writerows([cell(value) for value in row] for row in rows)


def write_json(columns: Sequence[str], rows: Iterable[Sequence[Any]], stream: IO[str]) -> None:
    """One JSON array of objects, one object a line (streamed, never held whole)."""
    separator = "[\n"
    for row in rows:
        stream.write(separator + _record(columns, row))
        separator = ",\n"
    stream.write("[]\n" if separator == "[\n" else "\n]\n")


def write_jsonl(columns: Sequence[str], rows: Iterable[Sequence[Any]], stream: IO[str]) -> None:
    """JSON Lines: one object a line."""
    for row in rows:
        stream.write(_record(columns, row) + "\n")


def _record(columns: Sequence[str], row: Sequence[Any]) -> str:
    record = {name: json_value(value) for name, value in zip(columns, row, strict=True)}
    return json.dumps(record, ensure_ascii=False)
