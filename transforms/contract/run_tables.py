"""The tables of a run: the pages it touched, the quality issues it found, the raw layer
of page values it read (and the schema it is staged in), and the ``runs`` record."""

from __future__ import annotations

import pyarrow as pa

from transforms.contract.columns import COUNTS, TEXT_LIST, TS, Column, Table
from transforms.contract.vocabulary import TableName

PAGES = Table(
    TableName.PAGES,
    "One row per URL the run touched, whatever happened to it.",
    (
        Column("run_id", pa.string(), "The run.", nullable=False),
        Column("url", pa.string(), "The URL requested.", nullable=False),
        Column(
            "final_url",
            pa.string(),
            "The URL that answered; for a redirect, its target; NULL when nothing answered.",
        ),
        Column("http_status", pa.int32(), "Final HTTP status; NULL on a network failure."),
        Column(
            "outcome",
            pa.string(),
            "model, not_modified (304), skipped (not a model page), redirected, duplicate, "
            "quarantined, failed or disallowed.",
            nullable=False,
        ),
        Column(
            "content_type", pa.string(), "The front matter's content_type; NULL when there is none."
        ),
        Column(
            "error",
            pa.string(),
            "Why the page failed, was quarantined or lost a duplicate; NULL otherwise.",
        ),
        Column("fetched_at", TS, "When the answer (or the failure) came, UTC.", nullable=False),
        Column("retries", pa.int32(), "How many times the request was retried.", nullable=False),
        Column(
            "content_sha256", pa.string(), "SHA-256 of the body, hex; NULL when there was none."
        ),
    ),
    key=("url",),
)

QUALITY_ISSUES = Table(
    TableName.QUALITY_ISSUES,
    "Everything the run could not read or found contradictory. Flagged, never fixed.",
    (
        Column("run_id", pa.string(), "The run.", nullable=False),
        Column("model_id", pa.string(), "The model, when known."),
        Column("page_url", pa.string(), "The page the value came from."),
        Column(
            "kind",
            pa.string(),
            "A short code for the class of problem, e.g. unreadable_value.",
            nullable=False,
        ),
        Column("field", pa.string(), "The field or table cell concerned."),
        Column("raw_value", pa.string(), "The text as written."),
        Column("problem", pa.string(), "What is wrong, in words.", nullable=False),
    ),
)

PAGE_VALUES = Table(
    TableName.PAGE_VALUES,
    "Every value of every model page exactly as written: the raw layer the typed tables come from.",
    (
        Column("page_url", pa.string(), "The page.", nullable=False),
        Column("content_sha256", pa.string(), "SHA-256 of the page body these values come from."),
        Column(
            "section",
            pa.string(),
            "'front matter', 'title', 'preamble' or the '## heading' as written.",
            nullable=False,
        ),
        Column("row_number", pa.int32(), "1-based position within the section.", nullable=False),
        Column(
            "row_label",
            pa.string(),
            "Bullet label or the table row's first cell; NULL for a table's header row.",
        ),
        Column(
            "column_label",
            pa.string(),
            "Table column header; NULL for bullets, text and a table row that does not fit "
            "its header (kept whole, never mapped by position).",
        ),
        Column("raw_value", pa.string(), "The value as written.", nullable=False),
    ),
)

# The raw layer as the crawl stages it (``runs/ID/page_values.parquet``): the contract's
# columns and types, every field nullable and without descriptions, which the build adds
# (``describe``) when it publishes the values as they are.
PAGE_VALUES_SCHEMA = pa.schema([(c.name, c.type) for c in PAGE_VALUES.columns])

RUNS = Table(
    TableName.RUNS,
    "One row per refresh or rebuild, published or not.",
    (
        Column("run_id", pa.string(), "The run; sortable by time.", nullable=False),
        Column(
            "started_at",
            TS,
            "When the run started, UTC: the run id's time, never before an earlier run's (the "
            "system clock's, or 1 ms after the last run's when the clock was behind it).",
            nullable=False,
        ),
        Column(
            "clock_started_at",
            TS,
            "The system clock when the run started, as read, UTC: before started_at only when "
            "the clock had been set back.",
            nullable=False,
        ),
        Column("finished_at", TS, "UTC."),
        Column("start_urls", TEXT_LIST, "The index URLs the crawl started from."),
        Column("pages_seen", pa.int64(), "URLs touched.", nullable=False),
        Column(
            "models_published",
            pa.int64(),
            "Rows in models when published; 0 otherwise.",
            nullable=False,
        ),
        Column("status", pa.string(), "published, refused, failed or interrupted.", nullable=False),
        Column("message", pa.string(), "Why a run was not published; NULL when published."),
        Column("pages_fetched", pa.int64(), "Pages answered with a body (HTTP 200)."),
        Column("pages_not_modified", pa.int64(), "Pages answered 304: the archived copy held."),
        Column("pages_retried", pa.int64(), "Pages that needed at least one retry."),
        Column(
            "pages_failed", pa.int64(), "Pages that failed after retries (HTTP error, network)."
        ),
        Column(
            "pages_quarantined", pa.int64(), "Pages answered but unusable (HTML, empty, no ID…)."
        ),
        Column("pages_skipped", pa.int64(), "Index and other non-model pages."),
        Column("models_carried_forward", pa.int64(), "Models kept from the last run: page failed."),
        Column("quality_issues_by_kind", COUNTS, "Quality issues found, by kind."),
        Column("changes_by_kind", COUNTS, "Changes seen against the previous run, by kind."),
    ),
    key=("run_id",),
)
