"""One staged run -> validated catalog tables, ready to publish.

Reads what ``crawler.staging.Stager`` wrote, gathers the values of every model page
the catalog should hold, builds the typed frames and validates each against the data
contract. Rows that fail validation are quarantined as quality issues, never dropped.

Where a model page's values come from:
- fetched this run: the run's own ``page_values.parquet``;
- answered 304 (unchanged): the previous snapshot's ``page_values`` for the same body hash,
  so an unchanged page is never parsed again;
- failed this run for a passing reason (5xx, timeout, a login wall): the previous snapshot's
  values are carried forward, with their old ``fetched_at``, so a flaky server never looks
  like a delisting. A 404 or a robots.txt ban is taken at its word: the model is gone;
- anything not in the previous snapshot is parsed again from the page archive.

A page that the previous catalog built from the very same body keeps the typed rows,
findings and unread price cells it was published with: only new and changed pages go
through ``frames``.

Page values are read a few thousand pages at a time (a Parquet row group never splits a
page), so memory does not grow with the size of the site.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from crawler.archive import CorruptBody, PageArchive
from crawler.parse import MODEL_CONTENT_TYPE, NotMarkdown, decode_markdown, parse_page
from crawler.staging import page_values_table
from transforms import frames
from transforms.checks import semantic_issues
from transforms.layout import CATALOG_VALUES_FILE, PAGE_VALUES_FILE, PAGES_FILE
from transforms.normalize import STRING
from transforms.quality import Issues
from transforms.schema import PAGE_VALUES_SCHEMA, TABLES, conform, describe, to_frame, validate
from transforms.vocabulary import IssueKind, PageOutcome, ValueOrigin

PAGE_COLUMNS = {
    "url": STRING,
    "final_url": STRING,
    "http_status": "Int32",
    "outcome": STRING,
    "content_type": STRING,
    "error": STRING,
    "retries": "Int32",
    "content_sha256": STRING,
}
SOURCE_COLUMNS = ["page_url", "content_sha256", "fetched_at", "origin"]
CHUNK_ROWS = 100_000  # page values handled at once: about 1,500 pages


@dataclass
class Staged:
    """A run's inputs for ``frames.build``."""

    pages: pd.DataFrame  # the run's page log
    sources: pd.DataFrame  # one row per model page to build from; see SOURCE_COLUMNS
    problems: pd.DataFrame  # page_url, problem
    run_dir: Path
    previous: Path | None
    archive: PageArchive
    reparse: bool = False
    from_previous: set[str] = field(default_factory=set)  # page keys to build from the snapshot
    from_archive: pd.DataFrame | None = None  # sources to parse again
    kept: set[str] = field(default_factory=set)  # page keys whose typed rows are reused
    kept_tables: frames.Kept | None = None

    def chunks(self, problems: list[tuple[str, str]]) -> Iterator[pa.Table]:
        """The page values to build from, whole pages at a time. Parse problems of pages read
        again from the archive are appended to ``problems``."""
        tables: list[Iterable[pa.Table]] = []
        if not self.reparse:
            tables.append(_row_groups(self.run_dir / PAGE_VALUES_FILE))
        if self.previous is not None and self.from_previous:
            tables.append(_row_groups(self.previous / "page_values.parquet", self.from_previous))
        if self.from_archive is not None:
            tables.append(_parse_archived(self.from_archive, self.archive, problems))
        yield from _batched(table for source in tables for table in source)

    def kept_values(self) -> Iterator[pa.Table]:
        """The page values of pages whose typed rows are reused: published as they were."""
        if self.previous is not None and self.kept:
            yield from _row_groups(self.previous / "page_values.parquet", self.kept)


def read_pages(run_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A staged run's page log, and the parse problems it recorded (page_url, problem)."""
    with (run_dir / PAGES_FILE).open(encoding="utf-8") as lines:
        records = [json.loads(line) for line in lines if line.strip()]
    pages = pd.DataFrame(records, columns=[*PAGE_COLUMNS, "fetched_at", "problems"])
    problems = (
        pages[["final_url", "problems"]]
        .explode("problems")
        .dropna()
        .set_axis(["page_url", "problem"], axis=1)
        .astype(STRING)
        .reset_index(drop=True)
    )
    pages = pages.drop(columns="problems").astype(PAGE_COLUMNS)
    fetched = pd.to_datetime(pages["fetched_at"], utc=True, format="ISO8601")
    pages["fetched_at"] = fetched.dt.tz_localize(None).astype("datetime64[us]")
    return pages, problems


def stage(
    run_dir: Path, previous: Path | None, archive: PageArchive, *, reparse: bool = False
) -> Staged:
    """Gather a run's model pages and where their values come from.

    ``previous`` is the snapshot published before this run (None for the first run).
    With ``reparse``, every page of the run is parsed again from the archive (a rebuild).
    """
    pages, problems = read_pages(run_dir)
    is_model = pages["content_type"] == MODEL_CONTENT_TYPE
    fetched = pages[(pages["outcome"] == PageOutcome.MODEL) & is_model]
    unchanged = pages[(pages["outcome"] == PageOutcome.NOT_MODIFIED) & is_model]
    sources = pd.concat(
        [_sources(fetched, ValueOrigin.FETCHED), _sources(unchanged, ValueOrigin.NOT_MODIFIED)],
        ignore_index=True,
    )
    staged = Staged(pages, sources, problems, run_dir, previous, archive, reparse)
    if previous is not None:
        known = pq.read_table(
            previous / "models.parquet", columns=["page_url", "content_sha256", "fetched_at"]
        ).to_pandas()
        # An unchanged body keeps the time it was fetched; the 304 is in the page log.
        first = sources.merge(
            known, on=["page_url", "content_sha256"], how="left", suffixes=("", "_first")
        )["fetched_at_first"].set_axis(sources.index)
        keep_first = (sources["origin"] == ValueOrigin.NOT_MODIFIED) & first.notna()
        sources["fetched_at"] = sources["fetched_at"].where(~keep_first, first)
        staged.sources = pd.concat([sources, _carried_forward(pages, known)], ignore_index=True)

    # Values this run did not parse itself: from the previous snapshot where it holds the
    # same body, else parsed again from the archive.
    reuse = staged.sources
    if not reparse:
        reuse = reuse[reuse["origin"] != ValueOrigin.FETCHED]
    keys = [
        _KEY.format(u, s) for u, s in zip(reuse["page_url"], reuse["content_sha256"], strict=True)
    ]
    if previous is not None and not reparse:
        # A page the last catalog built from the same body: its typed rows stand as they are.
        # Snapshots from before unread prices were recorded cannot say which of their prices
        # were unread: their pages are built again, once, from their page values.
        if (previous / "unread_prices.parquet").exists():
            staged.kept = set(keys) & set(_keys(pa.Table.from_pandas(known)).to_pylist())
        if staged.kept:
            staged.kept_tables = _kept_tables(previous, staged.kept)
        # One row group at a time, so a large snapshot's keys never sit in memory at once.
        parquet = pq.ParquetFile(previous / "page_values.parquet")
        held: set[str] = set()
        for group in range(parquet.num_row_groups):
            table = parquet.read_row_group(group, columns=["page_url", "content_sha256"])
            held.update(pc.unique(_keys(table)).to_pylist())
        staged.from_previous = (set(keys) & held) - staged.kept
    elsewhere = staged.from_previous | staged.kept
    staged.from_archive = reuse[np.array([key not in elsewhere for key in keys], dtype=bool)]
    if reparse:
        staged.problems = staged.problems.iloc[:0]
    return staged


# Quality issues that depend on one page alone, so they stand while the page does. Issues
# across pages (duplicates, rejects) are found again; page_structure comes with the page log.
PAGE_ISSUE_KINDS = (
    IssueKind.UNREADABLE_VALUE,
    IssueKind.UNREADABLE_TIER,
    IssueKind.OVERLAPPING_TIERS,
    IssueKind.UNSUPPORTED_PRICE_UNIT,
    IssueKind.UNKNOWN_METRIC,
    IssueKind.UNKNOWN_FIELD,
    IssueKind.REPEATED_FIELD,
    IssueKind.CONFLICTING_VALUES,
    IssueKind.UNMAPPED_VALUE,
    IssueKind.MISSING_PROVIDER,
    IssueKind.MISSING_METRIC,
    IssueKind.PRICE_OUTLIER,
    IssueKind.TIER_PRICE_INVERSION,
    IssueKind.OUTPUT_EXCEEDS_CONTEXT,
    IssueKind.OFFER_CONTEXT_EXCEEDS_MODEL,
    IssueKind.OVERVIEW_CONTRADICTION,
)


def _kept_tables(previous: Path, kept: set[str]) -> frames.Kept:
    """The previous snapshot's typed rows and page issues of the ``kept`` pages."""
    urls = sorted({key.split("\x1f", 1)[0] for key in kept})
    models = to_frame(
        pq.read_table(previous / "models.parquet", filters=[("page_url", "in", urls)])
    )
    page_of = models.set_index("model_id")["page_url"]
    ids = sorted(page_of.index)

    def of_models(name: str) -> pd.DataFrame:
        rows = to_frame(
            pq.read_table(previous / f"{name}.parquet", filters=[("model_id", "in", ids)])
        )
        return rows.assign(page_url=rows["model_id"].map(page_of).astype(STRING))

    issues = to_frame(pq.read_table(previous / "quality_issues.parquet"))
    issues = issues[issues["page_url"].isin(urls) & issues["kind"].isin(PAGE_ISSUE_KINDS)]
    return frames.Kept(
        models=models,
        official_prices=of_models("official_prices"),
        provider_offers=of_models("provider_offers"),
        quality_issues=issues.drop(columns="run_id"),
        unread_prices=of_models("unread_prices"),
    )


def _sources(pages: pd.DataFrame, origin: ValueOrigin) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "page_url": pages["final_url"],
            "content_sha256": pages["content_sha256"],
            "fetched_at": pages["fetched_at"],
            "origin": origin,
        }
    )


def _carried_forward(pages: pd.DataFrame, known: pd.DataFrame) -> pd.DataFrame:
    """Model pages that failed this run for a passing reason, as the last snapshot had them
    (``known``: its models' page_url, content_sha256 and fetched_at)."""
    status = pages["http_status"]
    passing = (pages["outcome"] == PageOutcome.QUARANTINED) | (
        (pages["outcome"] == PageOutcome.FAILED)
        & (status.isna() | (status >= 500) | (status == 429))
    )
    failed_urls = set(pages.loc[passing, "url"]) | set(pages.loc[passing, "final_url"].dropna())
    if not failed_urls:
        return pd.DataFrame(columns=SOURCE_COLUMNS)
    kept = known[known["page_url"].isin(failed_urls)]
    return kept.assign(origin=ValueOrigin.CARRIED_FORWARD)[SOURCE_COLUMNS]


_KEY = "{}\x1f{}"


def _keys(table: pa.Table) -> pa.Array:
    """page_url + content_sha256 as one string (``_KEY``): a page's values are one body's."""
    url = pc.cast(table["page_url"], pa.string())
    sha = pc.fill_null(pc.cast(table["content_sha256"], pa.string()), "")
    return pc.binary_join_element_wise(url, sha, "\x1f").combine_chunks()


def _row_groups(path: Path, only: set[str] | None = None) -> Iterator[pa.Table]:
    """A page_values file a row group at a time (row groups hold whole pages)."""
    if not path.exists():
        return
    wanted = pa.array(sorted(only)) if only is not None else None
    parquet = pq.ParquetFile(path)
    for group in range(parquet.num_row_groups):
        table = parquet.read_row_group(group).select(PAGE_VALUES_SCHEMA.names)
        if wanted is not None:
            table = table.filter(pc.is_in(_keys(table), value_set=wanted))
        if table.num_rows:
            yield table


def _batched(tables: Iterable[pa.Table]) -> Iterator[pa.Table]:
    """Tables of whole pages joined up to about CHUNK_ROWS rows; at least one, maybe empty."""
    pending: list[pa.Table] = []
    rows = 0
    for table in tables:
        pending.append(table)
        rows += table.num_rows
        if rows >= CHUNK_ROWS:
            yield pa.concat_tables(pending)
            pending, rows = [], 0
    yield pa.concat_tables(pending) if pending else page_values_table([])


def _parse_archived(
    sources: pd.DataFrame, archive: PageArchive, problems: list[tuple[str, str]]
) -> Iterator[pa.Table]:
    """Parse archived bodies again, a thousand pages at a time."""
    parsed = []
    for url, sha256 in zip(sources["page_url"], sources["content_sha256"], strict=True):
        try:
            body = archive.get(sha256)
        except FileNotFoundError:
            problems.append((url, f"body {sha256[:12]}… is not in the archive; page skipped"))
            continue
        except CorruptBody as damage:  # never built from bytes other than those fetched
            problems.append((url, f"{damage}; page skipped"))
            continue
        try:
            page = parse_page(decode_markdown(body), url)
        except NotMarkdown as reason:
            problems.append((url, f"archived body is not markdown: {reason}"))
            continue
        parsed.append((url, sha256, page))
        problems.extend((url, problem) for problem in page.problems)
        if len(parsed) == 1000:
            yield page_values_table(parsed)
            parsed = []
    if parsed:
        yield page_values_table(parsed)


def build_catalog(staged: Staged, run_id: str) -> dict[str, pd.DataFrame | Path]:
    """The validated tables of one run, every table of the contract but ``runs``.

    ``page_values`` comes back as a Parquet file, written while the build read the values.
    """
    values_file = staged.run_dir / CATALOG_VALUES_FILE
    archive_problems: list[tuple[str, str]] = []
    schema = describe(PAGE_VALUES_SCHEMA, TABLES["page_values"])  # published as written
    with pq.ParquetWriter(values_file, schema, compression="zstd") as writer:

        def chunks() -> Iterator[pd.DataFrame]:
            for table in staged.chunks(archive_problems):
                writer.write_table(table)  # one row group per chunk: whole pages
                yield to_frame(table)

        catalog = frames.build(staged.pages, staged.sources, chunks(), staged.kept_tables)
        for table in staged.kept_values():
            writer.write_table(table)

    page_of_model = catalog.models.set_index("model_id")["page_url"]
    model_of_page = pd.Series(page_of_model.index, index=page_of_model.array)
    problems = pd.concat(
        [
            staged.problems,
            pd.DataFrame(archive_problems, columns=["page_url", "problem"], dtype=STRING),
        ],
        ignore_index=True,
    ).drop_duplicates()
    issues = Issues()
    issues.extend(catalog.quality_issues)
    issues.add(
        problems.index,
        IssueKind.PAGE_STRUCTURE,
        problems["problem"],
        model_id=problems["page_url"].map(model_of_page),
        page_url=problems["page_url"],
    )
    # The checks look at one page at a time: pages kept as they were keep their findings.
    kept = staged.kept_tables or frames.Kept.empty()
    kept_urls = set(kept.models["page_url"])
    built = [
        frame[~frame["page_url"].isin(kept_urls)]
        for frame in (catalog.models, catalog.official_prices, catalog.provider_offers)
    ]
    issues.extend(semantic_issues(*built))
    issues.extend(kept.quality_issues)
    models, rejected = validate(catalog.models, TABLES["models"])
    issues.extend(rejected)
    tables: dict[str, pd.DataFrame | Path] = {"models": models}
    for name in ("official_prices", "provider_offers"):
        frame = getattr(catalog, name)
        orphan = ~frame["model_id"].isin(models["model_id"])
        issues.add(
            orphan,
            IssueKind.REJECTED_ROW,
            "its model row was rejected; row quarantined",
            model_id=frame["model_id"],
            field=name,
        )
        tables[name], rejected = validate(frame[~orphan], TABLES[name])
        issues.extend(rejected)

    quality = issues.frame()
    quality["page_url"] = quality["page_url"].fillna(
        quality["model_id"].map(page_of_model[~page_of_model.index.duplicated()])
    )
    tables["quality_issues"] = conform(
        quality.reindex(columns=TABLES["quality_issues"].names).assign(run_id=run_id),
        TABLES["quality_issues"],
    )
    unread = catalog.unread_prices
    tables["unread_prices"] = conform(
        unread[unread["model_id"].isin(models["model_id"])], TABLES["unread_prices"]
    )
    tables["pages"] = conform(catalog.pages.assign(run_id=run_id), TABLES["pages"])
    tables["page_values"] = values_file
    return tables
