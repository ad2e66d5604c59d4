"""A run's reference tables: each fetched catalog parsed and linked to our models
(``reference_models``, ``reference_prices``), and the discrepancies between them and the
run's own tables.

A catalog that cannot be fetched or read never stops the run: its rows of the last
snapshot are carried forward as they were (their old ``fetched_at``), with a quality issue
that names the source and why. Discrepancies are computed from the reference rows, carried
or fresh, against this run's tables.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, localcontext
from typing import Any

import pandas as pd

from transforms.build.issues import ISSUE_COLUMNS, Issues, issue_rows
from transforms.contract.casting import conform, empty, to_frame
from transforms.contract.layout import Snapshot
from transforms.contract.tables import DISCREPANCIES, REFERENCE_MODELS, REFERENCE_PRICES, TABLES
from transforms.contract.vocabulary import IssueKind, ReferenceSource, TableName
from transforms.pages.archive import CorruptBody, PageArchive
from transforms.references.log import NOT_ASKED, FetchRecord
from transforms.references.match import link_entries
from transforms.references.parse import (
    ReferenceEntry,
    UnreadableReference,
    exact_text,
    parse_reference,
    provider_key,
)

PERCENT_PLACES = Decimal("0.0001")
LIMIT_FIELDS = ("context_window_tokens", "max_output_tokens")
OFFER_METRICS = ("input", "output", "cache_read", "cache_write")


@dataclass
class SourceReport:
    """What one catalog gave this run, for the summary."""

    source: str
    url: str
    entries: int = 0
    matched: int = 0  # entries linked to at least one model
    discrepancies: int = 0
    unavailable: str | None = None  # why it was not read; its last rows were carried forward


@dataclass
class ReferenceTables:
    reference_models: pd.DataFrame
    reference_prices: pd.DataFrame
    discrepancies: pd.DataFrame
    issues: Issues
    reports: list[SourceReport] = field(default_factory=list)

    def tables(self) -> dict[str, pd.DataFrame]:
        return {
            TableName.REFERENCE_MODELS: self.reference_models,
            TableName.REFERENCE_PRICES: self.reference_prices,
            TableName.DISCREPANCIES: self.discrepancies,
        }


def reference_tables(
    fetched: list[FetchRecord],
    archive: PageArchive,
    previous: Snapshot | None,
    ours: dict[str, pd.DataFrame],
    today: date,
) -> ReferenceTables:
    """The reference tables of a run from its fetch log; ``ours`` holds its models,
    official_prices and provider_offers."""
    model_ids = set(ours[TableName.MODELS]["model_id"].dropna())
    models_parts, prices_parts = [], []
    issues = Issues()
    reports = []
    asked = {record.source for record in fetched}
    # A catalog this run was not asked for keeps its last values too (never "removed").
    unasked = [
        FetchRecord(source, "", datetime.min, None, NOT_ASKED, None)
        for source in sorted(_sources(previous) - asked)
    ]
    for record in sorted([*fetched, *unasked], key=lambda r: r.source):
        report = SourceReport(record.source, record.url)
        reports.append(report)
        try:
            parsed = _read(record, archive, today)
        except UnreadableReference as why:
            report.unavailable = str(why)
            if record.error != NOT_ASKED:
                issues += Issues.of(
                    issue_rows(
                        IssueKind.REFERENCE_UNAVAILABLE,
                        f"{record.source} could not be read ({why}); its last values are "
                        "carried forward",
                        page_url=record.url,
                        field=record.source,
                    )
                )
            carried_models, carried_prices = _carried(previous, record.source)
            report.url = _first(carried_models["source_url"], record.url)
            models_parts.append(carried_models)
            prices_parts.append(carried_prices)
            report.entries = carried_models["source_model"].nunique()
            report.matched = carried_models.loc[
                carried_models["model_id"].notna(), "source_model"
            ].nunique()
            continue
        entries, problems = parsed
        links, match_problems = link_entries(ReferenceSource(record.source), entries, model_ids)
        linked: dict[int, list[tuple[str, str]]] = {}
        for link in links:
            linked.setdefault(link.entry, []).append((link.model_id, str(link.rule)))
        model_rows, price_rows = _rows(record, entries, linked)
        models_parts.append(model_rows)
        prices_parts.append(price_rows)
        report.entries, report.matched = len(entries), len(linked)
        first_link = {entries[i].source_model: links[0][0] for i, links in linked.items()}
        issues += Issues.of(
            pd.DataFrame(
                [
                    {
                        "model_id": first_link.get(problem.source_model),
                        "page_url": record.url,
                        "kind": str(IssueKind.REFERENCE_VALUE),
                        "field": f"{record.source}: {problem.source_model} {problem.key}",
                        "raw_value": problem.raw_value,
                        "problem": problem.problem,
                    }
                    for problem in [*problems, *match_problems]
                ],
                columns=ISSUE_COLUMNS,
            )
        )
    reference_models = _concat(models_parts, REFERENCE_MODELS.name)
    reference_prices = _concat(prices_parts, REFERENCE_PRICES.name)
    found = discrepancies(reference_models, reference_prices, ours)
    counts = found["source"].value_counts()
    for report in reports:
        report.discrepancies = int(counts.get(report.source, 0))
    return ReferenceTables(reference_models, reference_prices, found, issues, reports)


def _read(
    record: FetchRecord, archive: PageArchive, today: date
) -> tuple[list[ReferenceEntry], list[Any]]:
    if record.error is not None or record.content_sha256 is None:
        raise UnreadableReference(record.error or "not fetched")
    try:
        body = archive.get(record.content_sha256)
    except (OSError, CorruptBody) as error:
        raise UnreadableReference(f"its archived body is lost: {error}") from None
    parsed = parse_reference(ReferenceSource(record.source), body, today)
    if not parsed.entries:
        raise UnreadableReference("no entries in the file")
    return parsed.entries, parsed.problems


def _rows(
    record: FetchRecord, entries: list[ReferenceEntry], linked: dict[int, list[tuple[str, str]]]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    models: list[dict[str, Any]] = []
    prices: list[dict[str, Any]] = []
    for index, entry in enumerate(entries):
        links: list[tuple[str | None, str | None]] = [*linked.get(index, [])] or [(None, None)]
        for model_id, rule in links:
            who = {
                "source": record.source,
                "source_model": entry.source_model,
                "provider": entry.provider,
                "model_id": model_id,
                "match_rule": rule,
            }
            models.append(
                who
                | {
                    "context_window_tokens": entry.context_window_tokens,
                    "max_output_tokens": entry.max_output_tokens,
                    "source_url": record.url,
                    "fetched_at": record.fetched_at.replace(tzinfo=None),
                }
            )
            prices.extend(
                who
                | {
                    "metric": price.metric,
                    "tier_min_tokens": price.tier_min_tokens,
                    "tier_max_tokens": price.tier_max_tokens,
                    "usd_per_mtok": price.usd_per_mtok,
                    "raw_value": price.raw_value,
                }
                for price in entry.prices
            )
    return (
        _frame(models, REFERENCE_MODELS.name),
        _frame(prices, REFERENCE_PRICES.name),
    )


def _frame(rows: list[dict[str, Any]], name: str) -> pd.DataFrame:
    table = TABLES[name]
    if not rows:
        return empty(table)
    return conform(pd.DataFrame(rows, columns=table.names), table)


def _concat(parts: list[pd.DataFrame], name: str) -> pd.DataFrame:
    table = TABLES[name]
    parts = [part for part in parts if len(part)]
    if not parts:
        return empty(table)
    frame = pd.concat(parts, ignore_index=True)
    return frame.sort_values(list(table.key), kind="stable", ignore_index=True)


def _sources(previous: Snapshot | None) -> set[str]:
    """The catalogs the last snapshot holds values of."""
    if previous is None or not previous.has(REFERENCE_MODELS.name):
        return set()
    return set(previous.read(REFERENCE_MODELS.name, columns=["source"])["source"].to_pylist())


def _first(values: pd.Series, default: str) -> str:
    return str(values.iloc[0]) if len(values) else default


def _carried(previous: Snapshot | None, source: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The source's rows of the last snapshot, as they were."""
    frames = []
    for table in (REFERENCE_MODELS, REFERENCE_PRICES):
        if previous is None or not previous.has(table.name):
            frames.append(empty(table))
            continue
        frames.append(to_frame(previous.read(table.name, where=("source", [source]))))
    return frames[0], frames[1]


# -- discrepancies ------------------------------------------------------------------------


def offer_provider(source: str, source_model: str, provider: str | None) -> str | None:
    """The provider key whose offer an entry prices, or None for a first-party price.

    LiteLLM: a prefixed key (``azure/…``) is that provider's, an un-prefixed one first-party;
    OpenRouter: the model-level price, first-party; models.dev and genai-prices: their
    provider (first-party when it is the model's own provider family)."""
    if source == ReferenceSource.OPENROUTER:
        return None
    if source == ReferenceSource.LITELLM and "/" not in source_model:
        return None
    return provider_key(provider) if provider else None


def discrepancies(
    reference_models: pd.DataFrame, reference_prices: pd.DataFrame, ours: dict[str, pd.DataFrame]
) -> pd.DataFrame:
    """Every linked entry's value that differs from ours: limits and prices, tier by tier."""
    # Only models an entry is linked to are compared: the others cost no rows in Python.
    linked_ids = set(reference_models["model_id"].dropna())
    linked_ids |= set(reference_prices["model_id"].dropna())

    def linked_to(name: str) -> pd.DataFrame:
        return ours[name][ours[name]["model_id"].isin(linked_ids)]

    models = linked_to(TableName.MODELS).drop_duplicates("model_id")
    family: dict[str, Any] = {}
    limits: dict[str, dict[str, Any]] = {}
    for model in _records(models, ["model_id", "provider_family_key", *LIMIT_FIELDS]):
        family[model["model_id"]] = model["provider_family_key"]
        limits[model["model_id"]] = model
    prices: dict[tuple[str, str, int], set[Decimal]] = defaultdict(set)
    for row in _records(linked_to(TableName.OFFICIAL_PRICES)):
        if _known(row["usd_per_mtok"]) and _known(row["tier_min_tokens"]):
            cell = (row["model_id"], row["metric"], int(row["tier_min_tokens"]))
            prices[cell].add(row["usd_per_mtok"])
    # Two tiers from the same bound (Standard | Batch columns) with two prices: which one
    # the catalog means is not known, so neither is compared.
    official = {cell: next(iter(found)) for cell, found in prices.items() if len(found) == 1}
    offers: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in _records(linked_to(TableName.PROVIDER_OFFERS)):
        offers.setdefault((row["model_id"], row["provider_key"]), []).append(row)

    def scope(row: dict[str, Any]) -> dict[str, Any] | bool | None:
        """None: compare with the official prices and the model's limits; an offer; or
        False: nothing to compare with."""
        provider = row["provider"] if _known(row["provider"]) else None
        key = offer_provider(row["source"], row["source_model"], provider)
        if key is None or key == family.get(row["model_id"]):
            return None
        found = offers.get((row["model_id"], key), [])
        return found[0] if len(found) == 1 else False  # several regions: ambiguous

    rows: list[dict[str, Any]] = []
    linked = reference_models[reference_models["model_id"].notna()]
    for entry in _records(linked):
        offer = scope(entry) if entry["model_id"] in limits else False
        if offer is False:
            continue
        ours_limits = limits[entry["model_id"]] if offer is None else offer
        assert isinstance(ours_limits, dict)
        for name in LIMIT_FIELDS:
            rows.extend(_differ(entry, offer, name, None, ours_limits[name], entry[name]))
    priced = reference_prices[
        reference_prices["model_id"].notna() & reference_prices["usd_per_mtok"].notna()
    ]
    for price in _records(priced):
        offer = scope(price) if price["model_id"] in limits else False
        metric, tier = price["metric"], int(price["tier_min_tokens"])
        if offer is None:
            ours_value = official.get((price["model_id"], metric, tier))
        elif isinstance(offer, dict) and tier == 0 and metric in OFFER_METRICS:
            ours_value = offer[f"{metric}_usd_per_mtok"]
        else:
            continue
        rows.extend(_differ(price, offer, metric, tier, ours_value, price["usd_per_mtok"]))
    if not rows:
        return empty(DISCREPANCIES)
    frame = conform(pd.DataFrame(rows, columns=DISCREPANCIES.names), DISCREPANCIES)
    return frame.sort_values(
        ["model_id", "source", "source_model", "field", "tier_min_tokens"],
        kind="stable",
        ignore_index=True,
    )


def _records(frame: pd.DataFrame, columns: list[str] | None = None) -> list[dict[str, Any]]:
    """Rows as dicts of Python values (Decimal, int, str; None for missing)."""
    picked = frame if columns is None else frame[columns]
    return [
        {str(k): (None if v is pd.NA else v) for k, v in row.items()}
        for row in picked.astype(object).to_dict("records")
    ]


def _known(value: Any) -> bool:
    return (
        value is not None
        and not (isinstance(value, float) and value != value)
        and value is not pd.NA
    )


def _differ(
    entry: dict[str, Any], offer: Any, name: str, tier: int | None, ours: Any, theirs: Any
) -> Iterator[dict[str, Any]]:
    if not (_known(ours) and _known(theirs)):
        return
    ours_value, their_value = Decimal(ours), Decimal(theirs)
    if ours_value == their_value:
        return
    difference = None
    if ours_value:
        with localcontext(prec=80):  # exact before the one rounding, to 4 places
            difference = ((their_value - ours_value) / ours_value * 100).quantize(PERCENT_PLACES)
    yield {
        "model_id": entry["model_id"],
        "source": entry["source"],
        "source_model": entry["source_model"],
        "match_rule": entry["match_rule"],
        "provider": None if offer is None else offer["provider"],
        "field": name,
        "tier_min_tokens": tier,
        "our_value": exact_text(ours_value),
        "source_value": exact_text(their_value),
        "difference_pct": difference,
    }
