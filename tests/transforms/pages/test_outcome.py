"""Every rule that decides a page's outcome (``transforms.pages.outcome``), table-driven: what
the crawl decides from an answer, which failures pass (the model is carried forward) and
which are taken at their word, and which outcomes a summary lists and the store remembers."""

from __future__ import annotations

import pandas as pd
import pytest

from transforms.contract.vocabulary import PageOutcome as O
from transforms.pages import outcome
from transforms.pages.parse import MODEL_CONTENT_TYPE


@pytest.mark.parametrize(
    ("content_type", "doubt", "verdict"),
    [
        (MODEL_CONTENT_TYPE, None, (O.MODEL, None)),
        # A model page says so exactly; a doubt does not make it less of one.
        (MODEL_CONTENT_TYPE, "odd front matter", (O.MODEL, None)),
        ("provider-page", None, (O.SKIPPED, None)),
        (None, None, (O.SKIPPED, None)),  # an index: no front matter
        (
            "Model-Detail-Page",
            "content_type 'Model-Detail-Page'",
            (O.QUARANTINED, "may be a model page, not read: content_type 'Model-Detail-Page'"),
        ),
    ],
)
def test_an_answered_page_is_a_model_another_page_or_in_doubt(
    content_type: str | None, doubt: str | None, verdict: tuple
) -> None:
    assert outcome.answered(content_type, doubt) == verdict


@pytest.mark.parametrize(
    ("status", "target", "on_site", "verdict"),
    [
        (301, "http://site/b.md", True, (O.REDIRECTED, None)),
        (302, "http://x/b.md", False, (O.DISALLOWED, "redirects off the site to http://x/b.md")),
        (307, None, False, (O.FAILED, "HTTP 307 without a Location")),
        (308, None, True, (O.FAILED, "HTTP 308 without a Location")),
    ],
)
def test_a_redirect_is_followed_only_on_the_site(
    status: int, target: str | None, on_site: bool, verdict: tuple
) -> None:
    assert outcome.redirected(status, target, on_site=on_site) == verdict


@pytest.mark.parametrize(
    ("error", "ignored", "verdict"),
    [
        ("HTTP 500", False, (O.FAILED, "HTTP 500")),
        ("TimeoutError: took too long", False, (O.FAILED, "TimeoutError: took too long")),
        ("Forbidden by robots.txt", True, (O.DISALLOWED, "Forbidden by robots.txt")),
        (
            f"{outcome.OVERSIZE}: Expected to receive 99 bytes",
            False,
            (O.QUARANTINED, f"{outcome.OVERSIZE}: Expected to receive 99 bytes"),
        ),
    ],
)
def test_a_request_without_a_usable_answer(error: str, ignored: bool, verdict: tuple) -> None:
    assert outcome.failed(error, ignored=ignored) == verdict


def test_a_body_that_cannot_be_read_is_quarantined_never_lost() -> None:
    assert outcome.unreadable("empty body") == (O.QUARANTINED, "empty body")
    assert outcome.NOT_MODIFIED == (O.NOT_MODIFIED, None)
    assert outcome.WITHOUT_MODEL_ID.outcome is O.QUARANTINED


# (outcome, http_status, passes): a passing failure keeps its model (carried forward).
FAILURES = [
    (O.FAILED, 500, True),
    (O.FAILED, 503, True),
    (O.FAILED, 429, True),  # too many requests: the site is there, and busy
    (O.FAILED, None, True),  # the network: a timeout, a dropped connection
    (O.QUARANTINED, 200, True),  # an answer that was no usable page: a login wall
    (O.QUARANTINED, None, True),  # over the size cap
    (O.FAILED, 404, False),  # gone, in the site's own words
    (O.FAILED, 410, False),
    (O.FAILED, 403, False),
    (O.DISALLOWED, None, False),  # robots.txt bans it
    (O.MODEL, 200, False),
    (O.NOT_MODIFIED, 304, False),
    (O.SKIPPED, 200, False),
]


def test_which_failures_pass() -> None:
    pages = pd.DataFrame(FAILURES, columns=["outcome", "http_status", "passes"])
    passing = outcome.passing_failure(
        pages["outcome"].astype("string"), pages["http_status"].astype("Int32")
    )
    assert passing.dtype == bool
    wrong = [row for row, got in zip(FAILURES, passing, strict=True) if got != row[2]]
    assert wrong == []


def test_a_duplicate_names_the_page_that_won_its_model_id() -> None:
    winners = pd.Series(["http://site/a-2.md"], dtype="string")
    assert outcome.duplicate_error(winners).tolist() == ["same Model ID as http://site/a-2.md"]


def test_the_failures_a_summary_lists_are_those_the_store_remembers() -> None:
    assert set(outcome.LISTED_AS_FAILED) == {O.FAILED, O.QUARANTINED, O.DISALLOWED}
    assert set(outcome.LISTED_AS_FAILED) == outcome.KEEPS_VALIDATOR
    assert set(outcome.HOLDS_MODEL) == {O.MODEL, O.NOT_MODIFIED}
