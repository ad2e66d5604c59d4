"""The clock goes back (issue 18 item 3): an NTP step or a VM restore puts the system clock
behind the last run. The real ``modelcat`` command runs under ``faketime`` (libfaketime, the
Debian package ``faketime``), so every process of the run, the crawl's too, reads the wrong
time. Runs still go forward: the run id and start are the last run's plus a millisecond,
the clock's reading is kept as ``clock_started_at``, and no history interval ends before it
starts. (Many runs under a clock that jumps, in process: ``tests/modelcat/run/
test_clock_stateful.py``.)"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from modelcat.demo.mirror import MirrorServer
from tests.support import FAST, modelcat, query, refresh
from tests.support.mirror import change_input_prices

FAKETIME = shutil.which("faketime")
pytestmark = pytest.mark.skipif(
    FAKETIME is None and not os.environ.get("CI"),
    reason="needs faketime (apt-get install faketime); .ci/run installs it",
)
KEYS = {
    "model_history": "model_id",
    "offer_history": "model_id, provider, region",
    "price_history": "model_id, provider, region, tier_label, tier_min_tokens, "
    "tier_max_tokens, metric",
}


def behind(offset: str, *args: str) -> subprocess.CompletedProcess:
    """The real command with the system clock ``offset`` away (``-2d``), for it and its
    children."""
    assert FAKETIME is not None, "faketime is not installed"
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run(
        [FAKETIME, "-f", offset, sys.executable, "-m", "modelcat.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def test_a_refresh_with_the_clock_two_days_back(
    mirror: Path, server: MirrorServer, data_dir: Path
) -> None:
    assert refresh(server, data_dir).returncode == 0
    changed = change_input_prices(mirror, 3)
    where = ["--data-dir", str(data_dir)]
    late = behind("-2d", "refresh", "--start-url", server.url("/llms.txt"), *where, *FAST)
    assert late.returncode == 0, late.stdout + late.stderr
    runs = query(
        data_dir, "SELECT run_id, started_at, clock_started_at, finished_at FROM runs ORDER BY 1"
    )
    (first, _, first_clock, _), (second, started, clock, finished) = runs
    assert second > first  # run ids, and so run order, never go back
    assert started == datetime.strptime(first, "%Y%m%dT%H%M%S%fZ") + timedelta(milliseconds=1)
    # The clock as it read: two days behind the first run.
    assert timedelta(days=1, hours=23) < first_clock - clock < timedelta(days=2, hours=1)
    assert finished >= started
    real_now = datetime.now(UTC).replace(tzinfo=None)
    assert abs(real_now - timedelta(days=2) - clock) < timedelta(minutes=10)

    for table, key in KEYS.items():
        assert query(data_dir, f"SELECT count(*) FROM {table} WHERE valid_to <= valid_from") == [
            (0,)
        ]
        twice = f"SELECT {key} FROM {table} WHERE valid_to IS NULL GROUP BY ALL HAVING count(*) > 1"
        assert query(data_dir, twice) == []
    # The new prices are open, read and confirmed by the late run; the old ones closed.
    for model_id, (old, new) in changed.items():
        rows = query(
            data_dir,
            "SELECT usd_per_mtok, valid_to IS NULL, first_run_id, last_run_id "
            "FROM price_history WHERE model_id = ? AND provider IS NULL AND metric = 'input' "
            "AND tier_min_tokens = 0 ORDER BY valid_from",
            [model_id],
        )
        assert rows == [(old, False, first, first), (new, True, second, second)]
    feed = query(data_dir, "SELECT DISTINCT run_id, kind FROM changes WHERE run_id = ?", [second])
    assert feed == [(second, "price_changed")]

    # quality answers for the late run, the catalog's own.
    quality = behind("-2d", "quality", *where, "-f", "csv")
    assert quality.returncode == 0, quality.stderr
    assert query(data_dir, "SELECT DISTINCT run_id FROM quality_issues") in ([(second,)], [])

    # A plain rebuild, the clock still behind, re-derives the late run, not the first.
    rebuilt = behind("-2d", "rebuild", *where)
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert f"run {second}" in rebuilt.stdout
    assert f"run {first}" not in rebuilt.stdout
    assert (data_dir / "current").resolve().name.startswith(f"{second}.rebuilt-")
    # A second rebuild, the clock further back, still becomes the newest snapshot.
    again = behind("-3d", "rebuild", *where)
    assert again.returncode == 0, again.stdout + again.stderr
    snapshots = sorted(p.name for p in (data_dir / "snapshots").glob(f"{second}.rebuilt-*"))
    assert len(snapshots) == 2
    assert (data_dir / "current").resolve().name == snapshots[-1]
    assert modelcat("sql", "SELECT count(*) FROM models", *where).returncode == 0
