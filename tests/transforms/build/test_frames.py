"""The typed frames (``transforms.build.frames``): the cells left NULL for a conflict, by
their typed keys, and the price cells a page shows but the build could not read."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tests.support import HOSTILE
from tests.support.history_frames import D, rows_of
from tests.support.staging import BASE, stage_site
from transforms.build import frames
from transforms.contract.casting import to_frame


def test_conflicted_cells_are_reported_by_their_typed_keys(tmp_path: Path) -> None:
    """The cells left NULL for a conflict, with one column per part of their key
    (frames.TypedTables.conflicted_cells). Prices among them reach history as unread cells
    (unread_prices); model attributes do not yet, so history records a conflicting one as
    NULL."""
    names = ["duplicate-metric-row.md", "duplicate-provider-row.md", "identical-metric-row.md"]
    staged = stage_site({BASE + name: (HOSTILE / name).read_bytes() for name in names}, tmp_path)
    sources = frames.source_index(staged.sources)
    parts = (frames.page_tables(to_frame(chunk.values), sources) for chunk in staged.chunks())
    catalog = frames.typed_tables(staged.pages, parts)
    cells = catalog.conflicted_cells.drop(columns="page_url").astype(object)
    assert sorted(map(tuple, cells.where(cells.notna(), None).to_numpy().tolist())) == [
        (
            "hostile-duplicate-metric-row",
            "official_prices",
            "usd_per_mtok",
            None,
            None,
            "input",
            "<=200K Context",
        ),
        (
            "hostile-duplicate-provider-row",
            "provider_offers",
            "input_usd_per_mtok",
            "OpenAI",
            None,
            None,
            None,
        ),
    ]


def test_unread_prices_are_the_cells_shown_but_not_read() -> None:
    official = pd.DataFrame(
        {
            "page_url": ["p"] * 3,
            "model_id": ["a"] * 3,
            "tier_label": ["Standard", "Batch", "Batch"],
            "metric": ["input", "input", "output"],
            # A '—' is no official row at all: a NULL price is one that did not read.
            "usd_per_mtok": [D("0.8"), None, None],
            "raw_value": ["$0.8", "$0.4/1K", "$1"],  # the last one: a unit not per 1M
        }
    )
    offers = pd.DataFrame(
        {
            "page_url": ["p", "p"],
            "model_id": ["a", "a"],
            "provider": ["OpenAI", "Azure"],
            "region": [None, "us"],
            **{c: [None, None] for c in frames.OFFER_PRICE_METRICS},
            "input_usd_per_mtok_raw": ["ask sales", "—"],
            "output_usd_per_mtok_raw": [None, "N/A"],
            "cache_read_usd_per_mtok_raw": ["-", ""],
            "cache_write_usd_per_mtok_raw": [None, "$$"],
            # Withheld from reading (another unit, conflicting copies): its text is kept
            # apart, the raw column is NULL like a '—', and it is unread all the same.
            **{f"{c}_withheld": [None, None] for c in frames.OFFER_PRICE_METRICS},
            "output_usd_per_mtok_withheld": ["$3.2 | $9.9", None],
        }
    )
    unread = frames.unread_prices(official, offers)
    assert rows_of(unread, [*frames.UNREAD_COLUMNS, "raw_value"]) == sorted(
        [
            ("p", "a", None, None, "Batch", "input", "$0.4/1K"),
            ("p", "a", None, None, "Batch", "output", "$1"),
            ("p", "a", "OpenAI", None, None, "input", "ask sales"),
            ("p", "a", "OpenAI", None, None, "output", "$3.2 | $9.9"),
            ("p", "a", "Azure", "us", None, "cache_write", "$$"),
        ],
        key=repr,
    )
