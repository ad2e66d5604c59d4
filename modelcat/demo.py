"""``make demo``: serve the bundled mirror on 127.0.0.1, refresh a catalog from it, query it.

Everything stays on this machine: the mirror in ``demo/mirror`` is a copy of 189 real-format
pages, served by ``modelcat.mirror`` on a free port.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from modelcat.mirror import MirrorServer

DEMO_MIRROR = Path(__file__).resolve().parents[1] / "demo" / "mirror"
EXAMPLE_QUERY = """
SELECT m.model_id, m.context_window_tokens, p.usd_per_mtok AS input_usd_per_mtok
FROM models m JOIN official_prices p USING (model_id)
WHERE p.metric = 'input' AND p.tier_min_tokens = 0
  AND m.context_window_tokens >= 128000 AND m.supports_tool_use
ORDER BY p.usd_per_mtok, m.model_id
LIMIT 5
""".strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=Path("data/demo"))
    args = parser.parse_args()
    modelcat = [sys.executable, "-m", "modelcat.cli"]
    with MirrorServer(DEMO_MIRROR) as server:
        print(f"serving {DEMO_MIRROR} at {server.url('/')}", flush=True)
        refresh = subprocess.run(
            [
                *modelcat,
                "refresh",
                "--start-url",
                server.url("/llms.txt"),
                "--data-dir",
                str(args.data_dir),
                "--delay",
                "0",
                "--concurrency",
                "16",
            ],
            check=False,
        )
    if refresh.returncode != 0:
        return refresh.returncode
    print("\ncheapest input price among tool-using models with at least 128K context:")
    print(f'$ modelcat sql --data-dir {args.data_dir} "{" ".join(EXAMPLE_QUERY.split())}"\n')
    return subprocess.run(
        [*modelcat, "sql", EXAMPLE_QUERY, "--data-dir", str(args.data_dir)], check=False
    ).returncode


if __name__ == "__main__":
    sys.exit(main())
