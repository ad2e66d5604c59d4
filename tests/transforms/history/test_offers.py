"""Offer history (``transforms.history.offers``): offers added, removed and changed, and offer
history published before ``provider_key``; on small typed frames."""

from __future__ import annotations

from tests.support.history_frames import RUN1, RUN2, Catalog, D, change, observed, offer
from transforms.contract.casting import empty
from transforms.contract.tables import TABLES
from transforms.contract.vocabulary import ChangeKind as K
from transforms.history.offers import advance_offers


def test_offers_added_removed_and_changed() -> None:
    catalog = Catalog()
    catalog.run(observed(offers=[offer("a", "OpenAI", context_window_tokens=128_000)]))
    second = [
        offer("a", "OpenAI", context_window_tokens=200_000, input_usd_per_mtok=D("1")),
        offer("a", "Azure", "us", input_usd_per_mtok=D("2")),
    ]
    assert catalog.run(observed(offers=second)) == sorted(
        [
            change(
                K.ATTRIBUTE_CHANGED,
                "a",
                "context_window_tokens",
                "128000",
                "200000",
                provider="OpenAI",
            ),
            change(K.OFFER_ADDED, "a", provider="Azure", region="us"),
            change(K.PRICE_ADDED, "a", "input", None, "1", provider="OpenAI"),
        ],
        key=repr,
    )
    assert catalog.run(observed(offers=second[1:])) == [
        change(K.OFFER_REMOVED, "a", provider="OpenAI")
    ]


def test_offer_history_from_before_provider_key_reports_no_change() -> None:
    seen = observed(offers=[offer("a", "Vertex Ai Batch", "us")])
    history, _ = advance_offers(empty(TABLES["offer_history"]), seen, RUN1)
    old = history.drop(columns="provider_key")
    seen = observed(offers=[offer("a", "Vertex Ai Batch", "us", provider_key="vertex-ai-batch")])
    history, changes = advance_offers(old, seen, RUN2)
    assert changes.empty
    assert history["provider_key"].tolist() == ["vertex-ai-batch"]


def test_offer_history_from_before_service_tier_reports_no_change() -> None:
    """An upgraded history derives the tier by the offers table's rule: a batch offer
    published before the column is not reported as changed when it appears."""
    first = [offer("a", "Vertex Ai Batch", "us", service_tier="batch"), offer("a", "OpenAI")]
    history, _ = advance_offers(empty(TABLES["offer_history"]), observed(offers=first), RUN1)
    old = history.drop(columns="service_tier")
    history, changes = advance_offers(old, observed(offers=first), RUN2)
    assert changes.empty
    assert sorted(history["service_tier"].tolist()) == ["batch", "standard"]
