"""The data dictionary travels with the data: each published snapshot has a
``datapackage.json`` (Frictionless Data Package v2) and its Parquet files carry the
contract's descriptions, read back here from the published files themselves."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from transforms.contract.columns import DESCRIPTION
from transforms.contract.tables import TABLES

TABLE_SCHEMA_TYPES = {
    "string": pa.types.is_string,
    "integer": pa.types.is_integer,
    "number": pa.types.is_decimal,
    "boolean": pa.types.is_boolean,
    "date": pa.types.is_date,
    "datetime": pa.types.is_timestamp,
    "array": pa.types.is_list,
    "object": pa.types.is_map,
}


@pytest.fixture(scope="module")
def package(published: Path) -> dict:
    return json.loads((published / "current" / "datapackage.json").read_text(encoding="utf-8"))


def test_every_snapshot_file_is_a_resource_with_its_schema(published: Path, package) -> None:
    assert package["$schema"] == "https://datapackage.org/profiles/2.0/datapackage.json"
    snapshot = (published / "current").resolve()
    assert snapshot.name in package["title"]
    files = sorted(p.name for p in snapshot.glob("*.parquet"))
    assert sorted(r["path"] for r in package["resources"]) == files
    for resource in package["resources"]:
        table = TABLES[resource["name"]]
        schema = pq.read_schema(snapshot / resource["path"])
        fields = resource["schema"]["fields"]
        assert [f["name"] for f in fields] == schema.names == table.names
        for field, column in zip(fields, table.columns, strict=True):
            assert TABLE_SCHEMA_TYPES[field["type"]](schema.field(column.name).type), field
            assert field["description"] == column.description
            assert field.get("constraints", {}).get("required", False) is not column.nullable
        assert resource["description"] == table.description
        assert resource["format"] == "parquet"


def test_the_declared_keys_hold_in_the_published_data(published: Path, package) -> None:
    snapshot = (published / "current").resolve()
    for resource in package["resources"]:
        schema = resource["schema"]
        keys = [schema["primaryKey"]] if "primaryKey" in schema else schema.get("uniqueKeys", [])
        assert keys == (
            [list(TABLES[resource["name"]].key)] if TABLES[resource["name"]].key else []
        )
        for key in keys:
            columns = ", ".join(f'"{name}"' for name in key)
            path = str(snapshot / resource["path"])
            duplicates = duckdb.sql(
                f"SELECT {columns}, count(*) FROM read_parquet('{path}') "
                f"GROUP BY ALL HAVING count(*) > 1"
            ).fetchall()
            assert duplicates == [], resource["name"]
            if "primaryKey" in schema:
                nulls = " OR ".join(f'"{name}" IS NULL' for name in key)
                assert duckdb.sql(
                    f"SELECT count(*) FROM read_parquet('{path}') WHERE {nulls}"
                ).fetchall() == [(0,)]


def test_decimals_are_numbers_that_say_their_exact_type(package) -> None:
    prices = next(r for r in package["resources"] if r["name"] == "official_prices")
    (price,) = [f for f in prices["schema"]["fields"] if f["name"] == "usd_per_mtok"]
    assert price["type"] == "number"
    assert price["duckdbType"] == "DECIMAL(18,9)"
    assert price["constraints"] == {"minimum": 0}


def test_parquet_files_carry_the_descriptions(published: Path) -> None:
    snapshot = (published / "current").resolve()
    for table in TABLES.values():
        schema = pq.read_schema(snapshot / f"{table.name}.parquet")
        assert schema.metadata[DESCRIPTION.encode()].decode() == table.description
        for column in table.columns:
            meaning = schema.field(column.name).metadata[DESCRIPTION.encode()].decode()
            assert meaning == column.description, (table.name, column.name)
