"""What a run observed (``transforms.history.observed``): an empty observation advances every
history table to nothing, without a change."""

from __future__ import annotations

from tests.support.history_frames import RUN1, observed
from transforms.contract.casting import empty
from transforms.contract.tables import TABLES
from transforms.history.models import advance_models
from transforms.history.offers import advance_offers
from transforms.history.prices import advance_prices


def test_prices_and_models_accept_empty_inputs() -> None:
    seen = observed()
    for advance_one, name in (
        (advance_models, "model_history"),
        (advance_prices, "price_history"),
        (advance_offers, "offer_history"),
    ):
        history, changes = advance_one(empty(TABLES[name]), seen, RUN1)
        assert history.empty
        assert changes.empty
