"""Validation against the contract (``transforms.build.validation``): a row that fails it is
left out of its table and becomes one ``rejected_row`` issue."""

from __future__ import annotations

import pandas as pd

from transforms.build.validation import validate
from transforms.contract.tables import TABLES


def test_a_row_failing_the_contract_is_one_issue_row(built: dict[str, pd.DataFrame]) -> None:
    """Validation makes its rows the one way every step does (transforms.build.issues)."""
    models = built["models"].copy()
    models.loc[0, "context_window_tokens"] = -1
    valid, rejected = validate(models, TABLES["models"])
    assert len(valid) == len(models) - 1
    (issue,) = rejected.to_dict("records")
    assert issue["kind"] == "rejected_row"
    assert issue["model_id"] == models.loc[0, "model_id"]
    assert issue["field"] == "models.context_window_tokens"
    assert list(rejected.columns) == [c for c in TABLES["quality_issues"].names if c != "run_id"]
