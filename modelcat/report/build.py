"""The site as files: ``build_report`` reads the catalog once and writes every page, the
feed, the assets and ``assets/data.js`` (what the scripts need, as a classic script that
sets a global: from ``file://`` a page may not fetch a JSON file).

Deterministic: rows are sorted and the only times are the catalog's own, so the same
catalog gives byte-identical files. Atomic: the site is built in a directory beside
``out`` and renamed into place; a previous site there is replaced whole, anything else is
refused.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from modelcat.api import catalog as api
from modelcat.report.atom import feed
from modelcat.report.pages import Site
from modelcat.report.read import CACHE_KINDS, KINDS, Catalog, Row, price_units, read_catalog
from modelcat.report.text import number, page_name
from transforms.contract.vocabulary import ServiceTier

MARKER = ".modelcat-report"  # marks a directory as a site this module wrote
ASSETS = ("style.css", "table.js", "cost.js", "compare.js")


class NotASite(FileExistsError):
    """``out`` exists and is not a site ``modelcat report`` wrote: it is never replaced."""


def build_report(
    out: str | os.PathLike[str],
    data_dir: str | os.PathLike[str] | None = None,
    *,
    as_of: str | datetime | None = None,
) -> Path:
    """Write the site of the catalog in ``data_dir`` to ``out``; returns ``out``'s
    ``index.html``. Raises ``CatalogNotFound``, ``NotASite``, ``ValueError`` (as_of)."""
    target = Path(out)
    moment = None if as_of is None else api.utc_time(as_of)
    if target.exists() and not _replaceable(target):
        raise NotASite(f"{target} exists and is not a modelcat report: not replacing it")
    with api.open(data_dir, external_access=False) as con:
        catalog = read_catalog(con, moment)
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        write_site(catalog, work)
        _swap(work, target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return target / "index.html"


def write_site(catalog: Catalog, root: Path) -> None:
    """Every file of the site under ``root`` (an empty directory)."""
    site = Site(catalog)
    for page in site.pages():
        _write(root / page.path, page.html)
    _write(root / "changes.xml", feed(catalog))
    assets = resources.files("modelcat.report") / "assets"
    for name in ASSETS:
        _write(root / "assets" / name, (assets / name).read_text(encoding="utf-8"))
    _write(root / "assets" / "data.js", data_script(catalog))
    _write(root / MARKER, "A site written by `modelcat report`; it replaces this directory.\n")


def data_script(catalog: Catalog) -> str:
    """``window.MODELCAT``: what the calculator and compare need, prices as integer text
    in units of 10⁻⁹ USD per 1M tokens (exact, for BigInt)."""
    payload: dict[str, Any] = {
        "run": catalog.publication,
        "models": [_model(m) for m in catalog.models],
        "official": _official(catalog),
        "offers": _offers(catalog),
        "history": _history(catalog),
        "service_tiers": [str(t) for t in ServiceTier],
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    # No "<" at all: the text stays inert even if a page ever inlines it.
    return "window.MODELCAT = " + text.replace("<", "\\u003c") + ";\n"


def _model(m: Row) -> dict[str, Any]:
    return {
        "id": m["model_id"],
        "name": m["display_name"],
        "family": m["provider_family"],
        "context": m["context_window_tokens"],
        "max_output": m["max_output_tokens"],
        "page": f"models/{page_name(m['model_id'])}.html",
        "tool_use": m["supports_tool_use"],
        "modalities": sorted(set((m["input_modalities"] or []) + (m["output_modalities"] or []))),
    }


def _official(catalog: Catalog) -> dict[str, list[dict[str, Any]]]:
    """Per model, its distinct tiers (as ``workload_costs`` chooses among them) with the
    price of each kind and whether each cache kind has a price row."""
    rows: dict[str, list[Row]] = {}
    for row in catalog.official:
        rows.setdefault(row["model_id"], []).append(row)
    out: dict[str, list[dict[str, Any]]] = {}
    for model_id, prices in rows.items():
        tiers = sorted(
            {(p["tier_label"], p["tier_min_tokens"], p["tier_max_tokens"]) for p in prices},
            key=lambda t: (t[1] is None, t[1] or 0, t[0], t[2] is None, t[2] or 0),
        )
        out[model_id] = []
        for label, low, high in tiers:
            mine = [p for p in prices if p["tier_label"] == label and p["tier_min_tokens"] == low]
            out[model_id].append(
                {
                    "label": label,
                    "min": low,
                    "max": high,
                    "prices": {k: _max_units(p for p in mine if p["metric"] == k) for k in KINDS},
                    "listed": {k: any(p["metric"] == k for p in mine) for k in CACHE_KINDS},
                }
            )
    return out


def _max_units(rows: Any) -> str | None:
    values = [r["usd_per_mtok"] for r in rows if r["usd_per_mtok"] is not None]
    return price_units(max(values)) if values else None


def _offers(catalog: Catalog) -> list[dict[str, Any]]:
    unread = {(u["model_id"], u["provider"], u["region"], u["metric"]) for u in catalog.unread}
    windows = {m["model_id"]: m["context_window_tokens"] for m in catalog.models}
    out = []
    for o in catalog.offers:
        key = (o["model_id"], o["provider"], o["region"])
        out.append(
            {
                "model": o["model_id"],
                "provider": o["provider"],
                "region": o["region"],
                "tier": o["service_tier"],
                "context": o["context_window_tokens"]
                if o["context_window_tokens"] is not None
                else windows.get(o["model_id"]),
                "prices": {k: price_units(o[f"{k}_usd_per_mtok"]) for k in KINDS},
                "listed": {
                    k: o[f"{k}_usd_per_mtok"] is not None or (*key, k) in unread
                    for k in CACHE_KINDS
                },
            }
        )
    return out


def _history(catalog: Catalog) -> dict[str, list[dict[str, Any]]]:
    """Per model, its official input and output prices over time (every tier)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for h in catalog.history:
        if h["provider"] is not None or h["metric"] not in ("input", "output"):
            continue
        series = out.setdefault(h["model_id"], [])
        name = f"{h['metric']} {h['tier_label']}"
        if not series or series[-1]["name"] != name:
            series.append({"name": name, "steps": []})
        series[-1]["steps"].append(
            [_iso(h["valid_from"]), _iso(h["valid_to"]), number(h["usd_per_mtok"])]
        )
    return out


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))


def _replaceable(target: Path) -> bool:
    if not target.is_dir():
        return False
    return (target / MARKER).is_file() or not any(target.iterdir())


def _swap(work: Path, target: Path) -> None:
    """Put ``work`` where ``target`` is: readers see the old site or the new, never half."""
    os.chmod(work, 0o755)  # mkdtemp makes it 0700; a site is for serving
    if not target.exists():
        work.rename(target)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    old.rmdir()
    target.rename(old)
    try:
        work.rename(target)
    except BaseException:
        old.rename(target)
        raise
    shutil.rmtree(old, ignore_errors=True)
