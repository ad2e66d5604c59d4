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
    array = pa.array(values, type=arrow_type, from_pandas=True)
    if pa.types.is_nested(arrow_type):  # Arrow cannot encode lists as a dictionary
        return [text(value) for value in array.to_pylist()]
    # Many rows, few values (a first run adds every price): each value is written once.
    if isinstance(array, pa.ChunkedArray):  # a column of a Parquet file read back
        array = array.combine_chunks()
    encoded = array.dictionary_encode()
    texts = pa.array([text(value) for value in encoded.dictionary.to_pylist()], pa.string())
    return texts.take(encoded.indices).to_pylist()


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


def row_codes(frames: Sequence[pd.DataFrame], columns: Sequence[str]) -> list[np.ndarray]:
    """One integer per row of each frame, equal exactly when the rows agree on ``columns``
    (NULL = NULL), across all the frames given together, and ordered as the rows sort: by
    ``columns`` in turn, each ascending with NULL last (``DataFrame.sort_values``).

    Each column is encoded on its own and the codes combined positionally, so no value,
    whatever characters it holds, can pass for another.
    """
    sizes = [len(frame) for frame in frames]
    codes = np.zeros(sum(sizes), dtype=np.int64)
    bound = 1  # 0 <= code < bound
    for column in columns:
        values = pd.concat([frame[column] for frame in frames], ignore_index=True)
        # Codes in the values' order, NULL after them all: as the digits of a number in
        # base ``width``, they combine one-to-one and in order.
        column_codes, uniques = pd.factorize(values, sort=True)
        width = len(uniques) + 1
        column_codes[column_codes < 0] = width - 1
        if bound * width >= 2**62:  # renumber the codes so far, in order, before they overflow
            codes, seen = pd.factorize(codes, sort=True)
            bound = len(seen)
        codes = codes * width + column_codes
        bound *= width
    return np.split(codes, np.cumsum(sizes)[:-1])


def last_of_each(codes: np.ndarray) -> np.ndarray:
    """True at the last occurrence of each code."""
    return ~pd.Series(codes).duplicated(keep="last").to_numpy()


def positions(codes: np.ndarray, distinct: np.ndarray) -> np.ndarray:
    """Where each code is in ``distinct`` (codes that occur once each), -1 where absent."""
    return pd.Index(distinct).get_indexer(codes)
