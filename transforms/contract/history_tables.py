"""The history tables: every version of the current tables' values with the interval it
held (``model_history``, ``price_history``, ``offer_history``), and the change feed."""

from __future__ import annotations

import pyarrow as pa

from transforms.contract.columns import TS, USD, Column, Table
from transforms.contract.current_tables import MODELS, PROVENANCE
from transforms.contract.reference_tables import DISCREPANCIES, REFERENCE_MODELS, REFERENCE_PRICES
from transforms.contract.vocabulary import TableName


def _interval(subject: str) -> tuple[Column, ...]:
    return (
        Column(
            "valid_from",
            TS,
            f"When the catalog first saw this {subject} (inclusive), UTC.",
            nullable=False,
        ),
        Column(
            "valid_to",
            TS,
            f"When it first saw a different {subject} (exclusive); NULL: still current.",
        ),
        Column("first_run_id", pa.string(), "The run that first saw it.", nullable=False),
        Column("last_run_id", pa.string(), "The last run that confirmed it.", nullable=False),
    )


_MODEL_ATTRIBUTES = tuple(
    c for c in MODELS.columns if c.name not in {"model_id", *PROVENANCE["models"]}
)
MODEL_HISTORY = Table(
    TableName.MODEL_HISTORY,
    "Every version of every model's attributes, with the interval it held; delisted models stay.",
    (
        MODELS.columns[0],
        *_MODEL_ATTRIBUTES,
        Column("listed_from", TS, "Start of the listing this version belongs to, UTC."),
        Column(
            "delisted_at", TS, "When the model left the site, on its last version; NULL otherwise."
        ),
        *_interval("version of the model"),
    ),
    key=("model_id", "valid_from"),
)
PRICE_HISTORY = Table(
    TableName.PRICE_HISTORY,
    "Every price, official and per provider, with the interval it held. A tier is its label "
    "and bounds: a relabelled tier is a new price.",
    (
        Column("model_id", pa.string(), "models.model_id.", nullable=False),
        Column(
            "provider",
            pa.string(),
            "The provider for an offer's price; NULL for an official price.",
        ),
        Column("region", pa.string(), "The offer's region; NULL for official prices and '—'."),
        Column(
            "tier_label",
            pa.string(),
            "The official price's tier, its column header as written; NULL for offers.",
        ),
        Column(
            "tier_min_tokens",
            pa.int64(),
            "The tier's exclusive lower bound; NULL for offers and unreadable tiers.",
        ),
        Column(
            "tier_max_tokens",
            pa.int64(),
            "The tier's inclusive upper bound; NULL when open-ended, unreadable or an offer.",
        ),
        Column(
            "metric",
            pa.string(),
            "official_prices.metric; for offers input, output, cache_read or cache_write.",
            nullable=False,
        ),
        Column("usd_per_mtok", USD, "US dollars per 1,000,000 tokens, exact.", nullable=False),
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
    TableName.OFFER_HISTORY,
    "Every provider offer's context window and max output, with the interval they held.",
    (
        Column("model_id", pa.string(), "models.model_id.", nullable=False),
        Column("provider", pa.string(), "Provider as written.", nullable=False),
        Column("provider_key", pa.string(), "provider lower-cased, non-[a-z0-9] runs -> '-'."),
        Column(
            "service_tier",
            pa.string(),
            "standard, batch, flex or priority (as in provider_offers).",
        ),
        Column("region", pa.string(), "Region; NULL for '—'."),
        Column("context_window_tokens", pa.int64(), "The provider's context window in tokens."),
        Column("max_output_tokens", pa.int64(), "The provider's maximum output in tokens."),
        *_interval("value"),
    ),
    key=("model_id", "provider", "region", "valid_from"),
)
CHANGES = Table(
    TableName.CHANGES,
    "The change feed: what each run found different from the run before.",
    (
        Column("run_id", pa.string(), "The run that saw the change.", nullable=False),
        Column("observed_at", TS, "When that run saw it (its start), UTC.", nullable=False),
        Column("model_id", pa.string(), "The model.", nullable=False),
        Column(
            "provider",
            pa.string(),
            "The provider, for offers and their prices; NULL otherwise.",
        ),
        Column("region", pa.string(), "The offer's region, when there is one."),
        Column(
            "kind",
            pa.string(),
            "model_added, model_removed, offer_added, offer_removed, price_added, "
            "price_removed, price_changed, attribute_changed; reference_changed (a public "
            "catalog changed its value for the model), discrepancy_opened, discrepancy_closed.",
            nullable=False,
        ),
        Column("field", pa.string(), "The attribute, or the price's metric."),
        Column("tier_label", pa.string(), "The official price's tier as written; NULL otherwise."),
        Column("tier_min_tokens", pa.int64(), "That tier's lower bound; NULL otherwise."),
        Column(
            "old_value",
            pa.string(),
            "The value before, as text (exact decimals); NULL if none. For a discrepancy: "
            "our value.",
        ),
        Column(
            "new_value",
            pa.string(),
            "The value after; NULL if none. For a discrepancy: the public catalog's value.",
        ),
        Column(
            "source",
            pa.string(),
            "The public catalog, for reference_changed and discrepancy_*; NULL otherwise.",
        ),
    ),
)


def _without(table: Table, *names: str) -> tuple[Column, ...]:
    return tuple(c for c in table.columns if c.name not in names)


REFERENCE_MODEL_HISTORY = Table(
    TableName.REFERENCE_MODEL_HISTORY,
    "Every version of reference_models (but fetched_at), with the interval it held; a "
    "catalog that could not be read leaves its intervals as they were.",
    (*_without(REFERENCE_MODELS, "fetched_at"), *_interval("version of the entry")),
    key=("source", "source_model", "model_id", "valid_from"),
)
REFERENCE_PRICE_HISTORY = Table(
    TableName.REFERENCE_PRICE_HISTORY,
    "Every reference price (but raw_value), with the interval it held.",
    (*_without(REFERENCE_PRICES, "raw_value"), *_interval("price")),
    key=("source", "source_model", "model_id", "metric", "tier_min_tokens", "valid_from"),
)
DISCREPANCY_HISTORY = Table(
    TableName.DISCREPANCY_HISTORY,
    "Every discrepancy with the interval it was open: valid_to is when it closed.",
    (*DISCREPANCIES.columns, *_interval("discrepancy")),
    key=(*DISCREPANCIES.key, "valid_from"),
)
