"""The catalog file, ``catalog.duckdb`` (``transforms.publish.catalog_file``): written from a
snapshot with every table materialized, the contract's meaning as comments and the macros,
in a storage version DuckDB 1.x clients open; committed by a rename; asked which snapshot
it was written from.

The snapshot is real: the one ``two_runs`` published from saved pages.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from transforms.contract.layout import DataDir, Snapshot
from transforms.contract.tables import TABLES
from transforms.publish import catalog_file
from transforms.publish.asof import AS_OF_MACROS
from transforms.publish.cost import COST_MACROS

DUCKDB_CLI = Path(sys.executable).with_name("duckdb")  # the pip duckdb CLI, 1.x (dev extra)


def snapshot_of(data_dir: DataDir) -> Snapshot:
    snapshot = data_dir.published_snapshot()
    assert snapshot is not None
    return snapshot


def macro_names(macros: tuple[str, ...]) -> set[str]:
    """The names the CREATE MACRO statements define."""
    names = set()
    for statement in macros:
        words = statement.replace("(", " ").split()
        at = words.index("MACRO")
        names.add(words[at + 2] if words[at + 1] == "TABLE" else words[at + 1])
    return names


def cli(catalog: Path, sql: str) -> list[dict]:
    """One statement through the DuckDB 1.x CLI, read-only."""
    result = subprocess.run(
        [str(DUCKDB_CLI), "-readonly", "-json", "-bail", str(catalog), "-c", sql],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout or "[]")


@pytest.fixture(scope="module")
def written(two_runs: DataDir, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A catalog file written from ``two_runs``' published snapshot, elsewhere."""
    path = tmp_path_factory.mktemp("catalog") / "written.duckdb"
    catalog_file.write_catalog_file(path, snapshot_of(two_runs))
    return path


def test_every_table_is_materialized_from_its_snapshot(two_runs: DataDir, written: Path) -> None:
    snapshot = snapshot_of(two_runs)
    with duckdb.connect(str(written), read_only=True) as con:
        held = {
            name for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()
        }
        assert held == {*TABLES, catalog_file.INFO_TABLE}
        for name in TABLES:
            parquet = str(snapshot.table(name))
            for first, second in ((name, "read_parquet(?)"), ("read_parquet(?)", name)):
                difference = con.execute(
                    f"SELECT count(*) FROM (FROM {first} EXCEPT ALL FROM {second})", [parquet]
                ).fetchone()
                assert difference == (0,), name
        info = con.execute(f"SELECT key, value FROM {catalog_file.INFO_TABLE}").fetchall()
        assert info == [
            ("snapshot", snapshot.publication),
            ("fingerprint", catalog_file.fingerprint()),
            ("written", "whole"),
        ]
    # No file paths inside: it opens and reads with the snapshot gone.
    assert str(snapshot.path) not in written.read_bytes().decode("latin-1")


def test_the_comments_carry_the_meaning_of_the_contract(written: Path) -> None:
    with duckdb.connect(str(written), read_only=True) as con:
        tables = dict(con.execute("SELECT table_name, comment FROM duckdb_tables()").fetchall())
        columns = {
            (table, column): comment
            for table, column, comment in con.execute(
                "SELECT table_name, column_name, comment FROM duckdb_columns()"
            ).fetchall()
        }
    for name, table in TABLES.items():
        assert tables[name] == table.description
        for column in table.columns:
            assert columns[(name, column.name)] == column.description, (name, column.name)


def test_the_macros_are_in_the_file(written: Path) -> None:
    with duckdb.connect(str(written), read_only=True) as con:
        defined = {
            name
            for (name,) in con.execute(
                "SELECT function_name FROM duckdb_functions() WHERE NOT internal "
                "AND function_type IN ('macro', 'table_macro')"
            ).fetchall()
        }
        assert macro_names(AS_OF_MACROS) | macro_names(COST_MACROS) <= defined
        (count,) = con.execute("SELECT count(*) FROM models_as_of(now())").fetchone()
        (current,) = con.execute("SELECT count(*) FROM models").fetchone()
    assert count == current > 0


def test_a_duckdb_1x_client_opens_it(written: Path) -> None:
    with duckdb.connect(str(written), read_only=True) as con:
        counts = {
            name: con.execute(f"SELECT count(*) FROM {name}").fetchone()[0] for name in TABLES
        }
    union = " UNION ALL ".join(
        f"SELECT '{name}' AS t, count(*) AS n FROM {name}" for name in TABLES
    )
    assert {row["t"]: row["n"] for row in cli(written, union)} == counts


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


def test_a_commit_is_a_rename_over_the_live_file(own_copy: DataDir) -> None:
    before = own_copy.catalog_file.stat().st_ino
    published = own_copy.published_snapshot()
    assert published is not None
    catalog_file.commit(own_copy, published)
    assert own_copy.catalog_file.stat().st_ino != before  # a new file, not the old rewritten
    assert catalog_file.written_from(own_copy) == (published.publication, None)
    assert not list(own_copy.root.glob(".catalog-*"))


def write(path: Path, statements: list[str]) -> None:
    with duckdb.connect(str(path)) as con:
        for statement in statements:
            con.execute(statement)


WRITTEN_FROM = {
    "no file": (None, (None, None)),
    "not a database": (lambda p: p.write_bytes(b"\x00garbage" * 999), "could not be opened"),
    "empty": (lambda p: p.write_bytes(b""), "could not be opened"),
    "no catalog_info": (lambda p: write(p, ["CREATE TABLE models (x INT)"]), "could not be"),
    "catalog_info without its row": (
        lambda p: write(p, ["CREATE TABLE catalog_info (key VARCHAR, value VARCHAR)"]),
        "does not say which snapshot it was built from",
    ),
}


@pytest.mark.parametrize("case", WRITTEN_FROM)
def test_which_snapshot_a_catalog_file_was_written_from(tmp_path: Path, case: str) -> None:
    data_dir = DataDir(tmp_path)
    make, says = WRITTEN_FROM[case]
    if make is not None:
        make(data_dir.catalog_file)
    publication, problem = catalog_file.written_from(data_dir)
    if isinstance(says, tuple):
        assert (publication, problem) == says
    else:
        assert publication is None
        assert problem is not None
        assert problem.startswith("catalog.duckdb ")
        assert says in problem


def test_a_catalog_file_open_for_writing_elsewhere_is_in_use(own_copy: DataDir) -> None:
    assert catalog_file.written_from(own_copy)[1] is None
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); "
         "print('open', flush=True); sys.stdin.read()", str(own_copy.catalog_file)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "open\n"
        with pytest.raises(catalog_file.CatalogInUse, match="open for writing in another"):
            catalog_file.written_from(own_copy)
    finally:
        holder.communicate("")
