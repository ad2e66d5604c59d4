"""changes.xml: a valid Atom feed of exactly the change feed, its ids stable over rebuilds."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import modelcat
from modelcat.report import build_report
from transforms.contract.layout import DataDir

A = "{http://www.w3.org/2005/Atom}"


def entries(site: Path) -> list[ET.Element]:
    root = ET.parse(site / "changes.xml").getroot()
    assert root.tag == f"{A}feed"
    for required in ("id", "title", "updated", "author"):
        assert root.find(f"{A}{required}") is not None, required
    found = root.findall(f"{A}entry")
    for entry in found:
        for required in ("id", "title", "updated"):
            assert (entry.findtext(f"{A}{required}") or "").strip(), required
        assert entry.findtext(f"{A}updated", "").endswith("Z")
        link = entry.find(f"{A}link")
        assert link is not None
        assert (site / link.get("href", "")).is_file()
    return found


def test_the_feed_lists_exactly_the_change_feed(odd_data: DataDir, site: Path) -> None:
    with modelcat.open(odd_data.root) as con:
        changes = con.execute("SELECT model_id, kind FROM changes").fetchall()
    found = entries(site)
    assert len(found) == len(changes) > 0
    ids = [e.findtext(f"{A}id") for e in found]
    assert len(set(ids)) == len(ids)
    titled = sorted(
        ((e.findtext(f"{A}title") or "").split(": ", 1)[0], e.find(f"{A}category").get("term"))  # type: ignore[union-attr]
        for e in found
    )
    assert [kind for _, kind in titled].count("price_changed") == [k for _, k in changes].count(
        "price_changed"
    )
    assert sorted(k for _, k in titled) == sorted(k for _, k in changes)


def test_entry_ids_stay_the_same_as_the_feed_grows(odd_data: DataDir, site: Path, tmp_path) -> None:
    """The feed as of the first run is a part of today's, with the same ids."""
    with modelcat.open(odd_data.root) as con:
        first_end = con.execute("SELECT min(finished_at) FROM runs").fetchone()[0]  # type: ignore[index]
    then = tmp_path / "then"
    build_report(then, odd_data.root, as_of=first_end)
    old = {e.findtext(f"{A}id"): e.findtext(f"{A}title") for e in entries(then)}
    now = {e.findtext(f"{A}id"): e.findtext(f"{A}title") for e in entries(site)}
    assert old
    assert len(old) < len(now)
    assert {k: now[k] for k in old} == old
