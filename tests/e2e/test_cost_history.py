"""Costs as of a past time: two refreshes of a loopback mirror with a price change and a
delisting between them, priced through the CLI, the macro and ``cost()`` alike."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from modelcat.demo.mirror import MirrorServer
from tests.support import modelcat, query, refresh
from tests.support.cost_site import VERTEX, answer, write_mirror
from tests.support.mirror import drop_from_index, touch_later


def edit(page: Path, old: str, new: str) -> None:
    text = page.read_text()
    assert old in text
    page.write_text(text.replace(old, new))
    touch_later(page)


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:
    """A catalog refreshed twice: two-tier-1m's prices rose and flat-price left in between."""
    root = tmp_path_factory.mktemp("cost-history")
    mirror = write_mirror(root / "mirror")
    data_dir = root / "data"
    with MirrorServer(mirror) as server:
        first = refresh(server, data_dir)
        assert first.returncode == 0, first.stdout + first.stderr
        page = mirror / "llms" / "models" / "two-tier-1m.md"
        edit(page, "| Input Price | $1.25 | $2.5 |", "| Input Price | $1.5 | $2.5 |")
        edit(page, "| Global | 1M | 64K | $1.25 |", "| Global | 1M | 64K | $1.3 |")
        drop_from_index(mirror, "flat-price")
        second = refresh(server, data_dir)
        assert second.returncode == 0, second.stdout + second.stderr
    runs = [started for (started,) in query(data_dir, "SELECT started_at FROM runs ORDER BY 1")]
    assert len(runs) == 2
    return data_dir, runs


def total(data_dir: Path, model_id: str, as_of: object = None, **usage: object) -> Decimal:
    when = {} if as_of is None else {"as_of": str(as_of)}
    return Decimal(answer(data_dir, model_id, 1000, **when, **usage)["total_usd"])


def test_as_of_prices_before_and_after_a_change(history: tuple[Path, list]) -> None:
    data_dir, (first, second) = history
    just_before = second - timedelta(microseconds=1)
    # 1,000 x $1.25 while the first run's price held; 1,000 x $1.5 from the second run on.
    assert total(data_dir, "two-tier-1m", first) == Decimal("0.00125")
    assert total(data_dir, "two-tier-1m", just_before) == Decimal("0.00125")
    assert total(data_dir, "two-tier-1m", second) == Decimal("0.0015")
    assert total(data_dir, "two-tier-1m") == Decimal("0.0015")
    # An offer's price has its history too: $1.25, then $1.3.
    offer = {"provider": VERTEX, "region": "Global"}
    assert total(data_dir, "two-tier-1m", just_before, **offer) == Decimal("0.00125")
    assert total(data_dir, "two-tier-1m", second, **offer) == Decimal("0.0013")
    # The upper tier did not change: 200,001 x $2.5 then and now.
    for when in (first, second):
        row = answer(data_dir, "two-tier-1m", 200_001, as_of=str(when))
        assert (row["tier_label"], Decimal(row["total_usd"])) == (
            ">200K Context",
            Decimal("0.5000025"),
        )


def test_a_delisted_model_is_priced_only_as_of_its_time(history: tuple[Path, list]) -> None:
    data_dir, (first, second) = history
    assert total(data_dir, "flat-price", first) == Decimal("0.0005")  # 1,000 x $0.5
    for when in ([], ["--as-of", str(second)]):
        result = modelcat(
            "cost", "flat-price", "--input-tokens", "1000", *when, "--data-dir", str(data_dir)
        )
        assert result.returncode == 1, result.stdout + result.stderr
        assert "no model 'flat-price'" in result.stderr


def test_before_the_first_run_no_model_is_known(history: tuple[Path, list]) -> None:
    data_dir, (first, _) = history
    earlier = (first - timedelta(days=1)).isoformat()
    result = modelcat(
        "cost",
        "two-tier-1m",
        "--input-tokens",
        "1",
        "--as-of",
        earlier,
        "--data-dir",
        str(data_dir),
    )
    assert result.returncode == 1
    assert f"as of {earlier}" in result.stderr


def test_an_as_of_time_with_an_offset_is_utc(history: tuple[Path, list]) -> None:
    """12:00+02:00 is 10:00 UTC: a moment before the second run, stated in another zone."""
    data_dir, (_, second) = history
    before = (second - timedelta(seconds=1)).isoformat() + "+00:00"
    shifted = (second + timedelta(hours=2) - timedelta(seconds=1)).isoformat() + "+02:00"
    assert total(data_dir, "two-tier-1m", before) == Decimal("0.00125")
    assert total(data_dir, "two-tier-1m", shifted) == Decimal("0.00125")
    # Read without its offset, the same text would be 2 hours later: the new price.
    assert total(data_dir, "two-tier-1m", shifted[: -len("+02:00")]) == Decimal("0.0015")


def test_rank_as_of_lists_what_was_sold_then(history: tuple[Path, list]) -> None:
    data_dir, (first, _) = history
    ranked = {}
    for when in ([], ["--as-of", str(first)]):
        result = modelcat(
            "cost", "--rank", "--top", "100", "--input-tokens", "1000", *when,
            "--format", "json", "--data-dir", str(data_dir),
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        ranked[bool(when)] = {r["model_id"] for r in json.loads(result.stdout)}
    assert ranked[True] - ranked[False] == {"flat-price"}
