"""The build: one planned run -> its validated tables, ready for history and publishing.

Builds the typed frames from the values ``transforms.build.plan`` says the run is built
from, finds the contradictions (``transforms.build.checks``) and validates each table
against the data contract. Rows that fail validation are quarantined as quality issues,
never dropped. Pages reused as they were published keep their findings.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from transforms.build import frames
from transforms.build import normalize as n
from transforms.build.ahead import BuildAhead
from transforms.build.checks import semantic_issues
from transforms.build.issues import Issues
from transforms.build.plan import BuildPlan
from transforms.build.validation import validate
from transforms.contract.casting import STRING, conform, describe, to_frame
from transforms.contract.tables import PAGE_VALUES_SCHEMA, TABLES
from transforms.contract.vocabulary import IssueKind, TableName
from transforms.pages.values import ValuesWriter


@dataclass(frozen=True)
class BuiltTables:
    """The validated tables of one run (every table of the contract but ``runs`` and the
    history tables), and what the run's summary counts."""

    models: pd.DataFrame
    official_prices: pd.DataFrame
    provider_offers: pd.DataFrame
    quality_issues: pd.DataFrame
    unread_prices: pd.DataFrame
    pages: pd.DataFrame
    page_values: Path  # a Parquet file, written while the build read the values
    carried_forward: frozenset[str]  # model ids kept from the last snapshot: their page failed

    def current_tables(self) -> dict[str, pd.DataFrame]:
        """The current tables and the price cells left unread: what history advances with."""
        return {
            TableName.MODELS: self.models,
            TableName.OFFICIAL_PRICES: self.official_prices,
            TableName.PROVIDER_OFFERS: self.provider_offers,
            TableName.UNREAD_PRICES: self.unread_prices,
        }

    def tables(self) -> dict[str, pd.DataFrame | Path]:
        """The tables by name, as ``publish`` takes them."""
        return {
            TableName.MODELS: self.models,
            TableName.OFFICIAL_PRICES: self.official_prices,
            TableName.PROVIDER_OFFERS: self.provider_offers,
            TableName.QUALITY_ISSUES: self.quality_issues,
            TableName.UNREAD_PRICES: self.unread_prices,
            TableName.PAGES: self.pages,
            TableName.PAGE_VALUES: self.page_values,
        }

    @property
    def unread_attributes(self) -> list[tuple[str, str]]:
        """(model_id, models column) of every attribute a page shows but the run could not
        read: unparseable, or given two different values. History leaves them untouched."""
        issues = self.quality_issues
        unread = issues[
            issues["kind"].isin([IssueKind.UNREADABLE_VALUE, IssueKind.CONFLICTING_VALUES])
            & issues["field"].str.startswith("models.").fillna(False).astype(bool)
            & issues["model_id"].notna()
        ]
        fields = unread["field"].str.removeprefix("models.")
        return sorted(set(zip(unread["model_id"], fields, strict=True)))

    @property
    def quality_issues_by_kind(self) -> dict[str, int]:
        return dict(Counter(self.quality_issues["kind"].astype(str)))


def build_tables(plan: BuildPlan, run_id: str, ahead: BuildAhead | None = None) -> BuiltTables:
    """The validated tables of one run; its page values are written beside its staged files.
    ``ahead`` holds the chunks of the run's own pages built while it crawled."""
    typed, archive_problems = _typed_tables(plan, ahead)
    page_of_model = typed.models.set_index("model_id")["page_url"]
    issues = _page_issues(plan, typed, archive_problems, page_of_model)
    models, rejected = validate(typed.models, TABLES[TableName.MODELS])
    issues += Issues.of(rejected)
    validated: dict[str, pd.DataFrame] = {}
    for name in (TableName.OFFICIAL_PRICES, TableName.PROVIDER_OFFERS):
        frame = getattr(typed, name)
        orphan = pd.Series(~n.isin(frame["model_id"], models["model_id"]), index=frame.index)
        issues += Issues.where(
            orphan,
            IssueKind.REJECTED_ROW,
            "its model row was rejected; row quarantined",
            model_id=frame["model_id"],
            field=name,
        )
        validated[name], rejected = validate(frame[~orphan], TABLES[name])
        issues += Issues.of(rejected)

    quality = issues.frame()
    quality["page_url"] = quality["page_url"].fillna(
        quality["model_id"].map(page_of_model[~page_of_model.index.duplicated()])
    )
    unread = typed.unread_prices
    carried = models.loc[n.isin(models["page_url"], plan.carried_forward), "model_id"]
    return BuiltTables(
        models=models,
        official_prices=validated[TableName.OFFICIAL_PRICES],
        provider_offers=validated[TableName.PROVIDER_OFFERS],
        quality_issues=conform(
            quality.reindex(columns=TABLES[TableName.QUALITY_ISSUES].names).assign(run_id=run_id),
            TABLES[TableName.QUALITY_ISSUES],
        ),
        unread_prices=conform(
            unread[n.isin(unread["model_id"], models["model_id"])],
            TABLES[TableName.UNREAD_PRICES],
        ),
        pages=conform(typed.pages.assign(run_id=run_id), TABLES[TableName.PAGES]),
        page_values=plan.run_dir.published_values,
        carried_forward=frozenset(carried),
    )


def _typed_tables(
    plan: BuildPlan, ahead: BuildAhead | None
) -> tuple[frames.TypedTables, list[tuple[str, str]]]:
    """The typed frames of the plan's pages, and the problems of the pages read again from
    the archive. The run's published page values are written while the frames read them:
    the reused pages' values too, as they were published."""
    problems: list[tuple[str, str]] = []
    sources = frames.source_index(plan.sources)
    schema = describe(PAGE_VALUES_SCHEMA, TABLES[TableName.PAGE_VALUES])  # published as written
    built_rows = 0
    with ValuesWriter(plan.run_dir.published_values, schema) as writer:

        def parts() -> Iterator[frames.PageTables]:
            nonlocal built_rows
            for chunk in plan.chunks():
                problems.extend(chunk.problems)
                if chunk.values.num_rows:  # one row group per chunk: whole pages
                    writer.write(chunk.values)
                    built_rows += chunk.values.num_rows
                built = ahead.take(chunk.values, sources) if ahead is not None else None
                if built is None:
                    built = frames.page_tables(to_frame(chunk.values), sources)
                yield built

        reused = plan.reused if plan.reused.keys else None
        try:
            typed = frames.typed_tables(plan.pages, parts(), reused)
        finally:
            if ahead is not None:
                ahead.close()
        whole = plan.reused_values_file(schema) if not built_rows else None
        if whole is None:
            for table in plan.reused_values():
                writer.write(table)
    if whole is not None:  # nothing built, every page reused: the same rows, the same bytes
        shutil.copyfile(whole, plan.run_dir.published_values)
    return typed, problems


def _page_issues(
    plan: BuildPlan,
    typed: frames.TypedTables,
    archive_problems: list[tuple[str, str]],
    page_of_model: pd.Series,
) -> Issues:
    """The issues of the build, the page log's parse problems and the semantic checks; the
    reused pages keep the findings they were published with (the checks look at one page
    at a time)."""
    model_of_page = pd.Series(page_of_model.index, index=page_of_model.array)
    problems = pd.concat(
        [
            plan.problems,
            pd.DataFrame(archive_problems, columns=["page_url", "problem"], dtype=STRING),
        ],
        ignore_index=True,
    ).drop_duplicates()
    reused_urls = plan.reused.models["page_url"]
    built = [
        frame[~n.isin(frame["page_url"], reused_urls)]
        for frame in (typed.models, typed.official_prices, typed.provider_offers)
    ]
    return (
        Issues.of(typed.quality_issues)
        + Issues.where(
            problems.index,
            IssueKind.PAGE_STRUCTURE,
            problems["problem"],
            model_id=problems["page_url"].map(model_of_page),
            page_url=problems["page_url"],
        )
        + Issues.of(semantic_issues(*built))
        + Issues.of(plan.reused.quality_issues)
    )
