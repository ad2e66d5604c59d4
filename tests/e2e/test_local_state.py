"""Local state gone bad, the way crashes, full disks and people leave it: every refresh or
rebuild after it recovers where the data allows, says what it did, and otherwise says in
one line how to fix it. Never a traceback, never history silently restarted.

Each test gets a copy of one data directory with two published runs (the second saw two
prices change), served by one loopback mirror that no test changes.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from modelcat.demo import DEMO_MIRROR
from modelcat.demo.mirror import MirrorHandler, MirrorServer
from tests.support import current_tables, modelcat, query, refresh
from tests.support.archive import damage, frame_of, replace_frame
from tests.support.mirror import change_input_prices
from transforms.build.plan import plan_build
from transforms.contract.layout import DataDir
from transforms.pages.archive import PageArchive

FEED = "SELECT * FROM changes ORDER BY ALL"
RUNS = "SELECT run_id, status, pages_seen, models_published FROM runs ORDER BY run_id"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, MirrorServer]]:
    mirror = tmp_path_factory.mktemp("site") / "mirror"
    shutil.copytree(DEMO_MIRROR, mirror)
    with MirrorServer(mirror) as server:
        yield mirror, server


@pytest.fixture(scope="module")
def base(site: tuple[Path, MirrorServer], tmp_path_factory: pytest.TempPathFactory) -> Path:
    mirror, server = site
    data = tmp_path_factory.mktemp("base") / "data"
    assert refresh(server, data).returncode == 0
    change_input_prices(mirror, 2)
    assert refresh(server, data).returncode == 0
    return data


@pytest.fixture
def server(site: tuple[Path, MirrorServer]) -> Iterator[MirrorServer]:
    _, running = site
    running.faults = None
    yield running
    running.faults = None


@pytest.fixture
def data_dir(base: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(base, copy, symlinks=True)
    return copy


def runs(data_dir: Path) -> list[str]:
    return sorted(p.name for p in (data_dir / "runs").iterdir())


def summary(data_dir: Path, run_id: str) -> dict:
    return json.loads((data_dir / "runs" / run_id / "summary.json").read_text())


def no_traceback(result: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr


def index_down(handler: MirrorHandler, path: str) -> bool:
    if path == "/llms.txt":
        handler.answer(503, b"down\n", "text/plain")
        return True
    return False


VALIDATOR_DAMAGE = {
    "not JSON": lambda text: "{not json",
    "an array": lambda text: "[]",
    "truncated": lambda text: text[: len(text) // 2],
    "an entry of the wrong shape": lambda text: json.dumps(
        {**json.loads(text), next(iter(json.loads(text))): {"etag": 7}}
    ),
}


@pytest.mark.parametrize("damage", VALIDATOR_DAMAGE)
def test_an_unreadable_validator_store_is_set_aside(
    server: MirrorServer, data_dir: Path, base: Path, damage: str
) -> None:
    store = data_dir / "validators.json"
    damaged = VALIDATOR_DAMAGE[damage](store.read_text())
    store.write_text(damaged)
    entries = len(json.loads((base / "validators.json").read_text()))

    conditional = server.conditional_requests
    result = refresh(server, data_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    no_traceback(result)
    run_id = runs(data_dir)[-1]
    (recovered,) = summary(data_dir, run_id)["recovered"]
    assert recovered.startswith("validators.json")
    assert "recovered: validators.json" in result.stdout
    assert (data_dir / "runs" / run_id / "validators.unreadable.json").read_text() == damaged
    revalidated = server.conditional_requests - conditional
    assert revalidated == (entries - 1 if damage == "an entry of the wrong shape" else 0)
    assert query(data_dir, FEED) == query(base, FEED)

    if damage == "not JSON":  # and the store is whole again
        conditional = server.conditional_requests
        again = refresh(server, data_dir)
        assert again.returncode == 0, again.stderr
        assert server.conditional_requests - conditional == entries
        assert summary(data_dir, runs(data_dir)[-1])["recovered"] == []


CATALOG_DAMAGE = {
    "garbage": lambda data: (data / "catalog.duckdb").write_bytes(b"\x00garbage" * 999),
    "zero bytes": lambda data: (data / "catalog.duckdb").write_bytes(b""),
    "missing": lambda data: (data / "catalog.duckdb").unlink(),
    "garbage, no current link": lambda data: [
        (data / "catalog.duckdb").write_bytes(b"garbage"),
        (data / "current").unlink(),
    ],
}


@pytest.mark.parametrize("damage", CATALOG_DAMAGE)
def test_a_damaged_catalog_is_built_again_from_its_snapshot(
    server: MirrorServer, data_dir: Path, base: Path, damage: str
) -> None:
    CATALOG_DAMAGE[damage](data_dir)
    server.faults = index_down  # this run publishes nothing: the repair alone restores it
    result = refresh(server, data_dir)
    assert result.returncode == 1, result.stdout + result.stderr
    no_traceback(result)
    assert "recovered: catalog.duckdb" in result.stdout
    assert current_tables(data_dir) == current_tables(base)
    assert query(data_dir, FEED) == query(base, FEED)
    assert (data_dir / "current").resolve().name == (base / "current").resolve().name


def test_a_rebuild_repairs_a_damaged_catalog_too(data_dir: Path, base: Path) -> None:
    (data_dir / "catalog.duckdb").write_bytes(b"garbage")
    result = modelcat("rebuild", "--data-dir", str(data_dir))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "recovered: catalog.duckdb" in result.stdout
    assert query(data_dir, FEED) == query(base, FEED)


def test_a_catalog_past_repair_says_what_to_do_and_that_works(data_dir: Path, base: Path) -> None:
    (data_dir / "catalog.duckdb").write_bytes(b"garbage")
    shutil.rmtree(data_dir / "snapshots")
    result = modelcat("refresh", "--start-url", "http://127.0.0.1:9/", "--data-dir", str(data_dir))
    assert result.returncode == 4, result.stdout + result.stderr
    no_traceback(result)
    # Progress lines (stamped with the time) come first; the error is one line after them.
    said = result.stderr.strip().splitlines()
    (line,) = [text for text in said if not text[:4].isdigit()]
    assert "modelcat rebuild --run FIRST_RUN_ID" in line

    first = runs(data_dir)[0]
    rebuilt = modelcat("rebuild", "--run", first, "--data-dir", str(data_dir))
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert current_tables(data_dir) == current_tables(base)
    assert query(data_dir, FEED) == query(base, FEED)


SNAPSHOT_DAMAGE = {
    "deleted": lambda snap: shutil.rmtree(snap),
    "a table truncated": lambda snap: (snap / "models.parquet").write_bytes(b"PAR1"),
}


@pytest.mark.parametrize("damage", SNAPSHOT_DAMAGE)
def test_a_lost_snapshot_is_written_again_from_the_catalog(
    server: MirrorServer, data_dir: Path, base: Path, damage: str
) -> None:
    SNAPSHOT_DAMAGE[damage]((data_dir / "current").resolve())
    result = refresh(server, data_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "written again from the catalog" in result.stdout
    # History goes on from the last run; it does not start again as if the site were new.
    assert summary(data_dir, runs(data_dir)[-1])["changes_by_kind"] == {}
    assert query(data_dir, FEED) == query(base, FEED)


def test_a_catalog_open_for_writing_elsewhere_is_left_alone(
    server: MirrorServer, data_dir: Path
) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); "
         "print('open', flush=True); sys.stdin.read()", str(data_dir / "catalog.duckdb")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline() == "open\n"
        result = refresh(server, data_dir)
    finally:
        holder.communicate("")
    assert result.returncode == 3, result.stdout + result.stderr
    no_traceback(result)
    assert "open for writing in another process" in result.stderr


def body_of(data_dir: Path, model_id: str) -> str:
    rows = query(data_dir, "SELECT content_sha256 FROM models WHERE model_id = ?", [model_id])
    return rows[0][0]


def price(data_dir: Path, model_id: str):
    return query(
        data_dir,
        "SELECT usd_per_mtok FROM official_prices "
        "WHERE model_id = ? AND metric = 'input' AND tier_min_tokens = 0",
        [model_id],
    )


MODEL = "gpt-4.1-mini-2025-04-14"  # input price $0.8 on the page


def forge(archive: PageArchive, sha256: str, edit: str) -> None:
    """Damage an archived body as a disk, a person or an attacker might."""
    frame = frame_of(archive.root, sha256)
    if edit == "edited page":  # a valid zstd frame of other bytes, under the same hash
        page = archive.get(sha256).replace(b"| Input Price | $0.8 |", b"| Input Price | $7.7 |")
        assert page != archive.get(sha256)
        replace_frame(archive.root, sha256, archive.codec.compress(page, asbytes=True))
    elif edit == "not zstd":
        replace_frame(archive.root, sha256, b"# not a zstd frame\n")
    else:
        replace_frame(archive.root, sha256, frame[: len(frame) // 2])


@pytest.mark.parametrize("edit", ["edited page", "not zstd", "truncated"])
def test_a_damaged_archived_body_is_never_published(data_dir: Path, edit: str) -> None:
    archive = PageArchive(data_dir / "archive")
    published, models = price(data_dir, MODEL), query(data_dir, "SELECT count(*) FROM models")
    forge(archive, body_of(data_dir, MODEL), edit)
    result = modelcat("rebuild", "--data-dir", str(data_dir))
    assert result.returncode == 0, result.stdout + result.stderr
    no_traceback(result)
    # Not $7.7 under the original content_sha256: the values the run published from the
    # real body, and the model stays (our disk lost a file; the site removed nothing).
    assert published == [(Decimal("0.8"),)]
    assert price(data_dir, MODEL) == published
    assert query(data_dir, "SELECT count(*) FROM models") == models
    (problem,) = query(
        data_dir,
        "SELECT problem FROM quality_issues WHERE kind = 'page_structure' AND page_url LIKE ?",
        [f"%/{MODEL}.md"],
    )
    assert "its values are those" in problem[0]
    assert not query(data_dir, "SELECT * FROM changes WHERE kind = 'model_removed'")


def test_a_lost_body_whose_published_values_are_gone_too_is_skipped(data_dir: Path) -> None:
    """With neither the body nor page values its run published, nothing true is left to build
    the page from: it is skipped, and said. (A lost snapshot is recovered from the catalog
    before a rebuild, so this plans without one.)"""
    sha256 = body_of(data_dir, MODEL)
    damage(data_dir / "archive", sha256, "missing")
    layout = DataDir(data_dir)
    runs_published = query(data_dir, "SELECT run_id FROM runs ORDER BY run_id")
    last, before = runs_published[-1][0], runs_published[-2][0]
    archive = PageArchive(layout.archive)
    for published in (layout.snapshot_of(last), None):
        plan = plan_build(
            layout.run(last), layout.snapshot_of(before), archive, reparse=True, published=published
        )
        chunks = list(plan.chunks())
        problems = [problem for chunk in chunks for problem in chunk.problems]
        pages = {url for chunk in chunks for url in chunk.values["page_url"].to_pylist()}
        (problem,) = [text for url, text in problems if url.endswith(f"/{MODEL}.md")]
        assert problem.startswith(f"body {sha256[:12]}… is not in the archive; ")
        if published is None:
            assert problem.endswith("page skipped")
            assert not any(url.endswith(f"/{MODEL}.md") for url in pages)
        else:
            assert problem.endswith(f"its values are those {published.publication} published")
            assert any(url.endswith(f"/{MODEL}.md") for url in pages)


def test_a_refresh_fetches_a_damaged_body_again(
    server: MirrorServer, data_dir: Path, base: Path
) -> None:
    archive = PageArchive(data_dir / "archive")
    sha256 = body_of(data_dir, MODEL)
    forge(archive, sha256, "truncated")
    result = refresh(server, data_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    outcome = query(
        data_dir, "SELECT outcome, http_status FROM pages WHERE url LIKE ?", [f"%/{MODEL}.md"]
    )
    assert outcome == [("model", 200)]  # no conditional request for a body we cannot give back
    assert archive.intact(sha256)
    assert price(data_dir, MODEL) == price(base, MODEL)
    assert query(data_dir, FEED) == query(base, FEED)


SUMMARY_DAMAGE = {
    "missing": lambda path: path.unlink(),  # kill -9 between the commit and the summary
    "truncated": lambda path: path.write_text(path.read_text()[:100]),  # an old non-atomic write
    "says failed": lambda path: path.write_text(
        json.dumps({**json.loads(path.read_text()), "status": "failed"})
    ),
}


@pytest.mark.parametrize("damage", SUMMARY_DAMAGE)
def test_the_published_runs_record_is_restored_from_the_catalog(
    data_dir: Path, base: Path, damage: str
) -> None:
    last = runs(data_dir)[-1]
    SUMMARY_DAMAGE[damage](data_dir / "runs" / last / "summary.json")
    result = modelcat("rebuild", "--data-dir", str(data_dir))
    assert result.returncode == 0, result.stdout + result.stderr
    no_traceback(result)
    assert f"runs/{last}/summary.json" in result.stdout
    restored = summary(data_dir, last)
    assert restored["status"] == "published"
    assert restored["models_published"] == 189
    # The rebuild replayed the last run, not the one before: its changes keep their date.
    assert query(data_dir, FEED) == query(base, FEED)
    assert query(data_dir, RUNS) == query(base, RUNS)


def test_a_run_killed_before_its_summary_is_recorded(server: MirrorServer, data_dir: Path) -> None:
    killed = "20000101T000000000Z"
    (data_dir / "runs" / killed).mkdir()
    (data_dir / "runs" / killed / "pages.jsonl").write_text(
        json.dumps({"url": "http://x/a.md", "http_status": 200, "outcome": "model",
                    "error": None, "retries": 0}) + '\n{"url": "http://x/b'
    )  # fmt: skip
    result = refresh(server, data_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    record = summary(data_dir, killed)
    assert (record["status"], record["pages_seen"]) == ("failed", 1)
    assert "killed" in record["message"]
    assert query(data_dir, "SELECT status FROM runs WHERE run_id = ?", [killed]) == [("failed",)]
