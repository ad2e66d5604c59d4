"""Page values as written -> the typed catalog tables, with every problem recorded.

Input is the raw layer: ``pages`` (one row per URL touched) and ``page_values`` (one row per
value on a model page). Output is one frame per published table. All interpretation of the
page format lives here, applied to whole columns at once; the value grammar itself lives in
``transforms.normalize``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import pandas as pd

from transforms import normalize as n
from transforms.schema import OFFER_PRICE_METRICS

# Section headings as the pages write them, compared case-insensitively by prefix.
METADATA_SECTION = "model metadata"
PRICING_SECTION = "official pricing"
OFFERS_SECTION = "provider availability"
OVERVIEW_SECTION = "overview"
PRICE_UNIT = re.compile(r"\(\s*per\s+1M\s+tokens\s*\)", re.IGNORECASE)

# How each typed column is read from its raw text.
READERS: dict[str, Callable[[pd.Series], pd.Series]] = {
    "model_id": n.text,
    "display_name": n.text,
    "provider_family": n.text,
    "release_date": n.iso_date,
    "context_window_tokens": n.tokens,
    "max_output_tokens": n.tokens,
    "input_modalities": n.modalities,
    "output_modalities": n.modalities,
    "supports_tool_use": n.yes_no,
    "supports_computer_use": n.yes_no,
    "supports_cache_control": n.yes_no,
    "region": n.text,
    **{f"{m}_usd_per_mtok": n.usd for m in ("input", "output", "cache_read", "cache_write")},
}
# Model Metadata bullet label (as a snake_case slug) -> models column.
METADATA_COLUMNS = {
    "model_id": "model_id",
    "display_name": "display_name",
    "provider_family": "provider_family",
    "release_date": "release_date",
    "context_window": "context_window_tokens",
    "max_output": "max_output_tokens",
    "input_modalities": "input_modalities",
    "output_modalities": "output_modalities",
    "tool_use_support": "supports_tool_use",
    "computer_use_support": "supports_computer_use",
    "cache_control_support": "supports_cache_control",
}
# Provider Availability column header (as a slug) -> provider_offers column. Prices may be
# headed with or without "Price": "Input Price", "Cache Read".
OFFER_COLUMNS = {
    "region": "region",
    "context_window": "context_window_tokens",
    "max_output": "max_output_tokens",
    **{
        f"{m}{suffix}": f"{m}_usd_per_mtok"
        for m in ("input", "output", "cache_read", "cache_write")
        for suffix in ("", "_price")
    },
}
# Page outcomes whose page holds a model; quarantine and duplicate checks re-label them.
MODEL_OUTCOMES = ("model", "not_modified")
ISSUE_COLUMNS = ["model_id", "page_url", "kind", "field", "raw_value", "problem"]


@dataclass
class Catalog:
    """The typed tables of one run, before validation."""

    models: pd.DataFrame
    official_prices: pd.DataFrame
    provider_offers: pd.DataFrame
    pages: pd.DataFrame
    quality_issues: pd.DataFrame
    unread_prices: pd.DataFrame  # see ``unread_prices``; with page_url


@dataclass
class Kept:
    """Typed rows of pages unchanged since the last run, reused as they were published."""

    models: pd.DataFrame
    official_prices: pd.DataFrame  # with page_url
    provider_offers: pd.DataFrame  # with page_url
    quality_issues: pd.DataFrame
    unread_prices: pd.DataFrame  # with page_url

    @classmethod
    def empty(cls) -> Kept:
        return cls(*(pd.DataFrame({"page_url": pd.Series(dtype=n.STRING)}) for _ in range(5)))


class Issues:
    """Collects quality issues as frames, one batch per check."""

    def __init__(self) -> None:
        self.batches: list[pd.DataFrame] = []

    def add(
        self,
        where: pd.Series | pd.Index,
        *,
        page_url: pd.Series,
        kind: str,
        field: str | pd.Series | None,
        raw_value: pd.Series | str | None,
        problem: str | pd.Series,
        model_id: pd.Series | None = None,
    ) -> None:
        """Record one issue for each row where ``where`` is True (all rows of a bare index)."""
        mask = where if isinstance(where, pd.Series) else pd.Series(True, index=where)
        if not mask.any():
            return
        columns = {
            "model_id": model_id,
            "page_url": page_url,
            "kind": kind,
            "field": field,
            "raw_value": raw_value,
            "problem": problem,
        }
        batch = pd.DataFrame(
            {k: v[mask] if isinstance(v, pd.Series) else v for k, v in columns.items()},
            index=mask.index[mask],
        )
        self.batches.append(batch.reset_index(drop=True))

    def frame(self, model_of_page: pd.Series) -> pd.DataFrame:
        if not self.batches:
            return pd.DataFrame({c: pd.Series(dtype=n.STRING) for c in ISSUE_COLUMNS})
        issues = pd.concat([b.astype(n.STRING) for b in self.batches], ignore_index=True)
        known = issues["model_id"].fillna(issues["page_url"].map(model_of_page).astype(n.STRING))
        return issues.assign(model_id=known)[ISSUE_COLUMNS]


def build(
    pages: pd.DataFrame,
    sources: pd.DataFrame,
    chunks: Iterable[pd.DataFrame],
    kept: Kept | None = None,
) -> Catalog:
    """Typed catalog frames from one run.

    - ``pages``: the run's page log, one row per URL touched;
    - ``sources``: one row per model page to build a model from (page_url, content_sha256,
      fetched_at): fetched this run, unchanged since the last (304), or carried forward;
    - ``chunks``: the values of those pages as written (``page_values`` rows), a few thousand
      pages at a time and never a page split across two, so memory stays flat however
      large the site;
    - ``kept``: typed rows of unchanged pages, reused rather than built again.
    """
    issues = Issues()
    pages = pages.copy()
    sources = sources.drop_duplicates("page_url").set_index("page_url")
    parts = [_page_tables(values, sources, issues) for values in chunks]
    parts = [(*part, unread_prices(*part[1:])) for part in parts]
    if kept is not None:
        parts.append((kept.models, kept.official_prices, kept.provider_offers, kept.unread_prices))
    models, prices, offers, unread = (
        pd.concat(frames, ignore_index=True) for frames in zip(*parts, strict=True)
    )

    no_id = models["model_id"].isna()
    issues.add(
        no_id,
        page_url=models["page_url"],
        kind="missing_model_id",
        field="models.model_id",
        raw_value=models["model_id_raw"],
        problem="model page has no readable Model ID; page quarantined",
    )
    quarantined = pages["final_url"].isin(models.loc[no_id, "page_url"]) & pages["outcome"].isin(
        MODEL_OUTCOMES
    )
    pages.loc[quarantined, "outcome"] = "quarantined"
    pages.loc[quarantined, "error"] = "model page without a readable Model ID"

    models, pages = _deduplicate(models[~no_id].reset_index(drop=True), pages, issues)
    model_of_page = pd.Series(models["model_id"].array, index=models["page_url"].array)
    return Catalog(
        models=models.reset_index(drop=True),
        official_prices=prices[n.isin(prices["page_url"], model_of_page.index)].reset_index(
            drop=True
        ),
        provider_offers=offers[n.isin(offers["page_url"], model_of_page.index)].reset_index(
            drop=True
        ),
        pages=pages,
        quality_issues=issues.frame(model_of_page),
        unread_prices=unread[n.isin(unread["page_url"], model_of_page.index)].reset_index(
            drop=True
        ),
    )


UNREAD_COLUMNS = ["page_url", "model_id", "provider", "region", "tier_label", "metric"]


def unread_prices(official: pd.DataFrame, offers: pd.DataFrame) -> pd.DataFrame:
    """The price cells the pages show but that could not be read, one row per cell.

    History leaves such a price untouched, where a ``—`` removes it: this frame, not the
    wording of quality issues, tells the two apart. An official price row exists only where
    the cell shows something, so there a NULL price is unread (unparseable, or in a unit
    other than per 1M tokens); an offer's price column is NULL for ``—`` too, so there the
    text as written decides.
    """
    unread_official = official["usd_per_mtok"].isna()
    cells = [
        official.loc[unread_official, ["page_url", "model_id", "tier_label", "metric"]].assign(
            provider=None, region=None, raw_value=official.loc[unread_official, "raw_value"]
        )
    ]
    for column, metric in OFFER_PRICE_METRICS.items():
        raw = offers[f"{column}_raw"]
        unread = n.unreadable(raw, offers[column])
        cells.append(
            offers.loc[unread, ["page_url", "model_id", "provider", "region"]].assign(
                tier_label=None, metric=metric, raw_value=raw[unread]
            )
        )
    frame = pd.concat(cells, ignore_index=True)[[*UNREAD_COLUMNS, "raw_value"]]
    return frame.astype(n.STRING)


def _page_tables(
    values: pd.DataFrame, sources: pd.DataFrame, issues: Issues
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """models, official_prices and provider_offers rows of some whole pages, before the
    run-wide steps (quarantine, duplicates). Each row keeps its page_url."""
    section = values["section"].str.lower()
    models = _models(sources[n.isin(sources.index, values["page_url"])], values, section, issues)
    model_of_page = pd.Series(models["model_id"].array, index=models["page_url"].array)
    prices = _official_prices(
        values[section.str.startswith(PRICING_SECTION)], model_of_page, issues
    )
    offers = _provider_offers(values[section.str.startswith(OFFERS_SECTION)], model_of_page, issues)
    return models, prices, offers


def _wide(cells: pd.DataFrame, index: list[str], key: pd.Series) -> pd.DataFrame:
    """One row per ``index``, one raw-text column per ``key``; the first occurrence wins."""
    keyed = cells.assign(key=key).dropna(subset=["key"]).drop_duplicates([*index, "key"])
    if keyed.empty:
        return pd.DataFrame(
            index=pd.MultiIndex.from_tuples([], names=index)
            if len(index) > 1
            else pd.Index([], name=index[0])
        )
    return keyed.pivot(index=index, columns="key", values="raw_value")


def _read(
    raw: pd.DataFrame,
    columns: list[str],
    *,
    page_url: pd.Series,
    model_id: pd.Series,
    issues: Issues,
    table: str,
) -> pd.DataFrame:
    """Read each raw-text column by its reader; every unreadable value is an issue."""
    typed = pd.DataFrame(index=raw.index)
    for column in columns:
        text = (raw[column] if column in raw else pd.Series(pd.NA, index=raw.index)).astype(
            n.STRING
        )
        read = READERS[column]
        typed[column] = read(text)
        typed[f"{column}_raw"] = text  # for the checks; the contract keeps typed values only
        issues.add(
            n.unreadable(text, typed[column]),
            page_url=page_url,
            model_id=model_id,
            kind="unreadable_value",
            field=f"{table}.{column}",
            raw_value=text,
            problem=f"does not parse as {read.__name__.replace('_', ' ')}",
        )
    return typed


def _unknown_labels(
    cells: pd.DataFrame, known: pd.Series, label: str, where: str, issues: Issues
) -> None:
    unknown = cells[~known & cells[label].notna()].drop_duplicates(["page_url", label])
    issues.add(
        unknown.index,
        page_url=unknown["page_url"],
        kind="unknown_field",
        field=unknown[label],
        raw_value=unknown["raw_value"],
        problem=f"{where} not in the data contract; kept in page_values",
    )


def _models(
    sources: pd.DataFrame, values: pd.DataFrame, section: pd.Series, issues: Issues
) -> pd.DataFrame:
    """One row per source page (``sources`` is indexed by page_url), Model ID or not."""
    model_urls = sources.index
    page_url = pd.Series(model_urls, index=model_urls)

    bullets = values[section == METADATA_SECTION]
    label = n.slug(bullets["row_label"], "_")
    column = label.map(METADATA_COLUMNS)
    _unknown_labels(bullets, column.notna(), "row_label", "metadata label", issues)
    repeated = bullets[
        bullets.assign(column=column).duplicated(["page_url", "column"]) & column.notna()
    ]
    issues.add(
        repeated.index,
        page_url=repeated["page_url"],
        kind="repeated_field",
        field=repeated["row_label"],
        raw_value=repeated["raw_value"],
        problem="metadata label appears more than once; the first is used",
    )
    raw = _wide(bullets, ["page_url"], column).reindex(model_urls)
    model_id = n.text(raw["model_id"] if "model_id" in raw else pd.Series(pd.NA, index=model_urls))
    models = _read(
        raw,
        list(METADATA_COLUMNS.values()),
        page_url=page_url,
        model_id=model_id,
        issues=issues,
        table="models",
    )
    models["provider_family_key"] = n.slug(models["provider_family"])

    head = values[section.isin(["front matter", "preamble"])]
    front = _wide(head, ["page_url"], head["section"] + ":" + head["row_label"].astype(n.STRING))
    front = front.reindex(model_urls).astype(n.STRING)
    absent = pd.Series(pd.NA, index=model_urls, dtype=n.STRING)
    generated = front.get("front matter:generated_at", absent).fillna(
        front.get("preamble:Generated at", absent)
    )
    models["page_generated_at"] = n.utc_timestamp(generated)
    issues.add(
        n.unreadable(generated, models["page_generated_at"]),
        page_url=page_url,
        model_id=model_id,
        kind="unreadable_value",
        field="models.page_generated_at",
        raw_value=generated,
        problem="generated_at is not an ISO 8601 timestamp with a zone",
    )
    models["canonical_url"] = n.text(
        front.get("front matter:canonical_url", absent).fillna(
            front.get("preamble:Canonical page", absent)
        )
    )
    overview = values[section == OVERVIEW_SECTION]
    models["overview"] = (
        overview.groupby("page_url", sort=False)["raw_value"].agg("\n\n".join).reindex(model_urls)
    ).astype(n.STRING)

    models["page_url"] = page_url
    models["fetched_at"] = sources["fetched_at"]
    models["content_sha256"] = sources["content_sha256"]

    return models.reset_index(drop=True)


def _deduplicate(
    models: pd.DataFrame, pages: pd.DataFrame, issues: Issues
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per model_id: the page generated most recently wins.

    Ties go to identical content first (the same page reached by two URLs is no conflict),
    then to the smallest URL, so the choice never depends on crawl order.
    """
    ordered = models.sort_values(
        ["model_id", "page_generated_at", "page_url"],
        ascending=[True, False, True],
        na_position="last",
    )
    losers = ordered[ordered.duplicated("model_id", keep="first")]
    winners = ordered[~ordered.duplicated("model_id", keep="first")]
    if losers.empty:
        return models, pages
    winner = winners.set_index("model_id").reindex(losers["model_id"])
    same_content = pd.Series(
        losers["content_sha256"].to_numpy() == winner["content_sha256"].to_numpy(),
        index=losers.index,
    )
    issues.add(
        ~same_content,
        page_url=losers["page_url"],
        model_id=losers["model_id"],
        kind="duplicate_model_id",
        field="model_id",
        raw_value=losers["model_id"],
        problem="another page claims this Model ID with different content; kept "
        + pd.Series(winner["page_url"].to_numpy(), index=losers.index).astype(n.STRING)
        + " (generated "
        + pd.Series(winner["page_generated_at"].astype(str).to_numpy(), index=losers.index)
        + ")",
    )
    lost = pages["final_url"].isin(losers["page_url"]) & pages["outcome"].isin(MODEL_OUTCOMES)
    pages.loc[lost, "outcome"] = "duplicate"
    winner_url = pd.Series(winner["page_url"].to_numpy(), index=losers["page_url"].to_numpy())
    pages.loc[lost, "error"] = "same Model ID as " + pages.loc[lost, "final_url"].map(winner_url)
    return models.loc[winners.index.sort_values()], pages


def _official_prices(cells: pd.DataFrame, model_of_page: pd.Series, issues: Issues) -> pd.DataFrame:
    cells = cells[n.isin(cells["page_url"], model_of_page.index) & cells["column_label"].notna()]
    model_id = cells["page_url"].map(model_of_page).astype(n.STRING)

    # The tiers of each page are its column headers, left to right. Pages share a handful
    # of header sequences, so each distinct sequence is read once.
    columns = cells.drop_duplicates(["page_url", "column_label"])
    headers: dict[str, list[str]] = {}
    for page, label in zip(columns["page_url"], columns["column_label"], strict=True):
        headers.setdefault(page, []).append(label)
    lookup = pd.DataFrame(
        [
            (page, label, *(bound or (None, None)), bound is None)
            for page, labels in headers.items()
            for label, bound in zip(labels, n.tier_bounds(tuple(labels)), strict=True)
        ],
        columns=["page_url", "column_label", "tier_min_tokens", "tier_max_tokens", "bad_tier"],
    ).astype(
        {
            "page_url": n.STRING,
            "column_label": n.STRING,
            "tier_min_tokens": n.INT64,
            "tier_max_tokens": n.INT64,
            "bad_tier": bool,
        }
    )

    prices = cells.merge(lookup, on=["page_url", "column_label"], how="left").set_axis(cells.index)
    usd = n.usd(prices["raw_value"])
    # Only "per 1M tokens" is a unit we publish; any other would need a conversion we
    # will not guess at (the 1,000x unit mistake).
    wrong_unit = ~prices["section"].str.contains(PRICE_UNIT).astype(bool)
    usd = usd.mask(wrong_unit)
    metric = n.metric(prices["row_label"])
    frame = pd.DataFrame(
        {
            "page_url": prices["page_url"],
            "model_id": model_id,
            "tier_label": prices["column_label"],
            "tier_min_tokens": prices["tier_min_tokens"],
            "tier_max_tokens": prices["tier_max_tokens"],
            "metric": metric,
            "usd_per_mtok": usd,
            "raw_value": prices["raw_value"].str.strip(),
        }
    )
    keep = ~n.is_missing(prices["raw_value"]) & metric.notna()
    issues.add(
        keep & wrong_unit,
        page_url=prices["page_url"],
        model_id=model_id,
        kind="unsupported_price_unit",
        field="official_prices." + metric.fillna("?"),
        raw_value=prices["section"],
        problem="pricing section is not 'per 1M tokens'; price left NULL",
    )
    issues.add(
        keep & ~wrong_unit & n.unreadable(prices["raw_value"], usd),
        page_url=prices["page_url"],
        model_id=model_id,
        kind="unreadable_value",
        field="official_prices." + metric.fillna("?"),
        raw_value=prices["raw_value"],
        problem="price does not parse as US dollars ($1,234.5)",
    )
    issues.add(
        keep & prices["bad_tier"].fillna(True).astype(bool),
        page_url=prices["page_url"],
        model_id=model_id,
        kind="unreadable_tier",
        field="tier_label",
        raw_value=prices["column_label"],
        problem="context tier label does not parse; tier bounds left NULL",
    )
    issues.add(
        keep & ~metric.isin(n.KNOWN_METRICS),
        page_url=prices["page_url"],
        model_id=model_id,
        kind="unknown_metric",
        field="metric",
        raw_value=prices["row_label"],
        problem="price row label is not a known metric; kept as its slug",
    )
    return frame[keep].reset_index(drop=True)


def _provider_offers(cells: pd.DataFrame, model_of_page: pd.Series, issues: Issues) -> pd.DataFrame:
    cells = cells[n.isin(cells["page_url"], model_of_page.index)]
    column = n.slug(cells["column_label"], "_").map(OFFER_COLUMNS)
    _unknown_labels(cells, column.notna(), "column_label", "Provider Availability column", issues)

    index = ["page_url", "row_number"]
    rows = cells.drop_duplicates(index).set_index(index)
    raw = _wide(cells, index, column).reindex(rows.index)
    page_url = pd.Series(rows.index.get_level_values("page_url"), index=rows.index)
    model_id = page_url.map(model_of_page).astype(n.STRING)
    provider = n.text(rows["row_label"])
    typed = _read(
        raw,
        list(dict.fromkeys(OFFER_COLUMNS.values())),
        page_url=page_url,
        model_id=model_id,
        issues=issues,
        table="provider_offers",
    )
    offers = pd.concat(
        [
            pd.DataFrame(
                {
                    "page_url": page_url,
                    "model_id": model_id,
                    "provider": provider,
                    "provider_key": n.slug(provider),
                }
            ),
            typed,
        ],
        axis=1,
    )
    issues.add(
        provider.isna(),
        page_url=page_url,
        model_id=model_id,
        kind="missing_provider",
        field="provider_offers.provider",
        raw_value=rows["row_label"],
        problem="Provider Availability row without a provider name; row dropped",
    )
    return offers[provider.notna()].reset_index(drop=True)
