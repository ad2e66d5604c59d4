"""Official Pricing and Provider Availability -> ``official_prices`` and ``provider_offers``.

Prices are published only in US dollars per 1M tokens. The unit is read wherever a page
states it (the section heading, a table's header cells, a price row's label); a price
under any other unit or currency, or under a pricing section that states none, is NULL
plus an issue, never converted. Provider Availability states no unit on the site's pages:
its prices are per 1M tokens unless its heading or header says otherwise.
"""

from __future__ import annotations

import pandas as pd

from transforms.build import normalize as n
from transforms.build.cells import (
    Findings,
    each_distinct,
    labelled_tables,
    one_value_per_cell,
    read,
    table_cells,
    unique,
    unknown_labels,
    wide,
)
from transforms.build.issues import Issues
from transforms.contract.tables import OFFER_PRICE_METRICS
from transforms.contract.vocabulary import TOKEN_METRICS, IssueKind

# Provider Availability column header (as a slug) -> provider_offers column. Prices may be
# headed with or without "Price": "Input Price", "Cache Read".
OFFER_COLUMNS = {
    "region": "region",
    "context_window": "context_window_tokens",
    "max_output": "max_output_tokens",
    **{f"{m}{suffix}": f"{m}_usd_per_mtok" for m in TOKEN_METRICS for suffix in ("", "_price")},
}


def _price_units(cells: pd.DataFrame, *, labels: bool) -> pd.DataFrame:
    """What the page says about the unit of each priced cell: its section heading, every
    header cell of that section's tables and (``labels``) its row label.

    Returns ``per_mtok`` (one of them states USD per 1M tokens) and ``other`` (the first
    other unit or currency one of them states, as written) for each cell."""
    header = cells[cells["row_label"].isna() & cells["column_label"].notna()]
    said = _units_of(header["raw_value"])
    table = header["page_url"] + "\x1f" + header["section"]
    of_table = cells["page_url"] + "\x1f" + cells["section"]
    per_mtok = of_table.map(said["per_mtok"].groupby(table).any()).fillna(False).astype(bool)
    other = of_table.map(said["other"].groupby(table).first()).astype(n.STRING)
    for texts in [cells["section"], *([cells["row_label"]] if labels else [])]:
        units = _units_of(texts)
        per_mtok |= units["per_mtok"]
        other = units["other"].fillna(other)
    return pd.DataFrame({"per_mtok": per_mtok, "other": other}, index=cells.index)


def _units_of(texts: pd.Series) -> pd.DataFrame:
    """``n.price_unit`` of each text, once per distinct text."""
    said = {text: n.price_unit(text) for text in texts.dropna().unique()}
    per_mtok = texts.map({text: unit.per_mtok for text, unit in said.items()})
    return pd.DataFrame(
        {
            "per_mtok": per_mtok.fillna(False).astype(bool),
            "other": texts.map({text: unit.other for text, unit in said.items()}).astype(n.STRING),
        },
        index=texts.index,
    )


def official_prices(cells: pd.DataFrame, model_of_page: pd.Series) -> tuple[pd.DataFrame, Findings]:
    """Official Pricing cells -> ``official_prices`` rows (with page_url): one per price
    shown, by metric and context tier; a price that cannot be read is NULL and flagged."""
    cells, units, issues = _pricing_cells(cells, model_of_page)
    said = cells["raw_value"].str.strip()
    said = said.mask(n.is_missing(said), "").where(~cells["wrong_unit"], "unit: " + said)
    cells, conflicts, settled = one_value_per_cell(
        cells,
        ["page_url", "metric", "column_label"],
        field="official_prices." + cells["metric"] + " " + cells["column_label"],
        said=said,
    )
    conflicted = conflicts.rename(columns={"column_label": "tier_label"})[
        ["page_url", "metric", "tier_label"]
    ].assign(table="official_prices", column="usd_per_mtok")
    units = units.loc[cells.index]
    model_id = cells["page_url"].map(unique(model_of_page)).astype(n.STRING)
    tiers = _tiers(cells)
    usd = n.usd(cells["raw_value"]).mask(cells["wrong_unit"] | cells["conflict"])
    frame = pd.DataFrame(
        {
            "page_url": cells["page_url"],
            "model_id": model_id,
            "tier_label": cells["column_label"],
            "tier_min_tokens": tiers["tier_min_tokens"],
            "tier_max_tokens": tiers["tier_max_tokens"],
            "metric": cells["metric"],
            "usd_per_mtok": usd,
            "raw_value": cells["raw_value"].str.strip(),
        }
    )
    keep = ~n.is_missing(cells["raw_value"]) | cells["conflict"]
    issues += settled + _flag_prices(cells, units, tiers, usd, keep, model_id=model_id)
    return frame[keep].reset_index(drop=True), Findings(issues, (conflicted,))


def _pricing_cells(
    cells: pd.DataFrame, model_of_page: pd.Series
) -> tuple[pd.DataFrame, pd.DataFrame, Issues]:
    """The pricing tables' cells that are read, each with its metric and whether its unit is
    other than USD per 1M tokens, and each cell's unit; a row without a metric is flagged."""
    cells = cells[n.isin(cells["page_url"], model_of_page.index)]
    units = _price_units(cells, labels=True)
    cells, issues = labelled_tables(cells, "Metric")
    cell = cells["row_label"].notna() & cells["column_label"].notna()
    cells, unmapped = table_cells(cells, kept=cell, what="a cell of the pricing table")
    units = units.loc[cells.index]
    metric = n.metric(each_distinct(cells["row_label"], n.without_unit).astype(n.STRING))
    # A metric is named: a label that is a value ($5, 128K: a row shifted by a cell) is none.
    metric = metric.where(metric.str.match(r"[a-z]").fillna(False).astype(bool))
    priced = ~n.is_missing(cells["raw_value"])
    unlabelled = (metric.isna() & priced).astype(bool)
    no_metric = cells[unlabelled].drop_duplicates(["page_url", "section", "row_number"])
    issues += unmapped + Issues.where(
        no_metric.index,
        IssueKind.MISSING_METRIC,
        "price row without a metric name for a label; its prices are not read",
        page_url=no_metric["page_url"],
        field="official_prices.metric",
        raw_value=no_metric["row_label"],
    )
    wrong_unit = units["other"].notna() | ~units["per_mtok"]
    cells = cells.assign(metric=metric, wrong_unit=wrong_unit.astype(bool))[metric.notna()]
    return cells, units, issues


def _flag_prices(
    cells: pd.DataFrame,
    units: pd.DataFrame,
    tiers: pd.DataFrame,
    usd: pd.Series,
    keep: pd.Series,
    *,
    model_id: pd.Series,
) -> Issues:
    """The issues of the official price rows kept: units, unreadable prices and tiers, and
    metrics that are not known."""
    field = "official_prices." + cells["metric"]
    issues = _flag_units(cells, units, keep, model_id=model_id, field=field)
    issues += Issues.where(
        keep & ~cells["wrong_unit"] & ~cells["conflict"] & n.unreadable(cells["raw_value"], usd),
        IssueKind.UNREADABLE_VALUE,
        "price does not parse as US dollars ($1,234.5)",
        page_url=cells["page_url"],
        model_id=model_id,
        field=field,
        raw_value=cells["raw_value"],
    )
    for kind, bad, problem in (
        (IssueKind.UNREADABLE_TIER, tiers["unread"], "does not parse"),
        (IssueKind.OVERLAPPING_TIERS, tiers["overlaps"], "starts inside the tier before it"),
    ):
        issues += Issues.where(
            keep & bad,
            kind,
            f"context tier label {problem}; tier bounds left NULL",
            page_url=cells["page_url"],
            model_id=model_id,
            field="tier_label",
            raw_value=cells["column_label"],
        )
    return issues + Issues.where(
        keep & ~cells["metric"].isin(n.KNOWN_METRICS),
        IssueKind.UNKNOWN_METRIC,
        "price row label is not a known metric; kept as its slug",
        page_url=cells["page_url"],
        model_id=model_id,
        field="metric",
        raw_value=cells["row_label"],
    )


def _offer_cells(
    cells: pd.DataFrame, model_of_page: pd.Series
) -> tuple[pd.DataFrame, pd.DataFrame, Issues]:
    """The provider tables' cells that are read, each with its offer column, provider and
    whether its price unit is other than USD per 1M tokens, and each cell's unit; a row
    without a provider is flagged and dropped."""
    cells = cells[n.isin(cells["page_url"], model_of_page.index)]
    units = _price_units(cells, labels=False)
    cells, issues = labelled_tables(cells, "Provider")
    cell = cells["row_label"].notna() & cells["column_label"].notna()
    cells, unmapped = table_cells(cells, kept=cell, what="a cell of the provider table")
    column = n.slug(each_distinct(cells["column_label"], n.without_unit).astype(n.STRING), "_")
    column = column.map(OFFER_COLUMNS)
    issues += unmapped + unknown_labels(
        cells, column.notna(), "column_label", "Provider Availability column"
    )
    cells = cells.assign(
        column=column,
        provider=n.text(cells["row_label"]),
        # Prices have no unit on the site's pages: per 1M tokens unless the page says other.
        wrong_unit=(units["other"].loc[cells.index].notna() & column.str.endswith("_usd_per_mtok"))
        .fillna(False)
        .astype(bool),
    )[column.notna()]

    no_provider = cells.drop_duplicates(["page_url", "row_number"])
    no_provider = no_provider[no_provider["provider"].isna()]
    issues += Issues.where(
        no_provider.index,
        IssueKind.MISSING_PROVIDER,
        "Provider Availability row without a provider name; row dropped",
        page_url=no_provider["page_url"],
        field="provider_offers.provider",
        raw_value=no_provider["row_label"],
    )
    cells = cells[cells["provider"].notna()]
    return cells, units, issues


_OFFER_KEY = ["page_url", "provider", "region"]


def _with_offers(cells: pd.DataFrame) -> tuple[pd.DataFrame, Findings]:
    """Each cell with its row's region and its offer (a number per page, provider and region):
    the region of each row first, then every other cell of the offer."""
    regions = cells[cells["column"] == "region"]
    regions, conflicts, issues = one_value_per_cell(
        regions,
        ["page_url", "row_number"],
        field="provider_offers.region " + regions["provider"],
    )
    conflicted = conflicts[["page_url", "provider"]].assign(
        table="provider_offers", column="region"
    )
    rows = ["page_url", "row_number"]
    regions = regions.assign(raw_value=regions["raw_value"].mask(regions["conflict"]))
    region = cells[rows].merge(regions[[*rows, "raw_value"]], on=rows, how="left")["raw_value"]
    cells = cells.assign(region=n.text(region.set_axis(cells.index)))
    cells["offer"] = cells.groupby(_OFFER_KEY, sort=False, dropna=False).ngroup()
    return cells, Findings(issues, (conflicted,))


def _add_withheld(typed: pd.DataFrame, prices: pd.DataFrame, offers: pd.Index) -> None:
    """Each offer price's ``<column>_withheld``: what a price withheld from reading said.

    Withheld (stated in another unit, or copies that disagree), a price is NULL like a "—",
    but unlike a "—" it is no removal: what it said is kept for unread_prices."""
    withheld = prices[
        (prices["wrong_unit"] & ~n.is_missing(prices["raw_value"])) | prices["conflict"]
    ]
    held = wide(withheld, ["offer"], withheld["column"]).reindex(offers)
    for column in OFFER_PRICE_METRICS:
        typed[f"{column}_withheld"] = (
            held[column] if column in held else pd.Series(pd.NA, index=held.index)
        ).astype(n.STRING)


def _tiers(cells: pd.DataFrame) -> pd.DataFrame:
    """Each price cell's tier. The tiers of a page are its column headers, left to right;
    pages share a handful of header sequences, so each distinct one is read once."""
    columns = cells.drop_duplicates(["page_url", "column_label"])
    headers: dict[str, list[str]] = {}
    for page, label in zip(columns["page_url"], columns["column_label"], strict=True):
        headers.setdefault(page, []).append(label)
    lookup = pd.DataFrame(
        [
            (page, label, tier.min_tokens, tier.max_tokens, tier.overlaps)
            for page, labels in headers.items()
            # A tier header may state the unit too ("<=200K Context (per 1M tokens)").
            for label, tier in zip(
                labels, n.read_tiers(tuple(map(n.without_unit, labels))), strict=True
            )
        ],
        columns=["page_url", "column_label", "tier_min_tokens", "tier_max_tokens", "overlaps"],
    ).astype(
        {
            "page_url": n.STRING,
            "column_label": n.STRING,
            "tier_min_tokens": n.INT64,
            "tier_max_tokens": n.INT64,
            "overlaps": bool,
        }
    )
    tiers = cells[["page_url", "column_label"]].merge(
        lookup, on=["page_url", "column_label"], how="left"
    )
    tiers = tiers.set_axis(cells.index)
    tiers["unread"] = (tiers["tier_min_tokens"].isna() & ~tiers["overlaps"]).astype(bool)
    return tiers


def _flag_units(
    cells: pd.DataFrame,
    units: pd.DataFrame,
    priced: pd.Series,
    *,
    model_id: pd.Series,
    field: pd.Series | str,
) -> Issues:
    """An unsupported_price_unit issue for each priced cell whose unit is not USD per 1M."""
    other = units["other"]
    stated = other.notna().astype(bool)
    issues = Issues()
    for where, problem, raw in (
        (stated, "prices stated in another unit or currency", other),
        (~stated, "the pricing section does not say 'per 1M tokens'", cells["section"]),
    ):
        issues += Issues.where(
            priced & cells["wrong_unit"] & where,
            IssueKind.UNSUPPORTED_PRICE_UNIT,
            problem + "; price left NULL, never converted",
            page_url=cells["page_url"],
            model_id=model_id,
            field=field,
            raw_value=raw,
        )
    return issues


def provider_offers(cells: pd.DataFrame, model_of_page: pd.Series) -> tuple[pd.DataFrame, Findings]:
    """Provider Availability cells -> ``provider_offers`` rows (with page_url): one per offer,
    a provider and region, however many rows and columns repeat it."""
    cells, units, issues = _offer_cells(cells, model_of_page)
    cells, region_found = _with_offers(cells)
    prices = cells[cells["column"] != "region"]
    said = prices["raw_value"].str.strip()
    said = said.mask(n.is_missing(said), "").where(~prices["wrong_unit"], "unit: " + said)
    prices, conflicts, settled = one_value_per_cell(
        prices,
        ["offer", "column"],
        field="provider_offers." + prices["column"] + " " + prices["provider"],
        said=said,
    )
    found = (
        Findings(issues)
        + region_found
        + Findings(settled, (conflicts[[*_OFFER_KEY, "column"]].assign(table="provider_offers"),))
    )

    offers = cells.drop_duplicates("offer").set_index("offer")
    readable = prices.assign(
        raw_value=prices["raw_value"].mask(prices["wrong_unit"] | prices["conflict"])
    )
    raw = wide(readable, ["offer"], readable["column"]).reindex(offers.index)
    raw["region"] = offers["region"]
    page_url = offers["page_url"]
    model_id = page_url.map(unique(model_of_page)).astype(n.STRING)
    provider = offers["provider"]
    typed, unreadable = read(
        raw,
        list(dict.fromkeys(OFFER_COLUMNS.values())),
        page_url=page_url,
        model_id=model_id,
        table="provider_offers",
    )
    _add_withheld(typed, prices, offers.index)
    wrong = prices[prices["wrong_unit"]]
    unit_issues = _flag_units(
        wrong,
        units.loc[wrong.index],
        ~n.is_missing(wrong["raw_value"]),
        model_id=wrong["page_url"].map(unique(model_of_page)).astype(n.STRING),
        field="provider_offers." + wrong["column"] + " " + wrong["provider"],
    )
    found += Findings(unreadable + unit_issues)
    offered = pd.concat(
        [
            pd.DataFrame(
                {
                    "page_url": page_url,
                    "model_id": model_id,
                    "provider": provider,
                    "provider_key": n.slug(provider),
                    "service_tier": n.service_tier(provider),
                }
            ),
            typed,
        ],
        axis=1,
    ).reset_index(drop=True)
    return offered, found
