"""The publish guards (``modelcat.run.guards``): a run whose crawl did not finish, that found no
models, or that lost more than a quarter of the previous catalog's models is not published
unless asked. The previous catalog is real: ``two_runs``' published snapshot, eight models."""

from __future__ import annotations

import pandas as pd
import pytest

from modelcat.run.guards import SHRINK_LIMIT, refusal
from modelcat.run.records import RunSummary
from transforms.contract.layout import DataDir, Snapshot


def summary(finish_reason: str | None = "finished") -> RunSummary:
    run = RunSummary("29990101T000000000Z", "2999-01-01T00:00:00.000+00:00", None)
    run.crawl_finish_reason = finish_reason
    return run


@pytest.fixture(scope="module")
def previous(two_runs: DataDir) -> Snapshot:
    snapshot = two_runs.published_snapshot()
    assert snapshot is not None
    return snapshot


@pytest.fixture(scope="module")
def before(previous: Snapshot) -> list[str]:
    ids = sorted(previous.read("models", columns=["model_id"])["model_id"].to_pylist())
    assert len(ids) == 8
    return ids


def models(ids: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"model_id": ids, "display_name": ids})


# (models this run kept of the previous eight, new models, allow_shrink) -> refused?
SHRINK = [
    (8, 0, False, False),
    (6, 0, False, False),  # lost 2 of 8: exactly the 25% the guard allows
    (5, 0, False, True),  # lost 3 of 8
    (5, 0, True, False),  # asked for
    (5, 5, False, True),  # new models do not make up for lost ones
    (1, 0, False, True),
    (0, 3, False, True),
]


@pytest.mark.parametrize(("kept", "new", "allow_shrink", "refused"), SHRINK)
def test_a_run_that_lost_most_models_is_refused_unless_asked(
    previous: Snapshot, before: list[str], kept: int, new: int, allow_shrink: bool, refused: bool
) -> None:
    run = models(before[:kept] + [f"new-{i}" for i in range(new)])
    said = refusal(summary(), run, previous, allow_shrink)
    if not refused:
        assert said is None
        return
    lost = 8 - kept
    assert said is not None
    assert said.startswith(
        f"the run lost {lost} of the previous catalog's 8 models ({lost / 8:.0%}; "
        f"the guard allows {SHRINK_LIMIT:.0%})"
    )
    assert said.endswith("refresh again with --allow-shrink")


def test_a_first_run_may_publish_any_number_of_models() -> None:
    assert refusal(summary(), models(["only"]), None, allow_shrink=False) is None


@pytest.mark.parametrize(
    ("finish_reason", "says"),
    [
        ("shutdown", "the crawl did not finish (finish reason: shutdown)"),
        ("closespider_errorcount", "the crawl did not finish (finish reason: closespider_"),
        (None, "the crawl did not finish (finish reason: none reported; see crawl.log)"),
    ],
)
def test_a_crawl_that_did_not_finish_is_never_published(
    previous: Snapshot, before: list[str], finish_reason: str | None, says: str
) -> None:
    for allow_shrink in (False, True):
        said = refusal(summary(finish_reason), models(before), previous, allow_shrink)
        assert said is not None
        assert said.startswith(says)


def test_a_run_that_found_no_models_is_never_published(previous: Snapshot) -> None:
    for snapshot in (previous, None):
        for allow_shrink in (False, True):
            said = refusal(summary(), models([]), snapshot, allow_shrink)
            assert said == "the run found no models"
