"""One planned run -> validated catalog tables, ready to publish (``BuiltRun``).

Builds the typed frames from the values ``transforms.build.plan`` says a run's catalog is built
from, finds the contradictions (``transforms.build.checks``) and validates each table against
the data contract. Rows that fail validation are quarantined as quality issues, never
dropped. Pages reused as they were published keep their findings.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from transforms.build import frames
from transforms.build.checks import semantic_issues
from transforms.contract.layout import CATALOG_VALUES_FILE
from transforms.build.normalize import STRING
from transforms.build.plan import BuildPlan
from transforms.build.issues import Issues
from transforms.contract import PAGE_VALUES_SCHEMA, TABLES, conform, describe, to_frame
from transforms.build.validation import validate
from transforms.contract.vocabulary import IssueKind


@dataclass(frozen=True)
class BuiltRun:
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

    def tables(self) -> dict[str, pd.DataFrame | Path]:
        """The tables by name, as ``publish`` takes them."""
        return {
            "models": self.models,
            "official_prices": self.official_prices,
            "provider_offers": self.provider_offers,
            "quality_issues": self.quality_issues,
            "unread_prices": self.unread_prices,
            "pages": self.pages,
            "page_values": self.page_values,
        }

    @property
    def quality_issues_by_kind(self) -> dict[str, int]:
        return dict(Counter(self.quality_issues["kind"].astype(str)))


def build_catalog(plan: BuildPlan, run_id: str) -> BuiltRun:
    """The validated tables of one run; ``page_values`` is written beside its staged files."""
    typed, archive_problems = _typed_tables(plan)
    page_of_model = typed.models.set_index("model_id")["page_url"]
    issues = _page_issues(plan, typed, archive_problems, page_of_model)
    models, rejected = validate(typed.models, TABLES["models"])
    issues.extend(rejected)
    validated: dict[str, pd.DataFrame] = {}
    for name in ("official_prices", "provider_offers"):
        frame = getattr(typed, name)
        orphan = ~frame["model_id"].isin(models["model_id"])
        issues.add(
            orphan,
            IssueKind.REJECTED_ROW,
            "its model row was rejected; row quarantined",
            model_id=frame["model_id"],
            field=name,
        )
        validated[name], rejected = validate(frame[~orphan], TABLES[name])
        issues.extend(rejected)

    quality = issues.frame()
    quality["page_url"] = quality["page_url"].fillna(
        quality["model_id"].map(page_of_model[~page_of_model.index.duplicated()])
    )
    unread = typed.unread_prices
    carried = models.loc[models["page_url"].isin(plan.carried_forward), "model_id"]
    return BuiltRun(
        models=models,
        official_prices=validated["official_prices"],
        provider_offers=validated["provider_offers"],
        quality_issues=conform(
            quality.reindex(columns=TABLES["quality_issues"].names).assign(run_id=run_id),
            TABLES["quality_issues"],
        ),
        unread_prices=conform(
            unread[unread["model_id"].isin(models["model_id"])], TABLES["unread_prices"]
        ),
        pages=conform(typed.pages.assign(run_id=run_id), TABLES["pages"]),
        page_values=plan.run_dir / CATALOG_VALUES_FILE,
        carried_forward=frozenset(carried),
    )


def _typed_tables(plan: BuildPlan) -> tuple[frames.TypedTables, list[tuple[str, str]]]:
    """The typed frames of the plan's pages, and the problems of the pages read again from
    the archive. The catalog's page values are written (``CATALOG_VALUES_FILE``) while the
    frames read them: the reused pages' values too, as they were published."""
    archive_problems: list[tuple[str, str]] = []
    schema = describe(PAGE_VALUES_SCHEMA, TABLES["page_values"])  # published as written
    values_file = plan.run_dir / CATALOG_VALUES_FILE
    with pq.ParquetWriter(values_file, schema, compression="zstd") as writer:

        def chunks() -> Iterator[pd.DataFrame]:
            for table in plan.chunks(archive_problems):
                writer.write_table(table)  # one row group per chunk: whole pages
                yield to_frame(table)

        reused = plan.reused if plan.reused.keys else None
        typed = frames.build(plan.pages, plan.sources, chunks(), reused)
        for table in plan.reused_values():
            writer.write_table(table)
    return typed, archive_problems


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
    issues = Issues()
    issues.extend(typed.quality_issues)
    issues.add(
        problems.index,
        IssueKind.PAGE_STRUCTURE,
        problems["problem"],
        model_id=problems["page_url"].map(model_of_page),
        page_url=problems["page_url"],
    )
    reused_urls = set(plan.reused.models["page_url"])
    built = [
        frame[~frame["page_url"].isin(reused_urls)]
        for frame in (typed.models, typed.official_prices, typed.provider_offers)
    ]
    issues.extend(semantic_issues(*built))
    issues.extend(plan.reused.quality_issues)
    return issues
