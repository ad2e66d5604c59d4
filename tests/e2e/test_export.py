"""``modelcat export`` never destroys what it would write over: not the catalog, not a
snapshot, not a device or a pipe; ``--out -`` writes to standard output; ``--format xlsx``
writes a workbook, a sheet per table, exact."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.support import modelcat, query


@pytest.fixture
def data_dir(published: Path, tmp_path: Path) -> Path:
    """A private copy of the published catalog: a test here may try to write into it."""
    copy = tmp_path / "data"
    shutil.copytree(published, copy, symlinks=True)
    return copy


def fingerprint(data_dir: Path) -> dict[str, str]:
    """Every file of the data directory (links followed) by content hash."""
    return {
        str(path.relative_to(data_dir)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(data_dir.rglob("*"))
        if path.is_file()
    }


def export(data_dir: Path, out: str, output: str = "csv", table: str = "official_prices"):
    return modelcat(
        "export", table, "--format", output, "--out", out, "--data-dir", str(data_dir)
    )  # fmt: skip


@pytest.mark.parametrize(
    "target",
    [
        "catalog.duckdb",
        "current/models.parquet",
        "snapshots/{snapshot}/official_prices.parquet",
        "runs/{run}/summary.json",
        "validators.json",
        "a-new-file.csv",
    ],
)
def test_export_refuses_to_write_into_the_data_directory(data_dir: Path, target: str) -> None:
    snapshot = (data_dir / "current").resolve().name
    path = data_dir / target.format(snapshot=snapshot, run=snapshot.split(".")[0])
    before = fingerprint(data_dir)
    result = export(data_dir, str(path))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "inside the data directory" in result.stderr
    assert fingerprint(data_dir) == before
    assert query(data_dir, "SELECT count(*) FROM models")[0][0] == 189


def test_export_resolves_links_before_it_checks(data_dir: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "prices.csv").symlink_to(data_dir / "catalog.duckdb")
    (outside / "data").symlink_to(data_dir, target_is_directory=True)
    before = fingerprint(data_dir)
    for out in (outside / "prices.csv", outside / "data" / "current" / "models.parquet"):
        result = export(data_dir, str(out))
        assert result.returncode == 2, result.stderr
        assert "inside the data directory" in result.stderr
    assert fingerprint(data_dir) == before


def test_export_refuses_to_replace_what_is_not_a_regular_file(
    data_dir: Path, tmp_path: Path
) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    link = tmp_path / "link.csv"
    link.symlink_to(fifo)
    for out in (fifo, link):
        result = export(data_dir, str(out))
        assert result.returncode == 2, result.stderr
        assert "not a regular file" in result.stderr
        assert "--out -" in result.stderr
    assert fifo.is_fifo()
    assert link.is_symlink()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_export_replaces_a_regular_file_whole(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "prices.csv"
    out.write_text("old export\n")
    with out.open() as reader:  # a reader of the old file keeps the old file, whole
        result = export(data_dir, str(out))
        assert result.returncode == 0, result.stderr
        assert reader.read() == "old export\n"
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == query(data_dir, "SELECT count(*) FROM official_prices")[0][0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "prices.csv"]


@pytest.mark.parametrize("output", ["csv", "jsonl", "parquet"])
def test_export_to_standard_output(data_dir: Path, tmp_path: Path, output: str) -> None:
    command = [sys.executable, "-m", "modelcat.cli", "export", "official_prices"]
    command += ["--format", output, "--out", "-", "--data-dir", str(data_dir)]
    streamed = subprocess.run(command, capture_output=True, check=False, cwd=tmp_path)
    assert streamed.returncode == 0, streamed.stderr
    assert b"to standard output" in streamed.stderr
    assert not (tmp_path / "-").exists()
    result = export(data_dir, str(tmp_path / f"file.{output}"), output)
    assert result.returncode == 0, result.stderr
    written = (tmp_path / f"file.{output}").read_bytes()
    if output == "parquet":
        assert pq.read_table(pa.BufferReader(streamed.stdout)) == pq.read_table(
            pa.BufferReader(written)
        )
    else:
        assert streamed.stdout == written
    if output == "jsonl":
        rows = [json.loads(line) for line in io.StringIO(streamed.stdout.decode())]
        assert all(isinstance(row["usd_per_mtok"], str) for row in rows)


def test_xlsx_is_a_sheet_per_table_with_exact_values(published: Path, tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    out = tmp_path / "catalog.xlsx"
    tables = ["models", "official_prices", "provider_offers"]
    result = modelcat(
        "export", *tables, "--format", "xlsx", "--out", str(out), "--data-dir", str(published)
    )
    assert result.returncode == 0, result.stderr
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == tables
    sheet = book["official_prices"]
    header, *rows = sheet.iter_rows()
    names = [c.value for c in header]
    assert names == ["model_id", "tier_label", "tier_min_tokens", "tier_max_tokens", "metric",
                     "usd_per_mtok", "raw_value"]  # fmt: skip
    want = {
        (m, t, k): p
        for m, t, k, p in query(
            published, "SELECT model_id, tier_label, metric, usd_per_mtok FROM official_prices"
        )
    }
    got = {}
    for row in rows:
        cells = dict(zip(names, row, strict=True))
        assert cells["model_id"].data_type == "s"
        price = cells["usd_per_mtok"]
        if price.value is not None:
            assert price.number_format == "0.000000000"
        key = (cells["model_id"].value, cells["tier_label"].value, cells["metric"].value)
        got[key] = None if price.value is None else Decimal(repr(price.value))
    assert got == want  # every price, to the last digit
    assert book["models"].max_row == 1 + query(published, "SELECT count(*) FROM models")[0][0]


def test_several_tables_need_xlsx(published: Path, tmp_path: Path) -> None:
    result = modelcat(
        "export", "models", "runs", "--format", "csv", "--out", str(tmp_path / "x.csv"),
        "--data-dir", str(published),
    )  # fmt: skip
    assert result.returncode == 2
    assert "--format xlsx writes several" in result.stderr
