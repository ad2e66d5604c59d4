"""Months of a site's life in a minute: a state machine edits a loopback mirror the way the
real site changes, refreshes after every edit and checks the catalog against its own model.

After every refresh: the run published; the current tables are what the pages say; the
as-of macros at the current time return what history holds open, which the test keeps by
its own rule (``Expected``): the current tables, except that a price cell the run could not
read keeps the last price read for it (no row if none ever was), and a model whose page
failed keeps everything it had; the run's change feed is exactly the difference between the
two states; and as-of at every earlier run still returns what that run published.

``MODELCAT_STATEFUL_EXAMPLES`` and ``MODELCAT_STATEFUL_STEPS`` run it harder.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule

from crawler.spec import CrawlOptions
from modelcat.demo.mirror import MirrorHandler, MirrorServer
from modelcat.run.rebuild import rebuild
from modelcat.run.refresh import refresh
from tests.support import history_site as site
from tests.support.archive import frame_of, replace_frame
from transforms.contract.layout import DataDir
from transforms.pages.archive import PageArchive

pytestmark = pytest.mark.slow  # a refresh per step: a minute of the site's life

EXAMPLES = int(os.environ.get("MODELCAT_STATEFUL_EXAMPLES", "1"))
STEPS = int(os.environ.get("MODELCAT_STATEFUL_STEPS", "6"))
MODEL_FIELDS = (
    "display_name",
    "provider_family",
    "provider_family_key",
    "release_date",
    "context_window_tokens",
    "max_output_tokens",
    "input_modalities",
    "output_modalities",
    "supports_tool_use",
    "supports_computer_use",
    "supports_cache_control",
    "overview",
)  # page_url and canonical_url are provenance: not versioned, never a change
OFFER_FIELDS = ("provider_key", "context_window_tokens", "max_output_tokens")
FEED = "kind, model_id, provider, region, field, tier_label, tier_min_tokens, old_value, new_value"


def canonical(value: object) -> object:
    """A value as both sides can compare it: decimals by value, lists as tuples."""
    if isinstance(value, Decimal):
        return value.normalize()
    if isinstance(value, list | tuple):
        return tuple(canonical(v) for v in value)
    return value


def bag(rows) -> Counter:
    return Counter(canonical(tuple(row)) for row in rows)


def text(value: object) -> str | None:
    """The change feed's text of a value, by the README's rule."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return ", ".join(value)
    return str(value)


@dataclass
class Published:
    """What one model's page made the current tables say."""

    model: tuple  # models row less fetched_at
    official: list[tuple]
    offers: list[tuple]
    unread: list[tuple]
    unread_attributes: frozenset[str] = frozenset()  # shown, but no one can read them


@dataclass
class Expected:
    """What history holds open, by the test's own rule."""

    models: dict[str, tuple] = field(default_factory=dict)  # id -> models_as_of row
    # (model, provider, region, tier label, min, max, metric) -> price
    prices: dict[tuple, Decimal] = field(default_factory=dict)
    offers: dict[tuple, tuple] = field(default_factory=dict)  # (model, provider, region) -> rest

    def advance(self, published: dict[str, Published], carried: set[str]) -> Expected:
        after = Expected()
        for model_id, seen in published.items():
            after.models[model_id] = self.last_read(model_id, seen)
            if model_id in carried:
                after.prices |= {k: v for k, v in self.prices.items() if k[0] == model_id}
                after.offers |= {k: v for k, v in self.offers.items() if k[0] == model_id}
                continue
            for m, label, low, high, metric, usd, _raw in seen.official:
                if usd is not None:
                    after.prices[(m, None, None, label, low, high, metric)] = usd
            for m, provider, key, region, context, output, *prices in seen.offers:
                after.offers[(m, provider, region)] = (key, context, output)
                for metric, usd in zip(site.PRICE_COLUMNS, prices, strict=True):
                    if usd is not None:
                        after.prices[(m, provider, region, None, None, None, metric)] = usd
            unread = {(m, p, r, label, metric) for m, p, r, label, metric, _ in seen.unread}
            after.prices |= {k: v for k, v in self.prices.items() if (*k[:4], k[6]) in unread}
        return after

    def last_read(self, model_id: str, seen: Published) -> tuple:
        """The model's version after the run: what it read, but for an attribute it could
        not read, which keeps the last value read; unchanged if nothing read differs."""
        row = list(seen.model[: 1 + len(MODEL_FIELDS)])
        before = self.models.get(model_id)
        if before is None or not seen.unread_attributes:
            return tuple(row)
        for position, name in enumerate(MODEL_FIELDS, start=1):
            family_key = name == "provider_family_key" and "provider_family"
            if name in seen.unread_attributes or family_key in seen.unread_attributes:
                row[position] = before[position]
        return tuple(row)

    def changes(self, after: Expected) -> Counter:
        """The change feed from this state to ``after``."""
        found = []
        for gone in self.models.keys() - after.models.keys():
            found.append(("model_removed", gone, None, None, None, None, None, None, None))
        for new in after.models.keys() - self.models.keys():
            found.append(("model_added", new, None, None, None, None, None, None, None))
        kept = self.models.keys() & after.models.keys()
        for model_id in kept:
            for name, old, new in zip(
                MODEL_FIELDS, self.models[model_id][1:], after.models[model_id][1:], strict=True
            ):
                if canonical(old) != canonical(new):
                    found.append(_change("attribute_changed", (model_id,), name, old, new))
        moved = set()
        for offer in self.offers.keys() | after.offers.keys():
            if offer[0] not in kept:
                continue
            if offer not in after.offers or offer not in self.offers:
                moved.add(offer)
                kind = "offer_removed" if offer in self.offers else "offer_added"
                found.append((kind, *offer, None, None, None, None, None))
                continue
            for name, old, new in zip(
                OFFER_FIELDS, self.offers[offer], after.offers[offer], strict=True
            ):
                if old != new:
                    found.append(_change("attribute_changed", offer, name, old, new))
        for key in self.prices.keys() | after.prices.keys():
            if key[0] not in kept or key[:3] in moved:
                continue
            old, new = self.prices.get(key), after.prices.get(key)
            if old == new:
                continue
            kind = "price_added" if old is None else "price_removed" if new is None else None
            found.append(
                (kind or "price_changed", *key[:3], key[6], key[3], key[4], text(old), text(new))
            )
        return bag(found)

    def as_of(self) -> dict[str, Counter]:
        """What models_as_of, prices_as_of and offers_as_of return now."""
        official = [
            (k[0], k[3], k[4], k[5], k[6], usd) for k, usd in self.prices.items() if k[1] is None
        ]
        offers = [
            (
                *key[:2],
                rest[0],
                key[2],
                *rest[1:],
                *(self.prices.get((*key, None, None, None, m)) for m in site.PRICE_COLUMNS),
            )
            for key, rest in self.offers.items()
        ]
        return {
            "models": bag(self.models.values()),
            "prices": bag(official),
            "offers": bag(offers),
        }


def _change(kind: str, where: tuple, name: str, old: object, new: object) -> tuple:
    provider, region = (where[1], where[2]) if len(where) == 3 else (None, None)
    return (kind, where[0], provider, region, name, None, None, text(old), text(new))


def answer(statuses: dict[str, int]):
    """A fault hook: these paths answer with these statuses, however often asked."""

    def hook(handler: MirrorHandler, path: str) -> bool:
        if path in statuses:
            handler.answer(statuses[path], b"not now\n", "text/plain")
            return True
        return False

    return hook


def cells(vocabulary) -> st.SearchStrategy:
    return st.sampled_from(vocabulary)


@st.composite
def offers(draw, most: int = 2) -> tuple[site.Offer, ...]:
    chosen = []
    for _ in range(draw(st.integers(0, most))):
        chosen.append(
            site.Offer(
                provider=draw(st.sampled_from(sorted(site.PROVIDERS))),
                region=draw(cells(site.REGIONS)),
                context_window=draw(cells(site.TOKENS)),
                max_output=draw(cells(site.TOKENS)),
                prices=tuple(draw(cells(site.PRICE_CELLS)) for _ in range(4)),
            )
        )
    unique = {o.key: o for o in chosen}  # a provider sells in a region once
    return tuple(unique.values())


def pricing(draw, tiers: tuple[site.Tier, ...]) -> tuple:
    labels = draw(st.lists(st.sampled_from(sorted(site.METRICS)), unique=True, max_size=3))
    return tuple((label, tuple(draw(cells(site.PRICE_CELLS)) for _ in tiers)) for label in labels)


@st.composite
def pages(draw, model_id: str) -> site.Page:
    tiers = draw(st.sampled_from(site.TIER_SETS))
    return replace(
        site.new_page(model_id),
        attributes={c: draw(cells(v)) for c, v in site.VOCABULARY.items()},
        overview=draw(st.sampled_from(site.OVERVIEWS)),
        tiers=tiers,
        pricing=pricing(draw, tiers),
        offers=draw(offers()),
    )


def some_page_has(what: str):
    """A rule's precondition: some page's ``what`` (pricing, offers) is not empty."""
    return precondition(lambda machine: any(getattr(p, what) for p in machine.pages.values()))


class SiteLife(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix="modelcat-stateful-"))
        self.mirror = self.root / "mirror"
        self.mirror.mkdir()
        self.data = DataDir(self.root / "data")
        self.server = MirrorServer(self.mirror).start()
        self.pages: dict[str, site.Page] = {}
        self.gone: dict[str, site.Page] = {}
        self.published: dict[str, Published] = {}
        self.expected = Expected()
        self.past: list[tuple[datetime, dict[str, Counter]]] = []
        self.ids = itertools.count(1)
        self.moves = itertools.count(1)
        self.faults: dict[str, int] = {}  # path -> HTTP status, for the next refresh
        # Models a 404 kept out of a run, and those the run after it listed again.
        self.absent: set[str] = set()
        self.relisted: set[str] = set()

    def teardown(self) -> None:
        self.server.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    # --- edits -----------------------------------------------------------------------------

    def pick(self, data, having: str | None = None) -> site.Page:
        """A page, or one whose ``having`` (pricing, offers) is not empty."""
        ids = sorted(m for m, p in self.pages.items() if having is None or getattr(p, having))
        return self.pages[data.draw(st.sampled_from(ids), label="page")]

    def edit(self, page: site.Page, **changes: object) -> Counter:
        self.pages[page.model_id] = page.edited(**changes)
        return self.refresh()

    @initialize(count=st.integers(3, 5), data=st.data())
    def a_site(self, count: int, data) -> None:
        for _ in range(count):
            model_id = f"fable-{next(self.ids)}"
            self.pages[model_id] = data.draw(pages(model_id), label="page")
        self.refresh()

    @rule(data=st.data())
    def change_an_attribute(self, data) -> None:
        page = self.pick(data)
        column = data.draw(st.sampled_from(sorted(site.VOCABULARY)), label="attribute")
        cell = data.draw(cells(site.VOCABULARY[column]), label="to")
        self.edit(page, attributes=page.attributes | {column: cell})

    @rule(data=st.data())
    def rewrite_the_overview(self, data) -> None:
        page = self.pick(data)
        self.edit(page, overview=data.draw(st.sampled_from(site.OVERVIEWS)) + " Updated.")

    @some_page_has("pricing")
    @rule(data=st.data())
    def change_an_official_price(self, data) -> None:
        page = self.pick(data, "pricing")
        row = data.draw(st.integers(0, len(page.pricing) - 1), label="row")
        column = data.draw(st.integers(0, len(page.tiers) - 1), label="tier")
        cell = data.draw(cells(site.PRICE_CELLS), label="to")
        label, old = page.pricing[row]
        new = (label, (*old[:column], cell, *old[column + 1 :]))
        self.edit(page, pricing=(*page.pricing[:row], new, *page.pricing[row + 1 :]))

    @rule(data=st.data())
    def add_or_remove_price_rows(self, data) -> None:
        page = self.pick(data)
        self.edit(page, pricing=pricing(data.draw, page.tiers))

    @rule(data=st.data())
    def relabel_the_tiers(self, data) -> None:
        """New column headers over the same prices (a tier relabel, or tiers nobody can read)."""
        page = self.pick(data)
        tiers = data.draw(st.sampled_from(site.TIER_SETS), label="tiers")
        rows = tuple(
            (label, tuple(old[i] if i < len(old) else site.NONE for i in range(len(tiers))))
            for label, old in page.pricing
        )
        self.edit(page, tiers=tiers, pricing=rows)

    @rule(data=st.data())
    def switch_the_price_unit(self, data) -> None:
        page = self.pick(data)
        self.edit(page, per_1k=not page.per_1k)

    @some_page_has("offers")
    @rule(data=st.data())
    def change_an_offer(self, data) -> None:
        page = self.pick(data, "offers")
        index = data.draw(st.integers(0, len(page.offers) - 1), label="offer")
        offer = page.offers[index]
        what = data.draw(st.sampled_from(["region", "context", "output", "price"]), label="what")
        if what == "region":
            offer = replace(offer, region=data.draw(cells(site.REGIONS)))
        elif what == "context":
            offer = replace(offer, context_window=data.draw(cells(site.TOKENS)))
        elif what == "output":
            offer = replace(offer, max_output=data.draw(cells(site.TOKENS)))
        else:
            column = data.draw(st.integers(0, 3), label="price")
            prices = list(offer.prices)
            prices[column] = data.draw(cells(site.PRICE_CELLS), label="to")
            offer = replace(offer, prices=tuple(prices))
        others = page.offers[:index] + page.offers[index + 1 :]
        if offer.key in {o.key for o in others}:  # a provider sells in a region once
            offer = page.offers[index]
        self.edit(page, offers=(*others[:index], offer, *others[index:]))

    @rule(data=st.data())
    def add_or_remove_offers(self, data) -> None:
        page = self.pick(data)
        self.edit(page, offers=data.draw(offers(3), label="offers"))

    @rule(data=st.data())
    def move_a_page(self, data) -> None:
        page = self.pick(data)
        folder = data.draw(st.sampled_from([site.MODELS_DIR, "/llms/v2/models"]), label="to")
        self.edit(page, path=f"{folder}/{page.model_id}-{next(self.moves)}.md")

    @rule()
    def move_the_site_to_another_port(self) -> None:
        old = self.server
        self.server = MirrorServer(self.mirror).start()
        old.stop()
        self.refresh()

    @precondition(lambda self: len(self.pages) > 1)
    @rule(data=st.data())
    def remove_a_model(self, data) -> None:
        page = self.pick(data)
        self.gone[page.model_id] = self.pages.pop(page.model_id)
        self.refresh()

    @precondition(lambda self: self.gone)
    @rule(data=st.data())
    def bring_a_model_back(self, data) -> None:
        model_id = data.draw(st.sampled_from(sorted(self.gone)), label="model")
        self.pages[model_id] = self.gone.pop(model_id)
        self.refresh()

    @rule(data=st.data())
    def add_a_model(self, data) -> None:
        model_id = f"fable-{next(self.ids)}"
        self.pages[model_id] = data.draw(pages(model_id), label="page")
        self.refresh()

    def refresh_with_fault(self, page: site.Page, status: int) -> None:
        self.faults = {page.path: status}
        self.server.faults = answer(self.faults)
        try:
            self.refresh()
        finally:
            self.server.faults = None
            self.faults = {}

    @rule(data=st.data())
    def a_page_fails_for_a_run(self, data) -> None:
        """503 after every retry: the model is carried forward, its history untouched."""
        self.refresh_with_fault(self.pick(data), 503)

    @precondition(lambda self: len(self.pages) > 1)
    @rule(data=st.data())
    def a_page_is_not_found_for_a_run(self, data) -> None:
        """404: the model is gone; the run after, it is back as a new listing."""
        self.refresh_with_fault(self.pick(data), 404)

    @rule(data=st.data())
    def regenerate_a_page(self, data) -> None:
        """A new generated_at and body, the same values: provenance moves, history does not."""
        self.assert_unchanged(self.edit(self.pick(data)), "a regenerated page changed the catalog")

    @rule()
    def nothing_changes(self) -> None:
        self.assert_unchanged(self.refresh(), "an unchanged site changed the catalog")

    def assert_unchanged(self, changes: Counter, what: str) -> None:
        """No change, but for models back after a 404 kept them out of the run before: the
        site did not change, the catalog's view of it did (``refresh`` checks those too)."""
        assert Counter({row: n for row, n in changes.items() if row[1] not in self.relisted}) == (
            Counter()
        ), what

    @rule(data=st.data())
    def rebuild_over_a_damaged_archive(self, data) -> None:
        """Re-deriving the last run with the same code changes nothing, even where our own
        disk lost or damaged archived bodies: not the tables, the feed or any past as-of."""
        bodies = sorted(PageArchive(self.data.archive).hashes())
        damaged = data.draw(st.lists(st.sampled_from(bodies), max_size=3, unique=True))
        for body in damaged:
            frame = frame_of(self.data.archive, body)
            damage = data.draw(st.sampled_from([b"garbage", frame[:9]]))
            replace_frame(self.data.archive, body, damage)
        with duckdb.connect(str(self.data.catalog_file), read_only=True) as con:
            feed_before = bag(con.execute(f"SELECT {FEED} FROM changes").fetchall())
        (summary,) = rebuild(self.data)
        assert summary.status == "published", summary.message
        with duckdb.connect(str(self.data.catalog_file), read_only=True) as con:
            self.check_current(con, self.published)
            assert bag(con.execute(f"SELECT {FEED} FROM changes").fetchall()) == feed_before
            for moment, then in self.past:
                assert as_of(con, moment) == then, f"the rebuild rewrote history at {moment}"
            check_intervals(con)

    # --- the check after every refresh --------------------------------------------------------

    def refresh(self) -> Counter:
        site.write_site(self.mirror, list(self.pages.values()))
        options = CrawlOptions(
            start_urls=[self.server.url("/llms.txt")],
            delay=0,
            concurrency=8,
            settings={"RETRY_BACKOFF_BASE": 0.01},
        )
        summary = refresh(self.data, options, allow_shrink=True)
        assert summary.status == "published", summary.message

        carried = {m for m, p in self.pages.items() if self.faults.get(p.path) == 503}
        gone = {m for m, p in self.pages.items() if self.faults.get(p.path) == 404}
        base = self.server.url("")
        published = {
            model_id: (
                self.published[model_id]
                if model_id in carried
                else Published(
                    site.model_row(page, base),
                    site.official_rows(page),
                    site.offer_rows(page),
                    site.unread_rows(page),
                    frozenset(c for c, cell in page.attributes.items() if not cell.readable),
                )
            )
            for model_id, page in self.pages.items()
            if model_id not in gone
        }
        with duckdb.connect(str(self.data.catalog_file), read_only=True) as con:
            self.check_current(con, published)
            expected = self.expected.advance(published, carried)
            feed = con.execute(
                f"SELECT {FEED} FROM changes WHERE run_id = ?", [summary.run_id]
            ).fetchall()
            assert bag(feed) == self.expected.changes(expected)
            started = con.execute(
                "SELECT started_at FROM runs WHERE run_id = ?", [summary.run_id]
            ).fetchone()[0]
            self.past.append((started, expected.as_of()))
            assert as_of(con, datetime.now(UTC).replace(tzinfo=None)) == expected.as_of()
            for moment, then in self.past:
                assert as_of(con, moment) == then, f"history at {moment} was rewritten"
            check_intervals(con)
        self.published, self.expected = published, expected
        self.relisted, self.absent = self.absent - gone, gone
        return bag(feed)

    def check_current(self, con: duckdb.DuckDBPyConnection, published: dict) -> None:
        for table, sql, part in (
            ("models", "SELECT * EXCLUDE (fetched_at) FROM models", "model"),
            ("official_prices", "SELECT * FROM official_prices", "official"),
            ("provider_offers", "SELECT * FROM provider_offers", "offers"),
            ("unread_prices", "SELECT * FROM unread_prices", "unread"),
        ):
            rows = [getattr(p, part) for p in published.values()]
            want = bag(rows) if part == "model" else bag(r for rs in rows for r in rs)
            assert bag(con.execute(sql).fetchall()) == want, table


def as_of(con: duckdb.DuckDBPyConnection, moment: datetime) -> dict[str, Counter]:
    return {
        name: bag(con.execute(f"SELECT * FROM {name}_as_of(?)", [moment]).fetchall())
        for name in ("models", "prices", "offers")
    }


def check_intervals(con: duckdb.DuckDBPyConnection) -> None:
    """No two intervals of one key overlap, and each is a real interval."""
    for table, key in (
        ("model_history", "model_id"),
        (
            "price_history",
            "model_id, provider, region, tier_label, tier_min_tokens, tier_max_tokens, metric",
        ),
        ("offer_history", "model_id, provider, region"),
    ):
        overlapping = con.execute(
            f"""SELECT count(*) FROM (
                SELECT valid_from, valid_to,
                       lead(valid_from) OVER (PARTITION BY {key} ORDER BY valid_from) AS next
                FROM {table})
            WHERE next < coalesce(valid_to, 'infinity'::TIMESTAMP) OR valid_to <= valid_from"""
        ).fetchone()[0]
        assert overlapping == 0, table


SiteLife.TestCase.settings = settings(
    max_examples=EXAMPLES,
    stateful_step_count=STEPS,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# A refresh takes a few seconds: allow each a minute on a machine that is busy elsewhere.
test_a_site_over_time = pytest.mark.timeout(120 + 60 * EXAMPLES * (STEPS + 1))(SiteLife.TestCase)
