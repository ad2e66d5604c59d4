"""Which values a run's catalog is built from: the build plan.

``plan_build`` reads a staged run's page log and the previous snapshot and decides, for every
model page the catalog should hold, where its values come from (its ``ValueOrigin``):
- fetched this run: the run's own ``page_values.parquet``;
- answered 304 (unchanged): the previous snapshot's ``page_values`` for the same body hash,
  so an unchanged page is never parsed again;
- failed this run for a passing reason (5xx, timeout, a login wall): the previous snapshot's
  values are carried forward, with their old ``fetched_at``, so a flaky server never looks
  like a delisting. A 404 or a robots.txt ban is taken at its word: the model is gone;
- anything not in the previous snapshot is parsed again from the page archive.

A page that the previous catalog built from the very same body is reused: it keeps the
typed rows, findings and unread price cells it was published with, and only new and changed
pages go through ``frames``.

The plan is frozen and planning writes nothing. Its values are read a few thousand pages at
a time (a Parquet row group never splits a page), so memory does not grow with the site.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from transforms.pages.archive import CorruptBody, PageArchive
from transforms.pages.parse import MODEL_CONTENT_TYPE, NotMarkdown, decode_markdown, parse_page
from transforms.pages.staging import page_values_table
from transforms.build import frames
from transforms.contract.layout import PAGE_VALUES_FILE, PAGES_FILE
from transforms.build.normalize import STRING
from transforms.contract import PAGE_VALUES_SCHEMA, to_frame
from transforms.contract.vocabulary import IssueKind, PageOutcome, ValueOrigin

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


@dataclass(frozen=True)
class BuildPlan:
    """A run's inputs for ``frames.build``, and where each model page's values come from."""

    pages: pd.DataFrame  # the run's page log
    sources: pd.DataFrame  # one row per model page to build from; see SOURCE_COLUMNS
    problems: pd.DataFrame  # page_url, problem: the parse problems the page log recorded
    run_dir: Path
    previous: Path | None  # the snapshot published before this run
    archive: PageArchive
    reparse: bool  # every page parsed again from the archive (a rebuild)
    from_previous: frozenset[str]  # page keys whose values the previous snapshot holds
    from_archive: pd.DataFrame  # sources to parse again from the archive
    reused: frames.Reused  # typed rows of pages the previous catalog built from the same body
    # A rebuild: the snapshot the run itself last published, and the parse problems its page
    # log recorded; they stand in for a body the archive can no longer give back.
    published: Path | None = None
    logged_problems: pd.DataFrame | None = None

    @property
    def carried_forward(self) -> pd.Series:
        """The page URLs whose values are carried forward: their page failed this run."""
        return self.sources.loc[self.sources["origin"] == ValueOrigin.CARRIED_FORWARD, "page_url"]

    def chunks(self, problems: list[tuple[str, str]]) -> Iterator[pa.Table]:
        """The page values to build from, whole pages at a time. Parse problems of pages read
        again from the archive are appended to ``problems``."""
        tables: list[Iterable[pa.Table]] = []
        if not self.reparse:
            tables.append(_row_groups(self.run_dir / PAGE_VALUES_FILE))
        if self.previous is not None and self.from_previous:
            tables.append(_row_groups(self.previous / "page_values.parquet", self.from_previous))
        if len(self.from_archive):
            lost: list[tuple[str, str, str]] = []
            tables.append(_parse_archived(self.from_archive, self.archive, problems, lost))
            tables.append(self._stand_ins(lost, problems))  # runs once the parsing is done
        yield from _batched(table for source in tables for table in source)

    def _stand_ins(
        self, lost: list[tuple[str, str, str]], problems: list[tuple[str, str]]
    ) -> Iterator[pa.Table]:
        """The published page values of the bodies the archive lost (page_url, sha256, why),
        so that a file our own disk lost never publishes its model as removed; a page whose
        values are gone too is skipped. Either way a problem says what happened."""
        keys = {_KEY.format(url, sha256): (url, why) for url, sha256, why in lost}
        held = frozenset[str]()
        if keys and self.published is not None:
            held = frozenset(keys) & _keys_held(self.published)
        logged = self.logged_problems
        for key, (url, why) in keys.items():
            if key not in held:
                problems.append((url, f"{why}; page skipped"))
                continue
            problems.append((url, f"{why}; its values are those {self.published.name} published"))
            if logged is not None:  # it is not parsed again: what its crawl's parse found stands
                found = logged.loc[logged["page_url"] == url, "problem"]
                problems.extend((url, problem) for problem in found)
        if held:
            yield from _row_groups(self.published / "page_values.parquet", held)

    def reused_values(self) -> Iterator[pa.Table]:
        """The page values of the reused pages: published as they were."""
        if self.previous is not None and self.reused.keys:
            yield from _row_groups(self.previous / "page_values.parquet", self.reused.keys)


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


def plan_build(
    run_dir: Path,
    previous: Path | None,
    archive: PageArchive,
    *,
    reparse: bool = False,
    published: Path | None = None,
) -> BuildPlan:
    """Gather a run's model pages and where their values come from.

    ``previous`` is the snapshot published before this run (None for the first run).
    With ``reparse``, every page of the run is parsed again from the archive (a rebuild);
    ``published`` is then the snapshot the run itself last published, whose page values
    stand in for a body the archive can no longer give back.
    """
    pages, problems = read_pages(run_dir)
    is_model = pages["content_type"] == MODEL_CONTENT_TYPE
    fetched = pages[(pages["outcome"] == PageOutcome.MODEL) & is_model]
    unchanged = pages[(pages["outcome"] == PageOutcome.NOT_MODIFIED) & is_model]
    sources = pd.concat(
        [_sources(fetched, ValueOrigin.FETCHED), _sources(unchanged, ValueOrigin.NOT_MODIFIED)],
        ignore_index=True,
    )
    known = None
    if previous is not None:
        known = pq.read_table(
            previous / "models.parquet", columns=["page_url", "content_sha256", "fetched_at"]
        ).to_pandas()
        sources = pd.concat(
            [_first_fetched(sources, known), _carried_forward(pages, known)], ignore_index=True
        )

    # Values this run did not parse itself: from the previous snapshot where it holds the
    # same body, else parsed again from the archive.
    reuse = sources if reparse else sources[sources["origin"] != ValueOrigin.FETCHED]
    keys = [
        _KEY.format(u, s) for u, s in zip(reuse["page_url"], reuse["content_sha256"], strict=True)
    ]
    reused, from_previous = frames.Reused.empty(), frozenset[str]()
    if known is not None and not reparse:
        # A page the last catalog built from the same body: its typed rows stand as they are.
        # Snapshots from before unread prices were recorded cannot say which of their prices
        # were unread: their pages are built again, once, from their page values.
        if (previous / "unread_prices.parquet").exists():
            same = frozenset(keys) & frozenset(_keys(pa.Table.from_pandas(known)).to_pylist())
            if same:
                reused = _reused_tables(previous, same)
        from_previous = (frozenset(keys) & _keys_held(previous)) - reused.keys
    elsewhere = from_previous | reused.keys
    from_archive = reuse[np.array([key not in elsewhere for key in keys], dtype=bool)]
    return BuildPlan(
        pages=pages,
        sources=sources,
        problems=problems.iloc[:0] if reparse else problems,
        run_dir=run_dir,
        previous=previous,
        archive=archive,
        reparse=reparse,
        from_previous=from_previous,
        from_archive=from_archive,
        reused=reused,
        published=published if reparse else None,
        logged_problems=problems if reparse else None,
    )


def _first_fetched(sources: pd.DataFrame, known: pd.DataFrame) -> pd.DataFrame:
    """An unchanged body keeps the time it was fetched; the 304 is in the page log."""
    first = sources.merge(
        known, on=["page_url", "content_sha256"], how="left", suffixes=("", "_first")
    )["fetched_at_first"].set_axis(sources.index)
    keep_first = (sources["origin"] == ValueOrigin.NOT_MODIFIED) & first.notna()
    return sources.assign(fetched_at=sources["fetched_at"].where(~keep_first, first))


def _keys_held(snapshot: Path) -> frozenset[str]:
    """The page keys of a snapshot's page values, one row group at a time, so a large
    snapshot's keys never sit in memory at once."""
    parquet = pq.ParquetFile(snapshot / "page_values.parquet")
    held: set[str] = set()
    for group in range(parquet.num_row_groups):
        table = parquet.read_row_group(group, columns=["page_url", "content_sha256"])
        held.update(pc.unique(_keys(table)).to_pylist())
    return frozenset(held)


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


def _reused_tables(previous: Path, keys: frozenset[str]) -> frames.Reused:
    """The previous snapshot's typed rows and page issues of the pages ``keys`` names."""
    urls = sorted({key.split("\x1f", 1)[0] for key in keys})
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
    return frames.Reused(
        keys=keys,
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
    sources: pd.DataFrame,
    archive: PageArchive,
    problems: list[tuple[str, str]],
    lost: list[tuple[str, str, str]],
) -> Iterator[pa.Table]:
    """Parse archived bodies again, a thousand pages at a time; a body the archive cannot
    give back goes to ``lost`` (page_url, sha256, why)."""
    parsed = []
    for url, sha256 in zip(sources["page_url"], sources["content_sha256"], strict=True):
        try:
            body = archive.get(sha256)
        except FileNotFoundError:
            lost.append((url, sha256, f"body {sha256[:12]}… is not in the archive"))
            continue
        except CorruptBody as damage:  # never built from bytes other than those fetched
            lost.append((url, sha256, str(damage)))
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
