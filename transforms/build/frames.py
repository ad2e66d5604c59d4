"""Page values as written -> the typed catalog tables, with every problem recorded.

Input is the raw layer: ``pages`` (one row per URL touched) and ``page_values`` (one row per
value on a model page). Output is one frame per published table. All interpretation of the
page format lives here and in ``transforms.build.prices`` (its pricing sections), applied to
whole columns at once, with the steps they share in ``transforms.build.cells``; the value grammar
itself lives in ``transforms.build.normalize``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from transforms.build import normalize as n
from transforms.build.cells import (
    Findings,
    each_distinct,
    one_value_per_cell,
    read,
    table_cells,
    unique,
    unknown_labels,
    wide,
)
from transforms.build.issues import Issues
from transforms.build.prices import official_prices, provider_offers
from transforms.contract.tables import OFFER_PRICE_METRICS
from transforms.contract.vocabulary import IssueKind
from transforms.pages import outcome

# Section names: headings without their unit statements, compared case-insensitively.
METADATA_SECTION = "model metadata"
PRICING_SECTION = "official pricing"
OFFERS_SECTION = "provider availability"
OVERVIEW_SECTION = "overview"

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


@dataclass
class TypedTables:
    """The typed tables of one run, before validation."""

    models: pd.DataFrame
    official_prices: pd.DataFrame
    provider_offers: pd.DataFrame
    pages: pd.DataFrame
    quality_issues: pd.DataFrame
    # cells.CONFLICT_COLUMNS: NULL because the page contradicts itself. Conflicting prices
    # are also in unread_prices; history does not read this frame (yet).
    conflicted_cells: pd.DataFrame
    unread_prices: pd.DataFrame  # see ``unread_prices``; with page_url


@dataclass(frozen=True)
class Reused:
    """Typed rows of pages unchanged since the last run, reused as they were published."""

    keys: frozenset[str]  # the pages' keys: page_url and content_sha256
    models: pd.DataFrame
    official_prices: pd.DataFrame  # with page_url
    provider_offers: pd.DataFrame  # with page_url
    quality_issues: pd.DataFrame
    unread_prices: pd.DataFrame  # with page_url

    @classmethod
    def empty(cls) -> Reused:
        frame = pd.DataFrame({"page_url": pd.Series(dtype=n.STRING)})
        return cls(frozenset(), *(frame.copy() for _ in range(5)))


@dataclass(frozen=True)
class PageTables:
    """Typed rows of some whole pages, before the run-wide steps (quarantine, duplicates).
    Each row keeps its page_url; ``sources`` are the source rows they were built from."""

    sources: pd.DataFrame
    models: pd.DataFrame
    official_prices: pd.DataFrame
    provider_offers: pd.DataFrame
    unread_prices: pd.DataFrame
    found: Findings


def source_index(sources: pd.DataFrame) -> pd.DataFrame:
    """The run's model pages by page_url, the first row of each: what ``page_tables`` reads.

    ``sources`` has one row per model page to build a model from (page_url,
    content_sha256, fetched_at): fetched this run, unchanged since the last (304), or
    carried forward."""
    return sources.drop_duplicates("page_url").set_index("page_url")


def sources_of(sources: pd.DataFrame, page_urls: pd.Series | pd.Index) -> pd.DataFrame:
    """The rows of ``sources`` (``source_index``) of the pages ``page_urls`` names."""
    return sources[n.isin(sources.index, page_urls)]


def page_tables(values: pd.DataFrame, sources: pd.DataFrame) -> PageTables:
    """The typed rows of the whole pages in ``values`` (``page_values`` rows), built from
    their rows of ``sources`` (``source_index``). A function of those two alone, so a
    chunk built ahead, while the crawl runs, is the chunk built after it."""
    sources = sources_of(sources, values["page_url"])
    name = each_distinct(values["section"], lambda heading: n.without_unit(heading).casefold())
    models, found = _models(sources, values, name)
    model_of_page = pd.Series(models["model_id"].array, index=models["page_url"].array)
    prices, prices_found = official_prices(values[name == PRICING_SECTION], model_of_page)
    offers, offers_found = provider_offers(values[name == OFFERS_SECTION], model_of_page)
    unread = Findings(_unread_tables(values, name))
    return PageTables(
        sources=sources,
        models=models,
        official_prices=prices,
        provider_offers=offers,
        unread_prices=unread_prices(prices, offers),
        found=found + prices_found + offers_found + unread,
    )


def typed_tables(
    pages: pd.DataFrame, parts: Iterable[PageTables], reused: Reused | None = None
) -> TypedTables:
    """The typed tables of one run, before validation.

    - ``pages``: the run's page log, one row per URL touched;
    - ``parts``: the typed rows of its model pages (``page_tables``), a few thousand pages
      at a time and never a page split across two, so memory stays flat however large
      the site;
    - ``reused``: typed rows of unchanged pages, reused rather than built again.
    """
    pages = pages.copy()
    found = Findings()
    tables = []
    for part in parts:
        found += part.found
        tables.append((part.models, part.official_prices, part.provider_offers, part.unread_prices))
    if reused is not None:
        tables.append(
            (reused.models, reused.official_prices, reused.provider_offers, reused.unread_prices)
        )
    models, prices, offers, unread = (
        pd.concat(frames, ignore_index=True) for frames in zip(*tables, strict=True)
    )

    no_id = models["model_id"].isna()
    issues = Issues.where(
        no_id,
        IssueKind.MISSING_MODEL_ID,
        "model page has no readable Model ID; page quarantined",
        page_url=models["page_url"],
        field="models.model_id",
        raw_value=models["model_id_raw"],
    )
    quarantined = pages["final_url"].isin(models.loc[no_id, "page_url"]) & pages["outcome"].isin(
        outcome.HOLDS_MODEL
    )
    pages.loc[quarantined, "outcome"] = outcome.WITHOUT_MODEL_ID.outcome
    pages.loc[quarantined, "error"] = outcome.WITHOUT_MODEL_ID.error

    models, pages, duplicates = _deduplicate(models[~no_id].reset_index(drop=True), pages)
    issues = found.issues + issues + duplicates + _case_collisions(models) + _lookalikes(models)
    model_of_page = pd.Series(models["model_id"].array, index=models["page_url"].array)
    offers = offers[n.isin(offers["page_url"], model_of_page.index)].reset_index(drop=True)
    issues += _provider_collisions(offers)
    return TypedTables(
        models=models.reset_index(drop=True),
        official_prices=prices[n.isin(prices["page_url"], model_of_page.index)].reset_index(
            drop=True
        ),
        provider_offers=offers,
        pages=pages,
        quality_issues=issues.frame(unique(model_of_page)),
        conflicted_cells=found.conflicted(model_of_page),
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
        withheld = offers[f"{column}_withheld"]  # another unit, or conflicting copies
        raw = offers[f"{column}_raw"].fillna(withheld)
        unread = n.unreadable(raw, offers[column]) | withheld.notna().to_numpy()
        cells.append(
            offers.loc[unread, ["page_url", "model_id", "provider", "region"]].assign(
                tier_label=None, metric=metric, raw_value=raw[unread]
            )
        )
    frame = pd.concat(cells, ignore_index=True)[[*UNREAD_COLUMNS, "raw_value"]]
    return frame.astype(n.STRING)


# Sections whose tables the catalog reads.
_TABLE_SECTIONS = (PRICING_SECTION, OFFERS_SECTION)


def _unread_tables(values: pd.DataFrame, name: pd.Series) -> Issues:
    """A table in a section whose tables are not read (``Official Pricing History``, a table
    in the Overview) may hold prices: never read as the catalog's, never passed in silence."""
    table = values["column_label"].notna() & ~name.isin(_TABLE_SECTIONS)
    first = values[table].drop_duplicates(["page_url", "section"])
    return Issues.where(
        first.index,
        IssueKind.UNKNOWN_FIELD,
        "a table in a section whose tables are not in the data contract; not read"
        " (kept in page_values)",
        page_url=first["page_url"],
        field=first["section"],
        raw_value=first["raw_value"],
    )


def _models(
    sources: pd.DataFrame, values: pd.DataFrame, section: pd.Series
) -> tuple[pd.DataFrame, Findings]:
    """One row per source page (``sources`` is indexed by page_url), Model ID or not."""
    model_urls = sources.index
    page_url = pd.Series(model_urls, index=model_urls)

    metadata = values[section == METADATA_SECTION]
    bullet = metadata["row_label"].notna() & metadata["column_label"].isna()
    bullets, issues = table_cells(metadata, kept=bullet, what="a 'Label: value' bullet")
    column = n.slug(bullets["row_label"], "_").map(METADATA_COLUMNS)
    issues += unknown_labels(bullets, column.notna(), "row_label", "metadata label")
    known = bullets[column.notna()].assign(column=column)
    known, conflicts, settled = one_value_per_cell(
        known, ["page_url", "column"], field="models." + known["column"]
    )
    conflicted = conflicts[["page_url", "column"]].assign(table="models")
    known = known.assign(raw_value=known["raw_value"].mask(known["conflict"]))
    raw = wide(known, ["page_url"], known["column"]).reindex(model_urls)
    model_id = n.text(raw["model_id"] if "model_id" in raw else pd.Series(pd.NA, index=model_urls))
    models, unreadable = read(
        raw,
        list(METADATA_COLUMNS.values()),
        page_url=page_url,
        model_id=model_id,
        table="models",
    )
    models["provider_family_key"] = n.slug(models["provider_family"])

    head, head_issues = _page_head(values, section, page_url, model_id)
    models["page_generated_at"] = head["page_generated_at"]
    models["canonical_url"] = head["canonical_url"]
    overview = values[section == OVERVIEW_SECTION]
    models["overview"] = (
        overview.groupby("page_url", sort=False)["raw_value"].agg("\n\n".join).reindex(model_urls)
    ).astype(n.STRING)

    models["page_url"] = page_url
    models["fetched_at"] = sources["fetched_at"]
    models["content_sha256"] = sources["content_sha256"]

    issues += settled + unreadable + head_issues
    return models.reset_index(drop=True), Findings(issues, (conflicted,))


# The front matter and preamble lines a model row reads.
_HEAD_KEYS = (
    "front matter:generated_at",
    "preamble:Generated at",
    "front matter:canonical_url",
    "preamble:Canonical page",
)


def _page_head(
    values: pd.DataFrame, section: pd.Series, page_url: pd.Series, model_id: pd.Series
) -> tuple[pd.DataFrame, Issues]:
    """``page_generated_at`` and ``canonical_url`` of each model page (indexed by page_url)
    from the front matter, else the preamble."""
    model_urls = page_url.index
    head = values[section.isin(["front matter", "preamble"])]
    head = head.assign(key=head["section"] + ":" + head["row_label"].astype(n.STRING))
    head = head[head["key"].isin(_HEAD_KEYS)]
    head, _, issues = one_value_per_cell(head, ["page_url", "key"], field=head["key"])
    head = head.assign(raw_value=head["raw_value"].mask(head["conflict"]))
    front = wide(head, ["page_url"], head["key"]).reindex(model_urls).astype(n.STRING)
    absent = pd.Series(pd.NA, index=model_urls, dtype=n.STRING)
    generated = front.get("front matter:generated_at", absent).fillna(
        front.get("preamble:Generated at", absent)
    )
    generated_at = n.utc_timestamp(generated)
    issues += Issues.where(
        n.unreadable(generated, generated_at),
        IssueKind.UNREADABLE_VALUE,
        "generated_at is not an ISO 8601 timestamp with a zone",
        page_url=page_url,
        model_id=model_id,
        field="models.page_generated_at",
        raw_value=generated,
    )
    canonical_url = n.text(
        front.get("front matter:canonical_url", absent).fillna(
            front.get("preamble:Canonical page", absent)
        )
    )
    head = pd.DataFrame({"page_generated_at": generated_at, "canonical_url": canonical_url})
    return head, issues


def _deduplicate(
    models: pd.DataFrame, pages: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, Issues]:
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
        return models, pages, Issues()
    winner = winners.set_index("model_id").reindex(losers["model_id"])
    same_content = pd.Series(
        losers["content_sha256"].to_numpy() == winner["content_sha256"].to_numpy(),
        index=losers.index,
    )
    issues = Issues.where(
        ~same_content,
        IssueKind.DUPLICATE_MODEL_ID,
        "another page claims this Model ID with different content; kept "
        + pd.Series(winner["page_url"].to_numpy(), index=losers.index).astype(n.STRING)
        + " (generated "
        + pd.Series(winner["page_generated_at"].astype(str).to_numpy(), index=losers.index)
        + ")",
        page_url=losers["page_url"],
        model_id=losers["model_id"],
        field="model_id",
        raw_value=losers["model_id"],
    )
    lost = pages["final_url"].isin(losers["page_url"]) & pages["outcome"].isin(outcome.HOLDS_MODEL)
    winner_url = pd.Series(winner["page_url"].to_numpy(), index=losers["page_url"].to_numpy())
    pages.loc[lost, "outcome"] = outcome.DUPLICATE
    pages.loc[lost, "error"] = outcome.duplicate_error(
        pages.loc[lost, "final_url"].map(unique(winner_url))
    )
    return models.loc[winners.index.sort_values()], pages, issues


def _case_collisions(models: pd.DataFrame) -> Issues:
    """Model IDs that differ only in case are different models (the ID is the exact text an
    API call names); each is published and flagged, naming the others."""
    folded = models["model_id"].str.casefold()
    clash = folded.map(folded.value_counts()) > 1
    if not clash.any():
        return Issues()
    rows = models[clash]
    names = (rows["model_id"] + " (" + rows["page_url"] + ")").groupby(folded[clash]).agg(", ".join)
    return Issues.where(
        clash,
        IssueKind.MODEL_ID_CASE_COLLISION,
        "Model IDs that differ only in case, published as different models: "
        + folded.map(names).astype(n.STRING),
        page_url=models["page_url"],
        model_id=models["model_id"],
        field="models.model_id",
        raw_value=models["model_id"],
    )


def _lookalikes(models: pd.DataFrame) -> Issues:
    """Model IDs that are one text to a reader but not to a computer (equal after NFC, or
    but for zero-width or bidi characters) are different models, as an API call names the
    exact ID: each is published and flagged, naming the others, never merged."""
    key = models["model_id"].map(_unicode_key, na_action="ignore")
    clash = key.map(models.groupby(key)["model_id"].nunique()) > 1
    if not clash.any():
        return Issues()
    rows = models[clash]
    names = (rows["model_id"].map(ascii) + " (" + rows["page_url"] + ")").groupby(key[clash])
    return Issues.where(
        clash,
        IssueKind.MODEL_ID_LOOKALIKE,
        "Model IDs that look the same but differ in invisible characters or Unicode"
        " normalization, published as different models: "
        + key.map(names.agg(", ".join)).astype(n.STRING),
        page_url=models["page_url"],
        model_id=models["model_id"],
        field="models.model_id",
        raw_value=models["model_id"],
    )


def _provider_collisions(offers: pd.DataFrame) -> Issues:
    """Providers of one model whose names differ only in case (or invisible characters)
    are different offers, never merged: each is flagged, naming the others."""
    key = (
        offers["model_id"]
        + "\x1f"
        + offers["provider"].map(_unicode_key, na_action="ignore").str.casefold()
    )
    clash = key.map(offers.groupby(key)["provider"].nunique()) > 1
    if not clash.any():
        return Issues()
    names = (
        offers.loc[clash, "provider"]
        .map(ascii)
        .groupby(key[clash])
        .agg(lambda names: ", ".join(dict.fromkeys(names)))
    )
    return Issues.where(
        clash,
        IssueKind.PROVIDER_CASE_COLLISION,
        "providers of this model whose names differ only in case, published as different"
        " offers (name one exactly in cost --provider): " + key.map(names).astype(n.STRING),
        page_url=offers["page_url"],
        model_id=offers["model_id"],
        field="provider_offers.provider",
        raw_value=offers["provider"],
    )


def _unicode_key(text: str) -> str:
    """A text as shown: NFC, without format characters (zero-width, bidi controls)."""
    if text.isascii():  # no format characters, and already NFC: nearly every ID and name
        return text
    return unicodedata.normalize("NFC", "".join(c for c in text if unicodedata.category(c) != "Cf"))
