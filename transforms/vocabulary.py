"""The closed vocabularies of the catalog, defined once.

Each is a ``StrEnum``: its members are the strings published in the tables (``pages.outcome``,
``quality_issues.kind``, ``changes.kind``, ``runs.status``) and compare equal to them, so
frames may hold plain strings while code names the members. Plain module, no imports: the
crawler, the transforms and the command line all share it.
"""

from __future__ import annotations

from enum import StrEnum


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
    PRICE_OUTLIER = "price_outlier"
    TIER_PRICE_INVERSION = "tier_price_inversion"
    OUTPUT_EXCEEDS_CONTEXT = "output_exceeds_context"
    OFFER_CONTEXT_EXCEEDS_MODEL = "offer_context_exceeds_model"
    OVERVIEW_CONTRADICTION = "overview_contradiction"
    REJECTED_ROW = "rejected_row"


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


class RunStatus(StrEnum):
    """How a refresh or rebuild ended (``runs.status``)."""

    PUBLISHED = "published"
    REFUSED = "refused"  # a guard said no: nothing published, the previous catalog stands
    FAILED = "failed"  # an error: nothing published, the previous catalog stands
    INTERRUPTED = "interrupted"  # SIGINT or SIGTERM: nothing published, the previous one stands
