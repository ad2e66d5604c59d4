"""Model history (``transforms.history.models``): listings, attribute changes, models carried
forward; on small typed frames."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from tests.support.history_frames import (
    RUN1,
    RUN2,
    RUN3,
    Catalog,
    change,
    model,
    observed,
    price,
    rows_of,
)
from transforms.contract.tables import MODELS, OFFICIAL_PRICES, PROVENANCE, PROVIDER_OFFERS
from transforms.contract.vocabulary import ChangeKind as K
from transforms.history import offers as offer_history
from transforms.history import prices as price_history
from transforms.history.models import TRACKED


def test_every_column_of_the_current_tables_is_in_history_or_provenance() -> None:
    """As-of at the current time can only return the current tables if history holds every
    column they publish: in the key or tracked, or declared provenance (not versioned)."""
    assert set(MODELS.names) == {"model_id", *TRACKED, *PROVENANCE["models"]}
    official = set(price_history.KEY) | set(price_history.SPEC.tracked)
    assert set(OFFICIAL_PRICES.names) - official == set(PROVENANCE["official_prices"])
    assert set(PROVIDER_OFFERS.names) - set(offer_history.KEY) - set(offer_history.TRACKED) == {
        *price_history.OFFER_PRICE_METRICS
    }


def test_a_model_keeps_its_listing_across_versions_and_a_relisting_starts_anew() -> None:
    catalog = Catalog()
    catalog.run(observed([model("a"), model("b")]))
    assert catalog.run(observed([model("a", display_name="A2")])) == [
        change(K.ATTRIBUTE_CHANGED, "a", "display_name", None, "A2"),
        change(K.MODEL_REMOVED, "b"),
    ]
    assert catalog.run(observed([model("a", display_name="A2"), model("b")])) == [
        change(K.MODEL_ADDED, "b")
    ]
    history = catalog.tables["model_history"]
    assert rows_of(
        history, ["model_id", "listed_from", "delisted_at", "valid_from", "valid_to"]
    ) == sorted(
        [
            ("a", RUN1.observed_at, None, RUN1.observed_at, RUN2.observed_at),
            ("a", RUN1.observed_at, None, RUN2.observed_at, None),
            ("b", RUN1.observed_at, RUN2.observed_at, RUN1.observed_at, RUN2.observed_at),
            ("b", RUN3.observed_at, None, RUN3.observed_at, None),
        ],
        key=repr,
    )


@pytest.mark.parametrize(
    ("field", "old", "new", "old_text", "new_text"),
    [
        ("release_date", None, date(2025, 4, 14), None, "2025-04-14"),
        ("release_date", date(2025, 4, 14), None, "2025-04-14", None),
        ("context_window_tokens", 128_000, 1_050_000, "128000", "1050000"),
        ("context_window_tokens", 128_000, None, "128000", None),
        ("input_modalities", ["text"], ["text", "image"], "text", "text, image"),
        ("input_modalities", None, ["text"], None, "text"),
        ("supports_tool_use", None, False, None, "false"),
        ("supports_tool_use", True, None, "true", None),
        ("provider_family_key", None, "openai", None, "openai"),
        ("overview", "Fast.", "Fast and cheap.", "Fast.", "Fast and cheap."),
    ],
)
def test_each_attribute_change_is_one_event(field, old, new, old_text, new_text) -> None:
    """Every other model keeps the value NULL (the demo: release date Unknown on every page)."""
    others = [model(i) for i in ("b", "c")]
    catalog = Catalog()
    catalog.run(observed([model("a", **{field: old}), *others]))
    changes = catalog.run(observed([model("a", **{field: new}), *others]))
    assert changes == [change(K.ATTRIBUTE_CHANGED, "a", field, old_text, new_text)]


@pytest.mark.parametrize(
    "moved",
    [
        {"page_url": "http://127.0.0.1:2/{}.md"},  # a new port
        {"page_url": "https://cdn.example/{}.md", "canonical_url": "https://cdn.example/{}"},
        {"canonical_url": "https://apex.example/{}"},  # www to apex
    ],
)
def test_a_host_move_is_provenance_not_a_change(moved: dict[str, str]) -> None:
    """Every model moving at once (the other attributes NULL): the versions continue,
    confirmed by the run, and the feed is silent."""
    catalog = Catalog()
    catalog.run(observed([model(i) for i in "abc"]))
    before = catalog.tables["model_history"].copy()
    at = [model(i, **{k: v.format(i) for k, v in moved.items()}) for i in "abc"]
    assert catalog.run(observed(at)) == []
    after = catalog.tables["model_history"]
    assert "page_url" not in after
    assert "canonical_url" not in after
    pd.testing.assert_frame_equal(
        after.drop(columns="last_run_id"), before.drop(columns="last_run_id")
    )
    assert set(after["last_run_id"]) == {RUN2.run_id}


def test_a_model_carried_forward_is_left_exactly_as_it_was() -> None:
    catalog = Catalog()
    catalog.run(observed([model("a", display_name="A")], [price("a", "Price", "input", "1")]))
    before = catalog.tables["model_history"].copy()
    prices = catalog.tables["price_history"].copy()
    # Whatever the carried rows say, the run did not see them.
    seen = observed(
        [model("a", display_name="changed")],
        [price("a", "Price", "input", "2")],
        carried=["a"],
    )
    assert catalog.run(seen) == []
    pd.testing.assert_frame_equal(catalog.tables["model_history"], before)
    pd.testing.assert_frame_equal(catalog.tables["price_history"], prices)


def unread_run(catalog: Catalog, models: list[dict], unread: list[tuple[str, str]]) -> list:
    return catalog.run(observed(models, unread_attributes=unread))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("release_date", date(2025, 4, 14)),
        ("context_window_tokens", 128_000),
        ("input_modalities", ["text", "image"]),
        ("supports_tool_use", True),
        ("provider_family", "OpenAI"),
    ],
)
def test_an_unread_attribute_leaves_the_version_untouched(field: str, value: object) -> None:
    """The page shows a value the run cannot read: NULL in the run's models row, but its
    version is neither confirmed nor closed, and nothing is reported, either way."""
    catalog = Catalog()
    family = {"provider_family_key": "openai"} if field == "provider_family" else {}
    read = model("a", **{field: value}, **family)
    catalog.run(observed([read, model("b")]))
    before = catalog.tables["model_history"].copy()
    assert unread_run(catalog, [model("a"), model("b")], [("a", field)]) == []
    after = catalog.tables["model_history"]
    pd.testing.assert_frame_equal(
        after[after["model_id"] == "a"], before[before["model_id"] == "a"]
    )
    assert set(after.loc[after["model_id"] == "b", "last_run_id"]) == {RUN2.run_id}
    # The page fixed, the value read again: still the same version, confirmed.
    assert catalog.run(observed([read, model("b")])) == []
    assert len(catalog.tables["model_history"]) == 2
    assert set(catalog.tables["model_history"]["last_run_id"]) == {RUN3.run_id}


def test_with_another_attribute_changed_the_new_version_keeps_the_last_read() -> None:
    catalog = Catalog()
    catalog.run(observed([model("a", release_date=date(2025, 4, 14), display_name="A")]))
    changes = unread_run(catalog, [model("a", display_name="A2")], [("a", "release_date")])
    assert changes == [change(K.ATTRIBUTE_CHANGED, "a", "display_name", "A", "A2")]
    history = catalog.tables["model_history"]
    assert rows_of(history, ["display_name", "release_date", "valid_to"]) == [
        ("A", date(2025, 4, 14), RUN2.observed_at),
        ("A2", date(2025, 4, 14), None),
    ]


def test_an_unread_attribute_of_a_new_model_is_null() -> None:
    catalog = Catalog()
    assert unread_run(catalog, [model("a")], [("a", "release_date")]) == [
        change(K.MODEL_ADDED, "a")
    ]
    assert rows_of(catalog.tables["model_history"], ["model_id", "release_date"]) == [("a", None)]
