"""Scheduled refreshes: conditional GET, identical republishing, history and the change feed."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from modelcat.demo.mirror import MirrorServer
from tests.support import current_tables, modelcat, query, refresh
from tests.support.mirror import add_model, change_input_prices, drop_from_index


def summary(data_dir: Path) -> dict:
    latest = sorted((data_dir / "runs").glob("*/summary.json"))[-1]
    return json.loads(latest.read_text())


@pytest.mark.parametrize("send_etag", [True, False], ids=["etag", "last-modified-only"])
def test_unchanged_site_costs_304s_and_republishes_identically(
    mirror: Path, data_dir: Path, send_etag: bool
) -> None:
    with MirrorServer(mirror, send_etag=send_etag) as server:
        assert refresh(server, data_dir).returncode == 0
        first = current_tables(data_dir)
        first_bytes, first_requests = server.bytes_sent, len(server.requests)

        assert refresh(server, data_dir).returncode == 0
        second_bytes = server.bytes_sent - first_bytes
        conditional = server.conditional_requests

    pages = dict(query(data_dir, "SELECT outcome, count(*) FROM pages GROUP BY ALL"))
    model_pages = 189
    assert conditional >= 0.95 * (first_requests - 1)  # everything but robots.txt revalidated
    assert pages["not_modified"] >= 0.95 * (model_pages + 2)
    assert second_bytes <= 0.05 * first_bytes
    assert current_tables(data_dir) == first
    assert summary(data_dir)["changes_by_kind"] == {}


def test_changes_and_history_after_the_site_moves(mirror: Path, data_dir: Path) -> None:
    with MirrorServer(mirror) as server:
        assert refresh(server, data_dir).returncode == 0
        assert refresh(server, data_dir).returncode == 0
        changed = change_input_prices(mirror, 10)
        drop_from_index(mirror, "deepseek-chat")
        add_model(mirror, "deepseek-reasoner", "deepseek-fable-1")
        result = refresh(server, data_dir)
    assert result.returncode == 0, result.stderr
    run3 = summary(data_dir)
    assert run3["changes_by_kind"] == {"price_changed": 10, "model_removed": 1, "model_added": 1}

    feed = query(
        data_dir,
        "SELECT kind, model_id, provider, field, tier_min_tokens, old_value, new_value "
        "FROM changes WHERE run_id = ? ORDER BY kind, model_id",
        [run3["run_id"]],
    )
    assert feed == sorted(
        [("model_added", "deepseek-fable-1", None, None, None, None, None)]
        + [("model_removed", "deepseek-chat", None, None, None, None, None)]
        + [
            ("price_changed", model_id, None, "input", 0, str(old), str(new))
            for model_id, (old, new) in changed.items()
        ]
    )

    # Each changed price: two intervals that meet exactly where the value changed.
    for model_id, (old, new) in changed.items():
        intervals = query(
            data_dir,
            "SELECT usd_per_mtok, valid_from, valid_to, first_run_id, last_run_id "
            "FROM price_history WHERE model_id = ? AND provider IS NULL AND metric = 'input' "
            "AND tier_min_tokens = 0 ORDER BY valid_from",
            [model_id],
        )
        assert [row[0] for row in intervals] == [old, new]
        assert intervals[0][2] == intervals[1][1] is not None
        assert intervals[1][2] is None
        assert intervals[1][3] == intervals[1][4] == run3["run_id"]

    listed = {row[0] for row in query(data_dir, "SELECT model_id FROM models")}
    assert "deepseek-chat" not in listed
    assert "deepseek-fable-1" in listed
    gone = query(
        data_dir,
        "SELECT delisted_at, valid_to FROM model_history WHERE model_id = 'deepseek-chat'",
    )
    assert len(gone) == 1
    assert gone[0][0] == gone[0][1] is not None

    # The catalog as it stood before run 3 still answers from history.
    before = query(data_dir, "SELECT started_at FROM runs ORDER BY run_id")[1][0]
    then = query(
        data_dir,
        "SELECT count(*), count(*) FILTER (model_id = 'deepseek-chat') FROM models_as_of(?)",
        [before],
    )
    assert then == [(189, 1)]


def test_sql_as_of_answers_from_history(mirror: Path, data_dir: Path) -> None:
    with MirrorServer(mirror) as server:
        assert refresh(server, data_dir).returncode == 0
        changed = change_input_prices(mirror, 1)
        assert refresh(server, data_dir).returncode == 0
    ((model_id, (old, new)),) = changed.items()
    first_run_start = query(data_dir, "SELECT min(started_at) FROM runs")[0][0]
    sql = (
        "SELECT usd_per_mtok FROM official_prices "
        f"WHERE model_id = '{model_id}' AND metric = 'input' AND tier_min_tokens = 0"
    )
    now = modelcat("sql", sql, "--data-dir", str(data_dir), "--format", "csv")
    then = modelcat(
        "sql",
        sql,
        "--data-dir",
        str(data_dir),
        "--format",
        "csv",
        "--as-of",
        first_run_start.isoformat(),
    )
    assert Decimal(now.stdout.splitlines()[1]) == new
    assert Decimal(then.stdout.splitlines()[1]) == old
