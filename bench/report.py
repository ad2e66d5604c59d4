"""``python -m bench.report``: how long ``modelcat report`` takes and how big the site is, on
the demo mirror's catalog and on synthetic ones, and how long Chromium takes to load the
models page. Figures for docs/benchmarks.md; nothing here asserts a time.

For each size it publishes two runs (the second with some prices changed, so there is
history), then builds the site ``--repeats`` times and opens ``models.html`` from
``file://`` in headless Chromium (Playwright, the system's ``chromium``).
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import synth
from modelcat.demo import DEMO_MIRROR
from modelcat.demo.mirror import MirrorServer

FAST = ["--delay", "0", "--concurrency", "16", "--quiet"]


def publish_two_runs(size: int, work: Path) -> Path:
    """A data directory with two published runs of a mirror of ``size`` pages (0: the demo)."""
    mirror, data = work / "mirror", work / "data"
    if size == 0:
        shutil.copytree(DEMO_MIRROR, mirror)
        edited = None
    else:
        first = synth.generate(size)
        synth.write(first, mirror)
        edited, _ = synth.mutate(first, change_prices=max(1, size // 50))
    with MirrorServer(mirror) as server:
        for attempt in (1, 2):
            if attempt == 2 and edited is not None:
                synth.write(edited, mirror)
            command = [sys.executable, "-m", "modelcat.cli", "refresh", "--start-url"]
            command += [server.url("/llms.txt"), "--data-dir", str(data), *FAST]
            subprocess.run(command, check=True, capture_output=True)
    return data


def measure(size: int, repeats: int, work: Path) -> dict[str, float]:
    data = publish_two_runs(size, work)
    site = work / "site"
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        command = [sys.executable, "-m", "modelcat.cli", "report", "--out", str(site)]
        subprocess.run([*command, "--data-dir", str(data)], check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    files = [p for p in site.rglob("*") if p.is_file()]
    models_page = (site / "models.html").read_bytes()
    index_page = (site / "index.html").read_bytes()
    data_js = (site / "assets" / "data.js").read_bytes()
    return {
        "models": len(list((site / "models").glob("*.html"))),
        "build_s": statistics.median(times),
        "files": len(files),
        "site_mb": sum(p.stat().st_size for p in files) / 1e6,
        "index_kb": len(index_page) / 1e3,
        "index_gzip_kb": len(gzip.compress(index_page)) / 1e3,
        "models_kb": len(models_page) / 1e3,
        "models_gzip_kb": len(gzip.compress(models_page)) / 1e3,
        "data_js_kb": len(data_js) / 1e3,
        "load_ms": load_time(site / "models.html", repeats),
    }


def load_time(page: Path, repeats: int) -> float:
    """Median ms from navigation start to the load event (scripts run) in Chromium."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        return float("nan")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium)
        samples = []
        for _ in range(repeats):
            tab = browser.new_page(viewport={"width": 1280, "height": 900})
            tab.goto(page.as_uri())
            samples.append(
                tab.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
            )
            tab.close()
        browser.close()
    return float(statistics.median(samples))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="0,2000", help="Pages per mirror; 0 is the demo's.")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(
        "| mirror | models | build s | files | site MB | index KB (gzip) | "
        "models.html KB (gzip) | data.js KB | Chromium load ms |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory(prefix="bench-report-") as work:
            r = measure(size, args.repeats, Path(work))
        name = "demo" if size == 0 else f"synthetic {size:,}"
        print(
            f"| {name} | {r['models']:,.0f} | {r['build_s']:.2f} | {r['files']:,.0f} | "
            f"{r['site_mb']:.1f} | {r['index_kb']:.0f} ({r['index_gzip_kb']:.0f}) | "
            f"{r['models_kb']:.0f} ({r['models_gzip_kb']:.0f}) | {r['data_js_kb']:.0f} | "
            f"{r['load_ms']:.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
