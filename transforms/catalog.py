"""One staged run -> validated catalog tables, ready to publish.

Reads what ``crawler.pipelines.StagingWriter`` wrote, builds the typed frames, and validates
each against the data contract. Rows that fail validation are quarantined as quality issues,
never silently dropped.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from crawler.pipelines import PAGE_VALUES_FILE, PAGES_FILE
from transforms import frames
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


def load_staged(run_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(pages, page values, page-structure problems) of a staged run."""
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

    values = pq.read_table(run_dir / PAGE_VALUES_FILE).to_pandas()
    values = values.astype({c: STRING for c in values.columns if c != "row_number"})
    return pages, values, problems


def build_catalog(run_dir: Path, run_id: str) -> dict[str, pd.DataFrame]:
    """The validated tables of one run, every table of the contract but ``runs``."""
    pages, values, problems = load_staged(run_dir)
    catalog = frames.build(pages, values, problems)

    issues = [catalog.quality_issues]
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
    tables["quality_issues"] = conform(
        quality.reindex(columns=TABLES["quality_issues"].names).assign(run_id=run_id),
        TABLES["quality_issues"],
    )
    tables["pages"] = conform(catalog.pages.assign(run_id=run_id), TABLES["pages"])
    tables["page_values"] = conform(catalog.page_values, TABLES["page_values"])
    return tables
