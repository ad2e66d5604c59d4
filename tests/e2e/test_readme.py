"""The README's example queries run on a catalog published by a real refresh."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from tests.support import README

TEXT = README.read_text(encoding="utf-8")


def example_queries() -> list[str]:
    section = TEXT.split("## Example queries", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sql\n(.*?)```", section, re.DOTALL)
    statements = [s.strip() for block in blocks for s in block.split(";")]
    return [
        s for s in statements if s and not all(line.startswith("--") for line in s.splitlines())
    ]


@pytest.mark.parametrize("sql", example_queries(), ids=lambda sql: sql.splitlines()[0][:60])
def test_every_example_query_runs_on_a_published_catalog(published: Path, sql: str) -> None:
    with duckdb.connect(str(published / "catalog.duckdb"), read_only=True) as con:
        con.execute(sql).fetchall()
