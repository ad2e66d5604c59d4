"""Page values as written -> the typed catalog tables, with every problem recorded.

Input is the raw layer: ``pages`` (one row per URL touched) and ``page_values`` (one row per
value on a model page). Output is one frame per published table. All interpretation of the
page format lives here, applied to whole columns at once; the value grammar itself lives in
``transforms.normalize``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pandas as pd

from transforms import normalize as n
from transforms.quality import Issues
from transforms.vocabulary import IssueKind, PageOutcome

# Section names: headings without their unit statements, compared case-insensitively.
METADATA_SECTION = "model metadata"
PRICING_SECTION = "official pricing"
OFFERS_SECTION = "provider availability"
OVERVIEW_SECTION = "overview"

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
MODEL_OUTCOMES = (PageOutcome.MODEL, PageOutcome.NOT_MODIFIED)
# The cells a build left NULL because the page gives them different values: one column per
# part of a cell's key (NULL where that table has no such part).
CONFLICT_COLUMNS = [
    "model_id",
    "page_url",
    "table",
    "column",
    "provider",
    "region",
    "metric",
    "tier_label",
]


@dataclass
class Catalog:
    """The typed tables of one run, before validation."""

    models: pd.DataFrame
    official_prices: pd.DataFrame
    provider_offers: pd.DataFrame
    pages: pd.DataFrame
    quality_issues: pd.DataFrame
    conflicted_cells: pd.DataFrame  # CONFLICT_COLUMNS


@dataclass
class Kept:
    """Typed rows of pages unchanged since the last run, reused as they were published."""

    models: pd.DataFrame
    official_prices: pd.DataFrame  # with page_url
    provider_offers: pd.DataFrame  # with page_url
    quality_issues: pd.DataFrame

    @classmethod
    def empty(cls) -> Kept:
        return cls(*(pd.DataFrame({"page_url": pd.Series(dtype=n.STRING)}) for _ in range(4)))


@dataclass
class _Build:
    """What the steps of one build report besides their rows."""

    issues: Issues = field(default_factory=Issues)
    conflicts: list[pd.DataFrame] = field(default_factory=list)

    def conflicted(self, model_of_page: pd.Series) -> pd.DataFrame:
        frame = pd.concat(
            [pd.DataFrame(columns=CONFLICT_COLUMNS), *self.conflicts], ignore_index=True
        )
        frame["model_id"] = frame["page_url"].map(_unique(model_of_page))
        return frame[CONFLICT_COLUMNS].astype(n.STRING)


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
    run = _Build()
    issues = run.issues
    pages = pages.copy()
    sources = sources.drop_duplicates("page_url").set_index("page_url")
    parts = [_page_tables(values, sources, run) for values in chunks]
    if kept is not None:
        parts.append((kept.models, kept.official_prices, kept.provider_offers))
    models, prices, offers = (
        pd.concat(frames, ignore_index=True) for frames in zip(*parts, strict=True)
    )

    no_id = models["model_id"].isna()
    issues.add(
        no_id,
        IssueKind.MISSING_MODEL_ID,
        "model page has no readable Model ID; page quarantined",
        page_url=models["page_url"],
        field="models.model_id",
        raw_value=models["model_id_raw"],
    )
    quarantined = pages["final_url"].isin(models.loc[no_id, "page_url"]) & pages["outcome"].isin(
        MODEL_OUTCOMES
    )
    pages.loc[quarantined, "outcome"] = PageOutcome.QUARANTINED
    pages.loc[quarantined, "error"] = "model page without a readable Model ID"

    models, pages = _deduplicate(models[~no_id].reset_index(drop=True), pages, issues)
    _case_collisions(models, issues)
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
        quality_issues=issues.frame(_unique(model_of_page)),
        conflicted_cells=run.conflicted(model_of_page),
    )


def _page_tables(
    values: pd.DataFrame, sources: pd.DataFrame, run: _Build
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """models, official_prices and provider_offers rows of some whole pages, before the
    run-wide steps (quarantine, duplicates). Each row keeps its page_url."""
    name = _each_distinct(values["section"], lambda heading: n.without_unit(heading).casefold())
    models = _models(sources[n.isin(sources.index, values["page_url"])], values, name, run)
    model_of_page = pd.Series(models["model_id"].array, index=models["page_url"].array)
    prices = _official_prices(values[name == PRICING_SECTION], model_of_page, run)
    offers = _provider_offers(values[name == OFFERS_SECTION], model_of_page, run)
    return models, prices, offers


def _each_distinct(texts: pd.Series, function: Callable[[str], object]) -> pd.Series:
    """``function`` of each text, computed once per distinct text (headings, labels)."""
    distinct = texts.dropna().unique()
    return texts.map(dict(zip(distinct, map(function, distinct), strict=True)))


def _unique(lookup: pd.Series) -> pd.Series:
    """A lookup Series without repeated keys (the first wins), so ``map`` never fails."""
    return lookup[~lookup.index.duplicated()]


def _one_value_per_cell(
    cells: pd.DataFrame,
    key: list[str],
    issues: Issues,
    *,
    field: pd.Series,
    said: pd.Series | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per cell ``key``: the one place a cell written more than once is settled.

    Copies that all say the same (``said``: by default the text, every "no value" marker
    alike) publish once, with a ``repeated_field`` note. Copies that differ are never
    settled by a guess: the cell's ``raw_value`` becomes NULL, with a ``conflicting_values``
    issue naming every value. Returns (one row per key with a bool ``conflict`` column,
    those of its rows whose value was made NULL).
    """
    stripped = cells["raw_value"].str.strip()
    said = stripped.mask(n.is_missing(stripped), "") if said is None else said
    frame = cells.assign(_said=said.fillna(""), _field=field)
    grouped = frame.groupby(key, sort=False, dropna=False)
    copies = grouped["_said"].transform("size")
    distinct = grouped["_said"].transform("nunique")
    first = ~frame.duplicated(key)
    frame["conflict"] = (first & (distinct > 1)).astype(bool)
    repeated = first & (copies > 1)
    if repeated.any():
        several = frame[copies > 1]
        values = several.groupby(key, sort=False, dropna=False)["raw_value"].agg(
            lambda texts: " | ".join(dict.fromkeys(texts.fillna("").str.strip()))
        )
        rows = frame[repeated]
        written = rows[key].merge(values.rename("_values").reset_index(), on=key, how="left")
        written = written["_values"].set_axis(rows.index)
        times = copies[repeated].astype(str)
        for kind, where, problem in (
            (IssueKind.CONFLICTING_VALUES, rows["conflict"], "with different values; left NULL"),
            (IssueKind.REPEATED_FIELD, ~rows["conflict"], "the same each time; published once"),
        ):
            issues.add(
                where,
                kind,
                "written " + times + " times, " + problem,
                page_url=rows["page_url"],
                field=rows["_field"],
                raw_value=written,
            )
    frame["raw_value"] = frame["raw_value"].mask(frame["conflict"])
    one = frame[first].drop(columns=["_said", "_field"])
    return one, one[one["conflict"]]


def _table_cells(
    cells: pd.DataFrame, issues: Issues, *, kept: pd.Series, what: str
) -> pd.DataFrame:
    """The cells of a section that are read (``kept``); every other value there is flagged:
    a table row that does not fit its header, a bullet or text where a table belongs, a
    table without leading pipes (read as text). Header cells (no row label) are no value."""
    header = cells["row_label"].isna() & cells["column_label"].notna()
    other = cells[~kept & ~header].drop_duplicates(["page_url", "section", "row_number"])
    issues.add(
        other.index,
        IssueKind.UNMAPPED_VALUE,
        f"not {what}; not read (kept in page_values)",
        page_url=other["page_url"],
        field=other["section"] + " row " + other["row_number"].astype(str),
        raw_value=other["raw_value"],
    )
    return cells[kept]


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


def _wide(cells: pd.DataFrame, index: list[str], key: pd.Series) -> pd.DataFrame:
    """One row per ``index``, one raw-text column per ``key`` (one cell per key: settled by
    ``_one_value_per_cell`` before, so the pivot cannot meet a repeated cell)."""
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
            IssueKind.UNREADABLE_VALUE,
            f"does not parse as {read.__name__.replace('_', ' ')}",
            page_url=page_url,
            model_id=model_id,
            field=f"{table}.{column}",
            raw_value=text,
        )
    return typed


def _unknown_labels(
    cells: pd.DataFrame, known: pd.Series, label: str, where: str, issues: Issues
) -> None:
    unknown = cells[~known & cells[label].notna()].drop_duplicates(["page_url", label])
    issues.add(
        unknown.index,
        IssueKind.UNKNOWN_FIELD,
        f"{where} not in the data contract; kept in page_values",
        page_url=unknown["page_url"],
        field=unknown[label],
        raw_value=unknown["raw_value"],
    )


def _models(
    sources: pd.DataFrame, values: pd.DataFrame, section: pd.Series, run: _Build
) -> pd.DataFrame:
    """One row per source page (``sources`` is indexed by page_url), Model ID or not."""
    issues = run.issues
    model_urls = sources.index
    page_url = pd.Series(model_urls, index=model_urls)

    metadata = values[section == METADATA_SECTION]
    bullet = metadata["row_label"].notna() & metadata["column_label"].isna()
    bullets = _table_cells(metadata, issues, kept=bullet, what="a 'Label: value' bullet")
    column = n.slug(bullets["row_label"], "_").map(METADATA_COLUMNS)
    _unknown_labels(bullets, column.notna(), "row_label", "metadata label", issues)
    known = bullets[column.notna()].assign(column=column)
    known, conflicts = _one_value_per_cell(
        known, ["page_url", "column"], issues, field="models." + known["column"]
    )
    run.conflicts.append(conflicts[["page_url", "column"]].assign(table="models"))
    raw = _wide(known, ["page_url"], known["column"]).reindex(model_urls)
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
    head = head.assign(key=head["section"] + ":" + head["row_label"].astype(n.STRING))
    head = head[head["key"].isin(_HEAD_KEYS)]
    head, conflicts = _one_value_per_cell(head, ["page_url", "key"], issues, field=head["key"])
    front = _wide(head, ["page_url"], head["key"]).reindex(model_urls).astype(n.STRING)
    absent = pd.Series(pd.NA, index=model_urls, dtype=n.STRING)
    generated = front.get("front matter:generated_at", absent).fillna(
        front.get("preamble:Generated at", absent)
    )
    models["page_generated_at"] = n.utc_timestamp(generated)
    issues.add(
        n.unreadable(generated, models["page_generated_at"]),
        IssueKind.UNREADABLE_VALUE,
        "generated_at is not an ISO 8601 timestamp with a zone",
        page_url=page_url,
        model_id=model_id,
        field="models.page_generated_at",
        raw_value=generated,
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


# The front matter and preamble lines a model row reads.
_HEAD_KEYS = (
    "front matter:generated_at",
    "preamble:Generated at",
    "front matter:canonical_url",
    "preamble:Canonical page",
)


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
    lost = pages["final_url"].isin(losers["page_url"]) & pages["outcome"].isin(MODEL_OUTCOMES)
    pages.loc[lost, "outcome"] = PageOutcome.DUPLICATE
    winner_url = pd.Series(winner["page_url"].to_numpy(), index=losers["page_url"].to_numpy())
    pages.loc[lost, "error"] = "same Model ID as " + pages.loc[lost, "final_url"].map(
        _unique(winner_url)
    )
    return models.loc[winners.index.sort_values()], pages


def _case_collisions(models: pd.DataFrame, issues: Issues) -> None:
    """Model IDs that differ only in case are different models (the ID is the exact text an
    API call names); each is published and flagged, naming the others."""
    folded = models["model_id"].str.casefold()
    clash = folded.map(folded.value_counts()) > 1
    if not clash.any():
        return
    rows = models[clash]
    names = (rows["model_id"] + " (" + rows["page_url"] + ")").groupby(folded[clash]).agg(", ".join)
    issues.add(
        clash,
        IssueKind.MODEL_ID_CASE_COLLISION,
        "Model IDs that differ only in case, published as different models: "
        + folded.map(names).astype(n.STRING),
        page_url=models["page_url"],
        model_id=models["model_id"],
        field="models.model_id",
        raw_value=models["model_id"],
    )


def _official_prices(cells: pd.DataFrame, model_of_page: pd.Series, run: _Build) -> pd.DataFrame:
    issues = run.issues
    cells = cells[n.isin(cells["page_url"], model_of_page.index)]
    units = _price_units(cells, labels=True)
    cell = cells["row_label"].notna() & cells["column_label"].notna()
    cells = _table_cells(cells, issues, kept=cell, what="a cell of the pricing table")
    units = units.loc[cells.index]
    metric = n.metric(_each_distinct(cells["row_label"], n.without_unit).astype(n.STRING))
    priced = ~n.is_missing(cells["raw_value"])
    unlabelled = (metric.isna() & priced).astype(bool)
    no_metric = cells[unlabelled].drop_duplicates(["page_url", "section", "row_number"])
    issues.add(
        no_metric.index,
        IssueKind.MISSING_METRIC,
        "price row without a metric label; its prices are not read",
        page_url=no_metric["page_url"],
        field="official_prices.metric",
        raw_value=no_metric["row_label"],
    )
    wrong_unit = units["other"].notna() | ~units["per_mtok"]
    cells = cells.assign(metric=metric, wrong_unit=wrong_unit.astype(bool))[metric.notna()]
    said = cells["raw_value"].str.strip()
    said = said.mask(n.is_missing(said), "").where(~cells["wrong_unit"], "unit: " + said)
    cells, conflicts = _one_value_per_cell(
        cells,
        ["page_url", "metric", "column_label"],
        issues,
        field="official_prices." + cells["metric"] + " " + cells["column_label"],
        said=said,
    )
    run.conflicts.append(
        conflicts.rename(columns={"column_label": "tier_label"})[
            ["page_url", "metric", "tier_label"]
        ].assign(table="official_prices", column="usd_per_mtok")
    )
    units = units.loc[cells.index]
    model_id = cells["page_url"].map(_unique(model_of_page)).astype(n.STRING)
    tiers = _tiers(cells)
    usd = n.usd(cells["raw_value"]).mask(cells["wrong_unit"])
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
    field = "official_prices." + cells["metric"]
    _flag_units(cells, units, keep, issues, model_id=model_id, field=field)
    issues.add(
        keep & ~cells["wrong_unit"] & n.unreadable(cells["raw_value"], usd),
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
        issues.add(
            keep & bad,
            kind,
            f"context tier label {problem}; tier bounds left NULL",
            page_url=cells["page_url"],
            model_id=model_id,
            field="tier_label",
            raw_value=cells["column_label"],
        )
    issues.add(
        keep & ~cells["metric"].isin(n.KNOWN_METRICS),
        IssueKind.UNKNOWN_METRIC,
        "price row label is not a known metric; kept as its slug",
        page_url=cells["page_url"],
        model_id=model_id,
        field="metric",
        raw_value=cells["row_label"],
    )
    return frame[keep].reset_index(drop=True)


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
            for label, tier in zip(labels, n.read_tiers(tuple(labels)), strict=True)
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
    issues: Issues,
    *,
    model_id: pd.Series,
    field: pd.Series | str,
) -> None:
    """An unsupported_price_unit issue for each priced cell whose unit is not USD per 1M."""
    other = units["other"]
    stated = other.notna().astype(bool)
    for where, problem, raw in (
        (stated, "prices stated in another unit or currency", other),
        (~stated, "the pricing section does not say 'per 1M tokens'", cells["section"]),
    ):
        issues.add(
            priced & cells["wrong_unit"] & where,
            IssueKind.UNSUPPORTED_PRICE_UNIT,
            problem + "; price left NULL, never converted",
            page_url=cells["page_url"],
            model_id=model_id,
            field=field,
            raw_value=raw,
        )


def _provider_offers(cells: pd.DataFrame, model_of_page: pd.Series, run: _Build) -> pd.DataFrame:
    issues = run.issues
    cells = cells[n.isin(cells["page_url"], model_of_page.index)]
    units = _price_units(cells, labels=False)
    cell = cells["row_label"].notna() & cells["column_label"].notna()
    cells = _table_cells(cells, issues, kept=cell, what="a cell of the provider table")
    column = n.slug(_each_distinct(cells["column_label"], n.without_unit).astype(n.STRING), "_")
    column = column.map(OFFER_COLUMNS)
    _unknown_labels(cells, column.notna(), "column_label", "Provider Availability column", issues)
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
    issues.add(
        no_provider.index,
        IssueKind.MISSING_PROVIDER,
        "Provider Availability row without a provider name; row dropped",
        page_url=no_provider["page_url"],
        field="provider_offers.provider",
        raw_value=no_provider["row_label"],
    )
    cells = cells[cells["provider"].notna()]
    # An offer is a (provider, region): the region of each row first, then every other cell
    # of the offer, however many rows and columns repeat it.
    regions = cells[cells["column"] == "region"]
    regions, conflicts = _one_value_per_cell(
        regions,
        ["page_url", "row_number"],
        issues,
        field="provider_offers.region " + regions["provider"],
    )
    run.conflicts.append(
        conflicts[["page_url", "provider"]].assign(table="provider_offers", column="region")
    )
    rows = ["page_url", "row_number"]
    region = cells[rows].merge(regions[[*rows, "raw_value"]], on=rows, how="left")["raw_value"]
    cells = cells.assign(region=n.text(region.set_axis(cells.index)))
    key = ["page_url", "provider", "region"]
    cells["offer"] = cells.groupby(key, sort=False, dropna=False).ngroup()
    prices = cells[cells["column"] != "region"]
    said = prices["raw_value"].str.strip()
    said = said.mask(n.is_missing(said), "").where(~prices["wrong_unit"], "unit: " + said)
    prices, conflicts = _one_value_per_cell(
        prices,
        ["offer", "column"],
        issues,
        field="provider_offers." + prices["column"] + " " + prices["provider"],
        said=said,
    )
    run.conflicts.append(conflicts[[*key, "column"]].assign(table="provider_offers"))

    offers = cells.drop_duplicates("offer").set_index("offer")
    readable = prices.assign(raw_value=prices["raw_value"].mask(prices["wrong_unit"]))
    raw = _wide(readable, ["offer"], readable["column"]).reindex(offers.index)
    raw["region"] = offers["region"]
    page_url = offers["page_url"]
    model_id = page_url.map(_unique(model_of_page)).astype(n.STRING)
    provider = offers["provider"]
    typed = _read(
        raw,
        list(dict.fromkeys(OFFER_COLUMNS.values())),
        page_url=page_url,
        model_id=model_id,
        issues=issues,
        table="provider_offers",
    )
    wrong = prices[prices["wrong_unit"]]
    _flag_units(
        wrong,
        units.loc[wrong.index],
        ~n.is_missing(wrong["raw_value"]),
        issues,
        model_id=wrong["page_url"].map(_unique(model_of_page)).astype(n.STRING),
        field="provider_offers." + wrong["column"] + " " + wrong["provider"],
    )
    return pd.concat(
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
    ).reset_index(drop=True)
