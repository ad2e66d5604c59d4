"""Stopping a refresh: SIGINT to its process group (what a terminal's Ctrl-C sends) or SIGTERM
(what systemd and ``timeout`` send), to a real ``modelcat refresh`` in the middle of its crawl.

Nothing is published, nothing it had is lost (the validator store, the archive), the run is
recorded as interrupted, the crawl child is gone, and the next refresh is incremental.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from modelcat.demo.mirror import MirrorServer
from tests.support import FAST, current_tables, query, refresh, wait_for
from tests.support.mirror import change_input_prices, slow_pages
from transforms.pages.archive import PageArchive, Validators

UNCHANGED = "interrupted; the published catalog is unchanged"


def start(server: MirrorServer, data_dir: Path) -> subprocess.Popen:
    """A refresh in a process group of its own, as a shell runs a foreground job."""
    command = [sys.executable, "-m", "modelcat.cli", "refresh", "--start-url", server.url()]
    return subprocess.Popen(
        [*command, "--data-dir", str(data_dir), *FAST],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
    )


def staging_run(data_dir: Path, known: set[str], pages: int) -> Path:
    """Wait until a new run has staged ``pages`` pages; returns its directory."""

    def found() -> Path | None:
        for run in (data_dir / "runs").glob("*"):
            log = run / "pages.jsonl"
            if run.name not in known and log.exists() and log.read_text().count("\n") >= pages:
                return run
        return None

    wait_for(lambda: found() is not None, timeout=120, every=0.01)
    run = found()
    assert run is not None
    return run


def children(process: subprocess.Popen) -> list[int]:
    listed = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text()
    return [int(pid) for pid in listed.split()]


def alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def check_local_state(data_dir: Path, before: Validators) -> Validators:
    """The validator store reads whole, names only bodies the archive gives back intact,
    and still knows every URL it knew; nothing half written is left about."""
    store = Validators.load(data_dir / "validators.json")
    assert (store.unreadable, store.dropped) == (None, 0)
    archive = PageArchive(data_dir / "archive")
    assert all(archive.intact(v.content_sha256) for v in store.entries.values())
    assert set(before.entries) <= set(store.entries)
    leftovers = [
        *data_dir.rglob("*.partial"),
        *data_dir.rglob("*.tmp"),
        *data_dir.glob(".catalog-*"),
    ]
    assert leftovers == []
    return store


@pytest.mark.parametrize(
    ("signum", "to_group", "code"),
    [
        (signal.SIGINT, True, 130),  # Ctrl-C in a terminal
        (signal.SIGTERM, False, 143),  # kill PID: only the refresh hears it, not its crawl
    ],
    ids=["ctrl-c", "sigterm"],
)
def test_a_stopped_refresh_keeps_everything_and_the_next_one_is_incremental(
    mirror: Path, server: MirrorServer, data_dir: Path, signum: int, to_group: bool, code: int
) -> None:
    assert refresh(server, data_dir).returncode == 0
    published = current_tables(data_dir)
    before = Validators.load(data_dir / "validators.json")
    changed = change_input_prices(mirror, 3)
    known = {run.name for run in (data_dir / "runs").iterdir()}

    server.faults = slow_pages(0.05)
    victim = start(server, data_dir)
    run = staging_run(data_dir, known, pages=20)
    crawl = children(victim)
    assert crawl, "the crawl runs in a child process"
    (os.killpg if to_group else os.kill)(victim.pid, signum)
    out, err = victim.communicate(timeout=60)

    assert victim.returncode == code, out + err
    assert UNCHANGED in err
    assert not any(alive(pid) for pid in crawl)
    record = json.loads((run / "summary.json").read_text())
    assert record["status"] == "interrupted"
    assert signal.Signals(signum).name in record["message"]
    assert record["pages_seen"] >= 20
    assert f"run {run.name}: interrupted" in out
    assert current_tables(data_dir) == published
    check_local_state(data_dir, before)

    server.faults = None
    conditional = server.conditional_requests
    result = refresh(server, data_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    assert server.conditional_requests - conditional >= 0.95 * len(before.entries)
    statuses = query(data_dir, "SELECT run_id, status, pages_seen FROM runs ORDER BY run_id")
    assert [(s, n >= 20) for r, s, n in statuses if r == run.name] == [("interrupted", True)]
    prices = query(
        data_dir,
        "SELECT model_id, usd_per_mtok FROM official_prices "
        "WHERE metric = 'input' AND tier_min_tokens = 0 AND model_id IN ?",
        [list(changed)],
    )
    assert dict(prices) == {model_id: new for model_id, (_, new) in changed.items()}


def test_ctrl_c_twice_and_at_random_moments_never_leaves_a_mess(
    mirror: Path, server: MirrorServer, data_dir: Path
) -> None:
    """However often and whenever Ctrl-C comes, the run either published or changed nothing,
    and its record says which."""
    assert refresh(server, data_dir).returncode == 0
    before = Validators.load(data_dir / "validators.json")
    rounds = int(os.environ.get("MODELCAT_INTERRUPT_ROUNDS", "2"))
    chance = random.Random(int(os.environ.get("MODELCAT_INTERRUPT_SEED", "8")))
    server.faults = slow_pages(0.01)
    published: dict[str, object] = {}  # model id -> the input price the catalog has
    for _ in range(rounds):
        ((model_id, (old, new)),) = change_input_prices(mirror, 1).items()
        published.setdefault(model_id, old)
        known = {run.name for run in (data_dir / "runs").iterdir()}
        victim = start(server, data_dir)
        run = staging_run(data_dir, known, pages=1)
        time.sleep(chance.uniform(0, 3))
        os.killpg(victim.pid, signal.SIGINT)
        time.sleep(chance.uniform(0, 0.2))
        if victim.poll() is None:
            os.killpg(victim.pid, signal.SIGINT)  # the impatient second Ctrl-C
        out, err = victim.communicate(timeout=60)

        record = json.loads((run / "summary.json").read_text())
        price = query(
            data_dir,
            "SELECT usd_per_mtok FROM official_prices "
            "WHERE model_id = ? AND metric = 'input' AND tier_min_tokens = 0",
            [model_id],
        )[0][0]
        if victim.returncode == 0:  # Ctrl-C came once the run was committing: it finished
            assert record["status"] == "published"
            published[model_id] = new
        else:
            assert victim.returncode == 130, out + err
            assert record["status"] == "interrupted"
            assert UNCHANGED in err
        assert price == published[model_id]
        before = check_local_state(data_dir, before)
    server.faults = None
    result = refresh(server, data_dir)
    assert result.returncode == 0, result.stdout + result.stderr


def test_kill_9_at_any_moment_loses_neither_the_catalog_nor_a_run(
    mirror: Path, server: MirrorServer, data_dir: Path
) -> None:
    """``kill -9`` of the refresh and its crawl (the OOM killer, a power cut) at random
    moments, with a price changing each time. After every kill the catalog opens and every
    run it lists agrees with that run's summary, but for a run killed between its commit and
    its summary; after the next refresh, every run is recorded and agrees."""
    assert refresh(server, data_dir).returncode == 0
    started = time.monotonic()
    assert refresh(server, data_dir).returncode == 0
    duration = time.monotonic() - started
    rounds = int(os.environ.get("MODELCAT_KILL_ROUNDS", "3"))
    chance = random.Random(int(os.environ.get("MODELCAT_KILL_SEED", "9")))
    for _ in range(rounds):
        ((model_id, (_, new)),) = change_input_prices(mirror, 1).items()
        known = {run.name for run in (data_dir / "runs").iterdir()}
        victim = start(server, data_dir)
        time.sleep(chance.uniform(0, 1.2 * duration))
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait()

        assert query(data_dir, "SELECT count(*) FROM models")[0][0] == 189
        killed = {run.name for run in (data_dir / "runs").iterdir()} - known
        records = recorded(data_dir)
        for run_id, status in query(data_dir, "SELECT run_id, status FROM runs"):
            if run_id in records:
                assert records[run_id] == status
            else:
                assert run_id in killed, run_id
                assert status == "published"

    result = refresh(server, data_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    records = recorded(data_dir)
    assert set(records) == {run.name for run in (data_dir / "runs").iterdir()}
    assert dict(query(data_dir, "SELECT run_id, status FROM runs")) == records
    rows = query(
        data_dir,
        "SELECT usd_per_mtok FROM official_prices "
        "WHERE model_id = ? AND metric = 'input' AND tier_min_tokens = 0",
        [model_id],
    )
    assert rows == [(new,)]


def recorded(data_dir: Path) -> dict[str, str]:
    """Run id -> status, from every summary.json that reads."""
    statuses = {}
    for path in (data_dir / "runs").glob("*/summary.json"):
        try:
            statuses[path.parent.name] = json.loads(path.read_text())["status"]
        except ValueError:
            continue
    return statuses


def test_an_interrupted_rebuild_leaves_the_catalog_and_no_snapshot_behind(
    mirror: Path, server: MirrorServer, data_dir: Path
) -> None:
    assert refresh(server, data_dir).returncode == 0
    change_input_prices(mirror, 2)
    assert refresh(server, data_dir).returncode == 0
    published = current_tables(data_dir)
    snapshots = sorted(p.name for p in (data_dir / "snapshots").iterdir())
    first = sorted(p.name for p in (data_dir / "runs").iterdir())[0]

    command = [sys.executable, "-m", "modelcat.cli", "rebuild", "--run", first]
    victim = subprocess.Popen(
        [*command, "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # The first run is rebuilt (its snapshot written, not committed); the second is building.
    wait_for(lambda: any((data_dir / "snapshots").glob(f"{first}.rebuilt-*")), every=0.01)
    victim.send_signal(signal.SIGINT)
    out, err = victim.communicate(timeout=60)

    assert victim.returncode == 130, out + err
    assert f"{UNCHANGED} (SIGINT)" in err
    assert sorted(p.name for p in (data_dir / "snapshots").iterdir()) == snapshots
    assert current_tables(data_dir) == published
