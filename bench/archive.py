"""What the page archive costs: synthetic pages (``bench.synth``) put into an empty archive
as a refresh would (one writer, so one pack, sealed), checked intact by a fresh reader as
the next refresh does before asking for a 304, then pruned with ``--keep``'s rule to half of them.
Reports the median of the repeats: wall seconds, disk blocks, files and bytes.

Command line: ``python -m bench.archive [--pages 10000] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import tempfile
import time
from pathlib import Path

from bench.synth import generate, render_page
from transforms.pages.archive import PageArchive


def footprint(root: Path) -> tuple[int, int, int]:
    """Files, file bytes and allocated bytes under ``root``."""
    files = [Path(d) / f for d, _, names in os.walk(root) for f in names]
    stats = [f.stat() for f in files]
    return len(files), sum(s.st_size for s in stats), sum(s.st_blocks * 512 for s in stats)


def measure(bodies: list[bytes], shas: list[str]) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        writer = PageArchive(root)
        for sha, body in zip(shas, bodies, strict=True):
            writer.put(sha, body)
        writer.seal()  # as a refresh's staging does when its crawl ends
        put = time.perf_counter() - start
        start = time.perf_counter()
        reader = PageArchive(root)
        intact = sum(reader.intact(sha) for sha in shas)
        check = time.perf_counter() - start
        if intact != len(shas):
            raise SystemExit(f"only {intact} of {len(shas)} bodies read back intact")
        files, size, blocks = footprint(root)
        start = time.perf_counter()
        PageArchive(root).prune(shas[::2])
        prune = time.perf_counter() - start
        return {
            "put_s": put,
            "intact_s": check,
            "prune_half_s": prune,
            "files": files,
            "file_mb": size / 1e6,
            "disk_mb": blocks / 1e6,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    bodies = [render_page(m).encode() for m in generate(args.pages, seed=0).models]
    shas = [hashlib.sha256(body).hexdigest() for body in bodies]
    runs = [measure(bodies, shas) for _ in range(args.repeats)]
    print(f"{args.pages:,} pages, median of {args.repeats}:")
    for key in runs[0]:
        print(f"  {key}: {statistics.median(run[key] for run in runs):.2f}")


if __name__ == "__main__":
    main()
