"""The publish guards: what keeps a run that went wrong from replacing a good catalog."""

from __future__ import annotations

import pandas as pd

from modelcat.run.records import RunSummary
from transforms.contract.layout import Snapshot
from transforms.contract.vocabulary import TableName

SHRINK_LIMIT = 0.25  # share of the previous catalog's models a run may lose unasked


def refusal(
    summary: RunSummary, models: pd.DataFrame, previous: Snapshot | None, allow_shrink: bool
) -> str | None:
    """Why this run must not be published, or None."""
    if summary.crawl_finish_reason != "finished":
        reason = summary.crawl_finish_reason or "none reported; see crawl.log"
        return f"the crawl did not finish (finish reason: {reason})"
    if models.empty:
        return "the run found no models"
    if previous is None or allow_shrink:
        return None
    previous_models = previous.read(TableName.MODELS, columns=["model_id"])
    before = set(previous_models["model_id"].to_pylist())
    lost = before - set(models["model_id"])
    if before and len(lost) > SHRINK_LIMIT * len(before):
        return (
            f"the run lost {len(lost)} of the previous catalog's {len(before)} models "
            f"({len(lost) / len(before):.0%}; the guard allows {SHRINK_LIMIT:.0%}): a site "
            "outage, a login wall or a truncated index? If the site really dropped them, "
            "refresh again with --allow-shrink"
        )
    return None
