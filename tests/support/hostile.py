"""The hostile corpus, ``tests/fixtures/hostile/``: each page with the outcome it must have
(``expected.json``), and how to read that outcome back from a run's tables.

``expected.json`` maps a page's file name to what the run must make of it:
- ``outcome``: its ``pages.outcome``; ``error``: text its ``pages.error`` holds;
- ``issues``: quality issue kinds it must raise (others may come too);
- ``prices``: ``"metric tier_label"`` -> the published ``usd_per_mtok`` (null: a row whose
  price is NULL; ``"absent"``: no row);
- ``offers``: ``"provider"`` -> {column: value} of its one offer (``"absent"``: no offer);
- ``models``: {column: value} of its model row.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pandas as pd

from tests.support import HOSTILE
from tests.support.staging import BASE

EXPECTED = json.loads((HOSTILE / "expected.json").read_text(encoding="utf-8"))


def corpus() -> dict[str, bytes]:
    return {BASE + path.name: path.read_bytes() for path in sorted(HOSTILE.glob("*.md"))}


def plain(value: object) -> object:
    """A published value as expected.json writes it."""
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if hasattr(value, "item"):
        return value.item()
    return value


def rows_of(frame: pd.DataFrame, page_url: str) -> list[dict]:
    rows = frame[frame["page_url"] == page_url]
    return [{k: plain(v) for k, v in row.items()} for row in rows.to_dict("records")]


def outcome_of(tables: dict[str, pd.DataFrame], page_url: str) -> dict[str, object]:
    """Everything expected.json checks, as the run published it."""
    models = tables["models"]
    model = models[models["page_url"] == page_url]
    model_id = model["model_id"].iloc[0] if len(model) else None
    (page,) = rows_of(tables["pages"].rename(columns={"final_url": "page_url"}), page_url)
    prices = {}
    for row in tables["official_prices"][tables["official_prices"]["model_id"] == model_id].to_dict(
        "records"
    ):
        prices[f"{row['metric']} {row['tier_label']}"] = plain(row["usd_per_mtok"])
    offers = {
        row["provider"]: {k: plain(v) for k, v in row.items()}
        for row in tables["provider_offers"][
            tables["provider_offers"]["model_id"] == model_id
        ].to_dict("records")
    }
    issues = tables["quality_issues"]
    return {
        "page": page,
        "model": {k: plain(v) for k, v in model.iloc[0].items()} if len(model) else None,
        "prices": prices,
        "offers": offers,
        "issues": set(issues.loc[issues["page_url"] == page_url, "kind"]),
    }


def check(name: str, got: dict[str, object]) -> None:
    """``got`` (``outcome_of``) against what expected.json says of page ``name``."""
    want = EXPECTED[name]
    # A page unchanged since the last run holds its model just the same.
    outcome = {"not_modified": "model"}.get(got["page"]["outcome"], got["page"]["outcome"])
    assert outcome == want["outcome"], (name, got["page"])
    if "error" in want:
        assert want["error"] in (got["page"]["error"] or ""), (name, got["page"])
    missing = set(want.get("issues", [])) - got["issues"]
    assert not missing, (name, missing, got["issues"])
    for column, value in want.get("models", {}).items():
        assert got["model"] is not None, name
        assert got["model"][column] == value, (name, column, got["model"][column])
    for cell, value in want.get("prices", {}).items():
        if value == "absent":
            assert cell not in got["prices"], (name, cell)
        else:
            assert cell in got["prices"], (name, cell, got["prices"])
            assert got["prices"][cell] == value, (name, cell, got["prices"][cell])
    for provider, columns in want.get("offers", {}).items():
        if columns == "absent":
            assert provider not in got["offers"], (name, provider)
            continue
        for column, value in columns.items():
            assert got["offers"][provider][column] == value, (name, provider, column)
