"""Which values a run's build reads: the build plan.

``plan_build`` reads a staged run's page log and the previous snapshot and decides, for every
model page the catalog should hold, where its values come from (its ``ValueOrigin``):
- fetched this run: the run's own staged page values;
- answered 304 (unchanged): the previous snapshot's page values for the same body hash,
  so an unchanged page is never parsed again;
- failed this run for a passing reason (5xx, timeout, a login wall): the previous snapshot's
  values are carried forward, with their old ``fetched_at``, so a flaky server never looks
  like a delisting. A 404 or a robots.txt ban is taken at its word: the model is gone;
- anything not in the previous snapshot is parsed again from the page archive.

A page that the previous catalog built from the very same body is reused: it keeps the
typed rows, findings and unread price cells it was published with, and only new and changed
pages go through ``frames``.

The plan is frozen and planning writes nothing. Its values are read a few thousand pages at
a time (``Chunk``: a Parquet row group never splits a page), so memory does not grow with the
site; each chunk carries the parse problems of the pages it read again from the archive.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pandas.api.extensions import ExtensionDtype

from transforms.build import frames
from transforms.build.normalize import isin
from transforms.contract.casting import STRING
from transforms.contract.layout import RunDir, Snapshot
from transforms.contract.vocabulary import IssueKind, PageOutcome, ValueOrigin
from transforms.pages import outcome, values
from transforms.pages.archive import CorruptBody, PageArchive
from transforms.pages.log import read_page_log
from transforms.pages.parse import MODEL_CONTENT_TYPE, NotMarkdown, decode_markdown, parse_page

SOURCE_COLUMNS = ["page_url", "content_sha256", "fetched_at", "origin"]
# Declared: sources from the page log, the previous snapshot and none at all are one frame.
SOURCE_DTYPES: dict[str, ExtensionDtype | np.dtype] = {
    "page_url": STRING,
    "content_sha256": STRING,
    "fetched_at": np.dtype("datetime64[us]"),
    "origin": STRING,
}
_ARCHIVE_BATCH = 1000  # pages parsed again from the archive per chunk


@dataclass(frozen=True)
class Chunk:
    """Page values of whole pages, and the problems found reading them (page_url, problem)."""

    values: pa.Table
    problems: list[tuple[str, str]] = field(default_factory=list)
    # Bodies the archive could not give back (page_url, sha256, why): their pages' values
    # come from a snapshot instead (``BuildPlan._stand_ins``).
    lost: list[tuple[str, str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class BuildPlan:
    """A run's inputs for its build, and where each model page's values come from."""

    pages: pd.DataFrame  # the run's page log
    sources: pd.DataFrame  # one row per model page to build from; see SOURCE_COLUMNS
    problems: pd.DataFrame  # page_url, problem: the parse problems the page log recorded
    run_dir: RunDir
    previous: Snapshot | None  # the snapshot published before this run
    archive: PageArchive
    reparse: bool  # every page parsed again from the archive (a rebuild)
    from_previous: frozenset[str]  # page keys whose values the previous snapshot holds
    from_archive: pd.DataFrame  # sources to parse again from the archive
    reused: frames.Reused  # typed rows of pages the previous catalog built from the same body
    # Every page the previous page values hold is reused (none built again, none dropped).
    reuses_every_held_page: bool
    # A rebuild: the snapshot the run itself last published, and the parse problems its page
    # log recorded; they stand in for a body the archive can no longer give back.
    published: Snapshot | None = None
    logged_problems: pd.DataFrame | None = None

    @property
    def carried_forward(self) -> pd.Series:
        """The page URLs whose values are carried forward: their page failed this run."""
        return self.sources.loc[self.sources["origin"] == ValueOrigin.CARRIED_FORWARD, "page_url"]

    def chunks(self) -> Iterator[Chunk]:
        """The page values to build from, whole pages at a time."""
        yield from _batched(self._parts())

    def _parts(self) -> Iterator[Chunk]:
        if not self.reparse:
            yield from _plain(values.row_groups(self.run_dir.page_values))
        if self.previous is not None and self.from_previous:
            page_values = self.previous.table("page_values")
            yield from _plain(values.row_groups(page_values, self.from_previous))
        if len(self.from_archive):
            lost = []
            for chunk in _parse_archived(self.from_archive, self.archive):
                lost.extend(chunk.lost)
                yield chunk
            if lost:
                yield self._stand_ins(lost)

    def _stand_ins(self, lost: list[tuple[str, str, str]]) -> Chunk:
        """The published page values of the bodies the archive lost (page_url, sha256, why),
        so that a file our own disk lost never publishes its model as removed; a page whose
        values are gone too is skipped. Either way a problem says what happened."""
        keys = {values.page_key(url, sha256): (url, why) for url, sha256, why in lost}
        published = self.published
        held = frozenset[str]()
        if keys and published is not None:
            held = frozenset(keys) & values.keys_held(published.table("page_values"))
        problems = []
        for key, (url, why) in keys.items():
            if published is None or key not in held:
                problems.append((url, f"{why}; page skipped"))
                continue
            problems.append((url, f"{why}; its values are those {published.publication} published"))
            if self.logged_problems is not None:
                # It is not parsed again: what its crawl's parse found stands.
                logged = self.logged_problems
                found = logged.loc[logged["page_url"] == url, "problem"]
                problems.extend((url, problem) for problem in found)
        tables = (
            list(values.row_groups(published.table("page_values"), held))
            if published is not None and held
            else []
        )
        return Chunk(pa.concat_tables(tables) if tables else values.values_table([]), problems)

    def reused_values(self) -> Iterator[pa.Table]:
        """The page values of the reused pages: published as they were."""
        if self.previous is not None and self.reused.keys:
            yield from values.row_groups(self.previous.table("page_values"), self.reused.keys)

    def reused_values_file(self, schema: pa.Schema) -> Path | None:
        """The previous page values file, if it is ``reused_values`` whole, in ``schema``
        (descriptions included): then it can be copied instead of read and written again."""
        if self.previous is None or not self.reused.keys or not self.reuses_every_held_page:
            return None
        path = self.previous.table("page_values")
        return path if pq.read_schema(path).equals(schema, check_metadata=True) else None


def plan_build(
    run_dir: RunDir,
    previous: Snapshot | None,
    archive: PageArchive,
    *,
    reparse: bool = False,
    published: Snapshot | None = None,
) -> BuildPlan:
    """Gather a run's model pages and where their values come from.

    ``previous`` is the snapshot published before this run (None for the first run).
    With ``reparse``, every page of the run is parsed again from the archive (a rebuild);
    ``published`` is then the snapshot the run itself last published, whose page values
    stand in for a body the archive can no longer give back.
    """
    pages, problems = read_page_log(run_dir)
    unchanged = _model_pages(pages, PageOutcome.NOT_MODIFIED)
    sources = pd.concat(
        [fetched_sources(pages), _sources(unchanged, ValueOrigin.NOT_MODIFIED)],
        ignore_index=True,
    )
    known = None
    if previous is not None:
        known = previous.read(
            "models", columns=["page_url", "content_sha256", "fetched_at"]
        ).to_pandas()
        sources = pd.concat(
            [_first_fetched(sources, known), _carried_forward(pages, known)], ignore_index=True
        ).astype(SOURCE_DTYPES)

    # Values this run did not parse itself: from the previous snapshot where it holds the
    # same body, else parsed again from the archive.
    reuse = sources if reparse else sources[sources["origin"] != ValueOrigin.FETCHED]
    keys = [
        values.page_key(u, s)
        for u, s in zip(reuse["page_url"], reuse["content_sha256"], strict=True)
    ]
    reused, from_previous = frames.Reused.empty(), frozenset[str]()
    reuses_every_held_page = False
    if previous is not None and known is not None and not reparse:
        # A page the last catalog built from the same body: its typed rows stand as they are.
        # Snapshots from before unread prices were recorded cannot say which of their prices
        # were unread: their pages are built again, once, from their page values.
        if previous.has("unread_prices"):
            known_keys = values.keys(pa.Table.from_pandas(known)).to_pylist()
            same = frozenset(keys) & frozenset(known_keys)
            if same:
                reused = _reused_tables(previous, same)
        held = values.keys_held(previous.table("page_values"))
        from_previous = (frozenset(keys) & held) - reused.keys
        reuses_every_held_page = held == reused.keys
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
        reuses_every_held_page=reuses_every_held_page,
        published=published if reparse else None,
        logged_problems=problems if reparse else None,
    )


def fetched_sources(pages: pd.DataFrame) -> pd.DataFrame:
    """The source rows (``SOURCE_COLUMNS``) of the model pages a page log says were fetched:
    the run's own staged values are theirs."""
    return _sources(_model_pages(pages, PageOutcome.MODEL), ValueOrigin.FETCHED)


def _model_pages(pages: pd.DataFrame, answered: PageOutcome) -> pd.DataFrame:
    """The model pages of a page log with the outcome ``answered``."""
    return pages[(pages["outcome"] == answered) & (pages["content_type"] == MODEL_CONTENT_TYPE)]


def _first_fetched(sources: pd.DataFrame, known: pd.DataFrame) -> pd.DataFrame:
    """An unchanged body keeps the time it was fetched; the 304 is in the page log."""
    first = sources.merge(
        known, on=["page_url", "content_sha256"], how="left", suffixes=("", "_first")
    )["fetched_at_first"].set_axis(sources.index)
    keep_first = (sources["origin"] == ValueOrigin.NOT_MODIFIED) & first.notna()
    return sources.assign(fetched_at=sources["fetched_at"].where(~keep_first, first))


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


def _reused_tables(previous: Snapshot, keys: frozenset[str]) -> frames.Reused:
    """The previous snapshot's typed rows and page issues of the pages ``keys`` names."""
    from transforms.contract.casting import to_frame

    urls = sorted({values.url_of(key) for key in keys})
    models = to_frame(previous.read("models", where=("page_url", urls)))
    page_of = models.set_index("model_id")["page_url"]
    ids = sorted(page_of.index)

    def of_models(name: str) -> pd.DataFrame:
        rows = to_frame(previous.read(name, where=("model_id", ids)))
        return rows.assign(page_url=rows["model_id"].map(page_of).astype(STRING))

    issues = to_frame(previous.read("quality_issues"))
    of_pages = isin(issues["page_url"], pd.Index(urls))
    issues = issues[of_pages & issues["kind"].isin(PAGE_ISSUE_KINDS)]
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
            "origin": str(origin),
        }
    ).astype(SOURCE_DTYPES)


def _carried_forward(pages: pd.DataFrame, known: pd.DataFrame) -> pd.DataFrame:
    """Model pages that failed this run for a passing reason, as the last snapshot had them
    (``known``: its models' page_url, content_sha256 and fetched_at)."""
    passing = outcome.passing_failure(pages["outcome"], pages["http_status"])
    failed_urls = set(pages.loc[passing, "url"]) | set(pages.loc[passing, "final_url"].dropna())
    if not failed_urls:
        return pd.DataFrame(columns=SOURCE_COLUMNS)
    kept = known[known["page_url"].isin(failed_urls)]
    return kept.assign(origin=ValueOrigin.CARRIED_FORWARD)[SOURCE_COLUMNS]


def _plain(tables: Iterator[pa.Table]) -> Iterator[Chunk]:
    return (Chunk(table) for table in tables)


def _batched(chunks: Iterator[Chunk]) -> Iterator[Chunk]:
    """Chunks of whole pages joined up to about ``values.CHUNK_ROWS`` rows, with their
    problems; at least one, maybe empty."""
    problems: list[tuple[str, str]] = []

    def tables() -> Iterator[pa.Table]:
        for chunk in chunks:
            problems.extend(chunk.problems)
            yield chunk.values

    for table in values.batched(tables()):
        found, problems[:] = list(problems), []
        yield Chunk(table, found)


def _parse_archived(sources: pd.DataFrame, archive: PageArchive) -> Iterator[Chunk]:
    """Parse archived bodies again, a thousand pages at a time; a body the archive cannot
    give back is a chunk's ``lost``."""
    parsed = []
    problems: list[tuple[str, str]] = []
    lost: list[tuple[str, str, str]] = []
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
        if len(parsed) == _ARCHIVE_BATCH:
            yield Chunk(values.values_table(parsed), problems, lost)
            parsed, problems, lost = [], [], []
    if parsed or problems or lost:
        yield Chunk(values.values_table(parsed), problems, lost)
