"""The value grammar: vectorized functions from raw page text to typed values.

Every function takes a Series of raw strings and returns a Series of typed values of the
same length. A value is NULL when the page shows none (``—``, ``-``, ``N/A``, ``Unknown``,
empty) *or* when the text does not parse; ``unreadable()`` tells the two apart so the
caller can record a quality issue. Nothing here guesses: a number comes out only when the
text is exactly a number in the grammar, and money never touches a binary float.
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from transforms.contract.casting import BOOLEAN, INT64, STRING, pandas_dtype
from transforms.contract.columns import TEXT_LIST, TS
from transforms.contract.columns import USD as USD_ARROW
from transforms.contract.vocabulary import Metric, ServiceTier

USD = pandas_dtype(USD_ARROW)
DATE = pandas_dtype(pa.date32())
TIMESTAMP = pandas_dtype(TS)  # UTC, stored without a zone
STRING_LIST = pandas_dtype(TEXT_LIST)

# Text meaning "the page shows no value". Dashes of every width are all used for "none".
MISSING_MARKERS = frozenset({"", "—", "–", "-", "n/a", "unknown"})

# ASCII digits only: ``\d`` would also accept other scripts' digits, which int() then reads.
_INTEGER = r"[0-9]{1,3}(?:,[0-9]{3}){1,4}|[0-9]{1,13}"
TOKENS_PATTERN = re.compile(
    rf"^(?P<int>{_INTEGER})(?:\.(?P<frac>[0-9]{{1,6}}))?\s*(?P<unit>[kKmM])?$"
)
USD_PATTERN = re.compile(
    r"^\$\s?(?P<int>[0-9]{1,3}(?:,[0-9]{3}){1,2}|[0-9]{1,9})(?:\.(?P<frac>[0-9]{1,9}))?$"
)
DATE_PATTERN = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
# ISO 8601 with a zone (Z or ±hh:mm), as front matter writes ``generated_at``.
TIMESTAMP_PATTERN = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,9})?)?"
    r"(?:Z|[+-][0-9]{2}:?[0-9]{2})$"
)
_UNIT = {"k": 1_000, "m": 1_000_000}
_INT64_MAX = 2**63 - 1
_BOOLEANS = {"yes": True, "no": False, "true": True, "false": False}


def extract(raw: pd.Series, pattern: re.Pattern[str]) -> pd.DataFrame:
    """``Series.str.extract`` through Arrow's regex engine: one column per named group.

    pandas runs ``str.extract`` in Python for string columns; Arrow's ``extract_regex`` is
    ~5x faster. The patterns here use only syntax both engines read the same way.
    """
    flags = "(?i)" if pattern.flags & re.IGNORECASE else ""
    groups = list(pattern.groupindex)
    values = pa.array(raw.astype(object).where(raw.notna(), None), pa.string())
    found = pc.extract_regex(values, flags + pattern.pattern)
    unmatched = ~found.is_valid().to_numpy(zero_copy_only=False)
    columns = {}
    for group in groups:
        column = pd.Series(found.field(group), dtype=STRING, index=raw.index)
        # Arrow gives "" for a group that took no part in the match; pandas gives NULL.
        columns[group] = column.mask(unmatched | (column == "").fillna(False).to_numpy(bool))
    return pd.DataFrame(columns, index=raw.index)


def isin(column: pd.Series | pd.Index, values: pd.Series | pd.Index) -> np.ndarray:
    """``column.isin(values)`` for strings, through Arrow.

    pandas checks a string column against its values one Python object at a time, which
    made membership tests of page URLs the slowest step of a build.
    """
    value_set = pc.unique(pa.chunked_array([pa.array(values.astype(object), pa.string())]))
    found = pc.is_in(pa.array(column.astype(object), pa.string()), value_set=value_set)
    return found.to_numpy(zero_copy_only=False)


def text(raw: pd.Series) -> pd.Series:
    """Trimmed text; missing markers become NULL."""
    stripped = raw.astype(STRING).str.strip()
    return stripped.mask(is_missing(stripped))


def is_missing(raw: pd.Series) -> pd.Series:
    """True where the page shows no value."""
    stripped = raw.astype(STRING).str.strip().str.lower()
    return (stripped.isna() | stripped.isin(MISSING_MARKERS)).astype(bool)


def unreadable(raw: pd.Series, parsed: pd.Series) -> pd.Series:
    """True where the page shows a value but it did not parse: each is a quality issue."""
    return (~is_missing(raw) & parsed.isna()).astype(bool)


def tokens(raw: pd.Series) -> pd.Series:
    """Token counts: ``128K``, ``1.05M``, ``1,047,576``, ``32768`` (K = 1,000, M = 1,000,000)."""
    parts = extract(raw.astype(STRING).str.strip(), TOKENS_PATTERN)
    whole = parts["int"].str.replace(",", "", regex=False).astype(INT64)
    unit = parts["unit"].str.lower().map(_UNIT, na_action="ignore").astype(INT64).fillna(1)
    frac = parts["frac"].fillna("")
    denominator = (10 ** frac.str.len()).astype(INT64)
    numerator = frac.replace("", "0").astype(INT64) * unit
    # 131.1K is 131,100 exactly; 1.0005K would be 1,000.5 tokens, which is not a count.
    exact = numerator % denominator == 0
    extra = numerator // denominator
    # Past int64 the sum would silently wrap around to a wrong, even negative, count.
    limit = _INT64_MAX // unit
    fits = ((whole < limit) | ((whole == limit) & (extra <= _INT64_MAX % unit))).fillna(False)
    value = whole.where(fits) * unit + extra
    return value.where(exact).astype(INT64)


def usd(raw: pd.Series) -> pd.Series:
    """US dollars: ``$0.8``, ``$1.60``, ``$1,250``, ``$0`` -> DECIMAL(18,9), exactly."""
    parts = extract(raw.astype(STRING).str.strip(), USD_PATTERN)
    digits = parts["int"].str.replace(",", "", regex=False) + ("." + parts["frac"]).fillna("")
    # Arrow parses decimal text exactly and refuses to round; no float is ever formed.
    decimals = pc.cast(
        pa.array(digits.astype(object).where(digits.notna(), None), pa.string()), USD_ARROW
    )
    return pd.Series(pd.array(decimals, dtype=USD), index=raw.index)


def yes_no(raw: pd.Series) -> pd.Series:
    """``Yes``/``No`` -> boolean; ``Unknown`` and anything else -> NULL."""
    key = raw.astype(STRING).str.strip().str.lower()
    return key.map(_BOOLEANS, na_action="ignore").astype(BOOLEAN)


def iso_date(raw: pd.Series) -> pd.Series:
    """``YYYY-MM-DD`` -> date; impossible dates such as 2025-02-30 are unreadable."""
    stripped = raw.astype(STRING).str.strip()
    candidate = stripped.where(stripped.str.fullmatch(DATE_PATTERN).fillna(False).astype(bool))
    parsed = pd.to_datetime(candidate.astype(object), format="%Y-%m-%d", errors="coerce")
    return pd.Series(
        pa.array(parsed.dt.date.astype(object), pa.date32()), index=raw.index, dtype=DATE
    )


def utc_timestamp(raw: pd.Series) -> pd.Series:
    """ISO 8601 timestamps with a zone -> UTC timestamp without zone (microseconds)."""
    stripped = raw.astype(STRING).str.strip()
    candidate = stripped.where(stripped.str.fullmatch(TIMESTAMP_PATTERN).fillna(False).astype(bool))
    parsed = pd.to_datetime(candidate.astype(object), format="ISO8601", utc=True, errors="coerce")
    naive = parsed.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[us]")
    return naive.astype(TIMESTAMP)


def modalities(raw: pd.Series) -> pd.Series:
    """``text, image`` -> ["text", "image"], each item trimmed and kept as written."""
    present = text(raw)
    items = present.str.split(",").map(
        lambda parts: [p.strip() for p in parts if p.strip()], na_action="ignore"
    )
    # "," shows a value but names no modality: unreadable (NULL), not an empty list.
    items = items.where(items.str.len() > 0)
    return pd.Series(
        pa.array(items.astype(object).where(items.notna(), None), pa.list_(pa.string())),
        index=raw.index,
        dtype=STRING_LIST,
    )


def slug(raw: pd.Series, separator: str = "-") -> pd.Series:
    """Lower-case; each run of characters other than a-z and 0-9 becomes one separator."""
    lowered = raw.astype(STRING).str.lower()
    slugged = lowered.str.replace(r"[^a-z0-9]+", separator, regex=True).str.strip(separator)
    return slugged.mask(slugged == "")


# The provider label's last word, after any trailing "(…)": `OpenAI Batch (Global)` -> Batch.
_LAST_WORD = re.compile(r"(?:^|\s)(?P<word>[^\s()]+)\s*(?:\([^()]*\)\s*)?$")
_TIER_WORDS = {t.value: t.value for t in ServiceTier if t is not ServiceTier.STANDARD}


def service_tier(provider: pd.Series) -> pd.Series:
    """An offer's service tier, from its provider label as written: the label's last word
    (words split at spaces; a trailing parenthesised part skipped) when it is Batch, Flex or
    Priority in any case, else standard. Only those words: anything else, or one of them
    elsewhere in the label, is part of the provider's name."""
    word = provider.astype(STRING).str.extract(_LAST_WORD)["word"].str.lower()
    return word.map(_TIER_WORDS).fillna(ServiceTier.STANDARD.value).astype(STRING)


# --- Context tiers -------------------------------------------------------------------------

_TIER = re.compile(
    r"^(?P<op><=|≤|<|>=|≥|>)?\s*(?P<low>[0-9][0-9.,]*\s*[kKmM]?)"
    r"(?:\s*(?:-|–|to)\s*(?P<high>[0-9][0-9.,]*\s*[kKmM]?))?\s*(?:context|tokens)?$",
    re.IGNORECASE,
)


def token_count(text_value: str) -> int | None:
    """One token count by the same grammar as ``tokens``."""
    value = tokens(pd.Series([text_value], dtype=STRING)).iloc[0]
    return None if pd.isna(value) else int(value)


class Tier(NamedTuple):
    """A context tier's bounds, or why it has none (both bounds None)."""

    min_tokens: int | None  # exclusive
    max_tokens: int | None  # inclusive; None: open-ended (or no bounds)
    overlaps: bool = False  # the label reads, but starts inside the tier before it


@functools.lru_cache(maxsize=256)
def read_tiers(labels: tuple[str, ...]) -> tuple[Tier, ...]:
    """The tier of each context-tier column label, left to right.

    ``<=200K Context`` -> (0, 200000); ``>200K Context`` -> (200000, None);
    ``128K-1M`` -> (128000, 1000000). A table with a single column whose label names no
    bound applies at every context length: (0, None). A label that cannot be read has no
    bounds; nor has one that starts below the end of the tier before it (``<=200K | >128K``:
    a prompt of 150K tokens would have two prices), or that follows an open-ended tier
    (``>200K | >1M``: the first covers any length), which is marked ``overlaps``.
    """
    tiers: list[Tier] = []
    previous_max: int | None = 0
    open_ended = False  # a tier before runs to any length: every tier after it overlaps it
    for label in labels:
        bound = _one_tier(label.strip(), 0 if open_ended else previous_max)
        if open_ended and bound is not None:
            bound = "overlaps"
        if bound is None and len(labels) == 1 and not re.search(r"[0-9]", label):
            bound = (0, None)
        overlaps = bound == "overlaps"
        tier = Tier(*bound) if isinstance(bound, tuple) else Tier(None, None, overlaps)
        tiers.append(tier)
        previous_max = tier.max_tokens if tier.min_tokens is not None else None
        open_ended = open_ended or (tier.min_tokens is not None and tier.max_tokens is None)
    return tuple(tiers)


def tier_bounds(labels: tuple[str, ...]) -> tuple[tuple[int, int | None] | None, ...]:
    """Bounds (exclusive min, inclusive max or None) of each label; None where it has none."""
    return tuple(
        None if tier.min_tokens is None else (tier.min_tokens, tier.max_tokens)
        for tier in read_tiers(labels)
    )


def _one_tier(label: str, previous_max: int | None) -> tuple[int, int | None] | str | None:
    """The label's bounds; "overlaps" if they start inside the previous tier; None if unread."""
    match = _TIER.match(label)
    if match is None:
        return None
    low = token_count(match["low"])
    high = token_count(match["high"]) if match["high"] else None
    if low is None or (match["high"] and high is None):
        return None
    op = match["op"]
    if high is not None:
        bound: tuple[int, int | None] | None = (low, high) if op is None and low < high else None
    elif op in {"<=", "≤", "<"}:
        top = low - 1 if op == "<" else low
        # The tier starts where the previous one ended, so it must end above that.
        if previous_max is None:
            return None
        return "overlaps" if top <= previous_max else (previous_max, top)
    elif op == ">":
        bound = (low, None)
    elif op in {">=", "≥"}:
        bound = (low - 1, None)
    else:
        return None
    if bound is not None and previous_max is not None and bound[0] < previous_max:
        return "overlaps"
    return bound


# --- Units of price --------------------------------------------------------------------------

_CURRENCY = (
    r"[$€£¥₹₩₽¢]|\b(?:usd|eur|gbp|jpy|cny|rmb|chf|cad|aud|inr|krw|hkd|sgd|"
    r"dollars?|euros?|cents?|pounds?|yuan|yen)\b"
)
# Where a heading or label states a unit: a parenthesis, a "per ..." or "/ ..." tail, or a
# currency anywhere. Each scan runs to the next parenthesis at most: linear in the text.
_UNIT_FRAGMENT = re.compile(rf"\([^()]*\)|(?:\bper\b|/)[^()]*|{_CURRENCY}", re.IGNORECASE)
_UNIT_WORD = re.compile(rf"\bper\b|/|\b[mk]?toks?\b|\btokens?\b|{_CURRENCY}", re.IGNORECASE)
# The one unit prices are published in, as pages may write it.
_PER_MTOK = re.compile(
    r"^(?:prices?\s+)?(?:in\s+)?(?:usd\s*|us\$\s*|\$\s*)?(?:per|/)\s*"
    r"(?:1\s*m|1,000,000|(?:1|one)\s+million|million|mtok)(?:\s*tokens?)?"
    r"(?:\s*,?\s*(?:in\s+)?usd)?$",
    re.IGNORECASE,
)
_USD = re.compile(r"^(?:in\s+)?(?:usd|us\$|\$|us\s+dollars?)$", re.IGNORECASE)


class PriceUnit(NamedTuple):
    """What a heading or label says about the unit of the prices under it."""

    per_mtok: bool  # it states US dollars per 1M tokens
    other: str | None  # the first other unit or currency it states, as written


@functools.lru_cache(maxsize=4096)
def price_unit(text: str) -> PriceUnit:
    """``(per 1M tokens)`` -> per 1M; ``(USD per 1K tokens)``, ``in EUR``, ``(€)`` -> other.

    Text that states no unit (``Input Price``, ``<=200K Context``, ``(beta)``) says neither.
    """
    per_mtok, other = False, None
    for fragment in _UNIT_FRAGMENT.finditer(text):
        written = fragment.group().strip()
        if not _UNIT_WORD.search(written):
            continue
        said = " ".join(written.removeprefix("(").removesuffix(")").split())
        if _PER_MTOK.match(said):
            per_mtok = True
        elif not _USD.match(said) and other is None:
            other = written
    return PriceUnit(per_mtok, other)


@functools.lru_cache(maxsize=4096)
def without_unit(text: str) -> str:
    """The text with its unit statements taken out: ``Input Price (USD per 1M tokens)`` ->
    ``Input Price``; ``Official Pricing (per 1M tokens) in EUR`` -> ``Official Pricing``."""

    def drop(fragment: re.Match[str]) -> str:
        return " " if _UNIT_WORD.search(fragment.group()) else fragment.group()

    words = _UNIT_FRAGMENT.sub(drop, text).split()
    while words and (words[-1].casefold() == "in" or not words[-1].strip("-–—:,;")):
        words.pop()
    return " ".join(words)


# --- Price metrics -------------------------------------------------------------------------

KNOWN_METRICS = tuple(Metric)


def metric(label: pd.Series) -> pd.Series:
    """Price row label -> metric name: ``Input Price`` -> input, ``Cache Read`` -> cache_read.

    A known metric may be written with or without a trailing "Price"; any other label is
    kept as its snake_case slug.
    """
    snake = slug(label, "_")
    known = snake.str.removesuffix("_price")
    return known.where(known.isin(KNOWN_METRICS), snake)
