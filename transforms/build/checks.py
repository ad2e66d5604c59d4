"""Semantic checks: values that parse but contradict each other. They flag, never fix.

Each check returns quality issue rows (``transforms.build.issues``); the values stay as the page
wrote them. The thresholds aim at the mistakes catalogs really make: a price entered per 1K
instead of per 1M tokens is off by 1,000x, so 100x apart is flagged; sizes shown rounded
("1.05M") or with binary prefixes (1M for 1,048,576) are compared only beyond what that
allows (``slack``).
"""

from __future__ import annotations

import re
from decimal import Decimal

import pandas as pd

from transforms.build import normalize as n
from transforms.build.issues import ISSUE_COLUMNS, issue_rows, no_issues
from transforms.contract.vocabulary import IssueKind

OUTLIER_FACTOR = 100
BINARY_PREFIX_PERCENT = 5
# "a 1 million token context window", "128K-token context", "200,000 tokens of context"
_OVERVIEW_CONTEXT = re.compile(
    r"(?P<number>[0-9][0-9,]*(?:\.[0-9]+)?)\s*(?P<unit>million|thousand|[kKmM])?\b[\s-]*"
    r"tokens?(?:[\s-]+of)?[\s-]+context",
    re.IGNORECASE,
)
_OVERVIEW_PHRASE = re.compile(f"(?P<phrase>{_OVERVIEW_CONTEXT.pattern})", re.IGNORECASE)
_WORD_UNITS = {"million": "M", "thousand": "K"}


def semantic_issues(
    models: pd.DataFrame, prices: pd.DataFrame, offers: pd.DataFrame
) -> pd.DataFrame:
    """Every contradiction found, as quality issue rows."""
    if models.empty and prices.empty and offers.empty:
        return no_issues()  # every page reused: the checks' fixed cost is a fifth of a second
    found = [
        _tier_outliers(prices),
        _offer_outliers(prices, offers),
        _output_exceeds_context(models, "models"),
        _output_exceeds_context(offers, "provider_offers"),
        _offer_context_exceeds_model(models, offers),
        _overview_contradicts_context(models),
    ]
    found = [frame for frame in found if not frame.empty]
    if not found:
        return no_issues()
    return pd.concat(found, ignore_index=True)[ISSUE_COLUMNS]


def slack(raw_a: pd.Series, raw_b: pd.Series, larger: pd.Series) -> pd.Series:
    """How far apart two displayed token counts may be and still agree.

    Half the last shown digit of each ('1.05M' may be anything from 1,045,000 to 1,055,000),
    plus 5% of the larger: pages write 1M for 1,048,576 and 128K for 131,072.
    """
    return _rounding(raw_a) + _rounding(raw_b) + larger * BINARY_PREFIX_PERCENT // 100


def _rounding(raw: pd.Series) -> pd.Series:
    parts = n.extract(raw.astype(n.STRING).str.strip(), n.TOKENS_PATTERN)
    unit = parts["unit"].str.lower().map({"k": 1_000, "m": 1_000_000}, na_action="ignore")
    unit = unit.astype(n.INT64).fillna(1)
    decimals = parts["frac"].str.len().fillna(0).astype(n.INT64)
    return (unit // (10**decimals) // 2).where(decimals > 0, 0).astype(n.INT64)


def _issue(
    rows: pd.DataFrame,
    kind: IssueKind,
    field: str | pd.Series,
    raw_value: pd.Series,
    problem: str | pd.Series,
) -> pd.DataFrame:
    return issue_rows(
        kind,
        problem,
        model_id=rows["model_id"],
        page_url=rows.get("page_url"),
        field=field,
        raw_value=raw_value,
        index=rows.index,
    )


def _lookup(frame: pd.DataFrame, key: str, column: str) -> pd.Series:
    """``column`` by ``key`` where the key names one row; an ambiguous key is no reference."""
    return frame[~frame[key].duplicated(keep=False)].set_index(key)[column]


def _exact(prices: pd.Series) -> pd.Series:
    """Prices as Python Decimals: ratios of DECIMAL(18,9) overflow Arrow's 38 digits."""
    return prices.astype(object)


def _far(price: pd.Series, reference: pd.Series) -> pd.Series:
    """OUTLIER_FACTOR or more apart, either way; both present and non-zero."""
    price, reference = _exact(price), _exact(reference)
    comparable = price.notna() & reference.notna() & (price != 0) & (reference != 0)
    far = pd.Series(False, index=price.index)
    p, r = price[comparable], reference[comparable]
    far[comparable] = (p >= r * OUTLIER_FACTOR) | (p * OUTLIER_FACTOR <= r)
    return far.astype(bool)


def _tier_outliers(prices: pd.DataFrame) -> pd.DataFrame:
    """Upper-tier prices 100x away from, or below, the same metric's base tier."""
    base = prices[prices["tier_min_tokens"] == 0][["model_id", "metric", "usd_per_mtok"]]
    upper = prices[prices["tier_min_tokens"] > 0].merge(
        base, on=["model_id", "metric"], suffixes=("", "_base")
    )
    price, base_price = _exact(upper["usd_per_mtok"]), _exact(upper["usd_per_mtok_base"])
    far = _far(price, base_price)
    both = price.notna() & base_price.notna()
    lower = pd.Series(False, index=upper.index)
    lower[both] = price[both] < base_price[both]
    lower = lower.astype(bool)
    field = "official_prices." + upper["metric"] + " " + upper["tier_label"]
    base_text = base_price.map(_usd, na_action="ignore").astype(n.STRING)
    return pd.concat(
        [
            _issue(
                upper[far],
                IssueKind.PRICE_OUTLIER,
                field[far],
                upper.loc[far, "raw_value"],
                f"{OUTLIER_FACTOR}x or more away from the base tier's price "
                + base_text[far]
                + " (a per-1K vs per-1M unit mistake?)",
            ),
            _issue(
                upper[lower],
                IssueKind.TIER_PRICE_INVERSION,
                field[lower],
                upper.loc[lower, "raw_value"],
                "upper context tier is cheaper than the base tier's " + base_text[lower],
            ),
        ]
    )


def _offer_outliers(prices: pd.DataFrame, offers: pd.DataFrame) -> pd.DataFrame:
    """Provider prices 100x away from the official price or from the providers' median."""
    base = prices[prices["tier_min_tokens"] == 0]
    found = []
    for metric in ("input", "output", "cache_read", "cache_write"):
        column = f"{metric}_usd_per_mtok"
        rows = offers[["model_id", "provider", column]].rename(columns={column: "price"})
        rows = rows[rows["price"].notna()].assign(price=lambda f: _exact(f["price"]))
        official = _lookup(base[base["metric"] == metric], "model_id", "usd_per_mtok")
        far_official = _far(rows["price"], rows["model_id"].map(_exact(official)))

        # The median of each model's providers, exactly: the mean of the two middle prices,
        # compared as 2 x price against their sum.
        ranked = rows.sort_values(["model_id", "price"])
        position = ranked.groupby("model_id").cumcount()
        size = ranked.groupby("model_id")["price"].transform("size")
        low = ranked[position == (size - 1) // 2].set_index("model_id")["price"]
        high = ranked[position == size // 2].set_index("model_id")["price"]
        enough = rows["model_id"].map(rows.groupby("model_id").size()) >= 3
        far_median = enough & _far(rows["price"] * 2, rows["model_id"].map(low + high))
        far_median &= ~far_official

        field = "provider_offers." + column + " " + rows["provider"]
        found.append(
            _issue(
                rows[far_official],
                IssueKind.PRICE_OUTLIER,
                field[far_official],
                rows.loc[far_official, "price"].map(_usd),
                f"{OUTLIER_FACTOR}x or more away from the official {metric} price",
            )
        )
        found.append(
            _issue(
                rows[far_median],
                IssueKind.PRICE_OUTLIER,
                field[far_median],
                rows.loc[far_median, "price"].map(_usd),
                f"{OUTLIER_FACTOR}x or more away from the median of this model's providers",
            )
        )
    return pd.concat(found)


def _output_exceeds_context(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    output, context = frame["max_output_tokens"], frame["context_window_tokens"]
    allowed = slack(frame["max_output_tokens_raw"], frame["context_window_tokens_raw"], output)
    bad = (output - allowed > context).fillna(False).astype(bool)
    who = frame.get("provider", pd.Series("", index=frame.index)).fillna("")
    return _issue(
        frame[bad],
        IssueKind.OUTPUT_EXCEEDS_CONTEXT,
        f"{table}.max_output_tokens" + (" " + who[bad] if table == "provider_offers" else ""),
        frame.loc[bad, "max_output_tokens_raw"],
        "max output ("
        + output[bad].astype(str)
        + ") is larger than the context window ("
        + context[bad].astype(str)
        + ")",
    )


def _offer_context_exceeds_model(models: pd.DataFrame, offers: pd.DataFrame) -> pd.DataFrame:
    joined = offers.assign(
        model_context=offers["model_id"].map(_lookup(models, "model_id", "context_window_tokens")),
        model_raw=offers["model_id"].map(_lookup(models, "model_id", "context_window_tokens_raw")),
        page_url=offers["model_id"].map(_lookup(models, "model_id", "page_url")),
    )
    offered = joined["context_window_tokens"]
    allowed = slack(joined["context_window_tokens_raw"], joined["model_raw"], offered)
    bad = (offered - allowed > joined["model_context"]).fillna(False)
    bad = bad.astype(bool)
    return _issue(
        joined[bad],
        IssueKind.OFFER_CONTEXT_EXCEEDS_MODEL,
        "provider_offers.context_window_tokens " + joined.loc[bad, "provider"],
        joined.loc[bad, "context_window_tokens_raw"],
        "provider's context window is larger than the model's ("
        + joined.loc[bad, "model_raw"].astype(str)
        + ")",
    )


def _overview_contradicts_context(models: pd.DataFrame) -> pd.DataFrame:
    """An overview that states a context window the metadata does not."""
    # Through Arrow's engine (RE2): linear in the text, where Python's backtracks
    # quadratically on "1,1,1,..." (a 20 KB overview took 32 s).
    claims = n.extract(models["overview"].astype(n.STRING), _OVERVIEW_CONTEXT)
    stated = claims["number"] + claims["unit"].str.lower().replace(_WORD_UNITS).fillna("")
    claimed = n.tokens(stated)
    metadata = models["context_window_tokens"]
    allowed = slack(
        stated,
        models["context_window_tokens_raw"],
        pd.concat([claimed, metadata], axis=1).max(axis=1),
    )
    bad = ((claimed - metadata).abs() > allowed).fillna(False).astype(bool)
    phrase = n.extract(models["overview"].astype(n.STRING), _OVERVIEW_PHRASE)["phrase"]
    return _issue(
        models[bad],
        IssueKind.OVERVIEW_CONTRADICTION,
        "models.overview",
        phrase[bad],
        "the overview says "
        + stated[bad].astype(str)
        + " tokens of context; the metadata says "
        + models.loc[bad, "context_window_tokens_raw"].astype(str),
    )


def _usd(value: Decimal) -> str:
    return "$" + format(value.normalize(), "f")
