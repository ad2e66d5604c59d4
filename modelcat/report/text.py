"""Formatting shared by the pages: exact numbers as text, times, and safe file names."""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal
from html import escape

SAFE = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-")
LONGEST_NAME = 120  # bytes of a page's name before ".html"; file systems allow 255


def page_name(key: str) -> str:
    """A file name (without ``.html``) that is the same for the same key and different for
    different keys, on any file system and in any URL: lower-case letters, digits, ``.``
    and ``-`` stay; every other byte (``/``, ``:``, ``_``, capitals, a leading dot) becomes
    ``_XX``, its hex; a very long key keeps its start and a hash of the whole."""
    out = []
    for index, byte in enumerate(key.encode("utf-8")):
        char = chr(byte)
        if char in SAFE and not (index == 0 and char == "."):
            out.append(char)
        else:
            out.append(f"_{byte:02X}")
    name = "".join(out) or "_"
    if len(name) > LONGEST_NAME:
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
        name = f"{name[: LONGEST_NAME - 17]}-{digest}"
    return name


def number(value: Decimal | None) -> str:
    """An exact decimal as plain text without trailing zeros: 0.800000000 -> 0.8."""
    if value is None:
        return ""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def usd(value: Decimal | None) -> str:
    return "" if value is None else f"${number(value)}"


def count(value: int | None) -> str:
    """Tokens and counts with thousands separators: 128,000."""
    return "" if value is None else f"{value:,}"


def when(moment: datetime | None) -> str:
    """A UTC time as ISO 8601 to the second, with its Z."""
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%SZ")


def day(moment: datetime | None) -> str:
    return "" if moment is None else moment.strftime("%Y-%m-%d")


def sql_text(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def shell_word(value: str) -> str:
    """One word for a POSIX shell."""
    if value and all(c.isalnum() or c in "-_./:=@" for c in value):
        return value
    return "'" + value.replace("'", "'\\''") + "'"


def esc(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def percent(old: str | None, new: str | None) -> str:
    """The change from old to new in %, one decimal, when both are numbers and old is not 0."""
    try:
        before, after = Decimal(old or ""), Decimal(new or "")
    except ArithmeticError:
        return ""
    if not before.is_finite() or not after.is_finite() or before == 0:
        return ""
    change = (after - before) / before * 100
    return f"{change:+.1f}%"
