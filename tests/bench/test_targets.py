"""The benchmark judges issue 22's targets from measured figures (``bench.run``)."""

from __future__ import annotations

from typing import Any

import pytest

from bench.run import evaluate_targets


def _phase(wall_s: float, rss_mb: float = 200, share_304: float = 0.0) -> dict[str, Any]:
    return {
        "summary": {
            "wall_s": {"median": wall_s},
            "cpu_s": {"median": wall_s},
            "body_bytes": {"median": 0.0 if share_304 else 1000.0},
            "wire_bytes": {"median": 100.0 if share_304 else 1100.0},
            "share_304": {"median": share_304},
            "peak_rss_mb": {"max": rss_mb},
        }
    }


def _size(spider: float, full: float, unchanged: float, rss_mb: float = 200) -> dict[str, Any]:
    return {
        "phases": {
            "spider": _phase(spider, 120),
            "full": _phase(full, rss_mb),
            "unchanged": _phase(unchanged, rss_mb, share_304=1.0),
            "rebuild": _phase(full, rss_mb),
        },
        "queries": {"q": {"warm_ms": {"median": 12.0}}},
    }


@pytest.mark.parametrize(
    ("spider", "full", "unchanged", "full_verdict", "unchanged_verdict"),
    [
        (10.0, 11.0, 10.5, "met", "met"),  # 0.91x the throughput, 1.05x the wall
        (10.0, 11.2, 11.0, "missed", "met"),  # 0.89x; exactly 1.1x is met
        (10.0, 10.0, 11.2, "met", "missed"),
        (10.0, 20.0, 14.0, "missed", "missed"),
    ],
)
def test_the_ratios_to_the_spider_are_judged_at_10000_pages(
    spider: float, full: float, unchanged: float, full_verdict: str, unchanged_verdict: str
) -> None:
    # 1,000 pages far off both targets: only 10,000 pages count.
    sizes = {"1000": _size(1.0, 5.0, 4.0), "10000": _size(spider, full, unchanged)}
    targets = {t["target"]: t["verdict"] for t in evaluate_targets(sizes)}
    full_target, unchanged_target = list(targets)[:2]
    assert full_target.startswith("full refresh >= 0.9x")
    assert unchanged_target.startswith("unchanged refresh wall time <= 1.1x")
    assert (targets[full_target], targets[unchanged_target]) == (full_verdict, unchanged_verdict)


def test_targets_not_measured_without_their_size() -> None:
    targets = evaluate_targets({"1000": _size(1.0, 1.0, 1.0)})
    verdicts = {t["target"]: t["verdict"] for t in targets}
    assert all(
        verdict == "not measured"
        for target, verdict in verdicts.items()
        if "10,000" in target or "50,000" in target
    )


@pytest.mark.parametrize(("rss_mb", "verdict"), [(300, "met"), (301, "missed")])
def test_peak_rss_at_50000_pages(rss_mb: float, verdict: str) -> None:
    sizes = {"50000": _size(50.0, 60.0, 55.0, rss_mb=rss_mb)}
    (rss,) = [t for t in evaluate_targets(sizes) if t["target"].startswith("peak RSS")]
    assert rss["verdict"] == verdict
    assert f"50,000: {rss_mb} MB" in rss["detail"]
