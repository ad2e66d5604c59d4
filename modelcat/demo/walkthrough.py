"""``make demo``: serve the bundled mirror on 127.0.0.1, build a catalog from it, edit a few
pages, refresh again, and query the change feed, the catalog as it stood before and where
the public catalogs disagree with the pages.

Everything stays on this machine: ``site/`` (shipped in the package) is a copy of 189
real-format pages; the demo serves a temporary copy of it with ``mirror`` (this room's
loopback server, which the tests and the bench serve from too) on port 8738 when that is
free (so page URLs stay the same from one demo to the next), edits the copy between the two
refreshes and deletes it at the end; last it writes the report (``modelcat report``) beside
the data directory and prints its path. Run it again into the same data directory: the first
refresh then sees the pages as bundled again, which is a change too.

``site/references/`` holds small reference files in the four public catalogs' formats
(LiteLLM, OpenRouter, models.dev, genai-prices), written for the demo: a few dozen entries
agreeing with the pages, a few disagreements planted, and the seed page's GPT-4.1 Mini
($0.8 / $3.2 on the page, $0.40 / $1.60 in every catalog). Each refresh cross-checks them.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from modelcat.demo import DEMO_MIRROR
from modelcat.demo.mirror import MirrorServer

DEMO_PORT = 8738
PRICED_MODEL = "gpt-4.1-mini-2025-04-14"
DELISTED_MODEL = "claude-3-opus-20240229"
# (page, text as bundled, text after the edit): what changes between the two refreshes.
EDITS = (
    (f"llms/models/{PRICED_MODEL}.md", "| Input Price | $0.8 |", "| Input Price | $0.7 |"),
    (f"llms/models/{PRICED_MODEL}.md", "| 16K | $0.8 | $3.2 |", "| 16K | $0.7 | $3.2 |"),
    ("llms.txt", f"- [Claude 3 Opus 20240229](/llms/models/{DELISTED_MODEL}.md)", ""),
    # An attribute change beside NULL ones (every demo page's release date is Unknown).
    (
        f"llms/models/{PRICED_MODEL}.md",
        "- Display name: GPT-4.1 Mini\n",
        "- Display name: GPT-4.1 mini\n",
    ),
)
EXAMPLE_QUERY = """
SELECT m.model_id, m.context_window_tokens, p.usd_per_mtok AS input_usd_per_mtok
FROM models m JOIN official_prices p USING (model_id)
WHERE p.metric = 'input' AND p.tier_min_tokens = 0
  AND m.context_window_tokens >= 128000 AND m.supports_tool_use
ORDER BY p.usd_per_mtok, m.model_id
LIMIT 5
""".strip()
REFERENCE_SOURCES = ("litellm", "openrouter", "models.dev", "genai-prices")
PRICE_QUERY = (
    "SELECT model_id, tier_label, metric, usd_per_mtok FROM official_prices "
    f"WHERE model_id = '{PRICED_MODEL}' AND metric = 'input'"
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=Path("data/demo"))
    parser.add_argument(
        "--report", type=Path, help="Where to write the site (default: DATA_DIR-report)."
    )
    args = parser.parse_args(argv)
    report = args.report or args.data_dir.with_name(args.data_dir.name + "-report")
    with tempfile.TemporaryDirectory(prefix="modelcat-demo-") as work:
        mirror = Path(work) / "mirror"
        shutil.copytree(DEMO_MIRROR, mirror)
        with _serve(mirror) as server:
            print(f"serving the bundled mirror ({DEMO_MIRROR}) at {server.url('/')}", flush=True)
            _say("refresh 1: the mirror as bundled")
            if code := _refresh(server, args.data_dir):
                return code
            _edit(mirror)
            _say(
                f"refresh 2: {PRICED_MODEL}'s input price $0.8 -> $0.7 (official and at "
                f"OpenAI) and display name recased, {DELISTED_MODEL} gone from the index"
            )
            if code := _refresh(server, args.data_dir):
                return code
    before, started = _previous_run(args.data_dir)
    data = ["--data-dir", str(args.data_dir)]
    at_refresh_1 = ["sql", PRICE_QUERY, *data, "--as-of", started.isoformat() + "Z"]
    steps = [
        (
            "cheapest input price among tool-using models with at least 128K context:",
            ["sql", EXAMPLE_QUERY, *data],
        ),
        ("what refresh 2 found different:", ["changes", "--since", before, *data]),
        ("the price now:", ["sql", PRICE_QUERY, *data]),
        ("and as the catalog stood at refresh 1:", at_refresh_1),
        (
            "where the public catalogs disagree with the pages by 10% or more:",
            ["discrepancies", "--min-difference", "10", "--field", "input", *data],
        ),
    ]
    for title, command in steps:
        _say(title)
        shown = " ".join(f'"{part}"' if " " in part else part for part in command)
        print(f"$ modelcat {' '.join(shown.split())}\n", flush=True)
        if code := _modelcat(command):
            return code
    _say("the report: every model, its price history, changes, a cost calculator")
    print(f"$ modelcat report --out {report} --data-dir {args.data_dir}\n", flush=True)
    return _modelcat(["report", "--out", str(report), "--data-dir", str(args.data_dir)])


def _serve(mirror: Path) -> MirrorServer:
    try:
        return MirrorServer(mirror, port=DEMO_PORT)
    except OSError:  # taken: any free port (URLs then differ from the last demo's)
        return MirrorServer(mirror)


def _edit(mirror: Path) -> None:
    for page, bundled, edited in EDITS:
        path = mirror / page
        text = path.read_text(encoding="utf-8")
        if bundled not in text:
            raise RuntimeError(f"the demo mirror no longer has {bundled!r} in {page}")
        path.write_text(text.replace(bundled, edited), encoding="utf-8")


def _refresh(server: MirrorServer, data_dir: Path) -> int:
    fast = ["--delay", "0", "--concurrency", "16"]
    references = [
        option
        for source in REFERENCE_SOURCES
        for option in ("--reference", f"{source}={server.url(f'/references/{source}.json')}")
    ]
    return _modelcat(
        [
            "refresh",
            "--start-url",
            server.url("/llms.txt"),
            "--data-dir",
            str(data_dir),
            *fast,
            *references,
        ]
    )


def _previous_run(data_dir: Path) -> tuple[str, datetime]:
    """The run before the latest published one, and when it started."""
    import modelcat

    with modelcat.open(data_dir) as con:
        row = con.execute(
            "SELECT run_id, started_at FROM runs WHERE status = 'published' "
            "ORDER BY run_id DESC LIMIT 1 OFFSET 1"
        ).fetchone()
    if row is None:
        raise RuntimeError(f"the demo published fewer than two runs in {data_dir}")
    return row[0], row[1]


def _modelcat(arguments: list[str]) -> int:
    """The ``modelcat`` command, in this process: its imports are paid once."""
    from modelcat.cli import main

    return main(arguments)


def _say(title: str) -> None:
    print(f"\n== {title}", flush=True)
