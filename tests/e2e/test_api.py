"""The Python API (``import modelcat``): light to import, exact types, as-of, and a fresh
view of the catalog after every publish even in a process that holds an old connection."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from decimal import Decimal
from importlib.metadata import version
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

import modelcat
from modelcat.demo.mirror import MirrorServer
from tests.support import modelcat as run_cli
from tests.support import query, refresh
from tests.support.mirror import change_input_prices
from transforms.contract.columns import USD
from transforms.contract.tables import TABLES


def test_import_is_light_and_versioned() -> None:
    heavy = {"scrapy", "twisted", "pandas", "pandera", "pyarrow"}
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, modelcat; loaded = {m.split('.')[0] for m in sys.modules}; "
            f"print(modelcat.__version__, sorted(loaded & {heavy!r}))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split(maxsplit=1)
    assert loaded == [version("modelcat"), "[]\n"]
    assert modelcat.__version__ == version("modelcat")
    for command in (
        [sys.executable, "-m", "modelcat"],
        [sys.executable, "-m", "modelcat.cli"],
    ):
        shown = subprocess.run([*command, "--version"], capture_output=True, text=True, check=True)
        assert shown.stdout == f"modelcat {modelcat.__version__}\n"


@pytest.mark.parametrize("table", [*TABLES, "catalog_info"])
def test_read_any_table_in_exact_types(published: Path, table: str) -> None:
    frame = modelcat.read(table, data_dir=published)
    assert isinstance(frame, pd.DataFrame)
    assert len(frame) == query(published, f"SELECT count(*) FROM {table}")[0][0]
    assert not any(pd.api.types.is_float_dtype(dtype) for dtype in frame.dtypes)
    if table in TABLES:
        assert list(frame.columns) == TABLES[table].names
        for column in TABLES[table].columns:
            if column.type == USD:
                assert frame[column.name].dtype == pd.ArrowDtype(USD)
                assert all(isinstance(v, Decimal) for v in frame[column.name].dropna())


def test_read_keeps_prices_digit_for_digit(published: Path) -> None:
    prices = modelcat.read("official_prices", data_dir=published)
    want = dict(
        query(
            published, "SELECT model_id || metric || tier_label, usd_per_mtok FROM official_prices"
        )
    )
    got = dict(
        zip(
            prices["model_id"] + prices["metric"] + prices["tier_label"],
            prices["usd_per_mtok"],
            strict=True,
        )
    )
    assert got == want


def test_read_as_of_uses_the_history(published: Path) -> None:
    (started,) = query(published, "SELECT started_at FROM runs")[0]
    before = (started - timedelta(minutes=30)).isoformat()
    after = (started + timedelta(minutes=30)).isoformat()
    for table in ("models", "official_prices", "provider_offers"):
        with pytest.warns(modelcat.BeforeHistory):
            assert modelcat.read(table, data_dir=published, as_of=before).empty
        then = modelcat.read(table, data_dir=published, as_of=after)
        assert len(then) == len(modelcat.read(table, data_dir=published)) > 0
    # 30 minutes before the run, written as a time in +01:00 (that reads 30 minutes after it).
    local = (started + timedelta(minutes=30)).isoformat() + "+01:00"
    with pytest.warns(modelcat.BeforeHistory):
        assert modelcat.read("models", data_dir=published, as_of=local).empty
    prices = modelcat.read("official_prices", data_dir=published, as_of=started)
    assert prices["usd_per_mtok"].dtype == pd.ArrowDtype(USD)


def test_read_and_open_say_what_is_wrong(published: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"no table 'nope'; tables: .*models"):
        modelcat.read("nope", data_dir=published)
    with pytest.raises(ValueError, match="as_of applies to models"):
        modelcat.read("pages", data_dir=published, as_of="2026-01-01")
    with pytest.raises(ValueError, match="not an ISO 8601 date or time"):
        modelcat.read("models", data_dir=published, as_of="yesterday")
    with pytest.raises(modelcat.CatalogNotFound, match="modelcat refresh"):
        modelcat.open(tmp_path / "nothing")


def test_open_is_read_only_and_has_the_macros(published: Path, monkeypatch) -> None:
    monkeypatch.setenv("MODELCAT_DATA_DIR", str(published))
    with modelcat.open() as con:
        assert con.execute("SELECT count(*) FROM models_as_of(now())").fetchone() == (189,)
        typed = con.execute("SELECT typeof(usd_per_mtok) FROM official_prices LIMIT 1")
        assert typed.fetchone() == ("DECIMAL(18,9)",)
        with pytest.raises(duckdb.Error, match="read-only"):
            con.execute("CREATE TABLE scratch AS SELECT 1")
    with (
        modelcat.open(published, external_access=False) as con,
        pytest.raises(duckdb.Error, match="disabled"),
    ):
        con.execute("SELECT * FROM read_csv('/etc/passwd')")
    arrow = modelcat.read("runs", data_dir=published)["quality_issues_by_kind"].dtype
    assert arrow == pd.ArrowDtype(pa.map_(pa.string(), pa.int64()))


def price(con: duckdb.DuckDBPyConnection, model_id: str) -> Decimal:
    return con.execute(
        "SELECT usd_per_mtok FROM official_prices "
        "WHERE model_id = ? AND metric = 'input' AND tier_min_tokens = 0",
        [model_id],
    ).fetchone()[0]


def test_a_new_open_sees_a_new_publish_while_an_old_connection_is_held(
    mirror: Path, data_dir: Path
) -> None:
    with MirrorServer(mirror) as server:
        assert refresh(server, data_dir).returncode == 0
        held = modelcat.open(data_dir)
        plain = duckdb.connect(str(data_dir / "catalog.duckdb"), read_only=True)
        ((model_id, (old, new)),) = change_input_prices(mirror, 1).items()
        assert refresh(server, data_dir).returncode == 0
    try:
        assert price(held, model_id) == old  # the version it opened, whole
        with modelcat.open(data_dir) as fresh:
            assert price(fresh, model_id) == new
        prices = modelcat.read("official_prices", data_dir=data_dir).set_index(
            ["model_id", "metric", "tier_min_tokens"]
        )
        assert prices.loc[(model_id, "input", 0), "usd_per_mtok"] == new
        # What the API avoids: DuckDB hands a second plain connect the instance it holds.
        with duckdb.connect(str(data_dir / "catalog.duckdb"), read_only=True) as cached:
            assert price(cached, model_id) == old
        assert run_cli("sql", "SELECT 1", "--data-dir", str(data_dir)).returncode == 0
    finally:
        held.close()
        plain.close()


def test_read_floats_only_when_asked(published: Path) -> None:
    exact = modelcat.read("official_prices", data_dir=published)
    floats = modelcat.read("official_prices", data_dir=published, decimals="float")
    assert exact["usd_per_mtok"].dtype == pd.ArrowDtype(USD)
    assert floats["usd_per_mtok"].dtype == "float64"
    summary = floats["usd_per_mtok"].describe()  # what exact decimals cannot do in pandas
    assert summary["count"] == exact["usd_per_mtok"].count()
    for value, approx in zip(exact["usd_per_mtok"], floats["usd_per_mtok"], strict=True):
        assert (value is pd.NA and pd.isna(approx)) or float(value) == approx
    assert floats["tier_min_tokens"].dtype == exact["tier_min_tokens"].dtype  # only decimals
    with pytest.raises(ValueError, match="decimals must be"):
        modelcat.read("models", data_dir=published, decimals="approximate")  # type: ignore[arg-type]
