"""The catalog file, ``catalog.duckdb`` (``transforms.publish.catalog_file``), is written in a
storage version DuckDB 1.x clients open: the 1.x client the tests use cannot read a file in
DuckDB 2's default one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb

DUCKDB_CLI = Path(sys.executable).with_name("duckdb")  # the pip duckdb CLI, 1.x (dev extra)


def test_the_cli_is_a_1x_client_that_cannot_read_a_default_2x_file(tmp_path: Path) -> None:
    version = subprocess.run(
        [str(DUCKDB_CLI), "-version"], capture_output=True, text=True, check=True
    ).stdout
    assert version.startswith("v1."), version
    default = tmp_path / "default.duckdb"
    with duckdb.connect(str(default)) as con:
        con.execute("CREATE TABLE t AS SELECT 1 AS x")
    refused = subprocess.run(
        [str(DUCKDB_CLI), "-readonly", str(default), "-c", "SELECT 1"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert refused.returncode != 0
    assert "version number" in refused.stdout + refused.stderr
