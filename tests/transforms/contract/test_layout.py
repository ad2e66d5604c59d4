"""The data directory's layout (``transforms.contract.layout``): the typed handles that alone
know a file's name, and which snapshot is whose, on real directories."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.contract.layout import PARTIAL, REBUILT, DataDir, RunDir, Snapshot, read_parquet

RUN = "20260101T000000000Z"


@pytest.fixture
def data_dir(tmp_path: Path) -> DataDir:
    return DataDir(tmp_path / "data")


def snapshots(data_dir: DataDir, *publications: str) -> None:
    for publication in publications:
        (data_dir.snapshots / publication).mkdir(parents=True)


def test_every_file_of_a_data_directory_has_one_name(data_dir: DataDir) -> None:
    root = data_dir.root
    assert [
        data_dir.catalog_file,
        data_dir.current,
        data_dir.snapshots,
        data_dir.runs,
        data_dir.archive,
        data_dir.validators,
        data_dir.lock,
    ] == [
        root / "catalog.duckdb",
        root / "current",
        root / "snapshots",
        root / "runs",
        root / "archive",
        root / "validators.json",
        root / ".lock",
    ]
    run = data_dir.run(RUN)
    assert run == RunDir(root / "runs" / RUN)
    assert run.run_id == RUN
    assert {
        p.name
        for p in (
            run.page_log,
            run.page_values,
            run.published_values,
            run.crawl_stats,
            run.crawl_log,
            run.summary,
            run.unreadable_summary,
            run.unreadable_validators,
        )
    } == {
        "pages.jsonl",
        "page_values.parquet",
        "page_values.catalog.parquet",
        "crawl_stats.json",
        "crawl.log",
        "summary.json",
        "summary.unreadable.json",
        "validators.unreadable.json",
    }
    assert all(p.parent == run.path for p in (run.page_log, run.summary, run.crawl_log))


@pytest.mark.parametrize(
    ("publication", "run_id"),
    [(RUN, RUN), (f"{RUN}{REBUILT}20260301T000000Z", RUN)],
)
def test_a_snapshot_names_its_publication_and_run(
    data_dir: DataDir, publication: str, run_id: str
) -> None:
    snapshot = data_dir.snapshot(publication)
    assert (snapshot.publication, snapshot.run_id) == (publication, run_id)
    assert snapshot.table("models") == data_dir.snapshots / publication / "models.parquet"
    assert snapshot.datapackage.name == "datapackage.json"
    assert not snapshot.has("models")
    snapshot.path.mkdir(parents=True)
    snapshot.table("models").touch()
    assert snapshot.has("models")


# Snapshot directories present -> the one snapshot_of(RUN) is, or None.
SNAPSHOT_OF = [
    ([], None),
    ([RUN], RUN),
    (["20251231T000000000Z"], None),  # another run's
    ([RUN, f"{RUN}{REBUILT}20260301T000000Z"], f"{RUN}{REBUILT}20260301T000000Z"),
    (
        [RUN, f"{RUN}{REBUILT}20260301T000000Z", f"{RUN}{REBUILT}20260401T000000Z"],
        f"{RUN}{REBUILT}20260401T000000Z",
    ),
    # Being written, or being deleted: never a snapshot.
    ([RUN, f"{RUN}{REBUILT}20260301T000000Z{PARTIAL}"], RUN),
    ([f"{RUN}{PARTIAL}"], None),
]


@pytest.mark.parametrize(("present", "newest"), SNAPSHOT_OF)
def test_the_snapshot_of_a_run_is_its_newest_whole_one(
    data_dir: DataDir, present: list[str], newest: str | None
) -> None:
    snapshots(data_dir, *present)
    found = data_dir.snapshot_of(RUN)
    assert (found.publication if found is not None else None) == newest


def test_a_file_named_like_a_snapshot_is_none(data_dir: DataDir) -> None:
    data_dir.snapshots.mkdir(parents=True)
    (data_dir.snapshots / RUN).write_text("not a directory")
    assert data_dir.snapshot_of(RUN) is None
    assert list(data_dir.published_snapshots()) == []


def test_published_snapshots_oldest_first_and_whole_only(data_dir: DataDir) -> None:
    assert list(data_dir.published_snapshots()) == []  # no snapshots/ yet
    later = "20260102T000000000Z"
    snapshots(data_dir, later, f"{RUN}{REBUILT}20260301T000000Z", RUN, f"{later}{PARTIAL}")
    assert [s.publication for s in data_dir.published_snapshots()] == [
        RUN,
        f"{RUN}{REBUILT}20260301T000000Z",
        later,
    ]


def test_the_published_snapshot_is_where_current_points(data_dir: DataDir) -> None:
    assert data_dir.published_snapshot() is None
    snapshots(data_dir, RUN, "20260102T000000000Z")
    os.symlink(Path("snapshots") / RUN, data_dir.current, target_is_directory=True)
    assert data_dir.published_snapshot() == Snapshot((data_dir.snapshots / RUN).resolve())
    os.replace(data_dir.current, data_dir.root / "elsewhere")
    os.symlink(Path("snapshots") / "gone", data_dir.current, target_is_directory=True)
    assert data_dir.published_snapshot() is None  # a link to nothing


# Values that repeat, with NULLs among them, and values no row holds.
_VALUES = st.sampled_from(["a", "b", "c", "é", "", None])


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(st.tuples(_VALUES, st.integers(-3, 3) | st.none()), max_size=40),
    wanted=st.lists(_VALUES.filter(lambda v: v is not None), min_size=1, max_size=4),
    columns=st.sampled_from([None, ["n"], ["key"], ["n", "key"]]),
    group_rows=st.integers(1, 7),
)
def test_a_snapshot_reads_the_rows_whose_value_is_one_of_those_given(
    tmp_path_factory: pytest.TempPathFactory,
    rows: list[tuple[str | None, int | None]],
    wanted: list[str],
    columns: list[str] | None,
    group_rows: int,
) -> None:
    snapshot = Snapshot(tmp_path_factory.mktemp("snapshot"))
    table = pa.table(
        {"key": [r[0] for r in rows], "n": [r[1] for r in rows]},
        schema=pa.schema([("key", pa.string()), ("n", pa.int64())]).with_metadata({"a": "b"}),
    )
    pq.write_table(table, snapshot.table("t"), row_group_size=group_rows)

    read = snapshot.read("t", columns, where=("key", wanted))

    # Arrow's dataset reader, which the read replaced, is the oracle.
    expected = pq.read_table(snapshot.table("t"), columns=columns, filters=[("key", "in", wanted)])
    assert read.equals(expected)
    assert read.column_names == (columns or ["key", "n"])
    assert snapshot.read("t", columns).equals(pq.read_table(snapshot.table("t"), columns=columns))
    assert read_parquet(snapshot.table("t")).schema.metadata == {b"a": b"b"}
