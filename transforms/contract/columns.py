"""How the contract declares a table: ``Column`` and ``Table``, the Arrow types and text
patterns their columns share, which columns are never negative, and the DuckDB type each
Arrow type is published as."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pyarrow as pa

from transforms.contract.vocabulary import TableName

USD = pa.decimal128(18, 9)
TS = pa.timestamp("us")
TEXT_LIST = pa.list_(pa.string())
COUNTS = pa.map_(pa.string(), pa.int64())

SLUG = r"^[a-z0-9]+(-[a-z0-9]+)*$"
METRIC = r"^[a-z0-9]+(_[a-z0-9]+)*$"
SHA256 = r"^[0-9a-f]{64}$"


@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    description: str
    # Always named, so a declaration reads ``nullable=False`` rather than a bare ``False``.
    nullable: bool = field(default=True, kw_only=True)


@dataclass(frozen=True)
class Table:
    name: TableName
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()

    @property
    def arrow_schema(self) -> pa.Schema:
        return self.schema_of(self.columns)

    def schema_of(self, columns: Iterable[Column]) -> pa.Schema:
        """The Arrow schema of ``columns``, descriptions in the field and schema metadata."""
        fields = [
            pa.field(c.name, c.type, nullable=c.nullable, metadata={DESCRIPTION: c.description})
            for c in columns
        ]
        return pa.schema(fields, metadata={DESCRIPTION: self.description})

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]


DESCRIPTION = "description"  # the Parquet metadata key of a table's and a column's meaning


def never_negative(column: Column) -> bool:
    """Prices and token counts."""
    return column.type == USD or column.name.endswith("_tokens")


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
