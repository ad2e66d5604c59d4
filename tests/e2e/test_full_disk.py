"""A full disk while publishing (issue 18 item 9), for real: the real ``modelcat refresh``
runs with a limit on the size of any file it writes (``RLIMIT_FSIZE``, as ``ulimit -f``
sets it), so writing the catalog file fails with EFBIG the way a full disk fails with ENOSPC:
the same ``OSError`` from the same ``write``. The old catalog stays whole, the run is
recorded as failed with the reason, and nothing it wrote of the new catalog is left."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from modelcat.demo.mirror import MirrorServer
from tests.support import FAST, current_tables, modelcat, query, refresh
from tests.support.limits import limit_file_size
from tests.support.mirror import change_input_prices

# Above every file a crawl and a snapshot of the demo write (under 100 kB), below the
# catalog file (a few MB).
FILE_LIMIT_BYTES = 1_000_000


def limited(*args: str) -> subprocess.CompletedProcess:
    """The real command, no file it writes allowed past ``FILE_LIMIT_BYTES``."""

    return subprocess.run(
        [sys.executable, "-m", "modelcat.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
        preexec_fn=lambda: limit_file_size(FILE_LIMIT_BYTES),
        timeout=300,
        check=False,
    )


def snapshots(data_dir: Path) -> list[str]:
    return sorted(path.name for path in (data_dir / "snapshots").iterdir())


def test_a_full_disk_while_publishing_keeps_the_old_catalog_and_says_why(
    mirror: Path, server: MirrorServer, data_dir: Path
) -> None:
    assert refresh(server, data_dir).returncode == 0
    before = current_tables(data_dir)
    catalog = (data_dir / "catalog.duckdb").read_bytes()
    (first,) = snapshots(data_dir)
    change_input_prices(mirror, 3)

    where = ["--data-dir", str(data_dir)]
    full = limited("refresh", "--start-url", server.url("/llms.txt"), *where, *FAST)
    assert full.returncode == 1, full.stdout + full.stderr
    assert "Traceback" not in full.stderr
    (failed_run,) = [p.name for p in (data_dir / "runs").iterdir() if p.name != first]
    # The summary is printed, and recorded, with the reason.
    assert f"run {failed_run}: failed" in full.stdout
    (reason,) = [line for line in full.stdout.splitlines() if "could not be written" in line]
    assert reason.strip().startswith("the catalog could not be written (")
    assert "File too large" in reason  # EFBIG, as the disk said it
    assert "the catalog at" in full.stdout
    assert f"is unchanged ({first})" in full.stdout
    summary = json.loads((data_dir / "runs" / failed_run / "summary.json").read_text())
    assert summary["status"] == "failed"
    assert summary["message"] == reason.strip()
    assert summary["message"].endswith("nothing was published")
    # The old catalog, whole and unchanged; nothing of the new one is left.
    assert (data_dir / "catalog.duckdb").read_bytes() == catalog
    assert current_tables(data_dir) == before
    assert snapshots(data_dir) == [first]
    assert not list(data_dir.glob(".catalog-*"))
    assert modelcat("quality", *where).returncode == 0

    # The next run, with room, publishes and records the failed run as it ended.
    again = refresh(server, data_dir)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "killed?" not in again.stdout
    runs = query(data_dir, "SELECT run_id, status, message FROM runs ORDER BY run_id")
    assert [(r[0], r[1]) for r in runs[:2]] == [(first, "published"), (failed_run, "failed")]
    assert runs[1][2] == summary["message"]
    assert runs[2][1] == "published"


def test_the_next_run_removes_a_snapshot_no_catalog_points_at(
    server: MirrorServer, data_dir: Path
) -> None:
    """A run killed between writing its snapshot and committing it (or one whose cleanup
    failed too) leaves an orphan snapshot: the next run removes it and says so."""
    assert refresh(server, data_dir).returncode == 0
    (first,) = snapshots(data_dir)
    orphan = "29990101T000000000Z"  # a run that ended without publishing
    shutil.copytree(data_dir / "snapshots" / first, data_dir / "snapshots" / orphan)
    run_dir = data_dir / "runs" / orphan
    run_dir.mkdir()
    record = {"run_id": orphan, "started_at": "2999-01-01T00:00:00.000+00:00", "status": "failed"}
    (run_dir / "summary.json").write_text(json.dumps(record | {"start_urls": None}))
    again = refresh(server, data_dir)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"snapshots/{orphan} was written by a run that was not published (failed)" in (
        again.stdout
    )
    assert orphan not in snapshots(data_dir)
    assert first in snapshots(data_dir)  # a published run's snapshot stays
