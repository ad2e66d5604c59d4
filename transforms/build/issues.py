"""Quality issue rows: the one way every step of a build makes them.

A quality issue says what a run could not read or found contradictory (the contract's
``quality_issues`` table, without its ``run_id``). Frames, checks, validation and the build
all make their rows with ``issue_rows`` (``Issues.where``), so the columns, their text dtype
and the vocabulary of kinds cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from transforms.contract.casting import STRING
from transforms.contract.vocabulary import IssueKind

ISSUE_COLUMNS = ["model_id", "page_url", "kind", "field", "raw_value", "problem"]

Text = pd.Series | str | None


def issue_rows(
    kind: IssueKind,
    problem: Text,
    *,
    model_id: Text = None,
    page_url: Text = None,
    field: Text = None,
    raw_value: Text = None,
    index: pd.Index | None = None,
) -> pd.DataFrame:
    """One issue per row of ``index`` (default: the index of the Series given; one row if
    every value is a scalar). Series must share that index; scalars hold for every row."""
    values = {
        "model_id": model_id,
        "page_url": page_url,
        "kind": str(kind),
        "field": field,
        "raw_value": raw_value,
        "problem": problem,
    }
    if index is None:
        series = [v for v in values.values() if isinstance(v, pd.Series)]
        index = series[0].index if series else pd.RangeIndex(1)
    return pd.DataFrame(values, index=index).astype(STRING).reset_index(drop=True)


def no_issues() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=STRING) for c in ISSUE_COLUMNS})


@dataclass(frozen=True)
class Issues:
    """The quality issues a step of a build found: each step returns its own, and its caller
    adds them up (``+``), so no step writes into another's list."""

    batches: tuple[pd.DataFrame, ...] = ()

    @classmethod
    def where(
        cls, where: pd.Series | pd.Index, kind: IssueKind, problem: Text, **columns: Text
    ) -> Issues:
        """One issue for each row where ``where`` is True (every row of a bare index).
        ``columns`` are ``issue_rows``' keyword arguments, Series aligned with ``where``."""
        mask = where if isinstance(where, pd.Series) else pd.Series(True, index=where)
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return cls()
        picked = {k: v[mask] if isinstance(v, pd.Series) else v for k, v in columns.items()}
        problem = problem[mask] if isinstance(problem, pd.Series) else problem
        return cls((issue_rows(kind, problem, index=mask.index[mask], **picked),))

    @classmethod
    def of(cls, frame: pd.DataFrame) -> Issues:
        """Issue rows made already (by the checks, by validation, by an earlier build)."""
        return cls((frame[ISSUE_COLUMNS].astype(STRING),) if not frame.empty else ())

    def __add__(self, other: Issues) -> Issues:
        return Issues(self.batches + other.batches)

    def frame(self, model_of_page: pd.Series | None = None) -> pd.DataFrame:
        """Every issue; a missing model_id is filled from ``model_of_page``."""
        if not self.batches:
            return no_issues()
        issues = pd.concat(self.batches, ignore_index=True)
        if model_of_page is not None:
            known = issues["page_url"].map(model_of_page).astype(STRING)
            issues["model_id"] = issues["model_id"].fillna(known)
        return issues[ISSUE_COLUMNS]
