"""What a catalog file holds, to compare one written by appending with one written whole."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from transforms.contract.layout import Snapshot
from transforms.contract.tables import TABLES
from transforms.publish import catalog_file


def held(path: Path) -> tuple[dict[str, pa.Table], list[tuple], list[tuple], dict[str, str]]:
    """Every contract table's rows in the order the file returns them, every column's type
    and comment, every table's comment and the macros, and ``catalog_info``."""
    with duckdb.connect(str(path), read_only=True) as con:
        tables = {name: con.sql(f"SELECT * FROM {name}").to_arrow_table() for name in TABLES}
        columns = con.execute(
            "SELECT table_name, column_index, column_name, data_type, comment "
            "FROM duckdb_columns() ORDER BY ALL"
        ).fetchall()
        objects = con.execute(
            "SELECT 'table', table_name, comment FROM duckdb_tables() UNION ALL "
            "SELECT 'macro', function_name, macro_definition FROM duckdb_functions() "
            "WHERE function_type LIKE '%macro%' AND NOT internal ORDER BY ALL"
        ).fetchall()
        info = dict(con.execute("SELECT key, value FROM catalog_info").fetchall())
    return tables, columns, objects, info


def assert_as_if_written_whole(path: Path, snapshot: Snapshot, scratch: Path) -> str:
    """The catalog file at ``path`` holds what a file written whole from ``snapshot`` holds,
    row for row in the same order; returns how it was written (``whole`` or ``appended``)."""
    whole = scratch / "whole.duckdb"
    catalog_file.write_catalog_file(whole, snapshot)
    try:
        tables, columns, objects, info = held(path)
        expected_tables, expected_columns, expected_objects, expected_info = held(whole)
    finally:
        whole.unlink()
    for name, table in expected_tables.items():
        assert tables[name].equals(table), name
    assert columns == expected_columns
    assert objects == expected_objects
    written = info.pop("written")
    assert expected_info.pop("written") == "whole"
    assert info == expected_info
    return written
