"""History is never pruned (issue 18 item 4): ``--keep N`` prunes raw pages and snapshots of
older runs, so a rebuild can only start where it still has what it needs. Asked to start
earlier, the real ``modelcat rebuild`` refuses with exit 2, names the oldest run it can
start from, and changes nothing; from that run it replays the runs and every interval
published before it stays."""

from __future__ import annotations

from pathlib import Path

from modelcat.demo.mirror import MirrorServer
from tests.support import modelcat, query, refresh
from tests.support.mirror import change_input_prices

HISTORY = {
    "price_history": "SELECT * FROM price_history ORDER BY ALL",
    "model_history": "SELECT * FROM model_history ORDER BY ALL",
    "offer_history": "SELECT * FROM offer_history ORDER BY ALL",
    "changes": "SELECT * FROM changes ORDER BY ALL",
}


def history(data_dir: Path) -> dict[str, list[tuple]]:
    return {name: query(data_dir, sql) for name, sql in HISTORY.items()}


def test_a_rebuild_starts_only_where_the_archive_still_reaches(
    mirror: Path, server: MirrorServer, data_dir: Path
) -> None:
    for changed in (0, 3, 2):  # three runs, prices changing before the second and third
        if changed:
            change_input_prices(mirror, changed)
        result = refresh(server, data_dir, "--keep", "1")
        assert result.returncode == 0, result.stdout + result.stderr
    first, second, third = (r for (r,) in query(data_dir, "SELECT run_id FROM runs ORDER BY 1"))
    before = history(data_dir)
    catalog = (data_dir / "catalog.duckdb").read_bytes()
    # The first run, older than every run kept, left only its summary.
    assert [p.name for p in (data_dir / "runs" / first).iterdir()] == ["summary.json"]
    where = ["--data-dir", str(data_dir)]

    for start, why in (
        (first, f"run {first} keeps only its summary (its page log was pruned by --keep)"),
        (second, f"the snapshot of the run before it ({first}) was pruned"),
    ):
        refused = modelcat("rebuild", "--run", start, *where)
        assert refused.returncode == 2, refused.stdout + refused.stderr
        (line,) = refused.stderr.strip().splitlines()
        assert line.startswith(f"rebuild refused: cannot rebuild from {start}: {why}")
        assert line.endswith(
            f"the oldest run that can be rebuilt is {third} (modelcat rebuild --run {third})"
        )
        assert refused.stdout == ""
        assert (data_dir / "catalog.duckdb").read_bytes() == catalog

    # From the run it named, the rebuild replays; every interval before it is still there.
    rebuilt = modelcat("rebuild", "--run", third, *where)
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert history(data_dir) == before
    # The catalog written again still lists every run, from the summaries.
    assert query(data_dir, "SELECT run_id FROM runs ORDER BY 1")[:3] == [
        (first,),
        (second,),
        (third,),
    ]
    opened_first = query(
        data_dir, "SELECT count(*) FROM price_history WHERE first_run_id = ?", [first]
    )
    assert opened_first[0][0] > 0
    added = query(data_dir, "SELECT DISTINCT run_id FROM changes WHERE kind = 'model_added'")
    assert added == [(first,)]
