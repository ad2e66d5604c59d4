"""What one run observed, typed: the input of every history table."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

from transforms.contract.casting import STRING, conform
from transforms.contract.tables import MODELS, OFFICIAL_PRICES, PROVIDER_OFFERS, UNREAD_PRICES


@dataclass(frozen=True)
class Observed:
    """The current tables of a run, in the contract's types, and what it could not observe.

    ``unread_prices`` are price cells the pages show but the run could not read, and
    ``unread_attributes`` (model_id, field) the models' attributes likewise; the
    ``carried_models`` (one column, model_id) were not observed at all: their pages failed
    and the previous run's rows were carried forward.
    """

    models: pd.DataFrame
    official_prices: pd.DataFrame
    provider_offers: pd.DataFrame
    unread_prices: pd.DataFrame
    carried_models: pd.DataFrame
    unread_attributes: pd.DataFrame

    @classmethod
    def of(
        cls,
        tables: Mapping[str, pd.DataFrame],
        carried_models: Iterable[str],
        unread_attributes: Iterable[tuple[str, str]] = (),
    ) -> Observed:
        carried = pd.DataFrame({"model_id": pd.Series(sorted(carried_models), dtype=STRING)})
        unread = pd.DataFrame(sorted(set(unread_attributes)), columns=["model_id", "field"])
        return cls(
            models=conform(tables["models"], MODELS),
            official_prices=conform(tables["official_prices"], OFFICIAL_PRICES),
            provider_offers=conform(tables["provider_offers"], PROVIDER_OFFERS),
            unread_prices=conform(tables["unread_prices"], UNREAD_PRICES),
            carried_models=carried,
            unread_attributes=unread.astype(STRING),
        )
