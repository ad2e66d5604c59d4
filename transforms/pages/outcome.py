"""What happened to a page (``pages.outcome``): every rule that decides it, in one place.

The crawl decides from what it was answered (``answered``, ``redirected``, ``failed``), the
stager when a model page cannot be parsed (``unreadable``) and the build across pages
(``WITHOUT_MODEL_ID``, ``DUPLICATE``). The rules that read outcomes back are here too:
which pages hold a model, which failures are passing (the model is carried forward, never
taken for delisted), which a run's summary lists as failed, and after which the validator
store keeps what it knew of the page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from transforms.contract.vocabulary import PageOutcome
from transforms.pages.parse import MODEL_CONTENT_TYPE

if TYPE_CHECKING:  # the crawl imports this module: it never loads pandas itself
    import pandas as pd

OVERSIZE = "body over the size cap"
IN_DOUBT = "may be a model page, not read"


class Verdict(NamedTuple):
    outcome: PageOutcome
    error: str | None = None  # why a page failed, was quarantined or lost a duplicate


NOT_MODIFIED = Verdict(PageOutcome.NOT_MODIFIED)


def answered(content_type: str | None, doubt: str | None) -> Verdict:
    """A markdown page that was read: a model page, a page that may be one but does not say
    so exactly (never skipped in silence), or another page (an index: its links count)."""
    if content_type == MODEL_CONTENT_TYPE:
        return Verdict(PageOutcome.MODEL)
    if doubt is not None:
        return Verdict(PageOutcome.QUARANTINED, f"{IN_DOUBT}: {doubt}")
    return Verdict(PageOutcome.SKIPPED)


def problems_of(verdict: Verdict) -> list[str]:
    """The page problems a verdict is (a run's ``page_structure`` issues): a page that may
    be a model page is an issue of the run, not only a row of ``pages``."""
    if verdict.outcome is PageOutcome.QUARANTINED and (verdict.error or "").startswith(IN_DOUBT):
        return [verdict.error or ""]
    return []


def unreadable(reason: str) -> Verdict:
    """A body that is not a markdown page, or whose handling raised: a page is never lost."""
    return Verdict(PageOutcome.QUARANTINED, reason)


def redirected(status: int, target: str | None, *, on_site: bool) -> Verdict:
    """A 3xx: its target is crawled as a page of its own, if it is on the site."""
    if target is None:
        return Verdict(PageOutcome.FAILED, f"HTTP {status} without a Location")
    if not on_site:
        return Verdict(PageOutcome.DISALLOWED, f"redirects off the site to {target}")
    return Verdict(PageOutcome.REDIRECTED)


def failed(error: str, *, ignored: bool = False) -> Verdict:
    """A request that got no usable answer after its retries: ``ignored`` by robots.txt,
    a body over the size cap (the site answered, with something unusable), or a failure."""
    if ignored:
        return Verdict(PageOutcome.DISALLOWED, error)
    if error.startswith(OVERSIZE):
        return Verdict(PageOutcome.QUARANTINED, error)
    return Verdict(PageOutcome.FAILED, error)


# The build's rules, across the pages of a run.
HOLDS_MODEL = (PageOutcome.MODEL, PageOutcome.NOT_MODIFIED)
WITHOUT_MODEL_ID = Verdict(PageOutcome.QUARANTINED, "model page without a readable Model ID")


DUPLICATE = PageOutcome.DUPLICATE  # a model page that lost to another claiming its Model ID


def duplicate_error(winner_url: pd.Series) -> pd.Series:
    """Why each page lost: the page that won its Model ID."""
    return "same Model ID as " + winner_url


def passing_failure(outcome: pd.Series, http_status: pd.Series) -> pd.Series:
    """Pages that failed for a reason that passes (a 5xx, a 429, the network, an answer that
    was no usable page): their model is carried forward. A 404, a 410 or a robots.txt ban
    is taken at its word: the model is gone."""
    failed = outcome == PageOutcome.FAILED
    passing = http_status.isna() | (http_status >= 500) | (http_status == 429)
    return ((outcome == PageOutcome.QUARANTINED) | (failed & passing)).fillna(False).astype(bool)


# Outcomes a run's summary lists as failed pages.
LISTED_AS_FAILED = (PageOutcome.FAILED, PageOutcome.QUARANTINED, PageOutcome.DISALLOWED)
# Outcomes after which the validator store keeps what it knew of the URL: a later 304
# needs it.
KEEPS_VALIDATOR = frozenset(LISTED_AS_FAILED)
