"""The data contract: every published table, its columns, types, units and meaning.

This module is the single source of truth. Publishing casts frames to these Arrow types,
validation checks them with pandera (``transforms.validation``), the catalog carries the
descriptions as column comments, the Parquet files as field and schema metadata, each
snapshot's ``datapackage.json`` as a Frictionless Table Schema, and a test keeps the
README's data contract in step with it. The table definitions are one declarative piece
(most of the module): split, the contract would be read in several places.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa

USD = pa.decimal128(18, 9)
TS = pa.timestamp("us")
TEXT_LIST = pa.list_(pa.string())
COUNTS = pa.map_(pa.string(), pa.int64())

SLUG = r"^[a-z0-9]+(-[a-z0-9]+)*$"
METRIC = r"^[a-z0-9]+(_[a-z0-9]+)*$"
SHA256 = r"^[0-9a-f]{64}$"


@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    description: str
    nullable: bool = True


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()

    @property
    def arrow_schema(self) -> pa.Schema:
        return self.schema_of(self.columns)

    def schema_of(self, columns: Iterable[Column]) -> pa.Schema:
        """The Arrow schema of ``columns``, descriptions in the field and schema metadata."""
        fields = [
            pa.field(c.name, c.type, nullable=c.nullable, metadata={DESCRIPTION: c.description})
            for c in columns
        ]
        return pa.schema(fields, metadata={DESCRIPTION: self.description})

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]


DESCRIPTION = "description"  # the Parquet metadata key of a table's and a column's meaning


def _c(name: str, type_: pa.DataType, description: str, *, nullable: bool = True) -> Column:
    return Column(name, type_, description, nullable)


MODELS = Table(
    "models",
    "One row per model: what its model-detail page says, typed.",
    (
        _c("model_id", pa.string(), "The page's 'Model ID'; unique.", nullable=False),
        _c("display_name", pa.string(), "'Display name' as written."),
        _c("provider_family", pa.string(), "'Provider family' as written."),
        _c(
            "provider_family_key",
            pa.string(),
            "provider_family lower-cased, non-[a-z0-9] runs -> '-'.",
        ),
        _c("release_date", pa.date32(), "'Release date'; NULL when Unknown."),
        _c(
            "context_window_tokens",
            pa.int64(),
            "Context window in tokens (K = 1,000; M = 1,000,000).",
        ),
        _c("max_output_tokens", pa.int64(), "Maximum output in tokens."),
        _c("input_modalities", TEXT_LIST, "Input modalities, e.g. [text, image]."),
        _c("output_modalities", TEXT_LIST, "Output modalities."),
        _c("supports_tool_use", pa.bool_(), "Tool use support; NULL when Unknown."),
        _c("supports_computer_use", pa.bool_(), "Computer use support; NULL when Unknown."),
        _c("supports_cache_control", pa.bool_(), "Cache control support; NULL when Unknown."),
        _c("overview", pa.string(), "The Overview section's text as written."),
        _c(
            "page_url",
            pa.string(),
            "The URL the page was fetched from (after redirects).",
            nullable=False,
        ),
        _c("canonical_url", pa.string(), "The page's canonical (HTML) URL from its front matter."),
        _c(
            "page_generated_at",
            TS,
            "When the site generated the page (front matter generated_at), UTC.",
        ),
        _c(
            "fetched_at",
            TS,
            "When this pipeline fetched or revalidated the page, UTC.",
            nullable=False,
        ),
        _c("content_sha256", pa.string(), "SHA-256 of the page body, hex.", nullable=False),
    ),
    key=("model_id",),
)

OFFICIAL_PRICES = Table(
    "official_prices",
    "One row per model x context tier x metric whose Official Pricing cell holds a price.",
    (
        _c("model_id", pa.string(), "models.model_id.", nullable=False),
        _c(
            "tier_label",
            pa.string(),
            "The tier's column header as written, e.g. '<=200K Context'.",
            nullable=False,
        ),
        _c(
            "tier_min_tokens",
            pa.int64(),
            "Exclusive lower bound of the tier in prompt tokens; 0 for the first tier.",
        ),
        _c("tier_max_tokens", pa.int64(), "Inclusive upper bound in tokens; NULL when open-ended."),
        _c(
            "metric",
            pa.string(),
            "input, output, cache_read, cache_write, image_input, image_output, audio_input, "
            "audio_output, or another row label's snake_case slug.",
            nullable=False,
        ),
        _c(
            "usd_per_mtok",
            USD,
            "US dollars per 1,000,000 tokens, exact; NULL when the cell could not be read.",
        ),
        _c("raw_value", pa.string(), "The cell as written, e.g. '$0.8'.", nullable=False),
    ),
    key=("model_id", "tier_label", "metric"),
)

PROVIDER_OFFERS = Table(
    "provider_offers",
    "One row per Provider Availability row: who sells the model, where, at what price.",
    (
        _c("model_id", pa.string(), "models.model_id.", nullable=False),
        _c("provider", pa.string(), "Provider as written.", nullable=False),
        _c(
            "provider_key",
            pa.string(),
            "provider lower-cased, non-[a-z0-9] runs -> '-'.",
            nullable=False,
        ),
        _c("region", pa.string(), "Region as written; NULL for '—'."),
        _c("context_window_tokens", pa.int64(), "This provider's context window in tokens."),
        _c("max_output_tokens", pa.int64(), "This provider's maximum output in tokens."),
        _c("input_usd_per_mtok", USD, "Input price, USD per 1M tokens; NULL for '—'."),
        _c("output_usd_per_mtok", USD, "Output price, USD per 1M tokens; NULL for '—'."),
        _c("cache_read_usd_per_mtok", USD, "Cache read price, USD per 1M tokens; NULL for '—'."),
        _c("cache_write_usd_per_mtok", USD, "Cache write price, USD per 1M tokens; NULL for '—'."),
    ),
    key=("model_id", "provider", "region"),
)

PAGES = Table(
    "pages",
    "One row per URL the run touched, whatever happened to it.",
    (
        _c("run_id", pa.string(), "The run.", nullable=False),
        _c("url", pa.string(), "The URL requested.", nullable=False),
        _c(
            "final_url",
            pa.string(),
            "The URL that answered; for a redirect, its target; NULL when nothing answered.",
        ),
        _c("http_status", pa.int32(), "Final HTTP status; NULL on a network failure."),
        _c(
            "outcome",
            pa.string(),
            "model, not_modified (304), skipped (not a model page), redirected, duplicate, "
            "quarantined, failed or disallowed.",
            nullable=False,
        ),
        _c(
            "content_type", pa.string(), "The front matter's content_type; NULL when there is none."
        ),
        _c(
            "error",
            pa.string(),
            "Why the page failed, was quarantined or lost a duplicate; NULL otherwise.",
        ),
        _c("fetched_at", TS, "When the answer (or the failure) came, UTC.", nullable=False),
        _c("retries", pa.int32(), "How many times the request was retried.", nullable=False),
        _c("content_sha256", pa.string(), "SHA-256 of the body, hex; NULL when there was none."),
    ),
    key=("url",),
)

QUALITY_ISSUES = Table(
    "quality_issues",
    "Everything the run could not read or found contradictory. Flagged, never fixed.",
    (
        _c("run_id", pa.string(), "The run.", nullable=False),
        _c("model_id", pa.string(), "The model, when known."),
        _c("page_url", pa.string(), "The page the value came from."),
        _c(
            "kind",
            pa.string(),
            "A short code for the class of problem, e.g. unreadable_value.",
            nullable=False,
        ),
        _c("field", pa.string(), "The field or table cell concerned."),
        _c("raw_value", pa.string(), "The text as written."),
        _c("problem", pa.string(), "What is wrong, in words.", nullable=False),
    ),
)

PAGE_VALUES = Table(
    "page_values",
    "Every value of every model page exactly as written: the raw layer the typed tables come from.",
    (
        _c("page_url", pa.string(), "The page.", nullable=False),
        _c("content_sha256", pa.string(), "SHA-256 of the page body these values come from."),
        _c(
            "section",
            pa.string(),
            "'front matter', 'title', 'preamble' or the '## heading' as written.",
            nullable=False,
        ),
        _c("row_number", pa.int32(), "1-based position within the section.", nullable=False),
        _c(
            "row_label",
            pa.string(),
            "Bullet label or the table row's first cell; NULL for a table's header row.",
        ),
        _c(
            "column_label",
            pa.string(),
            "Table column header; NULL for bullets, text and a table row that does not fit "
            "its header (kept whole, never mapped by position).",
        ),
        _c("raw_value", pa.string(), "The value as written.", nullable=False),
    ),
)

# The raw layer as the crawl stages it (``runs/ID/page_values.parquet``): the contract's
# columns and types, every field nullable and without descriptions, which the build adds
# (``describe``) when it publishes the values as they are.
PAGE_VALUES_SCHEMA = pa.schema([(c.name, c.type) for c in PAGE_VALUES.columns])

RUNS = Table(
    "runs",
    "One row per refresh or rebuild, published or not.",
    (
        _c("run_id", pa.string(), "The run; sortable by time.", nullable=False),
        _c("started_at", TS, "UTC.", nullable=False),
        _c("finished_at", TS, "UTC."),
        _c("start_urls", TEXT_LIST, "The index URLs the crawl started from."),
        _c("pages_seen", pa.int64(), "URLs touched.", nullable=False),
        _c(
            "models_published",
            pa.int64(),
            "Rows in models when published; 0 otherwise.",
            nullable=False,
        ),
        _c("status", pa.string(), "published, refused, failed or interrupted.", nullable=False),
        _c("message", pa.string(), "Why a run was not published; NULL when published."),
        _c("pages_fetched", pa.int64(), "Pages answered with a body (HTTP 200)."),
        _c("pages_not_modified", pa.int64(), "Pages answered 304: the archived copy held."),
        _c("pages_retried", pa.int64(), "Pages that needed at least one retry."),
        _c("pages_failed", pa.int64(), "Pages that failed after retries (HTTP error, network)."),
        _c("pages_quarantined", pa.int64(), "Pages answered but unusable (HTML, empty, no ID…)."),
        _c("pages_skipped", pa.int64(), "Index and other non-model pages."),
        _c("models_carried_forward", pa.int64(), "Models kept from the last run: page failed."),
        _c("quality_issues_by_kind", COUNTS, "Quality issues found, by kind."),
        _c("changes_by_kind", COUNTS, "Changes seen against the previous run, by kind."),
    ),
    key=("run_id",),
)


# Where a value came from rather than what it is. History does not version these and the
# as-of macros do not return them; every other column of a current table is part of its
# history's key or tracked by it, so as-of at the current time returns the current tables.
PROVENANCE: dict[str, tuple[str, ...]] = {
    "models": ("page_generated_at", "fetched_at", "content_sha256"),
    "official_prices": ("raw_value",),
}

# provider_offers price column -> the metric its prices have in price_history.
OFFER_PRICE_METRICS = {
    f"{m}_usd_per_mtok": m for m in ("input", "output", "cache_read", "cache_write")
}

UNREAD_PRICES = Table(
    "unread_prices",
    "Every price cell a page shows that the run could not read (or not in USD per 1M tokens): "
    "NULL in official_prices or provider_offers, while history keeps the last price it read.",
    (
        _c("model_id", pa.string(), "models.model_id.", nullable=False),
        _c("provider", pa.string(), "The offer's provider; NULL for an official price."),
        _c("region", pa.string(), "The offer's region; NULL for official prices and '—'."),
        _c("tier_label", pa.string(), "The official price's tier as written; NULL for offers."),
        _c("metric", pa.string(), "As in price_history.", nullable=False),
        _c("raw_value", pa.string(), "The cell as written.", nullable=False),
    ),
    key=("model_id", "provider", "region", "tier_label", "metric"),
)


def _interval(subject: str) -> tuple[Column, ...]:
    return (
        _c(
            "valid_from",
            TS,
            f"When the catalog first saw this {subject} (inclusive), UTC.",
            nullable=False,
        ),
        _c(
            "valid_to",
            TS,
            f"When it first saw a different {subject} (exclusive); NULL: still current.",
        ),
        _c("first_run_id", pa.string(), "The run that first saw it.", nullable=False),
        _c("last_run_id", pa.string(), "The last run that confirmed it.", nullable=False),
    )


_MODEL_ATTRIBUTES = tuple(
    c for c in MODELS.columns if c.name not in {"model_id", *PROVENANCE["models"]}
)
MODEL_HISTORY = Table(
    "model_history",
    "Every version of every model's attributes, with the interval it held; delisted models stay.",
    (
        MODELS.columns[0],
        *_MODEL_ATTRIBUTES,
        _c("listed_from", TS, "Start of the listing this version belongs to, UTC."),
        _c("delisted_at", TS, "When the model left the site, on its last version; NULL otherwise."),
        *_interval("version of the model"),
    ),
    key=("model_id", "valid_from"),
)
PRICE_HISTORY = Table(
    "price_history",
    "Every price, official and per provider, with the interval it held. A tier is its label "
    "and bounds: a relabelled tier is a new price.",
    (
        _c("model_id", pa.string(), "models.model_id.", nullable=False),
        _c(
            "provider",
            pa.string(),
            "The provider for an offer's price; NULL for an official price.",
        ),
        _c("region", pa.string(), "The offer's region; NULL for official prices and '—'."),
        _c(
            "tier_label",
            pa.string(),
            "The official price's tier, its column header as written; NULL for offers.",
        ),
        _c(
            "tier_min_tokens",
            pa.int64(),
            "The tier's exclusive lower bound; NULL for offers and unreadable tiers.",
        ),
        _c(
            "tier_max_tokens",
            pa.int64(),
            "The tier's inclusive upper bound; NULL when open-ended, unreadable or an offer.",
        ),
        _c(
            "metric",
            pa.string(),
            "official_prices.metric; for offers input, output, cache_read or cache_write.",
            nullable=False,
        ),
        _c("usd_per_mtok", USD, "US dollars per 1,000,000 tokens, exact.", nullable=False),
        *_interval("price"),
    ),
    key=(
        "model_id",
        "provider",
        "region",
        "tier_label",
        "tier_min_tokens",
        "tier_max_tokens",
        "metric",
        "valid_from",
    ),
)
OFFER_HISTORY = Table(
    "offer_history",
    "Every provider offer's context window and max output, with the interval they held.",
    (
        _c("model_id", pa.string(), "models.model_id.", nullable=False),
        _c("provider", pa.string(), "Provider as written.", nullable=False),
        _c("provider_key", pa.string(), "provider lower-cased, non-[a-z0-9] runs -> '-'."),
        _c("region", pa.string(), "Region; NULL for '—'."),
        _c("context_window_tokens", pa.int64(), "The provider's context window in tokens."),
        _c("max_output_tokens", pa.int64(), "The provider's maximum output in tokens."),
        *_interval("value"),
    ),
    key=("model_id", "provider", "region", "valid_from"),
)
CHANGES = Table(
    "changes",
    "The change feed: what each run found different from the run before.",
    (
        _c("run_id", pa.string(), "The run that saw the change.", nullable=False),
        _c("observed_at", TS, "When that run saw it (its start), UTC.", nullable=False),
        _c("model_id", pa.string(), "The model.", nullable=False),
        _c(
            "provider",
            pa.string(),
            "The provider, for offers and their prices; NULL otherwise.",
        ),
        _c("region", pa.string(), "The offer's region, when there is one."),
        _c(
            "kind",
            pa.string(),
            "model_added, model_removed, offer_added, offer_removed, price_added, "
            "price_removed, price_changed or attribute_changed.",
            nullable=False,
        ),
        _c("field", pa.string(), "The attribute, or the price's metric."),
        _c("tier_label", pa.string(), "The official price's tier as written; NULL otherwise."),
        _c("tier_min_tokens", pa.int64(), "That tier's lower bound; NULL otherwise."),
        _c("old_value", pa.string(), "The value before, as text (exact decimals); NULL if none."),
        _c("new_value", pa.string(), "The value after; NULL if none."),
    ),
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        MODELS,
        OFFICIAL_PRICES,
        PROVIDER_OFFERS,
        PAGES,
        QUALITY_ISSUES,
        UNREAD_PRICES,
        PAGE_VALUES,
        RUNS,
        MODEL_HISTORY,
        PRICE_HISTORY,
        OFFER_HISTORY,
        CHANGES,
    )
}
HISTORY_TABLES = ("model_history", "price_history", "offer_history", "changes")
# Tables added after the first release: a snapshot published before them lacks their file,
# and whoever reads it takes them as empty (a data directory is never made invalid by an
# upgrade).
LATER_TABLES = frozenset({"unread_prices"})


def pandas_dtype(arrow_type: pa.DataType) -> object:
    """The pandas dtype every frame uses for an Arrow type: nullable, never a float or object.

    Strings, integers and booleans use pandas' own nullable dtypes (what the normalizers
    return); decimals, dates, timestamps, lists and maps stay Arrow-backed.
    """
    return {
        pa.string(): pd.StringDtype("pyarrow"),
        pa.int64(): pd.Int64Dtype(),
        pa.int32(): pd.Int32Dtype(),
        pa.bool_(): pd.BooleanDtype(),
    }.get(arrow_type) or pd.ArrowDtype(arrow_type)


def to_frame(table: pa.Table) -> pd.DataFrame:
    """An Arrow table (a Parquet file read back, say) as a frame in our dtypes."""
    return table.to_pandas(types_mapper=pandas_dtype)


def conform(
    frame: pd.DataFrame, table: Table, columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """The frame with exactly the table's columns (or ``columns`` of them), in order, in
    the contract's types."""
    return to_frame(to_arrow(frame, table, columns)).set_axis(frame.index)


def to_arrow(frame: pd.DataFrame, table: Table, columns: Sequence[str] | None = None) -> pa.Table:
    """Cast a frame to the table's Arrow schema; fails loudly rather than drifting."""
    wanted = [c for c in table.columns if columns is None or c.name in columns]
    missing = {c.name for c in wanted} - set(frame.columns)
    if missing:
        raise ValueError(f"{table.name}: frame lacks columns {sorted(missing)}")
    arrays = [pa.array(frame[c.name], type=c.type, from_pandas=True) for c in wanted]
    return pa.Table.from_arrays(arrays, schema=table.schema_of(wanted))


def describe(schema: pa.Schema, table: Table) -> pa.Schema:
    """``schema`` as it is, with ``table``'s descriptions as its metadata (for files written
    in a schema of their own, such as the staged page values)."""
    meaning = {c.name: c.description for c in table.columns}
    return pa.schema(
        [field.with_metadata({DESCRIPTION: meaning[field.name]}) for field in schema],
        metadata={DESCRIPTION: table.description},
    )


def empty(table: Table) -> pd.DataFrame:
    return to_frame(table.arrow_schema.empty_table())


def never_negative(column: Column) -> bool:
    """Prices and token counts."""
    return column.type == USD or column.name.endswith("_tokens")


def sql_type(arrow_type: pa.DataType) -> str:
    """The DuckDB type a column is published as."""
    if pa.types.is_decimal(arrow_type):
        return f"DECIMAL({arrow_type.precision},{arrow_type.scale})"
    if pa.types.is_list(arrow_type):
        return sql_type(arrow_type.value_type) + "[]"
    if pa.types.is_map(arrow_type):
        return f"MAP({sql_type(arrow_type.key_type)}, {sql_type(arrow_type.item_type)})"
    return {
        pa.string(): "VARCHAR",
        pa.int64(): "BIGINT",
        pa.int32(): "INTEGER",
        pa.bool_(): "BOOLEAN",
        pa.date32(): "DATE",
        TS: "TIMESTAMP",
    }[arrow_type]


def contract_markdown() -> str:
    """The data contract as markdown, for the README (``make docs`` writes it there)."""
    parts = []
    for table in TABLES.values():
        key = f" Key: `{', '.join(table.key)}`." if table.key else ""
        parts.append(f"### `{table.name}`\n\n{table.description}{key}\n")
        parts.append("| column | type | meaning |\n| --- | --- | --- |")
        for column in table.columns:
            required = "" if column.nullable else " Never NULL."
            description = column.description.replace("|", "\\|")
            parts.append(f"| `{column.name}` | {sql_type(column.type)} | {description}{required} |")
        parts.append("")
    return "\n".join(parts)


README_START = "<!-- contract:start (make docs writes this block from transforms/schema.py) -->"
README_END = "<!-- contract:end -->"


def write_readme_contract(readme: Path) -> None:
    """Replace the README's contract block with ``contract_markdown()``."""
    text = readme.read_text(encoding="utf-8")
    head, _, rest = text.partition(README_START)
    _, _, tail = rest.partition(README_END)
    block = f"{README_START}\n{contract_markdown()}{README_END}"
    readme.write_text(head + block + tail, encoding="utf-8")


if __name__ == "__main__":
    write_readme_contract(Path(sys.argv[1] if len(sys.argv) > 1 else "README.md"))
