"""Row groups appended to a copy of a Parquet file (``transforms.publish.parquet_append``).

Footers written by Arrow read into the generic Thrift tree and write back byte for byte; an
appended file reads, in Arrow and in DuckDB, as the kept row groups then the tail's, with the
kept ones' bytes where they were; and what cannot be appended to says so, never anything
else, whatever the footer holds.
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.publish.parquet_append import (
    CannotAppend,
    append_row_groups,
    decode,
    encode,
    read_footer,
    record_hashes,
)

SCHEMA = pa.schema(
    [
        pa.field("model_id", pa.string(), nullable=False),
        pa.field("usd_per_mtok", pa.decimal128(18, 9)),
        pa.field("tokens", pa.int64()),
        pa.field("valid_from", pa.timestamp("us"), nullable=False),
        pa.field("flags", pa.list_(pa.bool_())),
        pa.field("kinds", pa.map_(pa.string(), pa.int32())),
        pa.field("share", pa.float64()),
    ],
    metadata={b"description": "a table in the shapes the catalog's tables take"},
)


def rows(start: int, count: int) -> pa.Table:
    """``count`` rows numbered from ``start``: every type above, some NULLs."""
    numbers = range(start, start + count)
    return pa.table(
        {
            "model_id": [f"model-{n % 97:03d}" for n in numbers],
            "usd_per_mtok": [None if n % 7 == 0 else Decimal(n) / 1000 for n in numbers],
            "tokens": [n * 1000 if n % 5 else None for n in numbers],
            "valid_from": [datetime(2026, 1, 1) + timedelta(minutes=n) for n in numbers],
            "flags": [[n % 2 == 0, n % 3 == 0] if n % 4 else None for n in numbers],
            "kinds": [[("a", n), ("b", -n)] if n % 3 else [] for n in numbers],
            "share": [n / 3 if n % 6 else None for n in numbers],
        },
        schema=SCHEMA,
    )


def written(
    path: Path, table: pa.Table, group_rows: int, *, hashes: bool = True, **options: object
) -> Path:
    """``table`` written by Arrow, its row groups' hashes then recorded (unless not ``hashes``)."""
    pq.write_table(table, path, row_group_size=group_rows, compression="zstd", **options)
    if hashes:
        record_hashes(path)
    return path


def footer_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    length = int.from_bytes(data[-8:-4], "little")
    return data[len(data) - 8 - length : -8]


WRITER_OPTIONS = st.fixed_dictionaries(
    {
        "write_statistics": st.booleans(),
        "use_dictionary": st.booleans(),
        "write_page_index": st.booleans(),
        "data_page_version": st.sampled_from(["1.0", "2.0"]),
    }
)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 300), st.integers(1, 120), WRITER_OPTIONS)
def test_a_footer_reads_and_writes_back_byte_for_byte(count: int, group_rows: int, options) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        path = written(
            Path(scratch) / "t.parquet", rows(0, count), group_rows, hashes=False, **options
        )
        footer = footer_bytes(path)
        assert encode(decode(footer)) == footer
        metadata, start = read_footer(path)
        assert start == path.stat().st_size - 8 - len(footer)
        assert encode(metadata) == footer


@settings(max_examples=40, deadline=None)
@given(
    kept_rows=st.integers(0, 400),
    group_rows=st.integers(1, 150),
    tail_rows=st.integers(0, 200),
    keep=st.integers(0, 10),
    statistics=st.booleans(),
)
def test_an_appended_file_is_the_kept_row_groups_then_the_tail(
    kept_rows: int, group_rows: int, tail_rows: int, keep: int, statistics: bool
) -> None:
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        source = written(scratch / "s.parquet", rows(0, kept_rows), group_rows)
        groups = pq.ParquetFile(source).metadata.num_row_groups
        keep = min(keep, groups) if kept_rows else 0  # no rows: one empty group, never kept
        kept = pq.ParquetFile(source).read_row_groups(range(keep)) if keep else rows(0, 0)
        tail_table = rows(10_000, tail_rows)
        tail = written(scratch / "t.parquet", tail_table, 64, write_statistics=statistics)
        out = scratch / "out.parquet"

        append_row_groups(source, keep, tail, out)

        expected = pa.concat_tables([kept, tail_table])
        got = pq.read_table(out)
        assert got.equals(expected)
        assert got.schema.equals(pq.read_schema(tail), check_metadata=True)
        metadata = pq.ParquetFile(out).metadata
        tail_groups = pq.ParquetFile(tail).metadata.num_row_groups
        assert metadata.num_row_groups == keep + tail_groups
        assert metadata.num_rows == expected.num_rows
        # The kept row groups are the source's bytes, where they stood.
        if keep:
            column = pq.ParquetFile(source).metadata.row_group(keep - 1).column(0)
            end = (column.dictionary_page_offset or column.data_page_offset) + (
                column.total_compressed_size
            )
            assert out.read_bytes()[:end] == source.read_bytes()[:end]
        # DuckDB reads it too, and its row-group statistics lead a filter to the same rows.
        with duckdb.connect() as con:
            count, total = con.execute(
                "SELECT count(*), sum(usd_per_mtok) FROM read_parquet(?)", [str(out)]
            ).fetchone()  # type: ignore[misc]
            picked = con.execute(
                "SELECT count(*) FROM read_parquet(?) WHERE model_id = 'model-005' "
                "AND valid_from >= TIMESTAMP '2026-01-01 01:00:00'",
                [str(out)],
            ).fetchone()
        assert count == expected.num_rows
        assert total == sum(v for v in expected["usd_per_mtok"].to_pylist() if v is not None) or (
            total is None
        )
        frame = expected.to_pandas()
        assert picked == (
            int(
                (
                    (frame["model_id"] == "model-005")
                    & (frame["valid_from"] >= datetime(2026, 1, 1, 1))
                ).sum()
            ),
        )


def test_a_file_appended_to_again_and_again_stays_whole(tmp_path: Path) -> None:
    """Years of runs: each file made from the last, its closed groups carried forward."""
    path = written(tmp_path / "0.parquet", rows(0, 50), 10)
    expected = rows(0, 50)
    for step in range(1, 30):
        added = rows(step * 1000, step % 4 * 7)
        tail = written(tmp_path / "tail.parquet", added, 10)
        following = tmp_path / f"{step}.parquet"
        keep = pq.ParquetFile(path).metadata.num_row_groups
        append_row_groups(path, keep, tail, following)
        path, expected = following, pa.concat_tables([expected, added])
        assert pq.read_table(path).equals(expected), step
    with duckdb.connect() as con:
        assert con.execute("SELECT count(*) FROM read_parquet(?)", [str(path)]).fetchone() == (
            expected.num_rows,
        )


@pytest.mark.parametrize(
    ("source_options", "tail_table", "keep", "reason"),
    [
        ({}, rows(0, 5).drop_columns(["share"]), 1, "schemas differ"),
        (
            {},
            rows(0, 5).cast(SCHEMA.set(1, pa.field("usd_per_mtok", pa.decimal128(19, 9)))),
            1,
            "schemas differ",
        ),
        ({"write_page_index": True, "hashes": False}, rows(0, 5), 1, "page indexes"),
        ({}, rows(0, 5), 99, "row groups, not 99"),
        ({"hashes": False}, rows(0, 5), 1, "records no hashes"),
    ],
)
def test_what_cannot_be_appended_to_says_so_and_writes_nothing(
    tmp_path: Path, source_options: dict, tail_table: pa.Table, keep: int, reason: str
) -> None:
    source = written(tmp_path / "s.parquet", rows(0, 30), 10, **source_options)
    tail = written(tmp_path / "t.parquet", tail_table, 10)
    out = tmp_path / "out.parquet"
    with pytest.raises(CannotAppend, match=reason):
        append_row_groups(source, keep, tail, out)
    assert not out.exists()


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda data: b"", "not a plain Parquet file"),
        (lambda data: b"CSV," + data[4:], "not a plain Parquet file"),
        (lambda data: data[:-4] + b"PARE", "encrypted"),
        (
            lambda data: data[:-8] + (10**6).to_bytes(4, "little") + b"PAR1",
            "no plain Parquet footer",
        ),
    ],
)
def test_a_file_that_is_no_plain_parquet_cannot_be_appended_to(
    tmp_path: Path, damage, reason: str
) -> None:
    source = written(tmp_path / "s.parquet", rows(0, 30), 10)
    source.write_bytes(damage(source.read_bytes()))
    tail = written(tmp_path / "t.parquet", rows(0, 5), 10)
    with pytest.raises(CannotAppend, match=reason):
        append_row_groups(source, 1, tail, tmp_path / "out.parquet")


FOOTER = footer_bytes(written(Path(tempfile.mkdtemp()) / "f.parquet", rows(0, 40), 10))


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_a_damaged_footer_is_read_or_refused_never_a_crash(data: st.DataObject) -> None:
    """Bytes flipped, cut or inserted anywhere: ``decode`` gives a tree that writes back to
    the same bytes, or raises ``CannotAppend``."""
    footer = bytearray(FOOTER)
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(footer) - 1))
        action = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        if action == "flip":
            footer[at] = data.draw(st.integers(0, 255))
        elif action == "cut":
            del footer[at:]
        else:
            footer[at:at] = data.draw(st.binary(min_size=1, max_size=4))
        if not footer:
            break
    try:
        tree = decode(bytes(footer))
    except CannotAppend:
        return
    assert encode(tree) == bytes(footer) or _non_canonical(bytes(footer))


def _non_canonical(footer: bytes) -> bool:
    """A damaged footer may still decode, in a form the writer would not choose (a long
    field header where a short one fits, a varint with needless bytes): what it means is
    kept, its spelling may not be."""
    return decode(encode(decode(footer))) == decode(footer)


def test_nested_lists_past_any_footer_are_refused() -> None:
    deep = bytes([0x19]) * 200  # field 1, a list of one list of one list ...
    with pytest.raises(CannotAppend, match="nested too deeply"):
        decode(deep)


@pytest.mark.parametrize("at", [0.0, 0.3, 0.7, 0.99])
def test_a_damaged_page_is_never_copied(tmp_path: Path, at: float) -> None:
    """One byte changed anywhere in the row groups to keep, page headers included: the copy
    is refused (and the caller writes the file whole, decoding it, which fails or reads what
    is there)."""
    source = written(tmp_path / "s.parquet", rows(0, 300), 100)
    column = pq.ParquetFile(source).metadata.row_group(1).column(6)
    end = column.data_page_offset + column.total_compressed_size  # the second group's end
    data = bytearray(source.read_bytes())
    where = 4 + int((end - 4) * at)
    data[where] ^= 0x01
    source.write_bytes(bytes(data))
    tail = written(tmp_path / "t.parquet", rows(0, 5), 10)
    with pytest.raises(CannotAppend, match="no longer matches its hash"):
        append_row_groups(source, 2, tail, tmp_path / "out.parquet")
    assert not (tmp_path / "out.parquet").exists()


def test_recording_hashes_changes_the_footer_only(tmp_path: Path) -> None:
    path = written(tmp_path / "t.parquet", rows(0, 250), 100, hashes=False)
    before = path.read_bytes()
    table = pq.read_table(path)
    record_hashes(path)
    after = path.read_bytes()
    metadata = pq.ParquetFile(path).metadata
    assert metadata.num_row_groups == 3
    digests = metadata.metadata[b"modelcat.row_group_sha256"].decode().split(",")
    assert len(digests) == 3
    assert all(len(d) == 64 for d in digests)
    assert pq.read_table(path).equals(table)
    old_footer = len(before) - 8 - int.from_bytes(before[-8:-4], "little")
    assert after[:old_footer] == before[:old_footer]  # the row groups are untouched
    record_hashes(path)  # again: the same footer, one key
    assert path.read_bytes() == after
    with duckdb.connect() as con:
        assert con.execute("SELECT count(*) FROM read_parquet(?)", [str(path)]).fetchone() == (250,)
