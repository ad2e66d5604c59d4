"""Reading page values: the steps every typed table shares.

A section's values arrive as ``page_values`` rows (page_url, section, row_number,
row_label, column_label, raw_value). These functions keep what a section is read from and
flag the rest, settle a cell written more than once, and read raw text into typed columns.
Each returns what it found besides its rows (``Issues``, ``Findings``) for its caller to add
up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from transforms.build import normalize as n
from transforms.build.issues import Issues
from transforms.contract.vocabulary import TOKEN_METRICS, IssueKind

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
    **{f"{m}_usd_per_mtok": n.usd for m in TOKEN_METRICS},
}
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


@dataclass(frozen=True)
class Findings:
    """What steps of a build find besides their rows: quality issues, and the cells left
    NULL because the page gives them different values (``CONFLICT_COLUMNS``)."""

    issues: Issues = field(default_factory=Issues)
    conflicts: tuple[pd.DataFrame, ...] = ()

    def __add__(self, other: Findings) -> Findings:
        return Findings(self.issues + other.issues, self.conflicts + other.conflicts)

    def conflicted(self, model_of_page: pd.Series) -> pd.DataFrame:
        frame = pd.concat(
            [pd.DataFrame(columns=CONFLICT_COLUMNS), *self.conflicts], ignore_index=True
        )
        frame["model_id"] = frame["page_url"].map(unique(model_of_page))
        return frame[CONFLICT_COLUMNS].astype(n.STRING)


def each_distinct(texts: pd.Series, function: Callable[[str], object]) -> pd.Series:
    """``function`` of each text, computed once per distinct text (headings, labels)."""
    distinct = texts.dropna().unique()
    return texts.map(dict(zip(distinct, map(function, distinct), strict=True)))


def unique(lookup: pd.Series) -> pd.Series:
    """A lookup Series without repeated keys (the first wins), so ``map`` never fails."""
    return lookup[~lookup.index.duplicated()]


def one_value_per_cell(
    cells: pd.DataFrame,
    key: list[str],
    *,
    field: pd.Series,
    said: pd.Series | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, Issues]:
    """One row per cell ``key``: the one place a cell written more than once is settled.

    Copies that all say the same (``said``: by default the text, every "no value" marker
    alike) publish once, with a ``repeated_field`` note. Copies that differ are never
    settled by a guess: the cell is NULL, with a ``conflicting_values`` issue naming every
    value. Returns (one row per key with a bool ``conflict`` column, the rows whose value
    is to be NULL). A conflicting row's ``raw_value`` holds every copy as written
    (``$0.8 | $9.9``): never a value to read.
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
    issues = Issues()
    if repeated.any():
        several = frame[copies > 1]
        values = several.groupby(key, sort=False, dropna=False)["raw_value"].agg(
            lambda texts: " | ".join(dict.fromkeys(texts.fillna("").str.strip()))
        )
        rows = frame[repeated]
        merged = rows[key].merge(values.rename("_values").reset_index(), on=key, how="left")
        written = merged["_values"].set_axis(rows.index)
        times = copies[repeated].astype(str)
        for kind, where, problem in (
            (IssueKind.CONFLICTING_VALUES, rows["conflict"], "with different values; left NULL"),
            (IssueKind.REPEATED_FIELD, ~rows["conflict"], "the same each time; published once"),
        ):
            issues += Issues.where(
                where,
                kind,
                "written " + times + " times, " + problem,
                page_url=rows["page_url"],
                field=rows["_field"],
                raw_value=written,
            )
        frame.loc[rows.index[rows["conflict"]], "raw_value"] = written[rows["conflict"]]
    one = frame[first].drop(columns=["_said", "_field"])
    return one, one[one["conflict"]], issues


def table_cells(cells: pd.DataFrame, *, kept: pd.Series, what: str) -> tuple[pd.DataFrame, Issues]:
    """The cells of a section that are read (``kept``); every other value there is flagged:
    a table row that does not fit its header, a bullet or text where a table belongs, a
    table without leading pipes (read as text). Header cells (no row label) are no value."""
    header = cells["row_label"].isna() & cells["column_label"].notna()
    other = cells[~kept & ~header].drop_duplicates(["page_url", "section", "row_number"])
    issues = Issues.where(
        other.index,
        IssueKind.UNMAPPED_VALUE,
        f"not {what}; not read (kept in page_values)",
        page_url=other["page_url"],
        field=other["section"] + " row " + other["row_number"].astype(str),
        raw_value=other["raw_value"],
    )
    return cells[kept], issues


def labelled_tables(cells: pd.DataFrame, label: str) -> tuple[pd.DataFrame, Issues]:
    """The section's values, less those of a table whose first column is not headed
    ``label``: its first cells are not what the rows are read by (a header shifted by a
    cell would make a region the provider). Header rows are written first cell first."""
    header = cells[cells["row_label"].isna() & cells["column_label"].notna()]
    first = header.drop_duplicates(["page_url", "section", "row_number"])
    name = each_distinct(first["raw_value"], lambda text: n.without_unit(text).casefold())
    wrong = first[name != label.casefold()]
    issues = Issues.where(
        wrong.index,
        IssueKind.UNMAPPED_VALUE,
        f"the table's first column is not headed '{label}'; the table is not read",
        page_url=wrong["page_url"],
        field=wrong["section"] + " row " + wrong["row_number"].astype(str),
        raw_value=wrong["raw_value"],
    )
    table = cells["page_url"] + "\x1f" + cells["section"]
    return cells[~table.isin(wrong["page_url"] + "\x1f" + wrong["section"])], issues


def wide(cells: pd.DataFrame, index: list[str], key: pd.Series) -> pd.DataFrame:
    """One row per ``index``, one raw-text column per ``key`` (one cell per key: settled by
    ``one_value_per_cell`` before, so the pivot cannot meet a repeated cell)."""
    keyed = cells.assign(key=key).dropna(subset=["key"]).drop_duplicates([*index, "key"])
    if keyed.empty:
        return pd.DataFrame(
            index=pd.MultiIndex.from_tuples([], names=index)
            if len(index) > 1
            else pd.Index([], name=index[0])
        )
    return keyed.pivot(index=index, columns="key", values="raw_value")


def read(
    raw: pd.DataFrame,
    columns: list[str],
    *,
    page_url: pd.Series,
    model_id: pd.Series,
    table: str,
) -> tuple[pd.DataFrame, Issues]:
    """Read each raw-text column by its reader; every unreadable value is an issue."""
    typed = pd.DataFrame(index=raw.index)
    issues = Issues()
    for column in columns:
        text = (raw[column] if column in raw else pd.Series(pd.NA, index=raw.index)).astype(
            n.STRING
        )
        reader = READERS[column]
        typed[column] = reader(text)
        typed[f"{column}_raw"] = text  # for the checks; the contract keeps typed values only
        issues += Issues.where(
            n.unreadable(text, typed[column]),
            IssueKind.UNREADABLE_VALUE,
            f"does not parse as {reader.__name__.replace('_', ' ')}",
            page_url=page_url,
            model_id=model_id,
            field=f"{table}.{column}",
            raw_value=text,
        )
    return typed, issues


def unknown_labels(cells: pd.DataFrame, known: pd.Series, label: str, where: str) -> Issues:
    unknown = cells[~known & cells[label].notna()].drop_duplicates(["page_url", label])
    return Issues.where(
        unknown.index,
        IssueKind.UNKNOWN_FIELD,
        f"{where} not in the data contract; kept in page_values",
        page_url=unknown["page_url"],
        field=unknown[label],
        raw_value=unknown["raw_value"],
    )
