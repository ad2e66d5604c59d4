"""Page values files (``transforms.pages.values``): every value of a page as written, a page
keyed by its URL and body hash, and files read a row group of whole pages at a time."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support import PAGES, SEED_PAGE
from tests.support.runs import sha256
from transforms.contract.tables import PAGE_VALUES_SCHEMA
from transforms.pages import values
from transforms.pages.parse import decode_markdown, parse_page

URL = "https://mirror.test/llms/models/"


def parsed(names: list[str]) -> list[tuple]:
    """(url, body hash, page) of saved pages."""
    found = []
    for name in names:
        body = (PAGES / f"{name}.md").read_bytes()
        url = URL + f"{name}.md"
        found.append((url, sha256(body), parse_page(decode_markdown(body), url)))
    return found


NAMES = sorted(path.stem for path in PAGES.glob("*.md"))[:4]


def test_every_cell_of_a_page_is_a_row_as_written() -> None:
    ((url, sha, page),) = parsed([SEED_PAGE.stem])
    table = values.values_table([(url, sha, page)])
    assert table.schema == PAGE_VALUES_SCHEMA
    assert table.num_rows == len(list(page.cells())) > 0
    rows = table.to_pylist()
    assert {(r["page_url"], r["content_sha256"]) for r in rows} == {(url, sha)}
    cells = ["section", "row_number", "row_label", "column_label", "raw_value"]
    written = [tuple(row[cell] for cell in cells) for row in rows]
    assert written == [(c.section, c.row, c.row_label, c.column, c.raw) for c in page.cells()]
    assert values.values_table([]).num_rows == 0


@pytest.mark.parametrize(
    ("url", "sha"),
    [("http://x/a.md", "ab" * 32), ("http://x/a.md", None), ("http://x/é?q=1|2", "")],
)
def test_a_page_key_is_its_url_and_body_hash(url: str, sha: str | None) -> None:
    key = values.page_key(url, sha)
    assert values.url_of(key) == url
    table = pa.table({"page_url": [url], "content_sha256": [sha]})
    assert values.keys(table).to_pylist() == [key]
    # The same URL with another body is another page.
    assert values.page_key(url, "cd" * 32) != key


@pytest.fixture
def written(tmp_path: Path) -> tuple[Path, list[tuple]]:
    """A page values file of four pages, two to a row group."""
    pages = parsed(NAMES)
    path = tmp_path / "page_values.parquet"
    with values.ValuesWriter(path) as writer:
        writer.write(values.values_table(pages[:2]))
        writer.write(values.values_table(pages[2:]))
    return path, pages


def test_a_file_is_read_a_row_group_of_whole_pages_at_a_time(written) -> None:
    path, pages = written
    assert pq.ParquetFile(path).num_row_groups == 2
    groups = list(values.row_groups(path))
    assert [sorted(set(g["page_url"].to_pylist())) for g in groups] == [
        sorted(url for url, _, _ in pages[:2]),
        sorted(url for url, _, _ in pages[2:]),
    ]
    assert sum(g.num_rows for g in groups) == sum(len(list(p.cells())) for _, _, p in pages)
    assert all(g.schema == PAGE_VALUES_SCHEMA for g in groups)


def test_only_the_pages_asked_for_and_never_an_empty_table(written) -> None:
    path, pages = written
    held = values.keys_held(path)
    assert held == {values.page_key(url, sha) for url, sha, _ in pages}
    url, sha, page = pages[3]
    (group,) = values.row_groups(path, frozenset({values.page_key(url, sha)}))
    assert set(group["page_url"].to_pylist()) == {url}
    assert group.num_rows == len(list(page.cells()))
    # The same URL under another body hash is not that page.
    assert list(values.row_groups(path, frozenset({values.page_key(url, "0" * 64)}))) == []
    assert list(values.row_groups(path.with_name("missing.parquet"))) == []


def rows(count: int, page: str) -> pa.Table:
    """``count`` page values rows of one page."""
    return pa.table(
        {
            "page_url": [page] * count,
            "content_sha256": ["ab" * 32] * count,
            "section": ["Official Pricing"] * count,
            "row_number": list(range(count)),
            "row_label": ["Input Price"] * count,
            "column_label": ["Price"] * count,
            "raw_value": ["$1"] * count,
        },
        schema=PAGE_VALUES_SCHEMA,
    )


def test_batches_join_whole_tables_up_to_the_chunk_size() -> None:
    third = values.CHUNK_ROWS * 6 // 10
    tables = [rows(third, "a"), rows(third, "b"), rows(third, "c"), rows(5, "d")]
    # A chunk ends once it holds CHUNK_ROWS rows, never inside a table.
    assert [t.num_rows for t in values.batched(iter(tables))] == [2 * third, third + 5]
    assert [t.num_rows for t in values.batched(iter(tables[:1]))] == [third]
    (empty,) = values.batched(iter([]))
    assert empty.num_rows == 0
    assert empty.schema == PAGE_VALUES_SCHEMA


@settings(max_examples=60, deadline=None)
@given(
    groups=st.lists(
        st.lists(
            st.tuples(
                st.sampled_from(["a.md", "b.md", "c.md", "ü.md", ""]),
                st.sampled_from(["ab" * 32, "cd" * 32, None]),
            ),
            max_size=12,
        ),
        max_size=4,
    )
)
def test_the_keys_held_are_every_rows_key_whatever_the_row_groups(
    tmp_path_factory: pytest.TempPathFactory, groups: list[list[tuple[str, str | None]]]
) -> None:
    """Read as dictionaries, a page's key is made once; it must be each row's own key."""
    path = tmp_path_factory.mktemp("held") / "page_values.parquet"
    with values.ValuesWriter(path) as writer:
        for group in groups:
            table = rows(len(group), "x").set_column(
                0, "page_url", pa.array([url for url, _ in group], pa.string())
            )
            writer.write(
                table.set_column(1, "content_sha256", pa.array([s for _, s in group], pa.string()))
            )
    expected = {values.page_key(url, sha) for group in groups for url, sha in group}
    assert values.keys_held(path) == expected
