"""Safe on a schedule: one refresh at a time, crash safety, readers, the shrink guard,
rebuilds from the archive and retention."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from modelcat.demo.mirror import MirrorServer
from tests.support import FAST, current_tables, modelcat, query, refresh, wait_for
from tests.support.archive import DAMAGE, damage
from tests.support.mirror import change_input_prices, slow_pages
from transforms.pages.archive import PageArchive

HISTORY = {
    "model_history": "model_id, valid_from",
    "price_history": "model_id, provider, region, metric, tier_min_tokens, valid_from",
    "changes": "run_id, kind, model_id, provider, field",
}


def start_refresh(server: MirrorServer, data_dir: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "modelcat.cli",
            "refresh",
            "--start-url",
            server.url("/llms.txt"),
            "--data-dir",
            str(data_dir),
            *FAST,
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def holds_lock(data_dir: Path) -> bool:
    lock = data_dir / ".lock"
    return lock.exists() and lock.read_text().startswith("pid")


def input_price(data_dir: Path, model_id: str):
    rows = query(
        data_dir,
        "SELECT usd_per_mtok FROM official_prices "
        "WHERE model_id = ? AND metric = 'input' AND tier_min_tokens = 0",
        [model_id],
    )
    return rows[0][0]


def test_second_refresh_is_refused_while_one_runs(server: MirrorServer, data_dir: Path) -> None:
    server.faults = slow_pages(0.1)
    first = start_refresh(server, data_dir)
    wait_for(lambda: holds_lock(data_dir))
    second = refresh(server, data_dir)
    assert second.returncode == 3
    assert "being refreshed by pid" in second.stderr
    assert first.wait(120) == 0


def test_lock_of_a_killed_refresh_does_not_block_the_next(
    server: MirrorServer, data_dir: Path
) -> None:
    server.faults = slow_pages(0.1)
    killed = start_refresh(server, data_dir)
    wait_for(lambda: holds_lock(data_dir))
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    server.faults = None
    result = refresh(server, data_dir)
    assert result.returncode == 0, result.stderr
    assert query(data_dir, "SELECT count(*) FROM models")[0][0] == 189


def test_kill_mid_publish_keeps_the_previous_catalog(
    mirror: Path, server: MirrorServer, data_dir: Path
) -> None:
    assert refresh(server, data_dir).returncode == 0
    ((model_id, (old, new)),) = change_input_prices(mirror, 1).items()

    victim = start_refresh(server, data_dir)
    building = lambda: list(data_dir.glob(".catalog-*.duckdb"))  # noqa: E731
    wait_for(lambda: bool(building()))
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    assert building(), "the kill must land before the new catalog is committed"

    assert input_price(data_dir, model_id) == old
    assert query(data_dir, "SELECT count(*) FROM models")[0][0] == 189

    result = refresh(server, data_dir)
    assert result.returncode == 0, result.stderr
    assert input_price(data_dir, model_id) == new
    assert not building()
    assert not list((data_dir / "snapshots").glob("*.tmp"))
    published = query(data_dir, "SELECT value FROM catalog_info WHERE key = 'snapshot'")[0][0]
    assert (data_dir / "current").resolve().name == published


def test_readers_never_block_a_publish(mirror: Path, server: MirrorServer, data_dir: Path) -> None:
    assert refresh(server, data_dir).returncode == 0
    ((model_id, (old, new)),) = change_input_prices(mirror, 1).items()
    sql = "SELECT usd_per_mtok FROM official_prices WHERE model_id = ? AND metric = 'input'"
    with duckdb.connect(str(data_dir / "catalog.duckdb"), read_only=True) as reader:
        assert reader.execute(sql, [model_id]).fetchone()[0] == old
        result = refresh(server, data_dir)
        assert result.returncode == 0, result.stderr
        # The open reader keeps the catalog it opened, whole; new readers see the new one.
        assert reader.execute(sql, [model_id]).fetchone()[0] == old
    assert input_price(data_dir, model_id) == new


def test_shrink_guard_refuses_a_run_that_lost_most_models(
    mirror: Path, server: MirrorServer, data_dir: Path
) -> None:
    assert refresh(server, data_dir).returncode == 0
    index = mirror / "llms.txt"
    kept = [
        line for line in index.read_text().splitlines(keepends=True) if "/llms/models/" in line
    ][:10]
    index.write_text("# PipeLLM\n\n## Models\n\n" + "".join(kept))
    os.utime(index, (time.time() + 5, time.time() + 5))

    refused = refresh(server, data_dir)
    assert refused.returncode == 1
    assert "lost 179 of the previous catalog's 189 models" in refused.stdout
    assert "--allow-shrink" in refused.stdout
    assert query(data_dir, "SELECT count(*) FROM models")[0][0] == 189

    allowed = refresh(server, data_dir, "--allow-shrink")
    assert allowed.returncode == 0, allowed.stderr
    assert query(data_dir, "SELECT count(*) FROM models")[0][0] == 10
    statuses = [row[0] for row in query(data_dir, "SELECT status FROM runs ORDER BY run_id")]
    assert statuses == ["published", "refused", "published"]
    removed = query(data_dir, "SELECT count(*) FROM changes WHERE kind = 'model_removed'")
    assert removed[0][0] == 179


def test_a_run_that_finds_no_models_publishes_nothing(server: MirrorServer, data_dir: Path) -> None:
    result = refresh(server, data_dir, path="/no-such-index.txt")
    assert result.returncode == 1
    assert "found no models" in result.stdout
    assert not (data_dir / "catalog.duckdb").exists()


def history(data_dir: Path) -> dict[str, list[tuple]]:
    return {
        table: query(data_dir, f"SELECT * FROM {table} ORDER BY {order}")
        for table, order in HISTORY.items()
    }


def two_published_runs(mirror: Path, data_dir: Path) -> tuple[dict, dict, str]:
    """Two refreshes with three prices changed between them, the server gone after: the
    current tables, the history tables and the first run's id."""
    with MirrorServer(mirror) as server:
        assert refresh(server, data_dir).returncode == 0
        change_input_prices(mirror, 3)
        assert refresh(server, data_dir).returncode == 0
    first_run = query(data_dir, "SELECT min(run_id) FROM runs")[0][0]
    return current_tables(data_dir), history(data_dir), first_run


def test_rebuild_replays_runs_from_the_archive_without_the_network(
    mirror: Path, data_dir: Path
) -> None:
    current, past, first_run = two_published_runs(mirror, data_dir)

    # The server is gone: everything comes from the archive.
    latest = modelcat("rebuild", "--data-dir", str(data_dir))
    assert latest.returncode == 0, latest.stdout + latest.stderr
    assert current_tables(data_dir) == current
    assert history(data_dir) == past

    replay = modelcat("rebuild", "--run", first_run, "--data-dir", str(data_dir))
    assert replay.returncode == 0, replay.stdout + replay.stderr
    replayed = [line for line in replay.stdout.splitlines() if line.startswith("run ")]
    assert len(replayed) == 2
    assert all(line.endswith(": published") for line in replayed)
    assert current_tables(data_dir) == current
    assert history(data_dir) == past

    unknown = modelcat("rebuild", "--run", "20000101T000000000Z", "--data-dir", str(data_dir))
    assert unknown.returncode == 1
    assert "was not published" in unknown.stderr


def test_a_data_directory_given_relative_keeps_its_published_history_whole(
    mirror: Path, server: MirrorServer, tmp_path: Path
) -> None:
    """``--data-dir data`` (the default is relative too): the published snapshot keeps its
    history files whole, the superseded ones keep their open rows, the catalog file is
    appended to, and no run has anything to recover. Before, the publishing run thinned its
    own snapshot (its path, resolved, did not equal the same path relative), so between
    runs ``current/price_history.parquet`` was missing and each run wrote it again."""
    data_dir = tmp_path / "data"
    for run in range(3):
        if run:
            change_input_prices(mirror, 2)
        done = modelcat(
            "refresh",
            "--start-url",
            server.url("/llms.txt"),
            "--data-dir",
            "data",
            *FAST,
            cwd=tmp_path,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        current = (data_dir / "current").resolve()
        for name in ("price_history", "changes", "model_history"):
            assert (current / f"{name}.parquet").is_file(), (run, name)
            assert not (current / f"{name}.open.parquet").exists(), (run, name)
        written = query(data_dir, "SELECT value FROM catalog_info WHERE key = 'written'")
        assert written == [("appended",) if run else ("whole",)]
    snapshots = sorted(p for p in (data_dir / "snapshots").iterdir() if p != current)
    assert len(snapshots) == 2
    assert all((p / "changes.open.parquet").is_file() for p in snapshots)
    # The first run's prices were all still open when the second closed some: kept whole.
    assert (snapshots[1] / "price_history.open.parquet").is_file()
    summaries = [json.loads(p.read_text()) for p in sorted(data_dir.glob("runs/*/summary.json"))]
    assert [s["recovered"] for s in summaries] == [[], [], []]


@pytest.mark.parametrize("how", DAMAGE)
def test_a_rebuild_over_damaged_archived_bodies_keeps_their_models(
    mirror: Path, data_dir: Path, how: str
) -> None:
    """Our own disk losing a body is no news from the site: the model is not published as
    removed. The page's values are the ones its run published, and an issue says so."""
    current, past, first_run = two_published_runs(mirror, data_dir)
    # A page the last run fetched again (its price changed) and one it found unchanged.
    pages = [
        query(data_dir, f"SELECT page_url FROM models ORDER BY fetched_at {order}, model_id")[0][0]
        for order in ("DESC", "ASC")
    ]
    logged = [
        json.loads(line)
        for log in sorted((data_dir / "runs").glob("*/pages.jsonl"))
        for line in log.read_text().splitlines()
    ]
    bodies = {page["content_sha256"] for page in logged if page["final_url"] in pages}
    assert len(bodies) == 3  # the changed page's two bodies and the unchanged page's one
    for sha256 in bodies:
        damage(data_dir / "archive", sha256, how)

    for replay in ([], ["--run", first_run]):
        rebuilt = modelcat("rebuild", *replay, "--data-dir", str(data_dir))
        assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
        assert history(data_dir) == past
        now = current_tables(data_dir)
        stood_in = query(
            data_dir,
            "SELECT page_url, problem FROM quality_issues WHERE kind = 'page_structure'"
            " AND problem LIKE '%its values are those % published' ORDER BY ALL",
        )
        assert sorted(url for url, _ in stood_in) == sorted(pages)
        assert {table: rows for table, rows in now.items() if table != "quality_issues"} == {
            table: rows for table, rows in current.items() if table != "quality_issues"
        }
        assert set(current["quality_issues"]) <= set(now["quality_issues"])
        assert len(now["quality_issues"]) == len(current["quality_issues"]) + len(pages)


@pytest.mark.parametrize("keep", [1, 2])
def test_keep_prunes_raw_pages_never_history(mirror: Path, data_dir: Path, keep: int) -> None:
    with MirrorServer(mirror) as server:
        for _ in range(3):
            change_input_prices(mirror, 2)
            assert refresh(server, data_dir).returncode == 0
        past = history(data_dir)
        assert refresh(server, data_dir, "--keep", str(keep)).returncode == 0
    # Four runs were published: the last `keep` stay rebuildable, with the snapshot before.
    assert len(list((data_dir / "snapshots").iterdir())) == keep + 1
    assert history(data_dir)["price_history"][: len(past["price_history"])] != []
    assert len(history(data_dir)["changes"]) == len(past["changes"])
    archived = len(set(PageArchive(data_dir / "archive").hashes()))
    assert 190 <= archived <= 190 + 2 * keep  # one body per page, plus the changed ones
    rebuilt = modelcat("rebuild", "--data-dir", str(data_dir))
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
