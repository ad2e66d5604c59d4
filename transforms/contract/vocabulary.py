"""The closed vocabularies of the project, defined once: the enum module.

The published ones are ``StrEnum``s whose members are the strings written in the tables
(``pages.outcome``, ``quality_issues.kind``, ``changes.kind``, ``runs.status``, the table
names, the price metrics) and compare equal to them, so frames may hold plain strings while
code names the members. The run's steps and the command line's exit codes are here too.
Plain module, no imports of ours: every layer shares it.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class TableName(StrEnum):
    """Every table the catalog publishes, in the order the contract lists them."""

    MODELS = "models"
    OFFICIAL_PRICES = "official_prices"
    PROVIDER_OFFERS = "provider_offers"
    PAGES = "pages"
    QUALITY_ISSUES = "quality_issues"
    UNREAD_PRICES = "unread_prices"
    PAGE_VALUES = "page_values"
    RUNS = "runs"
    MODEL_HISTORY = "model_history"
    PRICE_HISTORY = "price_history"
    OFFER_HISTORY = "offer_history"
    CHANGES = "changes"
    REFERENCE_MODELS = "reference_models"
    REFERENCE_PRICES = "reference_prices"
    DISCREPANCIES = "discrepancies"
    REFERENCE_MODEL_HISTORY = "reference_model_history"
    REFERENCE_PRICE_HISTORY = "reference_price_history"
    DISCREPANCY_HISTORY = "discrepancy_history"


class Metric(StrEnum):
    """The price kinds the contract knows (``official_prices.metric``): what a price is per
    1M tokens of. A price row labelled otherwise keeps its label's snake_case slug."""

    INPUT = "input"
    OUTPUT = "output"
    CACHE_READ = "cache_read"
    CACHE_WRITE = "cache_write"
    IMAGE_INPUT = "image_input"
    IMAGE_OUTPUT = "image_output"
    AUDIO_INPUT = "audio_input"
    AUDIO_OUTPUT = "audio_output"


# The token kinds a request is billed by, and so the four prices of a provider offer.
TOKEN_METRICS = (Metric.INPUT, Metric.OUTPUT, Metric.CACHE_READ, Metric.CACHE_WRITE)
CACHE_METRICS = (Metric.CACHE_READ, Metric.CACHE_WRITE)


class ReferenceSource(StrEnum):
    """The public catalogs a refresh cross-checks (``--reference NAME=URL``)."""

    LITELLM = "litellm"
    OPENROUTER = "openrouter"
    MODELS_DEV = "models.dev"
    GENAI_PRICES = "genai-prices"


class MatchRule(StrEnum):
    """How a reference entry was linked to our model id, strongest first (``match_rule``)."""

    EXACT = "exact"  # the source's id is our model id
    AUTHOR_PREFIX = "author_prefix"  # OpenRouter: the id after its author's "author/"
    PROVIDER_PREFIX = "provider_prefix"  # LiteLLM: the key after its "provider/" prefix
    SOURCE_MATCH = "source_match"  # genai-prices: its own match clause, true on our id
    DATE_SUFFIX = "date_suffix"  # a dated snapshot id and its undated alias


class ServiceTier(StrEnum):
    """How an offer is served and billed (``provider_offers.service_tier``): the same model
    sold slower and cheaper (batch, flex) or faster and dearer (priority). Read from the
    provider label's last word (``transforms.build.normalize.service_tier``); official prices
    are the standard tier."""

    STANDARD = "standard"
    BATCH = "batch"
    FLEX = "flex"
    PRIORITY = "priority"


class PageOutcome(StrEnum):
    """What happened to one URL a run touched (``pages.outcome``)."""

    MODEL = "model"  # a model-detail-page, parsed
    SKIPPED = "skipped"  # an index or another content type: links followed, no model
    REDIRECTED = "redirected"  # 3xx: final_url is the target, crawled as a page of its own
    NOT_MODIFIED = "not_modified"  # 304: the archived copy still holds
    DUPLICATE = "duplicate"  # a model page that lost to another claiming its Model ID
    QUARANTINED = "quarantined"  # answered, but not a usable markdown page; see error
    FAILED = "failed"  # HTTP error or network failure after retries
    DISALLOWED = "disallowed"  # robots.txt forbids it or it redirects off the site


class ValueOrigin(StrEnum):
    """Where the values a run builds a model page from come from."""

    FETCHED = "fetched"  # the body this run was served
    NOT_MODIFIED = "not_modified"  # a 304: the archived body of the last run
    CARRIED_FORWARD = "carried_forward"  # the page failed for a passing reason: last run's


class IssueKind(StrEnum):
    """The class of a quality issue (``quality_issues.kind``); the README's table explains each."""

    UNREADABLE_VALUE = "unreadable_value"
    UNREADABLE_TIER = "unreadable_tier"
    OVERLAPPING_TIERS = "overlapping_tiers"
    UNSUPPORTED_PRICE_UNIT = "unsupported_price_unit"
    UNKNOWN_METRIC = "unknown_metric"
    UNKNOWN_FIELD = "unknown_field"
    REPEATED_FIELD = "repeated_field"
    CONFLICTING_VALUES = "conflicting_values"
    UNMAPPED_VALUE = "unmapped_value"
    PAGE_STRUCTURE = "page_structure"
    MISSING_MODEL_ID = "missing_model_id"
    MISSING_PROVIDER = "missing_provider"
    MISSING_METRIC = "missing_metric"
    DUPLICATE_MODEL_ID = "duplicate_model_id"
    MODEL_ID_CASE_COLLISION = "model_id_case_collision"
    MODEL_ID_LOOKALIKE = "model_id_lookalike"
    PROVIDER_CASE_COLLISION = "provider_case_collision"
    PRICE_OUTLIER = "price_outlier"
    TIER_PRICE_INVERSION = "tier_price_inversion"
    OUTPUT_EXCEEDS_CONTEXT = "output_exceeds_context"
    OFFER_CONTEXT_EXCEEDS_MODEL = "offer_context_exceeds_model"
    OVERVIEW_CONTRADICTION = "overview_contradiction"
    REJECTED_ROW = "rejected_row"
    REFERENCE_VALUE = "reference_value"  # a reference entry's value that is not a value
    REFERENCE_UNAVAILABLE = "reference_unavailable"  # a reference not fetched or not read


class ChangeKind(StrEnum):
    """What a run found different from the run before (``changes.kind``)."""

    MODEL_ADDED = "model_added"
    MODEL_REMOVED = "model_removed"
    OFFER_ADDED = "offer_added"  # a provider row appeared on a model kept from the run before
    OFFER_REMOVED = "offer_removed"
    PRICE_ADDED = "price_added"
    PRICE_CHANGED = "price_changed"
    PRICE_REMOVED = "price_removed"
    ATTRIBUTE_CHANGED = "attribute_changed"
    REFERENCE_CHANGED = "reference_changed"  # a reference's value for a model changed
    DISCREPANCY_OPENED = "discrepancy_opened"
    DISCREPANCY_CLOSED = "discrepancy_closed"


class RunStatus(StrEnum):
    """How a refresh or rebuild ended (``runs.status``)."""

    PUBLISHED = "published"
    REFUSED = "refused"  # a guard said no: nothing published, the previous catalog stands
    FAILED = "failed"  # an error: nothing published, the previous catalog stands
    INTERRUPTED = "interrupted"  # SIGINT or SIGTERM: nothing published, the previous one stands


class Step(StrEnum):
    """The steps of a run, in order: what progress shows and ``summary.json`` times."""

    CRAWL = "crawl"
    BUILD = "build"  # a run's page values -> its validated tables
    HISTORY = "history"
    PUBLISH = "publish"


class ExitCode(IntEnum):
    """How a ``modelcat`` command ends: the README's table of exit codes."""

    DONE = 0  # refresh, rebuild: a catalog was published; cost: answered
    NOT_DONE = 1  # refresh, rebuild: nothing published; others: no answer (query failed, …)
    USAGE = 2  # bad usage: an unknown option, table or run, a bad value, impossible usage
    LOCKED = 3  # another process holds the data directory or the catalog file
    BROKEN_STATE = 4  # the data directory is damaged past repair
    # A stop signal: 128 + its number, as the shell reports a process it killed.
    SIGINT = 130
    SIGTERM = 143
