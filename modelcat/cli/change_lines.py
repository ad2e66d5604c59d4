"""The change feed for people: one change a line, grouped by run, short enough for an 80-column
terminal (``modelcat changes --format lines``)::

    run 20261205T084001493Z: 1 attribute_changed, 2 price_changed
      gpt-4.1-mini-2025-04-14 · OpenAI · input 0.8 → 0.7 (-12.5%)
      gpt-4.1-mini-2025-04-14 · official <=200K Context · input 0.8 → 0.7 (-12.5%)
      gpt-4.1-mini-2025-04-14 · display_name GPT-4.1 Mini → GPT-4.1 mini
      gpt-4.1-mini-2025-04-14 · litellm · input differs: ours 0.7, theirs 0.4

The values are the feed's own text (exact decimals without trailing zeros); the percentage
of a price change is computed from them in ``Decimal`` and shown to one decimal place.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

from transforms.contract.vocabulary import ChangeKind

# The columns a line is made of, in the order the query selects them.
COLUMNS = (
    "run_id",
    "kind",
    "model_id",
    "provider",
    "region",
    "field",
    "tier_label",
    "old_value",
    "new_value",
    "source",
)


def lines(rows: Iterable[tuple[Any, ...]]) -> Iterator[str]:
    """Each run's heading, then its changes, one a line."""
    run: list[dict[str, Any]] = []
    for row in rows:
        change = dict(zip(COLUMNS, row, strict=True))
        if run and change["run_id"] != run[0]["run_id"]:
            yield from _run_lines(run)
            run = []
        run.append(change)
    if run:
        yield from _run_lines(run)


def _run_lines(run: list[dict[str, Any]]) -> Iterator[str]:
    first = run[0]
    kinds = Counter(change["kind"] for change in run)
    counts = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
    yield f"run {first['run_id']}: {counts}"  # a run id is its start, UTC
    for change in run:
        yield "  " + line(change)


def line(change: dict[str, Any]) -> str:
    """One change, as a line: the model, who sells it (or which official tier), what."""
    kind = change["kind"]
    parts = [change["model_id"]]
    if change["source"] is not None:  # what a public catalog says, not the pages
        parts.append(change["source"])
    if change["provider"] is not None:
        region = f" ({change['region']})" if change["region"] else ""
        parts.append(change["provider"] + region)
    elif change["tier_label"] is not None:
        parts.append(f"official {change['tier_label']}")
    old, new = change["old_value"], change["new_value"]
    if kind in (
        ChangeKind.PRICE_CHANGED,
        ChangeKind.ATTRIBUTE_CHANGED,
        ChangeKind.REFERENCE_CHANGED,
    ):
        parts.append(f"{change['field']} {_text(old)} → {_text(new)}{_percent(old, new)}")
    elif kind == ChangeKind.PRICE_ADDED:
        parts.append(f"{change['field']} added: {_text(new)}")
    elif kind == ChangeKind.PRICE_REMOVED:
        parts.append(f"{change['field']} removed (was {_text(old)})")
    elif kind == ChangeKind.DISCREPANCY_OPENED:
        parts.append(f"{change['field']} differs: ours {_text(old)}, theirs {_text(new)}")
    elif kind == ChangeKind.DISCREPANCY_CLOSED:
        parts.append(f"{change['field']} agrees again (was ours {_text(old)}, theirs {_text(new)})")
    else:  # a model or an offer added or removed
        parts.append(kind.replace("_", " "))
    return " · ".join(parts)


def _text(value: str | None) -> str:
    return "(none)" if value is None else value


def _percent(old: str | None, new: str | None) -> str:
    """`` (-12.5%)`` for two numbers, the old one not zero; else nothing."""
    try:
        before, after = Decimal(old or ""), Decimal(new or "")
    except InvalidOperation:
        return ""
    if before == 0 or not (before.is_finite() and after.is_finite()):
        return ""
    change = (after - before) / before * 100
    return f" ({change:+.1f}%)"
