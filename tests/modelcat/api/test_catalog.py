"""The Python API's catalog (``modelcat.api.catalog``): ``utc_time``, table-driven, and
``read`` and ``open`` on ``two_runs``, a catalog two runs published from saved pages, without
a crawl (the published demo catalog, end to end: ``tests/e2e/test_api.py``)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import duckdb
import pandas as pd
import pytest

from modelcat.api.catalog import (
    BeforeHistory,
    CatalogNotFound,
    TimeOutOfRange,
    open,
    read,
    utc_time,
)
from transforms.contract.columns import USD
from transforms.contract.layout import DataDir
from transforms.contract.tables import TABLES


@pytest.mark.parametrize(
    ("moment", "utc"),
    [
        ("2026-03-01", datetime(2026, 3, 1)),
        (" 2026-03-01T12:00 ", datetime(2026, 3, 1, 12)),
        ("2026-03-01 12:00:00Z", datetime(2026, 3, 1, 12)),
        ("2026-03-01T13:00+01:00", datetime(2026, 3, 1, 12)),
        ("2026-03-01T00:30-05:30", datetime(2026, 3, 1, 6)),
        (date(2026, 3, 1), datetime(2026, 3, 1)),
        (datetime(2026, 3, 1, 12, 0, 0, 5), datetime(2026, 3, 1, 12, 0, 0, 5)),
    ],
)
def test_a_moment_is_naive_utc(moment: str | date | datetime, utc: datetime) -> None:
    assert utc_time(moment) == utc


@pytest.mark.parametrize("text", ["yesterday", "2026-13-01", "", "1 March 2026"])
def test_a_moment_that_is_no_iso_time_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not an ISO 8601 date or time"):
        utc_time(text)


def started(data_dir: DataDir) -> list[datetime]:
    runs = read("runs", data_dir=data_dir.root)
    return sorted(runs["started_at"])


def test_every_table_reads_in_exact_types(two_runs: DataDir) -> None:
    for name, table in TABLES.items():
        frame = read(name, data_dir=two_runs.root)
        assert list(frame.columns) == table.names, name
        assert not any(pd.api.types.is_float_dtype(dtype) for dtype in frame.dtypes), name
        for column in table.columns:
            if column.type == USD:
                assert frame[column.name].dtype == pd.ArrowDtype(USD)
                assert all(isinstance(v, Decimal) for v in frame[column.name].dropna())
    assert len(read("models", data_dir=two_runs.root)) == 8


def test_as_of_reads_the_catalog_as_it_stood(two_runs: DataDir) -> None:
    first, second = started(two_runs)
    prices = ["model_id", "metric", "tier_label", "usd_per_mtok"]

    def official(as_of: object = None) -> list[tuple]:
        frame = read("official_prices", data_dir=two_runs.root, as_of=as_of)[prices]
        return sorted(map(tuple, frame.astype(object).to_numpy().tolist()), key=repr)

    now, then = official(), official(second - timedelta(microseconds=1))
    assert official(first) == then
    assert official(second) == now
    assert len(now) == len(then)
    changed = {(r[0], r[1], r[2]) for r in set(now) ^ set(then)}
    assert len(changed) == 2  # the two input prices raised before the second run
    with pytest.warns(BeforeHistory):
        assert read("models", data_dir=two_runs.root, as_of=first - timedelta(days=1)).empty
    # An offset is an instant: the second run's start, written as a time in +02:00.
    shifted = (second + timedelta(hours=2)).isoformat() + "+02:00"
    assert official(shifted) == now


def test_read_says_what_is_wrong(two_runs: DataDir, tmp_path) -> None:
    with pytest.raises(ValueError, match=r"no table 'nope'; tables: .*models"):
        read("nope", data_dir=two_runs.root)
    with pytest.raises(ValueError, match="as_of applies to models"):
        read("pages", data_dir=two_runs.root, as_of="2026-01-01")
    with pytest.raises(CatalogNotFound, match="run `modelcat refresh` first"):
        read("models", data_dir=tmp_path)


def test_open_is_read_only_with_the_macros(two_runs: DataDir, monkeypatch) -> None:
    monkeypatch.setenv("MODELCAT_DATA_DIR", str(two_runs.root))
    with open() as con:
        assert con.execute("SELECT count(*) FROM models_as_of(now())").fetchone() == (8,)
        with pytest.raises(duckdb.Error, match="read-only"):
            con.execute("CREATE TABLE scratch AS SELECT 1")
    with open(two_runs.root, external_access=False) as con, pytest.raises(duckdb.Error):
        con.execute(f"SELECT * FROM read_parquet('{two_runs.snapshots}/*/models.parquet')")


@pytest.mark.parametrize(
    "moment",
    [
        "0001-01-01T00:00+01:00",
        "9999-12-31T23:00-05:00",
        datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1))),
    ],
)
def test_a_moment_outside_the_years_utc_can_hold_is_refused(moment: str | datetime) -> None:
    with pytest.raises(TimeOutOfRange, match="is out of range: in UTC it falls outside years 1"):
        utc_time(moment)


@pytest.mark.parametrize("moment", [20260301, 1.5, None, b"2026-03-01"])
def test_a_moment_of_another_type_is_a_type_error(moment: object) -> None:
    with pytest.raises(TypeError, match="a time is a str, date or datetime, not "):
        utc_time(moment)  # type: ignore[arg-type]
