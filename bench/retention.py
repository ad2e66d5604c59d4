"""What a data directory costs in disk over many scheduled runs: a synthetic mirror
(``bench.synth``, 2,000 pages by default) refreshed again and again with ``--keep N``, a
hundredth of the models changing price before each run, as a cron job every four hours
would see it. After each run it records the wall time, the refresh's peak RSS and the
bytes of each part of the data directory; it reports how much each part grows per run
once ``--keep`` is pruning (the steady state), how wall time and peak RSS trend from run
to run, and what a year of runs costs at that rate.

Command line: ``python -m bench.retention [--pages 2000] [--runs 45] [--keep 30]``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from bench.references import refresh
from bench.synth import generate, mutate, write
from modelcat.demo.mirror import MirrorServer

RUNS_A_YEAR = 365 * 6  # every four hours


def disk(data_dir: Path) -> dict[str, int]:
    """Bytes of each top-level part of the data directory (files counted once)."""
    sizes: dict[str, int] = {}
    for part in sorted(data_dir.iterdir()):
        if part.is_symlink():  # current -> snapshots/ID: counted there
            continue
        files = [part] if part.is_file() else [p for p in part.rglob("*") if p.is_file()]
        sizes[part.name] = sum(p.stat().st_size for p in files if not p.is_symlink())
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=45)
    parser.add_argument("--keep", type=int, default=30)
    parser.add_argument("--work-dir", type=Path)
    args = parser.parse_args()
    if args.runs < args.keep + 3:
        parser.error("--runs must exceed --keep by 3 or more to see pruning at work")
    rows = []
    with tempfile.TemporaryDirectory(prefix="modelcat-bench-keep-") as scratch:
        work = args.work_dir or Path(scratch)
        mirror = generate(args.pages)
        root = work / "mirror"
        write(mirror, root)
        data_dir = work / "data"
        with MirrorServer(root) as server:
            for run in range(1, args.runs + 1):
                if run > 1:
                    mirror, _ = mutate(mirror, seed=run, change_prices=max(1, args.pages // 100))
                    write(mirror, root)
                result = refresh(server, data_dir, "--no-references", "--keep", str(args.keep))
                assert result["summary"]["status"] == "published", result["summary"]
                sizes = disk(data_dir)
                current = (data_dir / "current").resolve()
                rows.append(
                    {"run": run, "wall_seconds": result["wall_seconds"],
                     "peak_rss_mb": result["peak_rss_mb"], "bytes": sizes,
                     "current_snapshot_bytes": sum(f.stat().st_size for f in current.iterdir())}
                )  # fmt: skip
                print(json.dumps(rows[-1]), flush=True)
        page_log = max(p.stat().st_size for p in (data_dir / "runs").glob("*/pages.jsonl"))
    steady = rows[args.keep + 1 :]  # pruning has begun: each run now also removes one
    first, last = steady[0], steady[-1]
    span = last["run"] - first["run"]
    growth = {
        part: (last["bytes"].get(part, 0) - first["bytes"].get(part, 0)) / span
        for part in last["bytes"]
    }
    total = sum(growth.values())
    print(f"\n{args.pages} pages, {args.runs} runs, --keep {args.keep}")
    print(f"one run's page log: {page_log / 1e6:.2f} MB (kept only while the run is kept)")
    print(f"data directory after run {last['run']}: {sum(last['bytes'].values()) / 1e6:.1f} MB")
    for part, per_run in sorted(growth.items()):
        print(f"  {part}: {per_run / 1e3:+.1f} kB per run")
    print(
        f"growth per run from run {first['run']} to {last['run']}: {total / 1e3:.1f} kB, "
        f"{total * RUNS_A_YEAR / 1e6:.0f} MB a year of runs every four hours"
    )
    current = last["current_snapshot_bytes"]
    print(
        f"  of the snapshots, the published one (every history table whole): "
        f"{current / 1e6:.2f} MB, {(current - first['current_snapshot_bytes']) / span / 1e3:+.1f}"
        " kB per run"
    )
    for figure, unit in (("wall_seconds", "s"), ("peak_rss_mb", "MB")):
        values = [r[figure] for r in steady]
        print(
            f"{figure}, runs {first['run']}-{last['run']}: {min(values)}-{max(values)}, "
            f"trend {slope([r['run'] for r in steady], values):+.4f} {unit} per run"
        )


def slope(xs: list[int], ys: list[float]) -> float:
    """The least-squares slope of ys over xs: how a figure trends from run to run."""
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread


if __name__ == "__main__":
    main()
