"""Validation against the data contract: pandera schemas made from ``transforms.contract``.

Rows that fail a check are split off as ``rejected_row`` quality issues, never dropped in
silence; the rows that pass are in the contract's types, exactly.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa_schema

from transforms.build.issues import issue_rows, no_issues
from transforms.contract.casting import conform, pandas_dtype
from transforms.contract.columns import METRIC, SHA256, SLUG, Column, Table, never_negative
from transforms.contract.tables import OFFICIAL_PRICES
from transforms.contract.vocabulary import IssueKind, ServiceTier


def _column(column: Column, *checks: pa_schema.Check, unique: bool = False) -> pa_schema.Column:
    return pa_schema.Column(
        pandas_dtype(column.type), checks=list(checks), nullable=column.nullable, unique=unique
    )


def _non_negative(name: str) -> pa_schema.Check:
    return pa_schema.Check.ge(0, name=f"{name} >= 0")


def validator(table: Table) -> pa_schema.DataFrameSchema:
    """The pandera schema for a table: types, nullability, keys, ranges, vocabularies."""
    extra: dict[str, list[pa_schema.Check]] = {
        "provider_family_key": [pa_schema.Check.str_matches(SLUG)],
        "provider_key": [pa_schema.Check.str_matches(SLUG)],
        "service_tier": [pa_schema.Check.isin([t.value for t in ServiceTier])],
        "metric": [pa_schema.Check.str_matches(METRIC)],
        "content_sha256": [pa_schema.Check.str_matches(SHA256)],
    }
    columns = {}
    for column in table.columns:
        checks = list(extra.get(column.name, []))
        if never_negative(column):
            checks.append(_non_negative(column.name))
        unique = table.key == (column.name,)
        columns[column.name] = _column(column, *checks, unique=unique)
    frame_checks = []
    if table is OFFICIAL_PRICES:
        frame_checks.append(
            pa_schema.Check(
                lambda df: (
                    df["tier_max_tokens"].isna()
                    | df["tier_min_tokens"].isna()
                    | (df["tier_min_tokens"] < df["tier_max_tokens"])
                ),
                name="tier_min_tokens < tier_max_tokens",
            )
        )
    return pa_schema.DataFrameSchema(
        columns,
        checks=frame_checks,
        strict=True,
        ordered=True,
        unique=list(table.key) if len(table.key) > 1 else None,
        name=table.name,
    )


def validate(frame: pd.DataFrame, table: Table) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Conform and validate a frame; rows that fail any check are split off with the reason.

    Returns (valid rows, one quality issue per failure). Every failure is collected at once
    (lazy validation) so one bad row never hides another.
    """
    frame = conform(frame.reset_index(drop=True), table)
    try:
        validator(table).validate(frame, lazy=True)
    except pa_schema.errors.SchemaErrors as errors:
        failures = errors.failure_cases
        if failures["index"].isna().any():  # a whole-table failure is our bug, not the data's
            raise
        rows = failures["index"].astype(int)
        failed = frame.loc[rows].reset_index(drop=True)
        failures = failures.reset_index(drop=True)
        issues = issue_rows(
            IssueKind.REJECTED_ROW,
            "fails " + failures["check"].astype(str) + "; row quarantined",
            model_id=failed.get("model_id"),
            page_url=failed.get("page_url"),
            field=table.name + "." + failures["column"].fillna("*").astype(str),
            raw_value=failures["failure_case"].astype(str),
        )
        return frame.drop(index=rows.unique()).reset_index(drop=True), issues
    return frame, no_issues()
