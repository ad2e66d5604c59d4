"""The reference tables: what the public catalogs (LiteLLM, OpenRouter, models.dev,
genai-prices) say of each model, and where they disagree with the pages
(``reference_models``, ``reference_prices``, ``discrepancies``)."""

from __future__ import annotations

import pyarrow as pa

from transforms.contract.columns import TS, Column, Table
from transforms.contract.vocabulary import TableName

# Wide enough for every digit a catalog writes: LiteLLM's per-token literals times 10^6.
REFERENCE_USD = pa.decimal128(38, 20)
PERCENT = pa.decimal128(38, 4)  # wide: a price of 1e-9 against one of 1e18 still fits

_SOURCE = Column(
    "source", pa.string(), "litellm, openrouter, models.dev or genai-prices.", nullable=False
)
_SOURCE_MODEL = Column(
    "source_model",
    pa.string(),
    "The entry's key as the source writes it; provider/model for models.dev and genai-prices.",
    nullable=False,
)
_PROVIDER = Column(
    "provider",
    pa.string(),
    "The source's own provider of the entry (LiteLLM's prefix or litellm_provider, "
    "OpenRouter's author, the models.dev or genai-prices provider id); NULL if none.",
)
_MODEL_ID = Column(
    "model_id", pa.string(), "models.model_id the entry is linked to; NULL when none matched."
)
_MATCH_RULE = Column(
    "match_rule",
    pa.string(),
    "How it was linked: exact, author_prefix, provider_prefix, source_match or date_suffix; "
    "NULL when unmatched.",
)

REFERENCE_MODELS = Table(
    TableName.REFERENCE_MODELS,
    "One row per public-catalog entry and the model it is linked to (an entry linked to "
    "several models has a row for each; one linked to none has a NULL model_id).",
    (
        _SOURCE,
        _SOURCE_MODEL,
        _PROVIDER,
        _MODEL_ID,
        _MATCH_RULE,
        Column("context_window_tokens", pa.int64(), "The source's context window in tokens."),
        Column("max_output_tokens", pa.int64(), "The source's maximum output in tokens."),
        Column("source_url", pa.string(), "The URL the catalog was fetched from.", nullable=False),
        Column(
            "fetched_at",
            TS,
            "When the catalog was fetched, UTC (an older time: carried forward from the last "
            "run that could read it).",
            nullable=False,
        ),
    ),
    key=("source", "source_model", "model_id"),
)

REFERENCE_PRICES = Table(
    TableName.REFERENCE_PRICES,
    "One row per public-catalog entry, linked model, metric and tier: the source's price, "
    "exact to the last digit it writes.",
    (
        _SOURCE,
        _SOURCE_MODEL,
        _PROVIDER,
        _MODEL_ID,
        _MATCH_RULE,
        Column("metric", pa.string(), "As in official_prices.", nullable=False),
        Column(
            "tier_min_tokens",
            pa.int64(),
            "Exclusive lower bound of the tier in prompt tokens; 0 when the source has no tiers.",
            nullable=False,
        ),
        Column(
            "tier_max_tokens", pa.int64(), "Inclusive upper bound in tokens; NULL when open-ended."
        ),
        Column(
            "usd_per_mtok",
            REFERENCE_USD,
            "US dollars per 1,000,000 tokens, exact (per-token prices times 10^6); NULL when "
            "the source's value is not a price (a quality issue says why).",
        ),
        Column(
            "raw_value",
            pa.string(),
            "The value as the source writes it, e.g. '4e-07' or '0.15'.",
            nullable=False,
        ),
    ),
    key=("source", "source_model", "model_id", "metric", "tier_min_tokens"),
)

DISCREPANCIES = Table(
    TableName.DISCREPANCIES,
    "Where a public catalog disagrees with the pages: one row per linked entry and field "
    "(and tier) whose values differ. Equal values, or a value missing on either side, are none.",
    (
        Column("model_id", pa.string(), "models.model_id.", nullable=False),
        _SOURCE,
        _SOURCE_MODEL,
        Column("match_rule", pa.string(), "As in reference_models.", nullable=False),
        Column(
            "provider",
            pa.string(),
            "The provider of our offer compared (provider_offers.provider); NULL for the "
            "official prices and the model's own limits.",
        ),
        Column(
            "field",
            pa.string(),
            "A price's metric (input, output, cache_read, cache_write, audio_input, "
            "audio_output), or context_window_tokens or max_output_tokens.",
            nullable=False,
        ),
        Column("tier_min_tokens", pa.int64(), "The price's tier (as in official_prices)."),
        Column(
            "our_value",
            pa.string(),
            "Our value, exact decimal text without trailing zeros, e.g. '0.8'.",
            nullable=False,
        ),
        Column("source_value", pa.string(), "The source's value, likewise.", nullable=False),
        Column(
            "difference_pct",
            PERCENT,
            "(source_value - our_value) / our_value x 100, exact to 4 places (half even); "
            "NULL when our_value is 0.",
        ),
    ),
    key=("model_id", "source", "source_model", "provider", "field", "tier_min_tokens"),
)
