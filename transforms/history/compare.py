"""How history compares values, matches rows and writes values as change-feed text.

Values are compared in their contract type, never as text: ``0.8`` and ``0.800`` are one
price, ``["text, image"]`` and ``["text", "image"]`` are two modality lists. NULL equals
NULL and nothing else, whatever the type, and a column that is NULL on every row is no
special case.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def differs(old: pd.Series, new: pd.Series, arrow_type: pa.DataType) -> np.ndarray:
    """True where two aligned columns of ``arrow_type`` hold different values."""
    before = pa.array(old, type=arrow_type, from_pandas=True)
    after = pa.array(new, type=arrow_type, from_pandas=True)
    if pa.types.is_nested(arrow_type):  # Arrow has no equality kernel for lists
        pairs = zip(before.to_pylist(), after.to_pylist(), strict=True)
        return np.fromiter((a != b for a, b in pairs), dtype=bool, count=len(before))
    equal = pc.fill_null(pc.equal(before, after), False)
    both_null = pc.and_(before.is_null(), after.is_null())
    return ~pc.or_(equal, both_null).to_numpy(zero_copy_only=False)


def as_text(values: pd.Series, arrow_type: pa.DataType) -> list[str | None]:
    """Values as the change feed writes them: exact decimals without trailing zeros
    (``0.8``), ISO dates and times, ``true``/``false``, lists as ``text, image``."""
    return [
        text(value) for value in pa.array(values, type=arrow_type, from_pandas=True).to_pylist()
    ]


def text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list):
        return ", ".join(str(text(item)) for item in value)
    return str(value)


def row_keys(frame: pd.DataFrame, columns: Sequence[str]) -> pa.Array:
    """One string per row, equal exactly when the rows agree on ``columns`` (NULL = NULL).

    Each part is written as ``length:value`` or ``-`` for NULL, so the parts delimit
    themselves and no value, whatever characters it holds, can pass for another.
    """
    if not len(frame):
        return pa.array([], pa.string())
    parts = []
    for column in columns:
        values = pc.cast(pa.array(frame[column], from_pandas=True), pa.string())
        length = pc.cast(pc.binary_length(values), pa.string())
        parts.append(pc.fill_null(pc.binary_join_element_wise(length, values, ":"), "-"))
    return pc.binary_join_element_wise(*parts, "") if len(parts) > 1 else parts[0]


def last_of_each(keys: pa.Array) -> np.ndarray:
    """True at the last occurrence of each key."""
    backwards = keys[::-1]
    first = pc.index_in(backwards, value_set=backwards).to_numpy(zero_copy_only=False)
    return (first == np.arange(len(keys)))[::-1].copy()
