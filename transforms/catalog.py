"""One staged run -> validated catalog tables, ready to publish.

Reads what ``crawler.pipelines.StagingWriter`` wrote, gathers the values of every model page
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
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from crawler.archive import PageArchive
from crawler.parse import MODEL_CONTENT_TYPE, NotMarkdown, decode_markdown, parse_page
from crawler.pipelines import (
    PAGE_VALUES_FILE,
    PAGE_VALUES_SCHEMA,
    PAGES_FILE,
    page_values_table,
)
from transforms import frames
from transforms.checks import semantic_issues
from transforms.normalize import STRING
from transforms.schema import TABLES, conform, validate

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


@dataclass
class Staged:
    """A run's inputs for ``frames.build``."""

    pages: pd.DataFrame  # the run's page log
    sources: pd.DataFrame  # one row per model page to build from; see SOURCE_COLUMNS
    values: pd.DataFrame  # page_values of every source
    problems: pd.DataFrame  # page_url, problem


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
    """Gather a run's model pages and their values.

    ``previous`` is the snapshot published before this run (None for the first run).
    With ``reparse``, every page of the run is parsed again from the archive (a rebuild).
    """
    pages, problems = read_pages(run_dir)
    is_model = pages["content_type"] == MODEL_CONTENT_TYPE
    fetched = pages[(pages["outcome"] == "model") & is_model]
    unchanged = pages[(pages["outcome"] == "not_modified") & is_model]
    sources = pd.concat(
        [_sources(fetched, "fetched"), _sources(unchanged, "not_modified")], ignore_index=True
    )

    # Values this run did not parse itself: from the previous snapshot where it has the same
    # body, else parsed again from the archive.
    reuse = sources if reparse else sources[sources["origin"] == "not_modified"]
    values = [] if reparse else [_read_values(run_dir / PAGE_VALUES_FILE)]
    if previous is not None:
        known = pq.read_table(
            previous / "models.parquet", columns=["page_url", "content_sha256", "fetched_at"]
        ).to_pandas()
        # An unchanged body keeps the time it was fetched; the 304 is in the page log.
        first = sources.merge(
            known, on=["page_url", "content_sha256"], how="left", suffixes=("", "_first")
        )["fetched_at_first"].set_axis(sources.index)
        keep_first = (sources["origin"] == "not_modified") & first.notna()
        sources["fetched_at"] = sources["fetched_at"].where(~keep_first, first)
        carried = _carried_forward(pages, known)
        sources = pd.concat([sources, carried], ignore_index=True)
        reuse = pd.concat([reuse, carried], ignore_index=True)
        if not reparse:
            values.append(_read_values(previous / "page_values.parquet", only=reuse))
    found = [_page_keys(frame) for frame in values]
    have = found[0].append(found[1:]) if found else _page_keys(reuse.iloc[:0])
    parsed, parsed_problems = _parse_archived(reuse[~_page_keys(reuse).isin(have)], archive)
    values.append(parsed)
    problems = pd.concat(([] if reparse else [problems]) + [parsed_problems], ignore_index=True)
    return Staged(
        pages=pages,
        sources=sources,
        values=pd.concat(values, ignore_index=True),
        problems=problems.drop_duplicates(ignore_index=True),
    )


def _sources(pages: pd.DataFrame, origin: str) -> pd.DataFrame:
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
    passing = (pages["outcome"] == "quarantined") | (
        (pages["outcome"] == "failed") & (status.isna() | (status >= 500) | (status == 429))
    )
    failed_urls = set(pages.loc[passing, "url"]) | set(pages.loc[passing, "final_url"].dropna())
    if not failed_urls:
        return pd.DataFrame(columns=SOURCE_COLUMNS)
    kept = known[known["page_url"].isin(failed_urls)]
    return kept.assign(origin="carried_forward")[SOURCE_COLUMNS]


def _read_values(path: Path, *, only: pd.DataFrame | None = None) -> pd.DataFrame:
    """page_values from a Parquet file; with ``only``, just its (page_url, hash) pairs."""
    if only is None:
        return _as_values(pq.read_table(path))
    if only.empty:
        return _as_values(page_values_table([]))
    values = pq.read_table(path, filters=[("page_url", "in", sorted(set(only["page_url"])))])
    frame = _as_values(values)
    return frame[_page_keys(frame).isin(_page_keys(only))]


def _page_keys(frame: pd.DataFrame) -> pd.MultiIndex:
    """(page_url, content_sha256) of each row: a page's values belong to one body."""
    return pd.MultiIndex.from_arrays(
        [frame["page_url"].astype(object), frame["content_sha256"].astype(object)]
    )


def _as_values(table: pa.Table) -> pd.DataFrame:
    values = table.select(PAGE_VALUES_SCHEMA.names).to_pandas()
    return values.astype({c: STRING for c in values.columns if c != "row_number"})


def _parse_archived(
    sources: pd.DataFrame, archive: PageArchive
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Parse archived bodies again: page values and parse problems."""
    parsed = []
    problems: list[tuple[str, str]] = []
    for url, sha256 in zip(sources["page_url"], sources["content_sha256"], strict=True):
        if sha256 not in archive:
            problems.append((url, f"body {sha256[:12]}… is not in the archive; page skipped"))
            continue
        try:
            page = parse_page(decode_markdown(archive.get(sha256)), url)
        except NotMarkdown as reason:
            problems.append((url, f"archived body is not markdown: {reason}"))
            continue
        parsed.append((url, sha256, page))
        problems.extend((url, problem) for problem in page.problems)
    values = _as_values(page_values_table(parsed))
    return values, pd.DataFrame(problems, columns=["page_url", "problem"], dtype=STRING)


def build_catalog(staged: Staged, run_id: str) -> dict[str, pd.DataFrame]:
    """The validated tables of one run, every table of the contract but ``runs``."""
    catalog = frames.build(staged.pages, staged.sources, staged.values, staged.problems)

    contradictions = semantic_issues(
        catalog.models, catalog.official_prices, catalog.provider_offers
    )
    issues = [catalog.quality_issues, contradictions]
    models, rejected = validate(catalog.models, TABLES["models"])
    issues.append(rejected)
    tables = {"models": models}
    for name in ("official_prices", "provider_offers"):
        frame = getattr(catalog, name)
        orphan = ~frame["model_id"].isin(models["model_id"])
        issues.append(
            pd.DataFrame(
                {
                    "model_id": frame.loc[orphan, "model_id"],
                    "kind": "rejected_row",
                    "field": name,
                    "problem": "its model row was rejected; row quarantined",
                }
            )
        )
        tables[name], rejected = validate(frame[~orphan], TABLES[name])
        issues.append(rejected)

    quality = pd.concat([i for i in issues if not i.empty] or issues[:1], ignore_index=True)
    page_of_model = catalog.models.set_index("model_id")["page_url"]
    quality["page_url"] = quality["page_url"].fillna(quality["model_id"].map(page_of_model))
    tables["quality_issues"] = conform(
        quality.reindex(columns=TABLES["quality_issues"].names).assign(run_id=run_id),
        TABLES["quality_issues"],
    )
    tables["pages"] = conform(catalog.pages.assign(run_id=run_id), TABLES["pages"])
    tables["page_values"] = conform(catalog.page_values, TABLES["page_values"])
    return tables
