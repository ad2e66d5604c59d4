"""Runs under a clock that jumps back and forth (an NTP step, a VM restored from a
snapshot), as a state machine: each step moves the system clock (``time_machine``, in
process; the real command under ``faketime``: ``tests/e2e/test_clock.py``) and publishes a
run of saved pages (``tests.support.runs``: the real stager, build, history and publish),
some of whose prices change.

After every run: run ids and starts only go forward, whatever the clock read, which each
run keeps as ``clock_started_at``; no run ends before it starts; no history interval ends
before it starts or starts before an earlier one of its key ends, and no key has two open
intervals; each open price is the price the latest run read; the change feed is in run
order; a plain rebuild re-derives the latest run; every snapshot still gives back the
history it published, though those superseded keep only their open rows
(``transforms.publish.shared_history``); the catalog file holds what one written whole
from the published snapshot would, though a refresh after a refresh appends to the last.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
import time_machine
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule

from modelcat.run.rebuild import rebuild
from tests.support.catalogs import assert_as_if_written_whole
from tests.support.runs import Answer, publish_run, raise_input_price
from tests.support.staging import demo_pages
from transforms.contract.layout import DataDir
from transforms.contract.tables import HISTORY_TABLES
from transforms.publish.history_rows import read_history

pytestmark = pytest.mark.slow  # a published run per step

MODELS = ("deepseek-chat", "o3", "codex-auto-review")
HISTORY_KEYS = {
    "model_history": "model_id",
    "offer_history": "model_id, provider, region",
    "price_history": "model_id, provider, region, tier_label, tier_min_tokens, "
    "tier_max_tokens, metric",
}


class ClockThatJumps(RuleBasedStateMachine):
    @initialize()
    def start(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="modelcat-clock-"))
        self.data_dir = DataDir(self.root / "data")
        self.site: dict[str, Answer] = dict(demo_pages(MODELS))
        self.offset = timedelta(0)
        self.published: list[str] = []
        self.histories: dict[str, dict[str, pa.Table]] = {}  # as each snapshot published it
        self.whole_next = True  # whether the next refresh writes its catalog file whole
        self.refresh(set())  # a catalog to go back from

    def teardown(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    # Each run moves the clock first: back by up to three days, or on by up to a day.
    @rule(edited=st.sets(st.sampled_from(MODELS)), minutes=st.integers(-72 * 60, 24 * 60))
    def refresh(self, edited: set[str], minutes: int = 0) -> None:
        self.offset += timedelta(minutes=minutes)
        for url in [u for u in self.site if any(u.endswith(f"/{m}.md") for m in edited)]:
            body = self.site[url]
            assert isinstance(body, bytes)
            self.site[url] = raise_input_price(body)
        with time_machine.travel(datetime.now(UTC) + self.offset, tick=True):
            clock = datetime.now(UTC)
            summary = publish_run(self.data_dir, self.site)
        assert summary.status == "published", summary.message
        assert summary.clock_started_at is not None
        read = datetime.fromisoformat(summary.clock_started_at)
        assert abs(read - clock) < timedelta(seconds=5)  # the clock as it read
        self.published.append(summary.run_id)
        written = self.check()
        # Only the first run has no file to append to; one after a rebuild appends to the
        # file the rebuild wrote whole.
        assert written == ("whole" if self.whole_next else "appended")
        self.whole_next = False

    @rule()
    def plain_rebuild(self) -> None:
        with time_machine.travel(datetime.now(UTC) + self.offset, tick=True):
            (summary,) = rebuild(self.data_dir)
        assert summary.run_id == self.published[-1]  # the latest run, not the latest clock
        published = self.data_dir.published_snapshot()
        assert published is not None
        assert published.run_id == self.published[-1]
        assert published == self.data_dir.snapshot_of(self.published[-1])
        assert self.check() == "whole"

    def check(self) -> str:
        """Check the invariants; returns how the catalog file was written."""
        with duckdb.connect(str(self.data_dir.catalog_file), read_only=True) as con:
            runs = con.execute(
                "SELECT run_id, started_at, finished_at FROM runs ORDER BY run_id"
            ).fetchall()
            assert [r[0] for r in runs] == self.published
            starts = [r[1] for r in runs]
            assert starts == sorted(set(starts))  # strictly forward
            assert all(finished >= started for _, started, finished in runs)
            for table, key in HISTORY_KEYS.items():
                backwards = con.execute(
                    f"SELECT count(*) FROM {table} WHERE valid_to <= valid_from"
                ).fetchone()
                assert backwards == (0,), table
                twice_open = con.execute(
                    f"SELECT {key} FROM {table} WHERE valid_to IS NULL "
                    f"GROUP BY ALL HAVING count(*) > 1"
                ).fetchall()
                assert twice_open == [], (table, twice_open)
                overlapping = con.execute(
                    f"SELECT count(*) FROM (SELECT valid_from, lag(valid_to) OVER "
                    f"(PARTITION BY {key} ORDER BY valid_from) AS ended FROM {table}) "
                    "WHERE ended > valid_from"
                ).fetchone()
                assert overlapping == (0,), table
            # Each open official price is the one the latest run read, confirmed by it.
            stale = con.execute(
                "SELECT h.model_id, h.metric, h.usd_per_mtok, o.usd_per_mtok, h.last_run_id "
                "FROM price_history h JOIN official_prices o USING "
                "(model_id, tier_label, metric) WHERE h.provider IS NULL AND h.valid_to IS NULL "
                "AND (h.usd_per_mtok <> o.usd_per_mtok OR h.last_run_id <> ?)",
                [self.published[-1]],
            ).fetchall()
            assert stale == []
            feed = con.execute("SELECT run_id, observed_at FROM changes").fetchall()
            assert feed == sorted(feed)
            assert {run_id for run_id, _ in feed} <= set(self.published)
        current = self.data_dir.published_snapshot()
        assert current is not None
        self.histories[current.publication] = {n: current.read(n) for n in HISTORY_TABLES}
        for snapshot in self.data_dir.published_snapshots():
            if snapshot != current and snapshot == self.data_dir.snapshot_of(snapshot.run_id):
                assert not snapshot.has("changes"), snapshot  # its feed is all closed: shared
            for name, published in self.histories.get(snapshot.publication, {}).items():
                held = read_history(snapshot, name, current)
                assert held is not None, (snapshot, name)
                assert held.equals(published), (snapshot, name)
        return assert_as_if_written_whole(self.data_dir.catalog_file, current, self.root)


TestClockThatJumps = ClockThatJumps.TestCase
TestClockThatJumps.settings = settings(
    max_examples=6,
    stateful_step_count=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
