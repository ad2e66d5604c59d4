"""``make bench``: crawl, refresh and query throughput on synthetic mirrors (issue #5).

For each size N it writes a synthetic mirror (``bench.synth``), serves it with
``modelcat.demo.mirror`` in a process of its own (``bench.server``) and, ``--repeats`` times, on
that same server:

  floor      a bare aiohttp fetch of the index and every page (``bench.floor``)
  spider     a Scrapy spider that only fetches, production settings without politeness
             delays (``bench.minimal_spider``): the engine's ceiling
  full       ``modelcat refresh`` into an empty data directory
  unchanged  ``modelcat refresh`` again, nothing changed on the server
  rebuild    ``modelcat rebuild`` from the raw archive, when the command exists

Every phase is its own process; we time it from spawn to exit and track its peak RSS with
its children. The server counts requests, 304s and bytes (bodies, and on the wire) per
phase. Then five of the README's analyst queries are timed through ``modelcat sql``
(process wall) and in-process (DuckDB, warm) against the last published catalog.
``--profile N`` also profiles one full refresh of the N-page mirror with py-spy.

Results: ``bench/results/<timestamp>.json`` and ``latest.json``, a table on stdout, and the
generated section of ``docs/benchmarks.md`` (between its ``bench:results`` markers).
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import duckdb
import psutil

from bench import synth
from bench.server import MirrorProcess

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
DOC = REPO / "docs" / "benchmarks.md"
DOC_START, DOC_END = "<!-- bench:results:start -->", "<!-- bench:results:end -->"
PYTHON = sys.executable
MODELCAT = [PYTHON, "-m", "modelcat.cli"]
PHASES = ("floor", "spider", "full", "unchanged", "rebuild")
LIBRARIES = (
    "scrapy",
    "twisted",
    "pandas",
    "pyarrow",
    "duckdb",
    "pandera",
    "pyyaml",
    "aiohttp",
    "psutil",
    "py-spy",
)
PHASE_TIMEOUT_S = 1800.0
PROFILE_RATE = 100  # py-spy samples per second
OUR_PACKAGES = ("crawler", "transforms", "modelcat")
# Where a profile sample belongs: the innermost frame on its stack that starts with one of
# these names decides. A renamed function only moves its samples to its caller's stage.
PROFILE_STAGES = (
    ("imports (startup and lazy)", "_find_and_load ("),
    (
        "crawl: receiving items from the Scrapy child (pipe, unpickle)",
        "crawl (modelcat/run/crawl.py",
    ),
    ("crawl: staging (pages, page values, validators)", "Stager.add ("),
    ("crawl: staging Parquet flush", "Stager.flush ("),
    ("crawl: parse_page (ours)", "parse_page ("),
    ("crawl: front matter (both processes)", "_split_front_matter ("),
    ("crawl: raw page archive (zstd)", "PageArchive.put ("),
    ("crawl child: spider callback (ours)", "PipeLLMSpider.parse ("),
    ("crawl child: handing items over (pickle, pipe)", "ParentPipe.send ("),
    ("crawl child: Scrapy signals (every request, response, item)", "SignalManager.send_catch_log"),
    ("build: plan the run (pages, page values)", "plan_build (transforms/build/plan.py"),
    ("crawl: pages built ahead (worker thread)", "_build (transforms/build/ahead.py"),
    ("build: typed frames", "typed_tables (transforms/build/frames.py"),
    ("build: pandera validation", "validate (transforms/build/validation.py"),
    ("build: semantic checks", "semantic_issues ("),
    ("history: advance the history tables and change feed", "advance_catalog ("),
    ("publish: Parquet and DuckDB", "publish (transforms/publish/snapshot.py"),
)
# py-spy --subprocesses roots each sample at a "process PID:command" frame: the rest of the
# Scrapy child's samples are its engine's.
CRAWL_CHILD_COMMAND = "-m crawler"
CRAWL_CHILD_STAGE = "crawl child: Scrapy, Twisted and the network"
WARM_QUERY_RUNS = 20
MB = 1024 * 1024
CORES = os.cpu_count() or 1
BUSY_MACHINE = 0.10  # background CPU share above which a run is flagged
WARM_UP_PAGES = 50
# Children may write bytecode caches even where PYTHONDONTWRITEBYTECODE is set (as on some
# CI images): otherwise every phase recompiles the modules it imports, ~3 s per refresh.
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

# Five of the README's example analyst queries, as written there but for the model id,
# which is one every synthetic mirror has.
QUERIES = {
    "cheapest_long_context": """
        SELECT m.model_id, m.context_window_tokens, p.usd_per_mtok
        FROM models m JOIN official_prices p USING (model_id)
        WHERE p.metric = 'input' AND p.tier_min_tokens = 0
          AND m.context_window_tokens >= 128000 AND m.supports_tool_use
        ORDER BY p.usd_per_mtok LIMIT 10""",
    "offers_below_official": """
        SELECT o.model_id, o.provider, o.region, o.input_usd_per_mtok, p.usd_per_mtok AS official
        FROM provider_offers o JOIN official_prices p
          ON p.model_id = o.model_id AND p.metric = 'input' AND p.tier_min_tokens = 0
        WHERE o.input_usd_per_mtok < p.usd_per_mtok
        ORDER BY o.model_id, o.input_usd_per_mtok""",
    "price_history": """
        SELECT valid_from, valid_to, usd_per_mtok, first_run_id, last_run_id
        FROM price_history
        WHERE model_id = '{model_id}' AND provider IS NULL
          AND metric = 'input' AND tier_min_tokens = 0
        ORDER BY valid_from""",
    "changes_this_week": """
        SELECT observed_at, kind, model_id FROM changes
        WHERE kind IN ('model_added', 'model_removed') AND observed_at >= now() - INTERVAL 7 DAY
        ORDER BY observed_at""",
    "long_context_surcharge": """
        SELECT lo.model_id, lo.usd_per_mtok AS base, hi.usd_per_mtok AS long_context
        FROM official_prices lo JOIN official_prices hi
          ON hi.model_id = lo.model_id AND hi.metric = lo.metric
          AND hi.tier_min_tokens = lo.tier_max_tokens
        WHERE lo.metric = 'input' AND lo.tier_min_tokens = 0
        ORDER BY hi.usd_per_mtok / lo.usd_per_mtok DESC""",
}


@dataclass
class Measured:
    wall_s: float
    peak_rss_bytes: int
    cpu_s: float  # the command's own CPU time, its children included
    others_cpu_s: float  # CPU the rest of the machine used meanwhile (not this harness)
    returncode: int
    stdout: str
    stderr: str


def measure(command: Sequence[str], *, timeout_s: float = PHASE_TIMEOUT_S) -> Measured:
    """Run a command to completion; its wall time and peak RSS, children included.

    Peak RSS is the larger of the main process's high-water mark (VmHWM, kept by the
    kernel) and the largest sum of the whole tree's RSS seen by a 20 ms poll. Not wait4's
    ru_maxrss: on Linux it also counts the harness's own RSS from before the exec.
    """
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        children, harness, busy = (
            _cpu(resource.RUSAGE_CHILDREN),
            _cpu(resource.RUSAGE_SELF),
            _busy(),
        )
        started = time.perf_counter()
        process = subprocess.Popen(
            command, stdout=out, stderr=err, text=True, cwd=REPO, env=CHILD_ENV
        )
        done = threading.Event()
        peak = 0

        def poll() -> None:
            nonlocal peak
            tree = psutil.Process(process.pid)
            while not done.wait(0.02):
                try:
                    members = [tree, *tree.children(recursive=True)]
                except psutil.Error:  # exited since the last poll
                    continue
                peak = max(peak, _high_water_mark(process.pid), sum(_rss(p) for p in members))
                if time.perf_counter() - started > timeout_s:
                    for member in reversed(members):
                        member.kill()

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        process.wait()
        wall = time.perf_counter() - started
        done.set()
        poller.join()
        cpu = _cpu(resource.RUSAGE_CHILDREN) - children
        others = _busy() - busy - cpu - (_cpu(resource.RUSAGE_SELF) - harness)
        out.seek(0)
        err.seek(0)
        return Measured(wall, peak, cpu, others, process.returncode, out.read(), err.read())


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _busy() -> float:
    """CPU seconds the whole machine has spent busy, all cores (steal counts: it is others)."""
    t = psutil.cpu_times()
    return t.user + t.nice + t.system + t.irq + t.softirq + t.steal


def _rss(process: psutil.Process) -> int:
    try:
        return process.memory_info().rss
    except psutil.Error:
        return 0


def _high_water_mark(pid: int) -> int:
    """The process's peak RSS so far, in bytes; 0 once it has exited."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class Phase:
    """One measured run of a phase against the server: process figures + server deltas."""

    def __init__(self, server: MirrorProcess) -> None:
        self.server = server
        self.process = psutil.Process(server.pid)

    def run(self, command: Sequence[str]) -> tuple[dict[str, Any], Measured]:
        before, cpu_before = self.server.stats(), self._cpu()
        measured = measure(command)
        after, cpu_after = self.server.stats(), self._cpu()
        server_cpu = cpu_after - cpu_before
        status = Counter({k: int(v) for k, v in after["status"].items()})
        status.subtract({k: int(v) for k, v in before["status"].items()})
        requests = after["requests"] - before["requests"]
        record = {
            "wall_s": round(measured.wall_s, 3),
            "peak_rss_mb": round(measured.peak_rss_bytes / MB, 1),
            "returncode": measured.returncode,
            "requests": requests,
            "status": {k: v for k, v in sorted(status.items()) if v},
            "conditional": after["conditional"] - before["conditional"],
            "body_bytes": after["body_bytes"] - before["body_bytes"],
            "wire_bytes": after["wire_bytes"] - before["wire_bytes"],
            "share_304": round(status["304"] / requests, 4) if requests else None,
            "cpu_s": round(measured.cpu_s, 2),
            "server_cpu_s": round(server_cpu, 2),
            # Other work on the machine during the phase, as a share of all its cores: a
            # benchmark taken while something else ran is flagged, not silently slower.
            "background_cpu_share": round(
                max(0.0, measured.others_cpu_s - server_cpu) / (measured.wall_s * CORES), 3
            ),
        }
        return record, measured

    def _cpu(self) -> float:
        times = self.process.cpu_times()
        return times.user + times.system


def run_size(
    n: int, args: argparse.Namespace, work: Path, has_rebuild: bool
) -> tuple[dict[str, Any], Path]:
    mirror_dir = work / f"mirror-{n}"
    started = time.perf_counter()
    synth.write(synth.generate(n, args.seed), mirror_dir)
    print(f"\n== {n:,} pages: mirror written in {time.perf_counter() - started:.1f}s", flush=True)
    pages = n + 1  # the index and the model pages, the same URLs in every phase
    runs: dict[str, list[dict[str, Any]]] = {phase: [] for phase in PHASES}
    problems: list[str] = []
    concurrency = str(args.concurrency)
    with MirrorProcess(mirror_dir) as server:
        phase = Phase(server)
        data_dir = work / f"data-{n}"
        for repeat in range(1, args.repeats + 1):
            shutil.rmtree(data_dir, ignore_errors=True)
            record, measured = phase.run(
                [PYTHON, "-m", "bench.floor", server.url(), "--concurrency", concurrency]
            )
            if measured.returncode == 0:
                floor = json.loads(measured.stdout)
                record["fetch_s"] = round(floor["fetch_s"], 3)
                record["fetch_pages_per_s"] = round(floor["pages"] / floor["fetch_s"], 1)
            runs["floor"].append(_finish(record, measured, pages, "floor", problems))

            record, measured = phase.run(
                [PYTHON, "-m", "bench.minimal_spider", server.url(), "--concurrency", concurrency]
            )
            runs["spider"].append(_finish(record, measured, pages, "spider", problems))

            refresh = [*MODELCAT, *refresh_args(server, data_dir, args.concurrency)]
            for name in ("full", "unchanged"):
                record, measured = phase.run(refresh)
                record |= _run_summary(data_dir, n, name, problems)
                runs[name].append(_finish(record, measured, pages, name, problems))

            if has_rebuild:
                record, measured = phase.run([*MODELCAT, "rebuild", "--data-dir", str(data_dir)])
                runs["rebuild"].append(_finish(record, measured, pages, "rebuild", problems))
            _progress(n, repeat, runs)
    result: dict[str, Any] = {
        "pages": pages,
        "mirror_bytes": sum(f.stat().st_size for f in mirror_dir.rglob("*") if f.is_file()),
        "phases": {
            phase: {"runs": phase_runs, "summary": _summarize(phase_runs)}
            for phase, phase_runs in runs.items()
            if phase_runs
        },
        "problems": problems,
    }
    result["ratios"] = _ratios(result["phases"])
    result["queries"] = time_queries(data_dir, args)
    return result, mirror_dir


def refresh_args(server: MirrorProcess, data_dir: Path, concurrency: int) -> list[str]:
    """``modelcat refresh`` as the benchmark runs it: no politeness delay, N in flight."""
    return [
        "refresh",
        "--start-url",
        server.url(),
        "--data-dir",
        str(data_dir),
        "--delay",
        "0",
        "--concurrency",
        str(concurrency),
        "--quiet",
    ]


def warm_up(work: Path, args: argparse.Namespace) -> None:
    """Run every phase once on a tiny mirror, unmeasured: bytecode caches, page cache."""
    mirror_dir, data_dir = work / "mirror-warm-up", work / "data-warm-up"
    synth.write(synth.generate(WARM_UP_PAGES, args.seed), mirror_dir)
    with MirrorProcess(mirror_dir) as server:
        for command in (
            [PYTHON, "-m", "bench.floor", server.url()],
            [PYTHON, "-m", "bench.minimal_spider", server.url()],
            [*MODELCAT, *refresh_args(server, data_dir, args.concurrency)],
            [*MODELCAT, "sql", "SELECT count(*) FROM models", "--data-dir", str(data_dir)],
        ):
            measured = measure(command)
            if measured.returncode != 0:
                raise SystemExit(f"warm-up failed: {' '.join(command)}\n{measured.stderr}")
    shutil.rmtree(data_dir)


def _finish(
    record: dict[str, Any], measured: Measured, pages: int, phase: str, problems: list[str]
) -> dict[str, Any]:
    record["pages_per_s"] = round(pages / measured.wall_s, 1)
    if measured.returncode != 0:
        tail = (measured.stderr or measured.stdout).strip().splitlines()[-3:]
        problems.append(f"{phase} exited {measured.returncode}: {' / '.join(tail)}")
    return record


def _run_summary(data_dir: Path, n: int, phase: str, problems: list[str]) -> dict[str, Any]:
    """What the refresh itself reported (its run's summary.json), checked for correctness."""
    summaries = sorted((data_dir / "runs").glob("*/summary.json"))
    if not summaries:
        problems.append(f"{phase}: no run summary written")
        return {}
    summary = json.loads(summaries[-1].read_text())
    issues = sum(summary.get("quality_issues_by_kind", {}).values())
    if summary.get("status") != "published" or summary.get("models_published") != n:
        problems.append(
            f"{phase}: {summary.get('status')} with {summary.get('models_published')} models, "
            f"expected {n} ({summary.get('message')})"
        )
    if issues:
        problems.append(f"{phase}: {issues} quality issues {summary['quality_issues_by_kind']}")
    return {
        "status": summary.get("status"),
        "models_published": summary.get("models_published"),
        "quality_issues": issues,
        "pages_by_outcome": summary.get("pages_by_outcome"),
        "stage_s": summary.get("seconds", {}),
    }


def _progress(n: int, repeat: int, runs: dict[str, list[dict[str, Any]]]) -> None:
    parts = [
        f"{phase} {phase_runs[-1]['wall_s']:.1f}s"
        for phase, phase_runs in runs.items()
        if phase_runs
    ]
    busy = max(r[-1]["background_cpu_share"] for r in runs.values() if r)
    warning = f" (machine busy: {busy:.0%} background CPU)" if busy > BUSY_MACHINE else ""
    print(f"   {n:,} pages, run {repeat}: " + ", ".join(parts) + warning, flush=True)


def spread(values: Sequence[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), 4),
        "min": round(min(values), 4),
        "max": round(max(values), 4),
    }


def _summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    summary: dict[str, Any] = {
        key: spread([r[key] for r in runs])
        for key in (
            "wall_s",
            "pages_per_s",
            "peak_rss_mb",
            "body_bytes",
            "wire_bytes",
            "cpu_s",
            "server_cpu_s",
            "background_cpu_share",
        )
    }
    summary["requests"] = int(statistics.median(r["requests"] for r in runs))
    shares = [r["share_304"] for r in runs if r["share_304"] is not None]
    summary["share_304"] = spread(shares) if shares else None
    for key in ("fetch_pages_per_s", "fetch_s"):
        if all(key in r for r in runs):
            summary[key] = spread([r[key] for r in runs])
    steps: list[dict[str, float]] = [r["stage_s"] for r in runs if r.get("stage_s")]
    if steps:
        summary["stage_s"] = {s: spread([r[s] for r in steps]) for s in steps[0]}
    return summary


def _ratios(phases: dict[str, Any]) -> dict[str, float | None]:
    def wall(phase: str) -> float | None:
        return phases[phase]["summary"]["wall_s"]["median"] if phase in phases else None

    def ratio(a: float | None, b: float | None) -> float | None:
        return round(a / b, 3) if a is not None and b else None

    def cpu(phase: str) -> float:
        return phases[phase]["summary"]["cpu_s"]["median"]

    def transferred(phase: str, kind: str) -> float:
        return phases[phase]["summary"][f"{kind}_bytes"]["median"]

    full, spider, unchanged = wall("full"), wall("spider"), wall("unchanged")
    return {
        # Throughput of the full refresh as a share of the engine ceiling's (same pages).
        "refresh_over_spider_throughput": ratio(spider, full),
        # The same per CPU second: steadier than wall time when the machine is shared.
        "refresh_over_spider_cpu": ratio(cpu("spider"), cpu("full")),
        "unchanged_over_full_wall": ratio(unchanged, full),
        # The same requests as the spider's, answered 304: what a run costs beyond them.
        "unchanged_over_spider_wall": ratio(unchanged, spider),
        "unchanged_over_full_bytes": ratio(
            transferred("unchanged", "body"), transferred("full", "body")
        ),
        # Heads included: a 304 still costs its status line and headers.
        "unchanged_over_full_wire_bytes": ratio(
            transferred("unchanged", "wire"), transferred("full", "wire")
        ),
        "rebuild_over_refresh_wall": ratio(wall("rebuild"), full),
    }


def _fetch_rows(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    return con.execute(sql).fetchall()


def _fetch_arrow(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    return con.sql(sql).to_arrow_table()


def time_queries(data_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Each query through ``modelcat sql`` (process wall) and in-process on a warm connection.

    A query the catalog cannot answer (a table this version does not publish) is recorded
    with its error instead of a time.
    """
    model_id = synth.synth_model(args.seed, 0).model_id
    queries = {name: " ".join(q.format(model_id=model_id).split()) for name, q in QUERIES.items()}
    results: dict[str, Any] = {}
    with duckdb.connect(str(data_dir / "catalog.duckdb"), read_only=True) as con:
        for name, sql in queries.items():
            results[name] = {"sql": sql}
            try:
                rows = con.execute(sql).fetchall()  # the warm-up: caches and plans
            except duckdb.Error as error:
                results[name]["error"] = str(error).splitlines()[0]
                continue
            # Python rows (Decimals, datetimes) as an analyst's script gets them, and Arrow,
            # which leaves out the conversion: the difference is Python's, not DuckDB's.
            fetches: dict[str, Callable[[], object]] = {
                "warm_ms": functools.partial(_fetch_rows, con, sql),
                "warm_arrow_ms": functools.partial(_fetch_arrow, con, sql),
            }
            timings: dict[str, list[float]] = {key: [] for key in fetches}
            for _ in range(WARM_QUERY_RUNS):
                for key, fetch in fetches.items():
                    started = time.perf_counter()
                    fetch()
                    timings[key].append((time.perf_counter() - started) * 1000)
            results[name] |= {"rows": len(rows)} | {k: spread(v) for k, v in timings.items()}
    for name, sql in queries.items():
        if "error" in results[name]:
            continue
        walls = []
        for _ in range(args.repeats):
            measured = measure(
                [*MODELCAT, "sql", sql, "--data-dir", str(data_dir), "--format", "csv"]
            )
            walls.append(measured.wall_s * 1000)
        results[name]["cli_ms"] = spread(walls)
    return results


def profile_refresh(
    n: int, mirror_dir: Path, work: Path, args: argparse.Namespace
) -> dict[str, Any]:
    """One full refresh under py-spy: where a refresh spends its CPU.

    py-spy samples the stack from outside the process: at 100 Hz the profiled refresh runs
    as fast as an unprofiled one. A profiler that hooks every call (pyinstrument, cProfile)
    made it about 4x slower and skewed the shares towards Scrapy's many small calls; and
    py-spy's --nonblocking mode tears stacks (40% of them lost their root frames here).
    """
    samples_file, data_dir = work / "refresh.pyspy", work / f"profile-data-{n}"
    py_spy = shutil.which("py-spy", path=Path(PYTHON).parent) or shutil.which("py-spy")
    if py_spy is None:
        return {"pages": n, "error": "py-spy is not installed (pip install -e '.[bench]')"}
    with MirrorProcess(mirror_dir) as server:
        measured = measure(
            [
                py_spy,
                "record",
                "--subprocesses",  # the crawl runs in a child process of its own
                "--function",  # one entry per function, not per line
                f"--rate={PROFILE_RATE}",
                "--format=raw",
                f"--output={samples_file}",
                "--",
                *MODELCAT,
                *refresh_args(server, data_dir, args.concurrency),
            ]
        )
    if measured.returncode != 0 or not samples_file.exists():
        return {"pages": n, "error": (measured.stderr or measured.stdout).strip()[-500:]}
    summary = json.loads(next((data_dir / "runs").glob("*/summary.json")).read_text())
    return {
        "pages": n,
        "profiler": f"py-spy at {PROFILE_RATE} Hz (CPU samples only)",
        "wall_s": round(measured.wall_s, 2),
        "stage_s": summary["seconds"],
        **profile_shares(samples_file.read_text(), args.top),
    }


def profile_shares(collapsed_stacks: str, top: int) -> dict[str, Any]:
    """Where the CPU samples of py-spy's raw output went: by function, package and stage."""
    stacks = [_stack(line) for line in collapsed_stacks.splitlines() if line.strip()]
    stacks = [(frames, count) for frames, count in stacks if frames]  # no Python frame: skip
    total = sum(count for _, count in stacks)
    self_time: Counter[str] = Counter()
    by_package: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    by_stage: Counter[str] = Counter()
    for frames, count in stacks:
        by_stage[_stage(frames)] += count
        self_time[frames[-1]] += count
        by_package[_package(frames[-1])] += count
        for frame in set(frames):  # a recursive function counts once per sample
            if _package(frame) in OUR_PACKAGES:
                inclusive[frame] += count
    return {
        "cpu_samples": total,
        "cpu_s": round(total / PROFILE_RATE, 1),
        "self_time": _top(self_time, total, top),
        "by_package": _top(by_package, total, 12),
        "by_stage": _top(by_stage, total, len(PROFILE_STAGES) + 2),
        "inclusive_ours": _top(inclusive, total, top),
        "collapsed_stacks": collapsed_stacks,
    }


def _stage(frames: list[str]) -> str:
    for frame in reversed(frames):
        for label, prefix in PROFILE_STAGES:
            if frame.startswith(prefix):
                return label
        if frame.startswith("process ") and CRAWL_CHILD_COMMAND in frame:
            return CRAWL_CHILD_STAGE
    return "other: CLI, setup, teardown"


def _stack(line: str) -> tuple[list[str], int]:
    """One line of py-spy's raw (collapsed) output: 'f (file:line);g (file:line) count'."""
    frames, _, count = line.rpartition(" ")
    return [f for f in frames.split(";") if f.strip()], int(count)


@functools.cache
def _package(frame: str) -> str:
    """Who a frame belongs to: one of our packages, a third-party distribution, or stdlib."""
    path = frame[frame.rfind("(") + 1 :].rsplit(":", 1)[0]
    top = path.split("/")[0].removesuffix(".py")
    if not top.isidentifier():  # <frozen runpy> and the like
        return "stdlib"
    if top in OUR_PACKAGES:
        return top
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        spec = None
    origin = (spec.origin or "") if spec else ""
    return top if "site-packages" in origin else "stdlib"


def _top(totals: Counter[str], whole: int, count: int) -> list[dict[str, Any]]:
    return [
        {"name": name, "samples": samples, "share": round(samples / whole, 4)}
        for name, samples in totals.most_common(count)
    ]


# --- Targets and reporting -----------------------------------------------------------------


def evaluate_targets(sizes: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue 22's targets (and issue 5's on conditional requests), each met / missed / not
    measured, with the figures behind it. The ratios to the minimal spider are judged at
    10,000 pages, where the issue sets them."""
    targets = []

    def add(name: str, met: bool | None, detail: str) -> None:
        verdict = "not measured" if met is None else ("met" if met else "missed")
        targets.append({"target": name, "verdict": verdict, "detail": detail})

    ratios = {n: _ratios(s["phases"]) for n, s in sizes.items()}
    for name, key, limit, above in (
        (
            "full refresh >= 0.9x the minimal spider's throughput at 10,000 pages",
            "refresh_over_spider_throughput",
            0.9,
            True,
        ),
        (
            "unchanged refresh wall time <= 1.1x the minimal spider's at 10,000 pages",
            "unchanged_over_spider_wall",
            1.1,
            False,
        ),
    ):
        at = ratios.get("10000", {}).get(key)
        met = None if at is None else (at >= limit if above else at <= limit)
        add(name, met, ", ".join(f"{_n(n)}: {_x(r[key])}" for n, r in ratios.items()))
    for name, key, limit, above in (
        ("unchanged refresh >= 95% 304s", "share_304", 0.95, True),
        ("unchanged refresh <= 5% of the full run's body bytes", "bytes", 0.05, False),
    ):
        values = {}
        for n, s in sizes.items():
            if key == "share_304":
                share = s["phases"]["unchanged"]["summary"]["share_304"]
                values[n] = share["median"] if share else 0.0
            else:
                values[n] = ratios[n][f"unchanged_over_full_{key}"]
        ok = all(v is not None and (v >= limit if above else v <= limit) for v in values.values())
        detail = ", ".join(f"{_n(n)}: {_pct(v)}" for n, v in values.items())
        if key == "bytes":
            wire = (_pct(r["unchanged_over_full_wire_bytes"]) for r in ratios.values())
            detail += " (on the wire, headers included: " + ", ".join(wire) + ")"
        add(name, ok, detail)

    rss = {
        int(n): max(
            s["phases"][p]["summary"]["peak_rss_mb"]["max"]
            for p in ("full", "unchanged", "rebuild")
            if p in s["phases"]
        )
        for n, s in sizes.items()
    }
    figures = ", ".join(f"{_n(n)}: {mb:.0f} MB" for n, mb in sorted(rss.items()))
    add(
        "peak RSS of refresh and rebuild at 50,000 pages <= 300 MB",
        rss[50000] <= 300 if 50000 in rss else None,
        figures,
    )

    warm = {
        int(n): max(q["warm_ms"]["median"] for q in s["queries"].values() if "warm_ms" in q)
        for n, s in sizes.items()
    }
    slowest = ", ".join(f"{_n(n)}: {ms:.1f} ms" for n, ms in sorted(warm.items()))
    add(
        "analyst queries < 50 ms warm at 50,000 models (slowest median)",
        warm[50000] < 50 if 50000 in warm else None,
        slowest,
    )
    return targets


def _x(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def _n(n: str | int) -> str:
    return f"{int(n):,}"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def machine() -> dict[str, Any]:
    cpu = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    libraries: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            libraries[name] = version(name)
        except PackageNotFoundError:
            libraries[name] = None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gb": round(psutil.virtual_memory().total / 1024**3, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "libraries": libraries,
    }


def code_state() -> dict[str, Any]:
    """Which code was measured: the commit and the files that differ from it, if any."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", *args], cwd=REPO, capture_output=True, text=True, check=True
            )
        except (OSError, subprocess.CalledProcessError):
            return None
        return done.stdout.strip()

    status = git("status", "--porcelain", "--untracked-files=no")
    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "modified": status.splitlines() if status else [],
    }


def report(results: dict[str, Any]) -> str:
    """The results as markdown: what stdout shows and docs/benchmarks.md embeds."""
    m, s = results["machine"], results["settings"]
    libs = ", ".join(f"{k} {v}" for k, v in m["libraries"].items() if v)
    code = results["code"]
    lines = [
        f"Measured {results['started_at'][:16].replace('T', ' ')} UTC in "
        f"{results['duration_s'] / 60:.1f} min: sizes {', '.join(_n(n) for n in s['sizes'])}, "
        f"{s['repeats']} runs each, {s['concurrency']} requests in flight, seed {s['seed']}.",
        "",
        f"- Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB RAM; {m['os']}",
        f"- Python {m['python']}; {libs}",
        "- Code: "
        + (f"commit {code['commit']}" if code["commit"] else "not a git checkout")
        + (f", {len(code['modified'])} files modified" if code["modified"] else "")
        + (f"; {results['note']}" if results.get("note") else ""),
        "",
        "Wall time of the whole process (spawn to exit), median (min–max) of the runs; pages/s "
        "counts the index and the model pages; CPU s is the phase's own CPU time; peak RSS "
        "includes child processes, median (max); bytes are what the server sent: response "
        "bodies, and in brackets everything on the wire (status lines and headers too).",
        "",
        "| pages | phase | wall s | pages/s | CPU s | peak RSS MB | requests | 304s "
        "| body MB (wire) |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for n, size in results["sizes"].items():
        for phase in PHASES:
            if phase not in size["phases"]:
                continue
            p = size["phases"][phase]["summary"]
            share = f"{p['share_304']['median']:.0%}" if p["share_304"] else "—"
            lines.append(
                f"| {_n(n)} | {phase} | {_spread(p['wall_s'], 2)} | "
                f"{p['pages_per_s']['median']:,.0f} | {p['cpu_s']['median']:.1f} | "
                f"{p['peak_rss_mb']['median']:.0f} "
                f"({p['peak_rss_mb']['max']:.0f}) | {p['requests']:,} | {share} | "
                f"{p['body_bytes']['median'] / MB:.1f} ({p['wire_bytes']['median'] / MB:.1f}) |"
            )
    busy = [
        run["background_cpu_share"]
        for size in results["sizes"].values()
        for data in size["phases"].values()
        for run in data["runs"]
    ]
    flagged = sum(b > BUSY_MACHINE for b in busy)
    lines += [
        "",
        f"Background load: other processes used at most {max(busy):.0%} of the machine's CPU "
        "during a measured run"
        + (
            f"; {flagged} of {len(busy)} runs were above {BUSY_MACHINE:.0%}, so their figures "
            "are pessimistic."
            if flagged
            else "."
        ),
    ]
    if not any("rebuild" in size["phases"] for size in results["sizes"].values()):
        lines += ["", "`modelcat rebuild` does not exist yet (`--help` fails): skipped."]
    lines += ["", "Inside the phases (medians):", ""]
    for n, size in results["sizes"].items():
        phases = size["phases"]
        floor = phases["floor"]["summary"]
        stages = phases["full"]["summary"].get("stage_s", {})
        unchanged = phases["unchanged"]["summary"].get("stage_s", {})
        lines.append(
            f"- {_n(n)}: floor fetch loop {floor['fetch_pages_per_s']['median']:,.0f} pages/s; "
            "full refresh stages "
            + ", ".join(f"{k} {v['median']:.1f}s" for k, v in stages.items())
            + "; unchanged "
            + ", ".join(f"{k} {v['median']:.1f}s" for k, v in unchanged.items())
            + f"; server CPU during the full refresh "
            f"{phases['full']['summary']['server_cpu_s']['median']:.1f}s"
        )
    lines += [
        "",
        "| pages | refresh ÷ spider (throughput) | refresh ÷ spider (per CPU s) | "
        "unchanged ÷ spider (wall) | unchanged ÷ full (wall) | "
        "unchanged ÷ full (body bytes, wire) | rebuild ÷ refresh (wall) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for n, size in results["sizes"].items():
        r = size["ratios"]
        lines.append(
            f"| {_n(n)} | {_pct(r['refresh_over_spider_throughput'])} | "
            f"{_pct(r['refresh_over_spider_cpu'])} | {_x(r['unchanged_over_spider_wall'])} | "
            f"{_pct(r['unchanged_over_full_wall'])} | {_pct(r['unchanged_over_full_bytes'])}, "
            f"{_pct(r['unchanged_over_full_wire_bytes'])} | "
            f"{_pct(r['rebuild_over_refresh_wall'])} |"
        )
    lines += ["", "| target | verdict | figures |", "| --- | --- | --- |"]
    lines += [f"| {t['target']} | **{t['verdict']}** | {t['detail']} |" for t in results["targets"]]
    lines += [
        "",
        "Analyst queries, milliseconds: `modelcat sql` process wall, and in-process (DuckDB, "
        f"warm, median of {WARM_QUERY_RUNS}) fetching Python rows and fetching Arrow; "
        "median (min–max).",
        "",
        "| pages | query | rows | `modelcat sql` ms | in-process warm ms | as Arrow ms |",
        "| ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for n, size in results["sizes"].items():
        for name, q in size["queries"].items():
            if "error" in q:
                lines.append(f"| {_n(n)} | {name} | — | failed: {q['error']} | — | — |")
                continue
            lines.append(
                f"| {_n(n)} | {name} | {q['rows']} | {_spread(q['cli_ms'], 0)} | "
                f"{_spread(q['warm_ms'], 1)} | "
                + (f"{_spread(q['warm_arrow_ms'], 1)} |" if "warm_arrow_ms" in q else "— |")
            )
    problems = [f"{_n(n)}: {p}" for n, size in results["sizes"].items() for p in size["problems"]]
    lines += [
        "",
        "Correctness: "
        + (
            "; ".join(problems)
            if problems
            else "every refresh published all N models with zero quality issues."
        ),
    ]
    profile = results.get("profile")
    if profile and "self_time" in profile:
        lines += [
            "",
            f"Profile: one full refresh of {_n(profile['pages'])} pages under "
            f"{profile['profiler']}: {profile['wall_s']:.1f}s wall, {profile['cpu_s']:.1f}s "
            "on CPU (stages "
            + ", ".join(f"{k} {v:.1f}s" for k, v in profile["stage_s"].items())
            + "). Shares are of the CPU samples.",
            "",
            "By package (self time): "
            + ", ".join(f"{p['name']} {p['share']:.0%}" for p in profile["by_package"]),
            "",
            "| stage (innermost) | share |",
            "| --- | ---: |",
            *(f"| {h['name']} | {h['share']:.1%} |" for h in profile["by_stage"]),
            "",
            "| function (self time) | share |",
            "| --- | ---: |",
        ]
        lines += [f"| `{h['name']}` | {h['share']:.1%} |" for h in profile["self_time"]]
        lines += ["", "| our function (inclusive) | share |", "| --- | ---: |"]
        lines += [f"| `{h['name']}` | {h['share']:.1%} |" for h in profile["inclusive_ours"]]
    elif profile:
        lines += ["", f"Profile failed: {profile.get('error')}"]
    return "\n".join(lines)


def _spread(value: dict[str, float], digits: int) -> str:
    return f"{value['median']:,.{digits}f} ({value['min']:,.{digits}f}–{value['max']:,.{digits}f})"


def update_doc(doc: Path, markdown: str) -> bool:
    """Replace the generated section of the doc; the prose around it is left alone."""
    if not doc.exists():
        return False
    text = doc.read_text(encoding="utf-8")
    start, end = text.find(DOC_START), text.find(DOC_END)
    if start < 0 or end < start:
        return False
    doc.write_text(
        text[: start + len(DOC_START)] + "\n" + markdown + "\n" + text[end:], encoding="utf-8"
    )
    return True


def write_json(path: Path, data: dict[str, Any]) -> None:
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(json.dumps(data, indent=1, default=str) + "\n", encoding="utf-8")
    os.replace(partial, path)


def _sizes(text: str) -> list[int]:
    return [int(part.replace("_", "")) for part in text.replace(",", " ").split()]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=_sizes, default=[1000, 10000], help="e.g. 1000,10000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", type=int, default=0, help="pages to profile; 0: none")
    parser.add_argument("--top", type=int, default=15, help="hotspots to report")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results directory")
    parser.add_argument("--doc", type=Path, default=DOC, help="doc whose section to update")
    parser.add_argument("--no-doc", action="store_true", help="leave the doc alone")
    parser.add_argument("--note", default="", help="free text stored with the results")
    parser.add_argument("--work-dir", type=Path, help="keep mirrors and data here")
    parser.add_argument(
        "--render", type=Path, metavar="RESULTS", help="measure nothing: report a results file"
    )
    args = parser.parse_args()
    if args.render:
        render(json.loads(args.render.read_text(encoding="utf-8")), args)
        return

    started = datetime.now(UTC)
    clock = time.perf_counter()
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="modelcat-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    has_rebuild = measure([*MODELCAT, "rebuild", "--help"]).returncode == 0
    results: dict[str, Any] = {
        "schema": 1,
        "started_at": started.isoformat(timespec="seconds"),
        "machine": machine(),
        "code": code_state(),
        "note": args.note,
        "settings": {
            "sizes": args.sizes,
            "repeats": args.repeats,
            "concurrency": args.concurrency,
            "seed": args.seed,
            "rebuild_available": has_rebuild,
        },
        "sizes": {},
    }
    try:
        warm_up(work, args)
        mirrors = {}
        for n in args.sizes:
            results["sizes"][str(n)], mirrors[n] = run_size(n, args, work, has_rebuild)
        if args.profile:
            mirror = mirrors.get(args.profile)
            if mirror is None:
                mirror = work / f"mirror-{args.profile}"
                synth.write(synth.generate(args.profile, args.seed), mirror)
            print(f"\n== profiling one full refresh of {args.profile:,} pages", flush=True)
            results["profile"] = profile_refresh(args.profile, mirror, work, args)
    finally:
        if args.work_dir is None:
            shutil.rmtree(work, ignore_errors=True)
    results["duration_s"] = round(time.perf_counter() - clock, 1)
    results["targets"] = evaluate_targets(results["sizes"])

    args.out.mkdir(parents=True, exist_ok=True)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    stacks = results.get("profile", {}).pop("collapsed_stacks", None)
    if stacks:  # flamegraph.pl or speedscope.app read this as it is
        (args.out / f"{stamp}.profile.txt").write_text(stacks, encoding="utf-8")
    write_json(args.out / f"{stamp}.json", results)
    write_json(args.out / "latest.json", results)
    print(f"\nresults: {args.out / f'{stamp}.json'} (and latest.json)")
    render(results, args)


def render(results: dict[str, Any], args: argparse.Namespace) -> None:
    """Print the results as markdown and put them in the doc; the ratios and targets are
    worked out again from the measured phases, so a saved file reports as today's code
    judges it."""
    for size in results["sizes"].values():
        size["ratios"] = _ratios(size["phases"])
    results["targets"] = evaluate_targets(results["sizes"])
    markdown = report(results)
    print("\n" + markdown)
    if not args.no_doc and update_doc(args.doc, markdown):
        print(f"updated the generated section of {args.doc}")


if __name__ == "__main__":
    main()
