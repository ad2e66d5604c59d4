"""A published snapshot's ``datapackage.json``: the data contract of ``transforms.contract``
as a Frictionless Data Package (v2), one resource per Parquet file with its Table Schema,
for tools that read data dictionaries rather than DuckDB comments.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from transforms.contract.columns import TS, Column, Table, never_negative, sql_type
from transforms.contract.tables import TABLES

DATAPACKAGE_FILE = "datapackage.json"


def datapackage(publication: str) -> dict[str, Any]:
    """The snapshot's ``datapackage.json``: a Frictionless Data Package (v2) whose resources
    are the Parquet files, each with its Table Schema.

    Decimals are Table Schema ``number``s (the values are exact decimals in the Parquet
    files); every field also names its exact type in the catalog as ``duckdbType``.
    """
    return {
        "$schema": "https://datapackage.org/profiles/2.0/datapackage.json",
        "name": "modelcat",
        "title": f"modelcat catalog, publication {publication}",
        "description": (
            "LLM models, their prices and provider offers, crawled from a model gateway's "
            "markdown mirror. Money is exact decimal US dollars per 1,000,000 tokens; times "
            "are UTC; NULL means the page shows no value or it could not be read."
        ),
        "resources": [_resource(table) for table in TABLES.values()],
    }


_TABLE_SCHEMA_TYPES = {
    pa.string(): "string",
    pa.int64(): "integer",
    pa.int32(): "integer",
    pa.bool_(): "boolean",
    pa.date32(): "date",
    TS: "datetime",
}


def _resource(table: Table) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "$schema": "https://datapackage.org/profiles/2.0/tableschema.json",
        "fields": [_table_schema_field(table, column) for column in table.columns],
    }
    # A primary key may not be missing (NULL); a key with a NULL-able column is unique only.
    required = {c.name for c in table.columns if not c.nullable}
    if table.key and set(table.key) <= required:
        schema["primaryKey"] = list(table.key)
    elif table.key:
        schema["uniqueKeys"] = [list(table.key)]
    return {
        "name": table.name,
        "type": "table",
        "path": f"{table.name}.parquet",
        "format": "parquet",
        "mediatype": "application/vnd.apache.parquet",
        "description": table.description,
        "schema": schema,
    }


def _table_schema_field(table: Table, column: Column) -> dict[str, Any]:
    kind = column.type
    if pa.types.is_decimal(kind):
        name = "number"
    elif pa.types.is_list(kind):
        name = "array"
    elif pa.types.is_map(kind):
        name = "object"
    else:
        name = _TABLE_SCHEMA_TYPES[kind]
    constraints: dict[str, Any] = {}
    if not column.nullable:
        constraints["required"] = True
    if table.key == (column.name,):
        constraints["unique"] = True
    if never_negative(column):
        constraints["minimum"] = 0
    field = {
        "name": column.name,
        "type": name,
        "description": column.description,
        "duckdbType": sql_type(kind),
    }
    return field | ({"constraints": constraints} if constraints else {})
