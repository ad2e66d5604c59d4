"""The current tables: the catalog as the latest run read it (``models``,
``official_prices``, ``provider_offers``, ``unread_prices``), and which of their columns are
provenance rather than value."""

from __future__ import annotations

import pyarrow as pa

from transforms.contract.columns import TEXT_LIST, TS, USD, Column, Table
from transforms.contract.vocabulary import TableName

MODELS = Table(
    TableName.MODELS,
    "One row per model: what its model-detail page says, typed.",
    (
        Column("model_id", pa.string(), "The page's 'Model ID'; unique.", nullable=False),
        Column("display_name", pa.string(), "'Display name' as written."),
        Column("provider_family", pa.string(), "'Provider family' as written."),
        Column(
            "provider_family_key",
            pa.string(),
            "provider_family lower-cased, non-[a-z0-9] runs -> '-'.",
        ),
        Column("release_date", pa.date32(), "'Release date'; NULL when Unknown."),
        Column(
            "context_window_tokens",
            pa.int64(),
            "Context window in tokens (K = 1,000; M = 1,000,000).",
        ),
        Column("max_output_tokens", pa.int64(), "Maximum output in tokens."),
        Column("input_modalities", TEXT_LIST, "Input modalities, e.g. [text, image]."),
        Column("output_modalities", TEXT_LIST, "Output modalities."),
        Column("supports_tool_use", pa.bool_(), "Tool use support; NULL when Unknown."),
        Column("supports_computer_use", pa.bool_(), "Computer use support; NULL when Unknown."),
        Column("supports_cache_control", pa.bool_(), "Cache control support; NULL when Unknown."),
        Column("overview", pa.string(), "The Overview section's text as written."),
        Column(
            "page_url",
            pa.string(),
            "The URL the page was fetched from (after redirects).",
            nullable=False,
        ),
        Column(
            "canonical_url", pa.string(), "The page's canonical (HTML) URL from its front matter."
        ),
        Column(
            "page_generated_at",
            TS,
            "When the site generated the page (front matter generated_at), UTC.",
        ),
        Column(
            "fetched_at",
            TS,
            "When this pipeline fetched or revalidated the page, UTC.",
            nullable=False,
        ),
        Column("content_sha256", pa.string(), "SHA-256 of the page body, hex.", nullable=False),
    ),
    key=("model_id",),
)

OFFICIAL_PRICES = Table(
    TableName.OFFICIAL_PRICES,
    "One row per model x context tier x metric whose Official Pricing cell holds a price.",
    (
        Column("model_id", pa.string(), "models.model_id.", nullable=False),
        Column(
            "tier_label",
            pa.string(),
            "The tier's column header as written, e.g. '<=200K Context'.",
            nullable=False,
        ),
        Column(
            "tier_min_tokens",
            pa.int64(),
            "Exclusive lower bound of the tier in prompt tokens; 0 for the first tier.",
        ),
        Column(
            "tier_max_tokens", pa.int64(), "Inclusive upper bound in tokens; NULL when open-ended."
        ),
        Column(
            "metric",
            pa.string(),
            "input, output, cache_read, cache_write, image_input, image_output, audio_input, "
            "audio_output, or another row label's snake_case slug.",
            nullable=False,
        ),
        Column(
            "usd_per_mtok",
            USD,
            "US dollars per 1,000,000 tokens, exact; NULL when the cell could not be read.",
        ),
        Column("raw_value", pa.string(), "The cell as written, e.g. '$0.8'.", nullable=False),
    ),
    key=("model_id", "tier_label", "metric"),
)

PROVIDER_OFFERS = Table(
    TableName.PROVIDER_OFFERS,
    "One row per Provider Availability row: who sells the model, where, at what price.",
    (
        Column("model_id", pa.string(), "models.model_id.", nullable=False),
        Column("provider", pa.string(), "Provider as written.", nullable=False),
        Column(
            "provider_key",
            pa.string(),
            "provider lower-cased, non-[a-z0-9] runs -> '-'.",
            nullable=False,
        ),
        Column(
            "service_tier",
            pa.string(),
            "standard, batch, flex or priority: the provider label's last word when it is "
            "Batch, Flex or Priority (a trailing '(…)' skipped), else standard.",
            nullable=False,
        ),
        Column("region", pa.string(), "Region as written; NULL for '—'."),
        Column("context_window_tokens", pa.int64(), "This provider's context window in tokens."),
        Column("max_output_tokens", pa.int64(), "This provider's maximum output in tokens."),
        Column("input_usd_per_mtok", USD, "Input price, USD per 1M tokens; NULL for '—'."),
        Column("output_usd_per_mtok", USD, "Output price, USD per 1M tokens; NULL for '—'."),
        Column(
            "cache_read_usd_per_mtok", USD, "Cache read price, USD per 1M tokens; NULL for '—'."
        ),
        Column(
            "cache_write_usd_per_mtok", USD, "Cache write price, USD per 1M tokens; NULL for '—'."
        ),
    ),
    key=("model_id", "provider", "region"),
)

# Where a value came from rather than what it is. History does not version these and the
# as-of macros do not return them; every other column of a current table is part of its
# history's key or tracked by it, so as-of at the current time returns the current tables.
# A page's URLs are provenance too: a mirror moving host (www to apex, a CDN, a new port)
# changes where the values come from, not what they are.
PROVENANCE: dict[str, tuple[str, ...]] = {
    "models": ("page_url", "canonical_url", "page_generated_at", "fetched_at", "content_sha256"),
    "official_prices": ("raw_value",),
    "reference_models": ("fetched_at",),
    "reference_prices": ("raw_value",),
}

# provider_offers price column -> the metric its prices have in price_history.
OFFER_PRICE_METRICS = {
    f"{m}_usd_per_mtok": m for m in ("input", "output", "cache_read", "cache_write")
}

UNREAD_PRICES = Table(
    TableName.UNREAD_PRICES,
    "Every price cell a page shows that the run could not read (or not in USD per 1M tokens): "
    "NULL in official_prices or provider_offers, while history keeps the last price it read.",
    (
        Column("model_id", pa.string(), "models.model_id.", nullable=False),
        Column("provider", pa.string(), "The offer's provider; NULL for an official price."),
        Column("region", pa.string(), "The offer's region; NULL for official prices and '—'."),
        Column("tier_label", pa.string(), "The official price's tier as written; NULL for offers."),
        Column("metric", pa.string(), "As in price_history.", nullable=False),
        Column("raw_value", pa.string(), "The cell as written.", nullable=False),
    ),
    key=("model_id", "provider", "region", "tier_label", "metric"),
)
