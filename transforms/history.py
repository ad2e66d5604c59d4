"""History: what the catalog said, and since when, across runs.

Each history table holds one row per value and validity interval. ``valid_from`` is
inclusive and ``valid_to`` exclusive; NULL ``valid_to`` means the value is still current.
When a run sees a different value, the old interval closes at that run's ``observed_at`` and
the new one opens at the same instant, so intervals of one key meet without gaps.

A run advances the history of the previous snapshot with what it observed:
- same value: the interval stays open and its ``last_run_id`` moves on;
- different value: close and open, and a ``changed`` event;
- key gone: close, and a ``removed`` event; new key: open, and an ``added`` event;
- keys the run could not observe (a page carried forward, a price it could not read) are
  left exactly as they were: not confirmed, not closed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from transforms.schema import CHANGES, MODEL_HISTORY, OFFER_HISTORY, PRICE_HISTORY, Table, conform

NULL_KEY = "\x00"  # stands for NULL inside the composite keys used for matching
INTERVAL_COLUMNS = ["valid_from", "valid_to", "first_run_id", "last_run_id"]
OFFER_PRICES = {
    "input_usd_per_mtok": "input",
    "output_usd_per_mtok": "output",
    "cache_read_usd_per_mtok": "cache_read",
    "cache_write_usd_per_mtok": "cache_write",
}
# Model attributes whose change is news. Provenance (fetch time, body hash, the site's
# page generation time) changes on every regeneration of the site and is not.
MODEL_TRACKED = [
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
    "page_url",
    "canonical_url",
]
PRICE_KEY = ["model_id", "provider", "region", "metric", "tier_min_tokens"]
PRICE_TRACKED = ["usd_per_mtok"]
PRICE_CARRIED = ["tier_label", "tier_max_tokens"]
OFFER_KEY = ["model_id", "provider", "region"]
OFFER_TRACKED = ["context_window_tokens", "max_output_tokens"]


@dataclass(frozen=True)
class Observation:
    run_id: str
    observed_at: datetime  # UTC, naive


def advance(
    history: pd.DataFrame,
    current: pd.DataFrame,
    *,
    key: list[str],
    tracked: list[str],
    carried: Iterable[str] = (),
    run: Observation,
    table: Table,
    unobserved: pd.Series | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The next history of ``table``, and its events (key..., event, field, old, new value).

    ``carried`` columns ride along with each interval without defining it. ``unobserved``
    is a boolean Series over ``current`` rows (True: this run could not see it): those keys
    keep their previous intervals untouched.
    """
    columns = [*key, *tracked, *carried]
    history = conform(history, table)
    current = conform(current, table, columns)
    history = history.assign(_key=_composite(history, key), _fp=_composite(history, tracked))
    current = current.assign(_key=_composite(current, key), _fp=_composite(current, tracked))
    if unobserved is not None:
        frozen_keys = set(current.loc[unobserved.to_numpy(), "_key"])
        current = current[~unobserved.to_numpy()]
    else:
        frozen_keys = set()

    is_open = history["valid_to"].isna()
    frozen = is_open & history["_key"].isin(frozen_keys)
    live = history[is_open & ~frozen]
    matched = live[["_key", "_fp"]].merge(
        current[["_key", "_fp"]], on="_key", how="outer", suffixes=("_old", "_new"), indicator=True
    )
    both = matched["_merge"] == "both"
    same = set(matched.loc[both & (matched["_fp_old"] == matched["_fp_new"]), "_key"])
    changed = set(matched.loc[both & (matched["_fp_old"] != matched["_fp_new"]), "_key"])
    removed = set(matched.loc[matched["_merge"] == "left_only", "_key"])
    added = set(matched.loc[matched["_merge"] == "right_only", "_key"])

    extended = live[live["_key"].isin(same)].assign(last_run_id=run.run_id)
    closing = live[live["_key"].isin(changed | removed)].assign(valid_to=run.observed_at)
    opened = current[current["_key"].isin(changed | added)].assign(
        valid_from=run.observed_at,
        valid_to=pd.NaT,
        first_run_id=run.run_id,
        last_run_id=run.run_id,
    )
    untouched = history[~is_open | frozen]
    result = pd.concat(
        [frame[[*columns, *INTERVAL_COLUMNS]] for frame in (untouched, extended, closing, opened)],
        ignore_index=True,
    )
    result = conform(result, table).sort_values([*key, "valid_from"], ignore_index=True)

    events = pd.concat(
        [
            _events(current[current["_key"].isin(added)], key, "added"),
            _events(live[live["_key"].isin(removed)], key, "removed"),
            _changes(
                live[live["_key"].isin(changed)],
                current[current["_key"].isin(changed)],
                key,
                tracked,
            ),
        ],
        ignore_index=True,
    )
    return result, events


def _composite(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """One string per row, equal exactly when the rows' values are equal (types conformed)."""
    parts = []
    for column in columns:
        values = pa.array(frame[column])
        if pa.types.is_list(values.type):
            values = pc.binary_join(values, "\x1e")
        parts.append(pc.fill_null(pc.cast(values, pa.string()), NULL_KEY))
    joined = pc.binary_join_element_wise(*parts, "\x1f")
    return pd.Series(joined.to_numpy(zero_copy_only=False), index=frame.index, dtype=object)


def _text(value: Any) -> str | None:
    """A value as change-feed text: exact decimals without trailing zeros, ISO dates."""
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, datetime | date | pd.Timestamp):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple) or hasattr(value, "tolist"):
        items = value.tolist() if hasattr(value, "tolist") else value
        return ", ".join(str(item) for item in items)
    return str(value)


def _events(rows: pd.DataFrame, key: list[str], event: str) -> pd.DataFrame:
    return rows[key].assign(event=event, field=None, old_value=None, new_value=None)


def _changes(
    old: pd.DataFrame, new: pd.DataFrame, key: list[str], tracked: list[str]
) -> pd.DataFrame:
    """One event per changed field of each changed key."""
    pair = old.set_index("_key")[tracked].join(
        new.set_index("_key")[[*key, *tracked]], lsuffix="_old", rsuffix="_new"
    )
    events = []
    for field in tracked:
        before = pair[f"{field}_old"].map(_text, na_action="ignore")
        after = pair[f"{field}_new"].map(_text, na_action="ignore")
        differs = before.fillna(NULL_KEY) != after.fillna(NULL_KEY)
        events.append(
            pair.loc[differs, key].assign(
                event="changed", field=field, old_value=before[differs], new_value=after[differs]
            )
        )
    if not events:
        return pd.DataFrame(columns=[*key, "event", "field", "old_value", "new_value"])
    return pd.concat(events, ignore_index=True)


def price_observations(official: pd.DataFrame, offers: pd.DataFrame) -> pd.DataFrame:
    """Every price the catalog states, in one long form: official (provider NULL) and offers
    (tier NULL: an offer's price has no context tier)."""
    official_rows = official.assign(provider=None, region=None)[
        [*PRICE_KEY, *PRICE_TRACKED, *PRICE_CARRIED]
    ]
    offer_rows = [
        offers[[*OFFER_KEY, column]]
        .rename(columns={column: "usd_per_mtok"})
        .assign(metric=metric, tier_min_tokens=None, tier_label=None, tier_max_tokens=None)
        for column, metric in OFFER_PRICES.items()
    ]
    return pd.concat([official_rows, *offer_rows], ignore_index=True)


def advance_catalog(
    previous: dict[str, pd.DataFrame],
    tables: dict[str, pd.DataFrame],
    run: Observation,
    carried_models: set[str],
) -> dict[str, pd.DataFrame]:
    """model_history, price_history, offer_history and this run's changes.

    ``previous`` holds the last snapshot's history tables (empty frames on the first run).
    ``carried_models`` were not observed this run (their page failed and was carried
    forward): their intervals stay as they were.
    """
    models, official, offers = (
        tables["models"],
        tables["official_prices"],
        tables["provider_offers"],
    )
    issues = tables["quality_issues"]

    before = previous["model_history"]
    open_before = before[before["valid_to"].isna()].set_index("model_id")
    # A model keeps the start of its listing across versions; a new listing starts now.
    listed = models["model_id"].map(open_before["listed_from"].astype(object)).astype(object)
    current_models = models.assign(
        listed_from=listed.where(listed.notna(), run.observed_at), delisted_at=None
    )
    model_history, model_events = advance(
        before,
        current_models,
        table=MODEL_HISTORY,
        key=["model_id"],
        tracked=MODEL_TRACKED,
        carried=["listed_from", "delisted_at"],
        run=run,
        unobserved=models["model_id"].isin(carried_models),
    )
    removed = set(model_events.loc[model_events["event"] == "removed", "model_id"])
    added = set(model_events.loc[model_events["event"] == "added", "model_id"])
    delisted = model_history["model_id"].isin(removed) & (
        model_history["valid_to"] == run.observed_at
    )
    model_history.loc[delisted, "delisted_at"] = run.observed_at

    prices = price_observations(official, offers)
    # An offer price that could not be read is NULL like an empty cell; the quality issue
    # tells them apart, and such a price is unobserved rather than removed.
    unreadable_offers = issues[
        (issues["kind"] == "unreadable_value") & issues["field"].str.startswith("provider_offers.")
    ]
    unreadable = set(
        zip(
            unreadable_offers["model_id"],
            unreadable_offers["field"].str.removeprefix("provider_offers.").map(OFFER_PRICES),
            strict=True,
        )
    )
    is_offer = prices["provider"].notna()
    unobserved_price = prices["model_id"].isin(carried_models) | (
        prices["usd_per_mtok"].isna()
        & (
            ~is_offer
            | pd.Series(
                [k in unreadable for k in zip(prices["model_id"], prices["metric"], strict=True)],
                index=prices.index,
            )
        )
    )
    stated = prices["usd_per_mtok"].notna() | unobserved_price
    price_history, price_events = advance(
        previous["price_history"],
        prices[stated],
        table=PRICE_HISTORY,
        key=PRICE_KEY,
        tracked=PRICE_TRACKED,
        carried=PRICE_CARRIED,
        run=run,
        unobserved=unobserved_price[stated],
    )
    offer_history, offer_events = advance(
        previous["offer_history"],
        offers,
        table=OFFER_HISTORY,
        key=OFFER_KEY,
        tracked=OFFER_TRACKED,
        run=run,
        unobserved=offers["model_id"].isin(carried_models),
    )

    kinds = {"added": "model_added", "removed": "model_removed", "changed": "attribute_changed"}
    model_changes = model_events.assign(kind=model_events["event"].map(kinds), provider=None)
    price_changes = price_events[
        ~(price_events["event"] == "added") | ~price_events["model_id"].isin(added)
    ]
    price_changes = price_changes[
        ~(price_changes["event"] == "removed") | ~price_changes["model_id"].isin(removed)
    ]
    price_changes = price_changes.assign(
        kind="price_" + price_changes["event"], field=price_changes["metric"]
    )
    offer_changes = offer_events[offer_events["event"] == "changed"].assign(
        kind="attribute_changed"
    )
    changes = pd.concat([model_changes, price_changes, offer_changes], ignore_index=True)
    changes = conform(changes.assign(run_id=run.run_id, observed_at=run.observed_at), CHANGES)
    return {
        "model_history": model_history,
        "price_history": price_history,
        "offer_history": offer_history,
        "changes": pd.concat([previous["changes"], changes], ignore_index=True),
    }
