"""History that only appends (``transforms.publish.history_rows``): advancing only the open
rows and carrying the closed ones over gives, run after run, exactly the rows (same values,
same schema) that advancing the whole history in pandas gives, in the order of an append-only
file: the closed rows carried over as they were, then those the run closed, then the open.

The property runs random sequences of runs (``tests.support.history_frames``) through both:
the whole history advanced as frames, and the open rows advanced with the closed rows
written by ``write_history`` from the previous file, as a refresh publishes them.
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from unittest.mock import patch

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.history_frames import (
    RUNS,
    Catalog,
    frame,
    observed,
    offer,
    price,
    seen_tables,
)
from transforms.contract.casting import to_arrow, to_frame
from transforms.contract.layout import Snapshot
from transforms.contract.tables import HISTORY_TABLES, TABLES
from transforms.history import advance_catalog
from transforms.publish import history_rows
from transforms.publish.history_rows import (
    CLOSED_BY,
    CLOSED_UNTIL,
    Appended,
    Closed,
    read_history,
    split,
    write_history,
)

MODELS = ("m1", "m2", "m3")
USD = st.sampled_from(["0.4", "0.8", "1.6", None])


@st.composite
def a_run(draw: st.DrawFn):
    """What one run observes: some models, their official prices and offers, some carried."""
    present = draw(st.lists(st.sampled_from(MODELS), unique=True, max_size=3))
    official, offers = [], []
    for model_id in present:
        for metric in ("input", "output"):
            usd = draw(USD)
            if usd is not None:
                official.append(price(model_id, "Base", metric, usd))
        for provider in draw(st.lists(st.sampled_from(["Acme", "Beta"]), unique=True)):
            region = draw(st.sampled_from([None, "us"]))
            usd = draw(USD)
            offers.append(
                offer(model_id, provider, region, input_usd_per_mtok=usd and Decimal(usd))
            )
    absent = [m for m in MODELS if m not in present]
    carried = draw(st.lists(st.sampled_from(absent), unique=True)) if absent else []
    return observed(official=official, offers=offers, carried=carried)


@pytest.mark.slow  # two histories advanced in pandas per run, for every example
@settings(max_examples=25, deadline=None)
@given(st.lists(a_run(), min_size=1, max_size=len(RUNS)), st.sampled_from([1, 2, 3, 65_536]))
def test_carrying_closed_rows_over_gives_the_whole_history(runs, group_rows: int) -> None:
    """Each run's file is written from the one before it, as publishing does; in small row
    groups the closed rows' full groups are copied from it (``parquet_append``)."""
    whole = Catalog()
    tables = {name: whole.tables[name] for name in HISTORY_TABLES}
    files: dict[str, Path] = {}
    with (
        tempfile.TemporaryDirectory() as scratch,
        patch.object(history_rows, "BATCH_ROWS", group_rows),
    ):
        for step, (seen, run) in enumerate(zip(runs, RUNS, strict=False)):
            whole.run(seen)
            for name in HISTORY_TABLES:  # the previous snapshot's files
                if name not in files:
                    files[name] = Path(scratch) / f"{step}-{name}.parquet"
                    pq.write_table(to_arrow(tables[name], TABLES[name]), files[name])
            open_rows = {
                name: to_frame(
                    pq.read_table(files[name], filters=pc.field(CLOSED_BY[name]).is_null())
                )
                for name in HISTORY_TABLES
            }
            advanced = advance_catalog(
                open_rows,
                seen_tables(seen),
                run,
                list(seen.carried_models["model_id"]),
            )
            for name in HISTORY_TABLES:
                written = Path(scratch) / f"{step}-{name}.next.parquet"
                appended = Appended(
                    Closed(name, files[name]), to_arrow(advanced[name], TABLES[name])
                )
                write_history(appended, written)
                published = pq.read_table(written)
                as_before = Path(scratch) / f"{step}-{name}.whole.parquet"  # as publish wrote it
                pq.write_table(to_arrow(whole.tables[name], TABLES[name]), as_before)
                expected = pq.read_table(as_before)
                assert published.schema.equals(expected.schema, check_metadata=True)
                assert by_key(published, name).equals(by_key(expected, name)), (step, name)
                # Appended: the closed rows as they were, then those closed now, then the open.
                before = pq.read_table(files[name])
                carried = before.filter(pc.is_valid(before[CLOSED_BY[name]]))
                assert published.slice(0, carried.num_rows).equals(carried)
                closed = pc.is_valid(published[CLOSED_BY[name]]).to_pylist()
                assert closed == sorted(closed, reverse=True)
                groups = pq.ParquetFile(written).metadata
                sizes = [groups.row_group(i).num_rows for i in range(groups.num_row_groups)]
                assert all(size == group_rows for size in sizes[:-1]), sizes
                tables[name], files[name] = to_frame(published), written


def by_key(table: pa.Table, name: str) -> pa.Table:
    """An interval table's rows in key order; the change feed as it is (it only appends)."""
    if CLOSED_BY[name] != "valid_to":
        return table
    return table.sort_by([(column, "ascending", "at_end") for column in TABLES[name].key])


PRICE_HISTORY = TABLES["price_history"]


def interval(usd: str, start: int, end: int | None, run: str = "r") -> dict:
    """m1's input price ``usd`` from January ``start`` to ``end`` (None: still open)."""
    return price("m1", "Base", "input", usd) | {
        "valid_from": datetime(2026, 1, start),
        "valid_to": datetime(2026, 1, end) if end else None,
        "first_run_id": run,
        "last_run_id": run,
    }


@pytest.fixture
def prices(tmp_path: Path) -> Path:
    """A price history with two closed intervals (ending on 2 and 3 January) and one open."""
    path = tmp_path / "price_history.parquet"
    rows = [interval("1", 1, 2), interval("2", 2, 3), interval("3", 3, None)]
    pq.write_table(to_arrow(frame(PRICE_HISTORY, rows), PRICE_HISTORY), path)
    return path


def test_closed_rows_are_those_closed_by_the_time_given(prices: Path) -> None:
    new = to_arrow(frame(PRICE_HISTORY, [interval("4", 4, None, "s")]), PRICE_HISTORY)
    for until, usd in ((None, ["1", "2", "4"]), (datetime(2026, 1, 2), ["1", "4"])):
        out = prices.with_name("out.parquet")
        write_history(Appended(Closed("price_history", prices, until), new), out)
        got = pq.read_table(out)["usd_per_mtok"].to_pylist()
        assert got == [Decimal(v) for v in usd], until


def test_a_table_older_than_the_contract_is_read_whole(tmp_path: Path, prices: Path) -> None:
    snapshot = Snapshot(tmp_path)
    older = pq.read_table(prices).drop_columns(["tier_label"])
    pq.write_table(older, snapshot.table("price_history"))
    held = split(snapshot, "price_history", None)
    assert held is not None
    rows, closed = held
    assert closed is None  # nothing carried over: the run upgrades every row
    assert rows.num_rows == 3


def test_a_thinned_table_is_its_open_rows_and_the_published_rows_closed_by_then(
    tmp_path: Path, prices: Path
) -> None:
    published, older = Snapshot(tmp_path / "published"), Snapshot(tmp_path / "older")
    published.path.mkdir()
    older.path.mkdir()
    whole = pq.read_table(prices)
    pq.write_table(whole, published.table("price_history"))
    # As it stood on 2 January: the first interval closed, the second still open.
    then = whole.slice(0, 2)
    ends = pa.array([datetime(2026, 1, 2), None], whole.schema.field("valid_to").type)
    then = then.set_column(then.schema.get_field_index("valid_to"), "valid_to", ends)
    stamp = {CLOSED_UNTIL: datetime(2026, 1, 2).isoformat().encode()}
    pq.write_table(then.slice(1).replace_schema_metadata(stamp), older.open_rows("price_history"))
    held = read_history(older, "price_history", published)
    assert held is not None
    assert held.equals(then)


def test_rows_are_regrouped_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(history_rows, "BATCH_ROWS", 3)
    schema = pa.schema([pa.field("n", pa.int64())])
    sizes, start, batches = (2, 5, 0, 1), 0, []
    for size in sizes:
        batches.append(pa.record_batch([pa.array(range(start, start + size))], schema=schema))
        start += size
    groups = list(history_rows.regrouped(batches, schema))
    assert [g.num_rows for g in groups] == [3, 3, 2]
    assert pa.concat_tables(groups)["n"].to_pylist() == list(range(8))
    assert list(history_rows.regrouped([], schema)) == []


@pytest.mark.parametrize("batch_rows", [1, 2, 3, 100])
def test_the_run_s_rows_are_written_closed_first_a_batch_at_a_time(
    monkeypatch: pytest.MonkeyPatch, prices: Path, batch_rows: int
) -> None:
    """Closed, then open, each in the order given, however the batches cut them; in batches
    of at most ``BATCH_ROWS``, and as one stream for DuckDB."""
    monkeypatch.setattr(history_rows, "BATCH_ROWS", batch_rows)
    ends = [None, 5, None, 6, 7, None, None]
    rows = [interval(str(i), 4, end, f"r{i}") for i, end in enumerate(ends)]
    appended = Appended(
        Closed("price_history", prices), to_arrow(frame(PRICE_HISTORY, rows), PRICE_HISTORY)
    )
    batches = list(appended.written_batches())
    assert all(0 < b.num_rows <= batch_rows for b in batches)
    written = pa.Table.from_batches(batches)
    assert written.schema == PRICE_HISTORY.arrow_schema
    assert written["first_run_id"].to_pylist() == ["r1", "r3", "r4", "r0", "r2", "r5", "r6"]
    assert appended.written_reader().read_all().equals(written)


@pytest.mark.parametrize("group_rows", [1, 2, 3, 100])
def test_open_rows_are_read_past_the_closed_ones_whole_or_a_group_at_a_time(
    tmp_path: Path, prices: Path, monkeypatch: pytest.MonkeyPatch, group_rows: int
) -> None:
    monkeypatch.setattr(history_rows, "BATCH_ROWS", group_rows)
    opened = [interval("4", 4, None, "s"), interval("6", 5, None, "s"), interval("7", 6, None)]
    new = to_arrow(frame(PRICE_HISTORY, [*opened, interval("5", 3, 4, "s")]), PRICE_HISTORY)
    appended = tmp_path / "appended.parquet"  # closed rows first, in row groups of group_rows
    write_history(Appended(Closed("price_history", prices), new), appended)
    key_sorted = tmp_path / "sorted.parquet"  # as files were written before: open rows inside
    by_key = pq.read_table(appended).sort_by([("usd_per_mtok", "descending")])
    pq.write_table(by_key, key_sorted)
    all_closed = tmp_path / "closed.parquet"
    pq.write_table(pq.read_table(prices).slice(0, 2), all_closed)
    schema = PRICE_HISTORY.arrow_schema
    for path in (appended, key_sorted, prices, all_closed):
        table = pq.read_table(path)
        expected = table.filter(pc.is_null(table["valid_to"]))
        assert history_rows.open_rows(path, "price_history").equals(expected), path
        streamed = list(history_rows.open_batches(path, "price_history"))
        if path == appended:  # a row group at a time: never more rows than a group holds
            assert all(batch.num_rows <= group_rows for batch in streamed)
        assert pa.Table.from_batches(streamed, schema).equals(expected.cast(schema)), path


def test_the_full_groups_of_closed_rows_are_copied_as_they_stand(
    tmp_path: Path, prices: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run's file begins with the bytes of the last one's full groups of closed rows; the
    rest is written again, and the whole reads as the history written whole would."""
    monkeypatch.setattr(history_rows, "BATCH_ROWS", 2)
    runs = [
        [interval("3", 3, 4, "s"), interval("4", 4, None, "s")],
        [interval("4", 4, 5, "t"), interval("5", 5, None, "t")],
        [interval("5", 5, 6, "u"), interval("6", 6, None, "u")],
    ]
    source = prices
    for step, run in enumerate(runs):
        rows = to_arrow(frame(PRICE_HISTORY, run), PRICE_HISTORY)
        path = tmp_path / f"{step}.parquet"
        write_history(Appended(Closed("price_history", source), rows), path)

        before = pq.read_table(source)
        carried = before.filter(pc.is_valid(before["valid_to"]))
        assert pq.read_table(path).equals(
            pa.Table.from_batches(
                [
                    *carried.to_batches(),
                    *Appended(Closed("price_history", source), rows).written_batches(),
                ]
            )
        )
        metadata = pq.ParquetFile(path).metadata
        sizes = [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)]
        assert sizes == [2] * (sum(sizes) // 2) + ([1] if sum(sizes) % 2 else [])
        full = carried.num_rows // 2  # groups of closed rows only, in the file before
        if step and full:
            last = pq.ParquetFile(source).metadata.row_group(full - 1)
            end = max(
                (c.dictionary_page_offset or c.data_page_offset) + c.total_compressed_size
                for c in (last.column(i) for i in range(last.num_columns))
            )
            assert path.read_bytes()[:end] == source.read_bytes()[:end], step
        source = path


def test_a_file_whose_closed_rows_are_not_first_is_written_whole(
    tmp_path: Path, prices: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history_rows, "BATCH_ROWS", 1)
    open_first = tmp_path / "open-first.parquet"
    by_price = pq.read_table(prices).sort_by([("usd_per_mtok", "descending")])
    pq.write_table(by_price, open_first, row_group_size=1)  # full groups, the first one open
    rows = to_arrow(frame(PRICE_HISTORY, [interval("4", 4, None, "s")]), PRICE_HISTORY)
    for source in (open_first, prices):
        path = tmp_path / f"from-{source.name}"
        write_history(Appended(Closed("price_history", source), rows), path)
        usd = [str(v.normalize()) for v in pq.read_table(path)["usd_per_mtok"].to_pylist()]
        assert usd == ["2", "1", "4"] if source == open_first else ["1", "2", "4"]
