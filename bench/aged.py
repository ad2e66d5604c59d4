"""Years of runs without waiting years: what the next scheduled run costs once a data
directory holds two years of history, against what it cost when the history was young.

It refreshes a synthetic mirror (``bench.synth``, 2,000 pages by default, every price changed
once already) ``--base`` times with ``--keep 30``, a hundredth of the models changing price
before each run, then copies the data directory and ages the copy to ``--runs`` runs: the
published price history gains the closed intervals, the change feed the ``price_changed``
entries, and ``runs/`` the summaries that the runs before the base runs would have left, a
hundredth of the models changing each time. One more change and one more refresh then runs
on each copy (young and aged), ``--repeats`` times, each on a fresh copy, the two in turn; it
reports their wall time, peak RSS, seconds per step and the data directory's size.

``--code DIR`` runs the measured refreshes with the ``modelcat`` and ``transforms`` of
another checkout (a worktree of an older commit, say), to compare designs on the same data.

Command line: ``python -m bench.aged [--pages 2000] [--base 40] [--runs 4380]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from bench.references import FAST
from bench.retention import disk
from bench.synth import generate, mutate, write
from modelcat.demo.mirror import MirrorServer
from transforms.contract.layout import DataDir
from transforms.contract.tables import CHANGES, PRICE_HISTORY
from transforms.publish import catalog_file
from transforms.publish.history_rows import BATCH_ROWS
from transforms.publish.parquet_append import record_hashes

RUN_EVERY = timedelta(hours=4)
CHANGING = 0.01  # the share of models whose prices change before each run
HISTORY_FILE: dict[str, Any] = {"compression": "zstd", "row_group_size": BATCH_ROWS}


def run_id(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%S") + f"{moment.microsecond // 1000:03d}Z"


def age(root: Path, runs: int) -> dict[str, int]:
    """Give the data directory at ``root`` the history of ``runs`` runs in all: before its
    own runs, as many as are missing, each changing a hundredth of the prices. Returns the
    rows added to each table."""
    data_dir = DataDir(root)
    snapshot = data_dir.published_snapshot()
    assert snapshot is not None
    own = sorted(p.name for p in data_dir.runs.iterdir())
    missing = runs - len(own)
    prices = pq.read_table(snapshot.table("price_history"))
    first = pc.min(prices["valid_from"]).as_py()
    start = first - RUN_EVERY * missing
    # Each price changes every 1 / CHANGING runs on average: that many closed intervals each.
    keys = prices.filter(pc.is_null(prices["valid_to"]))
    per_key = max(1, round(missing * CHANGING))
    rows = np.repeat(np.arange(keys.num_rows), per_key)
    step = np.tile(np.arange(per_key), keys.num_rows)
    # A price's intervals meet: each closes when the next opens, the last before the first
    # of the base runs; prices change at different runs (an offset per price).
    offset = np.random.default_rng(0).integers(0, round(1 / CHANGING), size=keys.num_rows)
    runs_in = np.round(step / CHANGING).astype(np.int64) + offset[rows]
    opened = [start + RUN_EVERY * int(r) for r in runs_in]
    closed = [min(o + RUN_EVERY * round(1 / CHANGING), first) for o in opened]
    ids = [run_id(o) for o in opened]
    past = keys.take(pa.array(rows))
    for column, values in (
        ("valid_from", pa.array(opened, PRICE_HISTORY.arrow_schema.field("valid_from").type)),
        ("valid_to", pa.array(closed, PRICE_HISTORY.arrow_schema.field("valid_to").type)),
        ("first_run_id", pa.array(ids)),
        ("last_run_id", pa.array(ids)),
    ):
        past = past.set_column(past.schema.get_field_index(column), column, values)
    # As an append-only file holds them: closed rows in the order they closed, then the open.
    history = pa.concat_tables([past.cast(prices.schema), prices])
    by_key = [(c, "ascending", "at_end") for c in PRICE_HISTORY.key]
    closed_rows = history.filter(pc.is_valid(history["valid_to"]))
    closed_rows = closed_rows.sort_by([("valid_to", "ascending"), *by_key])
    open_rows = history.filter(pc.is_null(history["valid_to"])).sort_by(by_key)
    history = pa.concat_tables([closed_rows, open_rows])
    # As every run writes history (``write_history``): in its row groups, their hashes noted.
    pq.write_table(history, snapshot.table("price_history"), **HISTORY_FILE)
    record_hashes(snapshot.table("price_history"))

    feed = pq.read_table(snapshot.table("changes"))
    text = pc.cast(past["usd_per_mtok"], pa.string())
    changed = {
        "run_id": pa.array([run_id(c) for c in closed]),
        "observed_at": past["valid_to"],
        "model_id": past["model_id"],
        "provider": past["provider"],
        "region": past["region"],
        "kind": pa.array(["price_changed"] * past.num_rows),
        "field": past["metric"],
        "tier_label": past["tier_label"],
        "tier_min_tokens": past["tier_min_tokens"],
        "old_value": text,
        "new_value": text,
        "source": pa.nulls(past.num_rows, pa.string()),
    }
    entries = pa.table({c: changed[c] for c in CHANGES.names}).cast(feed.schema)
    entries = entries.sort_by([("observed_at", "ascending")])
    pq.write_table(pa.concat_tables([entries, feed]), snapshot.table("changes"), **HISTORY_FILE)
    record_hashes(snapshot.table("changes"))
    catalog_file.commit(data_dir, snapshot)

    template = json.loads((data_dir.runs / own[0] / "summary.json").read_text())
    for index in range(missing):
        moment = start + RUN_EVERY * index
        summary = template | {
            "run_id": run_id(moment),
            "started_at": moment.isoformat(),
            "finished_at": (moment + timedelta(seconds=9)).isoformat(),
            "clock_started_at": moment.isoformat(),
        }
        (data_dir.runs / summary["run_id"]).mkdir()
        (data_dir.runs / summary["run_id"] / "summary.json").write_text(json.dumps(summary))
    return {"price_history": past.num_rows, "changes": entries.num_rows, "runs": missing}


def refresh(url: str, data_dir: Path, code: Path | None) -> dict:
    """One refresh in a process of its own, with ``code``'s modelcat if given: wall seconds,
    peak RSS of it and its children (MB), and its summary."""
    probe = (
        "import resource, subprocess, sys; "
        "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode; "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(code)"
    )
    command = [sys.executable, "-m", "modelcat.cli", "refresh", "--start-url", url]
    command += ["--data-dir", str(data_dir), "-q", "--no-references", "--keep", "30", *FAST]
    # ``python -m`` puts the working directory first on sys.path: run from the checkout.
    env = os.environ | ({"PYTHONPATH": str(code)} if code else {})
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", probe, *command],
        capture_output=True,
        text=True,
        env=env,
        cwd=code,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    (last,) = sorted((data_dir / "runs").iterdir())[-1:]
    summary = json.loads((last / "summary.json").read_text())
    assert summary["status"] == "published", summary
    return {
        "wall_seconds": round(seconds, 2),
        "peak_rss_mb": round(int(done.stdout.strip()) / 1024),
        "steps": summary.get("seconds", {}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--base", type=int, default=40)
    parser.add_argument("--runs", type=int, default=4380)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--code", type=Path, help="a checkout whose modelcat runs the refreshes")
    parser.add_argument("--work-dir", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="modelcat-bench-aged-") as scratch:
        work = args.work_dir or Path(scratch)
        # Every price changed once already, as after months of runs: page values then take
        # the room they will keep taking (a changed price has more digits than a generated one).
        mirror, _ = mutate(generate(args.pages), seed=0, change_prices=args.pages)
        site = work / "mirror"
        write(mirror, site)
        young = work / "young"
        with MirrorServer(site) as server:
            url = server.url("/llms.txt")
            built = (young / "catalog.duckdb").exists()  # kept in --work-dir: reused
            for run in range(1, args.base + 1):
                if run > 1:
                    mirror, _ = mutate(mirror, seed=run, change_prices=args.pages // 100)
                    write(mirror, site)
                if not built:
                    refresh(url, young, None)
            aged = work / "aged"
            if not aged.exists():
                shutil.copytree(young, aged, symlinks=True)
                added = age(aged, args.runs)
                print(json.dumps({"aged_to_runs": args.runs, "rows_added": added}), flush=True)
            mirror, _ = mutate(mirror, seed=args.base + 1, change_prices=args.pages // 100)
            write(mirror, site)
            figures: dict[str, list[dict]] = {"young": [], "aged": []}
            # Young and aged take turns: this machine's speed drifts over minutes.
            for _ in range(args.repeats):
                for label, source in (("young", young), ("aged", aged)):
                    trial = work / f"{label}-trial"
                    shutil.rmtree(trial, ignore_errors=True)
                    shutil.copytree(source, trial, symlinks=True)
                    figures[label].append(refresh(url, trial, args.code))
                    figures[label][-1]["disk_mb"] = round(sum(disk(trial).values()) / 1e6, 1)
                    print(json.dumps({label: figures[label][-1]}), flush=True)
            results = {
                label: {
                    key: statistics.median(f[key] for f in runs)
                    for key in ("wall_seconds", "peak_rss_mb", "disk_mb")
                }
                for label, runs in figures.items()
            }
        young_run, aged_run = results["young"], results["aged"]
        print(f"\nthe run after {args.base} runs, then after {args.runs} (medians):")
        for key in ("wall_seconds", "peak_rss_mb", "disk_mb"):
            ratio = aged_run[key] / young_run[key]
            # Each turn's own ratio cancels the drift between turns.
            paired = statistics.median(
                a[key] / y[key] for y, a in zip(figures["young"], figures["aged"], strict=True)
            )
            print(
                f"  {key}: {young_run[key]} -> {aged_run[key]} ({ratio:.2f}x; "
                f"turn by turn {paired:.2f}x)"
            )
        code = args.code or "this checkout"
        print(f"  measured at {datetime.now(UTC):%Y-%m-%dT%H:%MZ}, code: {code}")


if __name__ == "__main__":
    main()
