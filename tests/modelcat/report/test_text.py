"""Page names: one per key, safe in any file system and URL."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelcat.report.text import number, page_name, percent


@given(st.text(min_size=1, max_size=300), st.text(min_size=1, max_size=300))
def test_page_names_are_distinct_and_safe(a: str, b: str) -> None:
    for key in (a, b):
        name = page_name(key)
        assert re.fullmatch(r"[a-z0-9._\-A-F]+", name)
        assert not name.startswith(".")
        assert len(name.encode()) <= 120
    if a != b:
        assert page_name(a) != page_name(b)


@pytest.mark.parametrize(
    ("key", "name"),
    [
        ("gpt-4o", "gpt-4o"),
        ("org/model", "org_2Fmodel"),
        ("Org", "_4Frg"),
        ("a_b", "a_5Fb"),
        (".x", "_2Ex"),
        ("x.y", "x.y"),
        ("v1:0", "v1_3A0"),
    ],
)
def test_page_name_examples(key: str, name: str) -> None:
    assert page_name(key) == name


@pytest.mark.parametrize(
    ("text", "shown"),
    [("0.800000000", "0.8"), ("0E-9", "0"), ("10", "10"), ("1E+1", "10"), ("3.75", "3.75")],
)
def test_numbers_keep_their_exact_value(text: str, shown: str) -> None:
    from decimal import Decimal

    assert number(Decimal(text)) == shown
    assert Decimal(shown) == Decimal(text)


@pytest.mark.parametrize(
    ("old", "new", "shown"),
    [
        ("0.8", "0.7", "-12.5%"),
        ("1", "2", "+100.0%"),
        ("0", "1", ""),
        (None, "1", ""),
        ("a", "1", ""),
    ],
)
def test_percent(old: str | None, new: str | None, shown: str) -> None:
    assert percent(old, new) == shown
