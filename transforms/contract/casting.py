"""How frames meet the contract: the pandas and DuckDB type of each Arrow type, and casting
a frame to a table's Arrow schema and back."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import pyarrow as pa
from pandas.api.extensions import ExtensionDtype

from transforms.contract.columns import DESCRIPTION, TS, Table

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
    the contract's types."""
    return to_frame(to_arrow(frame, table, columns)).set_axis(frame.index)


def to_arrow(frame: pd.DataFrame, table: Table, columns: Sequence[str] | None = None) -> pa.Table:
    """Cast a frame to the table's Arrow schema; fails loudly rather than drifting."""
    wanted = [c for c in table.columns if columns is None or c.name in columns]
    missing = {c.name for c in wanted} - set(frame.columns)
    if missing:
        raise ValueError(f"{table.name}: frame lacks columns {sorted(missing)}")
    arrays = [pa.array(frame[c.name], type=c.type, from_pandas=True) for c in wanted]
    return pa.Table.from_arrays(arrays, schema=table.schema_of(wanted))


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


def sql_type(arrow_type: pa.DataType) -> str:
    """The DuckDB type a column is published as."""
    if pa.types.is_decimal(arrow_type):
        return f"DECIMAL({arrow_type.precision},{arrow_type.scale})"
    if pa.types.is_list(arrow_type):
        return sql_type(arrow_type.value_type) + "[]"
    if pa.types.is_map(arrow_type):
        return f"MAP({sql_type(arrow_type.key_type)}, {sql_type(arrow_type.item_type)})"
    return {
        pa.string(): "VARCHAR",
        pa.int64(): "BIGINT",
        pa.int32(): "INTEGER",
        pa.bool_(): "BOOLEAN",
        pa.date32(): "DATE",
        TS: "TIMESTAMP",
    }[arrow_type]
