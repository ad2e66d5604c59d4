"""A refresh after a refresh writes its catalog file from a copy of the last one
(``catalog_file.append_catalog_file``): the closed history rows stay, the rest is loaded
again. Whatever way it was written, the file holds what one written whole from the same
snapshot holds, row for row and in order; anything that makes the live file doubtful gets
a file written whole.

The runs are real (``tests.support.runs``): saved pages staged, built and published.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from tests.support.catalogs import assert_as_if_written_whole
from tests.support.runs import SITE_MODELS, Answer, publish_run, raise_input_price
from tests.support.staging import DEMO_MODELS, demo_pages
from transforms.contract.layout import DataDir, Snapshot
from transforms.contract.tables import HISTORY_TABLES, TABLES
from transforms.pages import values
from transforms.publish import catalog_file


def published(data_dir: DataDir):
    snapshot = data_dir.published_snapshot()
    assert snapshot is not None
    return snapshot


def third_site() -> dict[str, Answer]:
    """The site of ``two_runs``' second run with one more price raised."""
    site: dict[str, Answer] = dict(demo_pages(SITE_MODELS))
    urls = list(site)
    for url in urls[:2]:
        site[url] = raise_input_price(site[url])  # type: ignore[arg-type]
    site[urls[2]] = raise_input_price(site[urls[2]])  # type: ignore[arg-type]
    return site


def test_the_second_run_appended_to_the_first_runs_file(two_runs: DataDir, tmp_path: Path) -> None:
    written = assert_as_if_written_whole(two_runs.catalog_file, published(two_runs), tmp_path)
    assert written == "appended"


def second_site() -> dict[str, Answer]:
    """The site of ``two_runs``' second run, again."""
    site: dict[str, Answer] = dict(demo_pages(SITE_MODELS))
    for url in list(site)[:2]:
        site[url] = raise_input_price(site[url])  # type: ignore[arg-type]
    return site


def test_a_run_of_an_unchanged_site_appends_too(own_copy: DataDir, tmp_path: Path) -> None:
    before = published(own_copy)
    summary = publish_run(own_copy, second_site())
    assert summary.status == "published"
    after = published(own_copy)
    assert after != before
    # The models and prices the run published are byte for byte the last run's.
    assert after.table("models").read_bytes() == before.table("models").read_bytes()
    written = assert_as_if_written_whole(own_copy.catalog_file, after, tmp_path)
    assert written == "appended"


# What an unchanged site changes: when each page was answered, the run, the run that found
# each issue, the history's runs.
CHANGE_EVERY_RUN = {"pages", "runs", "quality_issues", *HISTORY_TABLES}


def test_an_unchanged_site_is_published_byte_for_byte_as_the_run_that_fetched_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run after a full one, every page answering 304, builds its tables from the last
    catalog's rows instead of from chunks of pages; the files must still be the same bytes,
    or the catalog file loads them all again. Pages are staged 7 at a time and built in
    chunks of about 1,500 values, so that the pages fetched are built, and written, in
    parts."""
    monkeypatch.setattr("transforms.pages.staging._BATCH_PAGES", 7)
    monkeypatch.setattr(values, "CHUNK_ROWS", 1_500)
    data_dir = DataDir(tmp_path / "data")
    site = demo_pages(p.stem for p in sorted(DEMO_MODELS.glob("*.md")))
    fetched = publish_run(data_dir, site)
    reused = publish_run(data_dir, site)
    assert (fetched.status, reused.status) == ("published", "published")
    assert fetched.pages_by_outcome.get("not_modified", 0) == 0
    assert reused.pages_by_outcome["not_modified"] == len(site)
    first, second = list(data_dir.published_snapshots())
    assert pq.ParquetFile(first.table("page_values")).metadata.num_row_groups > 5
    differ = {  # the first snapshot no longer holds the history: the second has it
        n
        for n in TABLES
        if not first.has(n) or first.table(n).read_bytes() != second.table(n).read_bytes()
    }
    assert differ <= CHANGE_EVERY_RUN
    assert {"models", "official_prices", "provider_offers", "page_values"}.isdisjoint(differ)


def _copy(snapshot: Snapshot, where: Path) -> Snapshot:
    shutil.copytree(snapshot.path, where / snapshot.path.name)
    return Snapshot(where / snapshot.path.name)


def test_tables_whose_files_did_not_change_are_kept_and_the_rest_loaded(
    two_runs: DataDir, tmp_path: Path
) -> None:
    """Appending keeps a table exactly when its file is the base's; either way the file
    holds what one written whole holds. The base is the last snapshot with two tables as
    the first run published them, so keeping either shows as a difference."""
    first, second = list(two_runs.published_snapshots())[:2]
    written_from = _copy(second, tmp_path / "base")
    changed = {"models", "official_prices"}
    for name in changed:
        shutil.copyfile(first.table(name), written_from.table(name))
        assert written_from.table(name).read_bytes() != second.table(name).read_bytes()
    copy = tmp_path / "catalog.duckdb"
    catalog_file.write_catalog_file(copy, written_from)
    kept = catalog_file.append_catalog_file(copy, second, {}, written_from)
    assert set(kept) == set(TABLES) - changed
    assert_as_if_written_whole(copy, second, tmp_path)


def test_a_table_file_changed_since_the_base_was_written_is_loaded_again(
    two_runs: DataDir, tmp_path: Path
) -> None:
    """The base snapshot's file no longer the bytes the live file was loaded from (damage
    after the commit): the table is loaded from the new snapshot, not kept."""
    second = list(two_runs.published_snapshots())[1]
    written_from = _copy(second, tmp_path / "base")
    copy = tmp_path / "catalog.duckdb"
    catalog_file.write_catalog_file(copy, written_from)
    with written_from.table("models").open("r+b") as file:
        file.seek(-9, os.SEEK_END)  # inside the footer's length: not a Parquet file now
        file.write(b"\xff")
    kept = catalog_file.append_catalog_file(copy, second, {}, written_from)
    assert set(kept) == set(TABLES) - {"models"}
    assert_as_if_written_whole(copy, second, tmp_path)


def test_a_run_with_changes_appends_what_it_closed_and_opened(
    own_copy: DataDir, tmp_path: Path
) -> None:
    with duckdb.connect(str(own_copy.catalog_file), read_only=True) as con:
        closed_before = con.sql(
            "SELECT * FROM price_history WHERE valid_to IS NOT NULL"
        ).to_arrow_table()
    summary = publish_run(own_copy, third_site())
    assert summary.status == "published"
    written = assert_as_if_written_whole(own_copy.catalog_file, published(own_copy), tmp_path)
    assert written == "appended"
    with duckdb.connect(str(own_copy.catalog_file), read_only=True) as con:
        closed_now = con.sql(
            "SELECT * FROM price_history WHERE valid_to IS NOT NULL"
        ).to_arrow_table()
    # The closed rows stay first and unchanged; the run closed more.
    assert closed_now.slice(0, closed_before.num_rows).equals(closed_before)
    assert closed_now.num_rows > closed_before.num_rows


def _sql(*statements: str, as_committed: bool = False) -> Callable[[DataDir], None]:
    """Change the live file; ``as_committed``: as if this code had committed it so."""

    def change(data_dir: DataDir) -> None:
        with duckdb.connect(str(data_dir.catalog_file)) as con:
            for statement in statements:
                con.execute(statement)
        if as_committed:
            catalog_file._remember(data_dir)

    return change


def _written_from_the_first_run(data_dir: DataDir) -> None:
    first = sorted(p.name for p in data_dir.snapshots.iterdir())[0]
    change = f"UPDATE catalog_info SET value = '{first}' WHERE key = 'snapshot'"
    _sql(change, as_committed=True)(data_dir)


def _touched(data_dir: DataDir) -> None:
    stat = data_dir.catalog_file.stat()
    os.utime(data_dir.catalog_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))


# What makes the live file doubtful, and so not a base to append to.
DOUBTS: dict[str, Callable[[DataDir], None]] = {
    "written by another version of the contract or macros": _sql(
        "UPDATE catalog_info SET value = 'another' WHERE key = 'fingerprint'", as_committed=True
    ),
    "written before files said their fingerprint": _sql(
        "DELETE FROM catalog_info WHERE key = 'fingerprint'", as_committed=True
    ),
    "written from another snapshot": _written_from_the_first_run,
    "touched since it was committed": _touched,
    "its commit note lost": lambda data_dir: (data_dir.root / catalog_file.WRITTEN).unlink(),
    "a table someone added": _sql("CREATE TABLE mine AS SELECT 1 AS x"),
    "a view someone added": _sql("CREATE VIEW mine AS SELECT 1 AS x"),
    "a closed history row deleted": _sql(
        "DELETE FROM price_history WHERE rowid = "
        "(SELECT min(rowid) FROM price_history WHERE valid_to IS NOT NULL)"
    ),
    "an open history row added": _sql(
        "INSERT INTO model_history SELECT * FROM model_history WHERE valid_to IS NULL LIMIT 1"
    ),
    "a closed price changed": _sql(
        "UPDATE price_history SET usd_per_mtok = usd_per_mtok + 1 WHERE rowid = "
        "(SELECT min(rowid) FROM price_history WHERE valid_to IS NOT NULL)"
    ),
}


@pytest.mark.parametrize("doubt", DOUBTS)
def test_a_doubtful_catalog_file_is_written_whole(
    own_copy: DataDir, tmp_path: Path, doubt: str
) -> None:
    DOUBTS[doubt](own_copy)
    summary = publish_run(own_copy, third_site())
    assert summary.status == "published"
    written = assert_as_if_written_whole(own_copy.catalog_file, published(own_copy), tmp_path)
    assert written == "whole"
    with duckdb.connect(str(own_copy.catalog_file), read_only=True) as con:
        names = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert "mine" not in names  # the file is the snapshot's, nothing else


def test_a_failed_append_leaves_the_live_file_and_nothing_else(own_copy: DataDir) -> None:
    before = own_copy.catalog_file.read_bytes()
    snapshot = published(own_copy)
    with pytest.raises(duckdb.Error):
        catalog_file.append_catalog_file(
            own_copy.root / "nowhere" / "x.duckdb", snapshot, {}, snapshot
        )
    assert own_copy.catalog_file.read_bytes() == before


def test_a_crashed_writers_log_does_not_outlive_the_file_it_belonged_to(
    own_copy: DataDir, tmp_path: Path
) -> None:
    """Someone opened the catalog for writing, changed it and crashed: their write-ahead log
    stays beside the file. The next catalog file must not be read with it (DuckDB then
    refuses to open the file at all), nor hold their change."""
    crash = (
        "import duckdb, os, sys\n"
        "c = duckdb.connect(sys.argv[1])\n"
        "c.execute(\"SET wal_autocheckpoint = '1TB'\")\n"
        "c.execute('CREATE TABLE mine AS SELECT 1 AS x')\n"
        "os._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", crash, str(own_copy.catalog_file)], check=True)
    wal = own_copy.catalog_file.with_name("catalog.duckdb.wal")
    assert wal.exists()
    summary = publish_run(own_copy, third_site())
    assert summary.status == "published"
    assert not wal.exists()
    assert_as_if_written_whole(own_copy.catalog_file, published(own_copy), tmp_path)
    with duckdb.connect(str(own_copy.catalog_file), read_only=True) as con:
        names = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert "mine" not in names
