"""The crawl's stats file, ``runs/ID/crawl_stats.json``: Scrapy's stats and the spider's
finish reason when it closed. Written in the crawl (``crawler.pipelines.StatsFile``), read
by the run that started it (``modelcat.run.crawl``). No Scrapy here.

``scrapy crawl`` exits 0 even when a crawl failed, so a run is judged by these stats
(``finish_reason``, pages by outcome), never by the crawl's exit code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_stats(path: Path, stats: dict[str, Any], finish_reason: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(stats | {"finish_reason": finish_reason}, default=str, indent=2, sort_keys=True),
        encoding="utf-8",
    )


def read_stats(path: Path) -> dict[str, Any]:
    """The crawl's stats; none when it never wrote them whole (it was killed)."""
    try:
        stats = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return stats if isinstance(stats, dict) else {}
