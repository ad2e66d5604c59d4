"""How frames meet the contract: the pandas dtype of each Arrow type, and casting a frame to
a table's Arrow schema and back."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import pyarrow as pa
from pandas.api.extensions import ExtensionDtype

from transforms.contract.columns import DESCRIPTION, Column, Table

# The pandas dtypes of the contract's types that code names (every frame is in these).
STRING = pd.StringDtype("pyarrow")
INT64 = pd.Int64Dtype()
BOOLEAN = pd.BooleanDtype()


def pandas_dtype(arrow_type: pa.DataType) -> ExtensionDtype:
    """The pandas dtype every frame uses for an Arrow type: nullable, never a float or object.

    Strings, integers and booleans use pandas' own nullable dtypes (what the normalizers
    return); decimals, dates, timestamps, lists and maps stay Arrow-backed.
    """
    own: dict[pa.DataType, ExtensionDtype] = {
        pa.string(): STRING,
        pa.int64(): INT64,
        pa.int32(): pd.Int32Dtype(),
        pa.bool_(): BOOLEAN,
    }
    return own.get(arrow_type) or pd.ArrowDtype(arrow_type)


def to_frame(table: pa.Table) -> pd.DataFrame:
    """An Arrow table (a Parquet file read back, say) as a frame in our dtypes."""
    return table.to_pandas(types_mapper=pandas_dtype)


def conform(
    frame: pd.DataFrame, table: Table, columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """The frame with exactly the table's columns (or ``columns`` of them), in order, in
    the contract's types.

    A column already in its contract dtype is taken as it is: through Arrow it would come
    back the same values, copied (history conforms whole tables several times a run).
    """
    wanted = _wanted(frame, table, columns)
    conformed = frame[[c.name for c in wanted]]
    dtypes = conformed.dtypes
    cast = [c for c in wanted if dtypes[c.name] != pandas_dtype(c.type)]
    if not cast:
        return conformed
    arrays = to_frame(to_arrow(conformed, table, [c.name for c in cast]))
    return conformed.assign(**{c.name: arrays[c.name].array for c in cast})


def to_arrow(frame: pd.DataFrame, table: Table, columns: Sequence[str] | None = None) -> pa.Table:
    """Cast a frame to the table's Arrow schema; fails loudly rather than drifting."""
    wanted = _wanted(frame, table, columns)
    arrays = [_array(frame[c.name], c.type) for c in wanted]
    return pa.Table.from_arrays(arrays, schema=table.schema_of(wanted))


def _array(values: pd.Series, arrow_type: pa.DataType) -> pa.Array:
    """A column as ``arrow_type``. Python numbers bound for an integer type are read as
    what they are, then cast safely: converting them directly, Arrow truncates a float or
    a decimal (1.5 becomes 1)."""
    if values.dtype != object or not pa.types.is_integer(arrow_type):
        return pa.array(values, type=arrow_type, from_pandas=True)
    read = pa.array(values, from_pandas=True)
    numeric = (pa.types.is_integer, pa.types.is_floating, pa.types.is_decimal, pa.types.is_null)
    if not any(is_numeric(read.type) for is_numeric in numeric):  # a bool is not a count
        raise pa.ArrowTypeError(f"expected whole numbers for {arrow_type}, got {read.type}")
    return read.cast(arrow_type)


def _wanted(frame: pd.DataFrame, table: Table, columns: Sequence[str] | None) -> list[Column]:
    """The table's columns (or ``columns`` of them), in its order; all of them in ``frame``."""
    wanted = [c for c in table.columns if columns is None or c.name in columns]
    missing = {c.name for c in wanted} - set(frame.columns)
    if missing:
        raise ValueError(f"{table.name}: frame lacks columns {sorted(missing)}")
    twice = {c.name for c in wanted} & set(frame.columns[frame.columns.duplicated()])
    if twice:
        raise ValueError(f"{table.name}: frame has columns {sorted(twice)} twice")
    return wanted


def describe(schema: pa.Schema, table: Table) -> pa.Schema:
    """``schema`` as it is, with ``table``'s descriptions as its metadata (for files written
    in a schema of their own, such as the staged page values)."""
    meaning = {c.name: c.description for c in table.columns}
    return pa.schema(
        [field.with_metadata({DESCRIPTION: meaning[field.name]}) for field in schema],
        metadata={DESCRIPTION: table.description},
    )


def empty(table: Table) -> pd.DataFrame:
    return to_frame(table.arrow_schema.empty_table())
