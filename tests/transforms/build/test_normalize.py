"""Tests for ``transforms.build.normalize``: the value grammar, case by case against values worked
out by hand, and properties checked against independent ``decimal.Decimal`` oracles."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.build import normalize as n

INT64_MAX = 2**63 - 1
MISSING = ["—", "–", "-", "N/A", "n/a", "Unknown", "UNKNOWN", "", "   ", " — ", None]


def series(*values: object) -> pd.Series:
    return pd.Series(list(values), dtype=object)


def one(function: Callable[[pd.Series], pd.Series], raw: object) -> object:
    return function(series(raw)).iloc[0]


def assert_null_and_unreadable(function: Callable[[pd.Series], pd.Series], raw: str) -> None:
    parsed = function(series(raw))
    assert pd.isna(parsed.iloc[0])
    assert n.unreadable(series(raw), parsed).tolist() == [True]


# --- Missing markers -------------------------------------------------------------------------

PARSERS = [n.text, n.tokens, n.usd, n.yes_no, n.iso_date, n.utc_timestamp, n.modalities]


@pytest.mark.parametrize("raw", MISSING)
def test_missing_markers_are_missing(raw: str | None) -> None:
    assert n.is_missing(series(raw)).tolist() == [True]


@pytest.mark.parametrize("raw", ["0", "$0", "No", "x", "—x", "--", "None", "n/a/b"])
def test_values_are_not_missing_markers(raw: str) -> None:
    assert n.is_missing(series(raw)).tolist() == [False]


@pytest.mark.parametrize("function", PARSERS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("raw", MISSING)
def test_missing_marker_parses_to_null_and_is_not_unreadable(
    function: Callable[[pd.Series], pd.Series], raw: str | None
) -> None:
    parsed = function(series(raw))
    assert pd.isna(parsed.iloc[0])
    assert n.unreadable(series(raw), parsed).tolist() == [False]


def test_text_trims_and_nulls_missing_markers() -> None:
    assert n.text(series(" GPT-4.1 Mini ", "Unknown", "—", "Openai")).tolist() == [
        "GPT-4.1 Mini",
        pd.NA,
        pd.NA,
        "Openai",
    ]


# --- tokens ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "count"),
    [
        ("128K", 128_000),
        ("128k", 128_000),
        ("1M", 1_000_000),
        ("1m", 1_000_000),
        ("1.05M", 1_050_000),
        ("131.1K", 131_100),
        ("1,047,576", 1_047_576),
        ("1,048,576", 1_048_576),
        ("32768", 32_768),
        ("16.4K", 16_400),
        ("4.1K", 4_100),
        ("1050K", 1_050_000),
        ("1050k", 1_050_000),
        ("0", 0),
        (" 200K ", 200_000),
        ("128 K", 128_000),
        ("1.000001M", 1_000_001),
        ("9,999", 9_999),
        ("999,999,999,999,999", 999_999_999_999_999),
        ("9223372036854.775807M", INT64_MAX),  # the largest count int64 can hold
    ],
)
def test_tokens_reads_counts(raw: str, count: int) -> None:
    assert one(n.tokens, raw) == count


@pytest.mark.parametrize(
    "raw",
    [
        "1,05M",  # a decimal comma
        "12,34",
        "1,0000",
        ",128",
        "1.0005K",  # 1,000.5 tokens is not a count
        "1.5",
        "1 million",
        "-5",
        "+5",
        "128KB",
        "128KK",
        "1B",
        "١٢٨",  # Arabic-Indic digits
        "１２８K",  # full-width digits
        "1e6",
        "1E6",
        "0x10",
        "1.K",
        ".5M",
        "K",
        "128 000",
        "1.1234567M",  # more than six decimals
        "1,000,000,000,000,000",  # more than five digit groups
        "99999999999999",  # more than thirteen digits
        "9223372036854.775808M",  # regression: one past int64 wrapped to a negative count
        "9999999999999M",  # regression: wrapped to -8446744073710551616
        "about 128K",
    ],
)
def test_tokens_rejects_what_is_not_a_count(raw: str) -> None:
    assert_null_and_unreadable(n.tokens, raw)


def test_tokens_is_int64_and_keeps_the_index() -> None:
    raw = pd.Series(["1M", "—", "x", "128K"], index=[10, 3, 7, 1])
    parsed = n.tokens(raw)
    assert parsed.dtype == pd.Int64Dtype()
    assert parsed.index.tolist() == [10, 3, 7, 1]
    assert parsed.tolist() == [1_000_000, pd.NA, pd.NA, 128_000]


# --- usd -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "amount"),
    [
        ("$0.8", "0.8"),
        ("$1.60", "1.6"),
        ("$0.075", "0.075"),
        ("$15", "15"),
        ("$15.00", "15"),
        ("$1,250", "1250"),
        ("$1,250.5", "1250.5"),
        ("$0", "0"),
        ("$0.00", "0"),
        ("$0.003625", "0.003625"),
        ("$0.000000001", "0.000000001"),  # nine decimals: the finest the type holds
        (" $3.2 ", "3.2"),
        ("$999,999,999.999999999", "999999999.999999999"),
    ],
)
def test_usd_reads_exact_decimals(raw: str, amount: str) -> None:
    parsed = n.usd(series(raw))
    assert parsed.dtype == pd.ArrowDtype(pa.decimal128(18, 9))
    value = parsed.iloc[0]
    assert isinstance(value, Decimal)
    assert value == Decimal(amount)


def test_usd_zero_is_a_price_not_missing() -> None:
    raw = series("$0", "—")
    parsed = n.usd(raw)
    assert parsed.iloc[0] == Decimal(0)
    assert pd.isna(parsed.iloc[1])
    assert n.is_missing(raw).tolist() == [False, True]


def test_usd_sums_exactly_where_floats_would_not() -> None:
    # 0.1 + 0.2 != 0.3 in binary floating point; in DECIMAL it is.
    total = n.usd(series("$0.1", "$0.2")).sum()
    assert total == Decimal("0.3")


@pytest.mark.parametrize(
    "raw",
    [
        "0.8",  # no dollar sign
        "$1,25",
        "$1,2500",
        "$-1",
        "-$1",
        "€1",
        "US$1",
        "$0.0000000001",  # ten decimals: NULL, never rounded to $0
        "$1.0000000005",
        "$1e3",
        "$ 1 000",
        "$1.",
        "$.5",
        "$",
        "$$1",
        "$1,000,000,000",  # ten integer digits overflow DECIMAL(18,9)
        "$1000000000",
        "$١",
        "$1/M",
        "Free",
    ],
)
def test_usd_rejects_what_is_not_an_exact_dollar_amount(raw: str) -> None:
    assert_null_and_unreadable(n.usd, raw)


# --- yes_no ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "flag"),
    [
        ("Yes", True),
        ("yes", True),
        (" YES ", True),
        ("true", True),
        ("No", False),
        ("no", False),
        ("False", False),
    ],
)
def test_yes_no_reads_flags(raw: str, flag: bool) -> None:
    parsed = n.yes_no(series(raw))
    assert parsed.dtype == pd.BooleanDtype()
    assert parsed.iloc[0] == flag


@pytest.mark.parametrize("raw", ["Y", "N", "1", "0", "Yes!", "Maybe", "Partial", "yes no"])
def test_yes_no_rejects_other_words(raw: str) -> None:
    assert_null_and_unreadable(n.yes_no, raw)


# --- iso_date --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "date"),
    [
        ("2025-04-14", dt.date(2025, 4, 14)),
        (" 2025-04-14 ", dt.date(2025, 4, 14)),
        ("2024-02-29", dt.date(2024, 2, 29)),
        ("2000-02-29", dt.date(2000, 2, 29)),
        ("1999-12-31", dt.date(1999, 12, 31)),
    ],
)
def test_iso_date_reads_calendar_dates(raw: str, date: dt.date) -> None:
    parsed = n.iso_date(series(raw))
    assert parsed.dtype == pd.ArrowDtype(pa.date32())
    assert parsed.iloc[0] == date


@pytest.mark.parametrize(
    "raw",
    [
        "2025-02-30",  # no such day
        "2025-02-29",  # not a leap year
        "1900-02-29",  # century, not a leap year
        "2025-13-01",
        "2025-00-10",
        "2025-4-14",
        "14/04/2025",
        "2025-04-14T00:00:00Z",
        "20250414",
        "April 14, 2025",
        "２０２５-04-14",
    ],
)
def test_iso_date_rejects_impossible_or_other_formats(raw: str) -> None:
    assert_null_and_unreadable(n.iso_date, raw)


# --- utc_timestamp ---------------------------------------------------------------------------

GENERATED = pd.Timestamp("2026-03-27 06:53:30.752")


@pytest.mark.parametrize(
    ("raw", "utc"),
    [
        ("2026-03-27T06:53:30.752Z", GENERATED),
        ("2026-03-27T08:53:30.752+02:00", GENERATED),
        ("2026-03-27T12:23:30.752+05:30", GENERATED),
        ("2026-03-26T22:53:30.752-08:00", GENERATED),
        ("2026-03-27T08:53:30.752+0200", GENERATED),
        ("2026-03-27 06:53:30.752Z", GENERATED),
        ("2026-03-27T06:53Z", pd.Timestamp("2026-03-27 06:53:00")),
        ("2026-03-27T00:30:00+01:00", pd.Timestamp("2026-03-26 23:30:00")),  # day rolls back
        ("2026-03-27T06:53:30.000001Z", pd.Timestamp("2026-03-27 06:53:30.000001")),
    ],
)
def test_utc_timestamp_converts_zones_to_utc(raw: str, utc: pd.Timestamp) -> None:
    parsed = n.utc_timestamp(series(raw))
    assert parsed.dtype == pd.ArrowDtype(pa.timestamp("us"))
    assert parsed.iloc[0] == utc


@pytest.mark.parametrize(
    "raw",
    [
        "2026-03-27T06:53:30.752",  # no zone: local time of unknown place
        "2026-03-27",
        "2026-02-30T00:00:00Z",
        "2026-03-27T25:00:00Z",
        "2026-03-27T06:53:30 UTC",
        "27 Mar 2026 06:53:30 GMT",
        "1774594410",
    ],
)
def test_utc_timestamp_rejects_zoneless_or_impossible(raw: str) -> None:
    assert_null_and_unreadable(n.utc_timestamp, raw)


# --- modalities ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "items"),
    [
        ("text", ["text"]),
        ("text, image", ["text", "image"]),
        ("text, image, audio, video", ["text", "image", "audio", "video"]),
        (" text ,image ", ["text", "image"]),
        ("Text, Image", ["Text", "Image"]),  # kept as written
        ("text,,image", ["text", "image"]),
    ],
)
def test_modalities_split_on_commas(raw: str, items: list[str]) -> None:
    parsed = n.modalities(series(raw))
    assert parsed.dtype == pd.ArrowDtype(pa.list_(pa.string()))
    assert list(parsed.iloc[0]) == items


@pytest.mark.parametrize("raw", [",", ", ,"])
def test_modalities_with_no_item_are_unreadable(raw: str) -> None:
    # Regression: these became an empty list, a value that hid the unreadable text.
    assert_null_and_unreadable(n.modalities, raw)


# --- slug ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "slugged"),
    [
        ("Vertex_ai-language-models", "vertex-ai-language-models"),
        ("OpenAI", "openai"),
        ("OpenAI Batch", "openai-batch"),
        ("  Azure (EU) ", "azure-eu"),
        ("Google AI Studio", "google-ai-studio"),
        ("gpt-4.1-mini", "gpt-4-1-mini"),
        ("a--b__c", "a-b-c"),
    ],
)
def test_slug_lowercases_and_joins_runs(raw: str, slugged: str) -> None:
    assert one(n.slug, raw) == slugged


def test_slug_with_underscore_separator() -> None:
    slugs = n.slug(series("Input Price", "Cache Read"), "_")
    assert slugs.tolist() == ["input_price", "cache_read"]


@pytest.mark.parametrize("raw", ["", "---", "—", "  ", None])
def test_slug_of_nothing_is_null(raw: str | None) -> None:
    assert pd.isna(one(n.slug, raw))


# --- service_tier ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "tier"),
    [
        ("OpenAI", "standard"),
        ("OpenAI Batch", "batch"),  # the demo's label
        ("Vertex Ai-Language-Models Batch", "batch"),  # the demo's label
        ("OpenAI Batch (Global)", "batch"),  # a trailing parenthesised part is skipped
        ("OpenAI Flex", "flex"),
        ("OpenAI Priority", "priority"),
        ("openai BATCH", "batch"),  # any case
        ("Batch", "batch"),  # the word alone
        ("  OpenAI   Flex  ", "flex"),
        ("Batch Systems Inc", "standard"),  # the word elsewhere is part of the name
        ("OpenAI-Batch", "standard"),  # words split at spaces only
        ("OpenAI Batched", "standard"),
        ("OpenAI Turbo", "standard"),  # an unknown word is never guessed a tier
        ("OpenAI Scale Tier", "standard"),
        ("OpenAI (Batch)", "standard"),  # the skipped part is not read
        ("Acme [eu]", "standard"),
        ("", "standard"),
    ],
)
def test_service_tier_is_the_labels_last_word(provider: str, tier: str) -> None:
    assert one(n.service_tier, provider) == tier


@settings(max_examples=200, deadline=None)
@given(
    name=st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20),
    word=st.sampled_from(["Batch", "Flex", "Priority", "batch", "PRIORITY"]),
)
def test_service_tier_reads_only_an_appended_tier_word(name: str, word: str) -> None:
    """Appending a tier word as a word of its own makes that tier; the name before it
    alone is standard unless its own last word is a tier word."""
    tiers = n.service_tier(pd.Series([f"{name} {word}", f"{name} {word}x"], dtype=object))
    assert tiers.tolist() == [word.lower(), "standard"]


# --- metric ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "name"),
    [
        ("Input Price", "input"),
        ("Output Price", "output"),
        ("Input", "input"),
        ("Cache Read", "cache_read"),
        ("Cache Read Price", "cache_read"),
        ("Cache Write", "cache_write"),
        ("Image Input", "image_input"),
        ("Image Output", "image_output"),
        ("Audio Input", "audio_input"),
        ("Audio Output Price", "audio_output"),
        ("input price", "input"),
        ("Reasoning Tokens", "reasoning_tokens"),  # unknown: its snake_case slug
        ("Web Search Price", "web_search_price"),  # unknown keeps its "price"
    ],
)
def test_metric_names_price_rows(label: str, name: str) -> None:
    assert one(n.metric, label) == name


def test_metric_of_missing_label_is_null() -> None:
    assert pd.isna(one(n.metric, "—"))


# --- tier_bounds -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("labels", "bounds"),
    [
        (("<=200K Context", ">200K Context"), ((0, 200_000), (200_000, None))),
        (("<=272K Context", ">272K Context"), ((0, 272_000), (272_000, None))),
        (
            ("<=128K Context", "<=1M Context", ">1M Context"),
            ((0, 128_000), (128_000, 1_000_000), (1_000_000, None)),
        ),
        (("<=128K", "128K-1M", ">1M"), ((0, 128_000), (128_000, 1_000_000), (1_000_000, None))),
        (("≤32K", "32K to 128K", ">128K"), ((0, 32_000), (32_000, 128_000), (128_000, None))),
        (("<128K", ">=128K"), ((0, 127_999), (127_999, None))),
        (("<=200K Context",), ((0, 200_000),)),
        (("Price",), ((0, None),)),  # a single column naming no bound holds at every length
        (("Standard",), ((0, None),)),
        (("about 200K",), (None,)),
        (("<=1,05M",), (None,)),
        (("1M-128K",), (None,)),  # a range that runs backwards
        (("<=1M", "<=200K"), ((0, 1_000_000), None)),  # regression: gave (1000000, 200000)
        (("???", "<=1M", ">1M"), (None, None, (1_000_000, None))),  # no start after unknown
        (("Standard", "Batch"), (None, None)),
        # Issue 18: after an open-ended tier every tier overlaps it.
        (("<=200K", ">200K", ">1M"), ((0, 200_000), (200_000, None), None)),
        ((">200K", "<=1M"), ((200_000, None), None)),
        ((">200K", ">1M", "<=2M"), ((200_000, None), None, None)),
        ((), ()),
    ],
)
def test_tier_bounds(
    labels: tuple[str, ...], bounds: tuple[tuple[int, int | None] | None, ...]
) -> None:
    assert n.tier_bounds(labels) == bounds


@pytest.mark.parametrize(
    ("labels", "overlaps"),
    [
        (("<=200K", ">200K", ">1M"), [False, False, True]),
        (("<=200K", ">200K", "<=1M"), [False, False, True]),
        (("<=200K", ">128K"), [False, True]),
        (("<=200K", ">200K", "about 1M"), [False, False, False]),  # unread, not overlapping
        (("<=128K", "<=1M", ">1M"), [False, False, False]),
    ],
)
def test_overlapping_tiers_are_marked(labels: tuple[str, ...], overlaps: list[bool]) -> None:
    assert [tier.overlaps for tier in n.read_tiers(labels)] == overlaps


# --- Vectorization ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "function", [*PARSERS, n.is_missing, n.slug, n.metric], ids=lambda f: f.__name__
)
def test_every_function_keeps_length_and_index(function: Callable[[pd.Series], pd.Series]) -> None:
    raw = pd.Series(["128K", None, "$0.8", "Yes"], index=["d", "a", "c", "b"])
    assert function(raw).index.tolist() == ["d", "a", "c", "b"]
    assert len(function(raw.iloc[:0])) == 0


def test_rows_are_parsed_independently() -> None:
    cases = {"128K": 128_000, "1,05M": None, "1.05M": 1_050_000, "—": None, "0": 0}
    parsed = n.tokens(pd.Series(list(cases)))
    assert [None if pd.isna(v) else v for v in parsed] == list(cases.values())


# --- Properties ------------------------------------------------------------------------------


def ascii_digits(text: str) -> bool:
    return text != "" and all(c in "0123456789" for c in text)


def grouped(text: str, *, max_groups: int) -> bool:
    """``1,234,567``: 1-3 digits, then groups of exactly three."""
    groups = text.split(",")
    return (
        2 <= len(groups) <= max_groups
        and 1 <= len(groups[0]) <= 3
        and all(ascii_digits(g) for g in groups)
        and all(len(g) == 3 for g in groups[1:])
    )


def tokens_oracle(raw: str) -> int | None:
    """The token grammar, written out by hand: digits (or comma groups), up to six decimals,
    an optional K or M; the result must be a whole count that fits in int64."""
    body = raw.strip()
    scale = 1
    if body[-1:] in ("k", "K", "m", "M"):
        scale = 1_000 if body[-1] in "kK" else 1_000_000
        body = body[:-1].rstrip()
    whole, dot, fraction = body.partition(".")
    if dot and not (ascii_digits(fraction) and len(fraction) <= 6):
        return None
    if not (ascii_digits(whole) and len(whole) <= 13) and not grouped(whole, max_groups=5):
        return None
    value = Decimal(whole.replace(",", "") + dot + fraction) * scale
    if value != value.to_integral_value() or value > INT64_MAX:
        return None
    return int(value)


def usd_oracle(raw: str) -> Decimal | None:
    """``$`` (one optional space), 1-9 integer digits or comma groups, up to nine decimals."""
    body = raw.strip()
    if not body.startswith("$"):
        return None
    body = body[1:]
    if body[:1].isspace():
        body = body[1:]
    whole, dot, fraction = body.partition(".")
    if dot and not (ascii_digits(fraction) and len(fraction) <= 9):
        return None
    if not (ascii_digits(whole) and len(whole) <= 9) and not grouped(whole, max_groups=3):
        return None
    return Decimal(whole.replace(",", "") + dot + fraction)


def as_python(value: object) -> object:
    return None if value is pd.NA or value is None else value


# Strings near the grammar, so that both accepted and rejected forms come up often; whole
# numbers cluster around 9.22e12, where a count in M passes int64's limit.
WHOLE = st.integers(0, 10**15) | st.integers(9_200_000_000_000, 9_250_000_000_000)
NEAR_TOKENS = st.one_of(
    st.text("0123456789,.kKmM -e", max_size=16),
    st.tuples(
        st.text("0123456789", min_size=1, max_size=15)
        | st.lists(st.text("0123456789", min_size=1, max_size=4), min_size=2, max_size=6).map(
            ",".join
        )
        | WHOLE.map(str)
        | WHOLE.map("{:,}".format),
        st.just("") | st.text("0123456789", max_size=8).map(lambda digits: "." + digits),
        st.sampled_from(["", "K", "k", "M", "m", " K", "  M", "B", "KB", "k "]),
    ).map("".join),
)
NEAR_USD = st.one_of(
    st.text("$0123456789,. -€", max_size=16),
    st.tuples(
        st.sampled_from(["$", "$ ", "", "$-", "€", "$  "]),
        st.text("0123456789", min_size=1, max_size=11)
        | st.lists(st.text("0123456789", min_size=1, max_size=4), min_size=2, max_size=4).map(
            ",".join
        ),
        st.just("") | st.text("0123456789", max_size=11).map(lambda digits: "." + digits),
    ).map("".join),
)


@settings(max_examples=200, deadline=None)
@given(raws=st.lists(NEAR_TOKENS | st.text(max_size=12), min_size=1, max_size=20))
def test_tokens_agree_with_decimal_oracle(raws: list[str]) -> None:
    parsed = [as_python(v) for v in n.tokens(pd.Series(raws, dtype=object))]
    assert parsed == [tokens_oracle(raw) for raw in raws]


@settings(max_examples=200, deadline=None)
@given(raws=st.lists(NEAR_USD | st.text(max_size=12), min_size=1, max_size=20))
def test_usd_agrees_with_decimal_oracle(raws: list[str]) -> None:
    parsed = [as_python(v) for v in n.usd(pd.Series(raws, dtype=object))]
    assert parsed == [usd_oracle(raw) for raw in raws]


@settings(max_examples=100, deadline=None)
@given(count=st.integers(0, 999_999_999_999_999))
def test_tokens_round_trip_page_styles(count: int) -> None:
    thousands = format((Decimal(count) / 1_000).normalize(), "f")
    millions = format((Decimal(count) / 1_000_000).normalize(), "f")
    styles = [f"{count:,}", f"{thousands}K", f"{thousands}k", f"{millions}M"]
    if count < 10**13:
        styles.append(str(count))
    assert n.tokens(pd.Series(styles)).tolist() == [count] * len(styles)


@settings(max_examples=50, deadline=None)
@given(count=st.integers(0, INT64_MAX))
def test_tokens_round_trip_in_millions_up_to_int64(count: int) -> None:
    millions = format((Decimal(count) / 1_000_000).normalize(), "f")
    assert one(n.tokens, f"{millions}M") == count


@settings(max_examples=100, deadline=None)
@given(
    amount=st.integers(0, 9).flatmap(
        lambda places: st.decimals(0, Decimal("999999999.999999999"), places=places)
    )
)
def test_usd_round_trip_is_exact(amount: Decimal) -> None:
    styles = ["$" + format(amount, "f"), "$" + format(amount, ",f")]
    parsed = n.usd(pd.Series(styles))
    assert parsed.tolist() == [amount, amount]
    assert all(value.as_tuple().exponent == -9 for value in parsed)  # DECIMAL(18,9), no float


@settings(max_examples=50, deadline=None)
@given(date=st.dates())
def test_iso_date_round_trip(date: dt.date) -> None:
    assert one(n.iso_date, date.isoformat()) == date


@settings(max_examples=50, deadline=None)
@given(
    moment=st.datetimes(dt.datetime(1970, 1, 2), dt.datetime(2200, 1, 1)),
    offset_minutes=st.integers(-14 * 60, 14 * 60),
)
def test_utc_timestamp_round_trip_through_any_offset(
    moment: dt.datetime, offset_minutes: int
) -> None:
    zone = dt.timezone(dt.timedelta(minutes=offset_minutes))
    local = moment.replace(tzinfo=dt.UTC).astimezone(zone)
    assert one(n.utc_timestamp, local.isoformat()) == pd.Timestamp(moment)


@settings(max_examples=50, deadline=None)
@given(tiers=st.lists(st.integers(1, 10_000), min_size=1, max_size=6, unique=True))
def test_tier_ladder_bounds_are_contiguous(tiers: list[int]) -> None:
    tiers.sort()
    labels = (*(f"<={t}K Context" for t in tiers), f">{tiers[-1]}K Context")
    edges = [0, *(t * 1_000 for t in tiers)]
    expected = tuple(zip(edges, [*edges[1:], None], strict=True))
    assert n.tier_bounds(labels) == expected


NEAR_TIER = st.one_of(
    st.text(max_size=20),
    st.tuples(
        st.sampled_from(["<=", "<", ">", ">=", "≤", "≥", ""]),
        st.integers(0, 2_000).map(str),
        st.sampled_from(["K", "M", "k", ""]),
        st.sampled_from(["", "-1M", " to 64K", "-100"]),
        st.sampled_from(["", " Context", " tokens"]),
    ).map("".join),
)


@settings(max_examples=150, deadline=None)
@given(labels=st.lists(NEAR_TIER, max_size=4).map(tuple))
def test_tier_bounds_never_raise_and_never_run_backwards(labels: tuple[str, ...]) -> None:
    bounds = n.tier_bounds(labels)
    assert len(bounds) == len(labels)
    for bound in bounds:
        assert bound is None or bound[1] is None or bound[0] < bound[1]


@settings(max_examples=100, deadline=None)
@given(raws=st.lists(st.text(max_size=30), max_size=10))
def test_slug_is_lowercase_ascii_and_idempotent(raws: list[str]) -> None:
    slugs = n.slug(pd.Series(raws, dtype=object))
    for value in slugs.dropna():
        assert value == value.strip("-")
        assert "--" not in value
        assert all(c in "abcdefghijklmnopqrstuvwxyz0123456789-" for c in value)
    assert n.slug(slugs).tolist() == slugs.tolist()


@settings(max_examples=100, deadline=None)
@given(raws=st.lists(st.text(" ,textimagTEXT\t—-") | st.text(max_size=12), max_size=10))
def test_modalities_are_null_or_nonempty_items_from_the_text(raws: list[str]) -> None:
    for raw, items in zip(raws, n.modalities(pd.Series(raws, dtype=object)), strict=True):
        if items is pd.NA:
            continue
        assert len(items) > 0
        assert all(item and item == item.strip() and item in raw for item in items)


@pytest.mark.parametrize(
    "function", [*PARSERS, n.is_missing, n.slug, n.metric], ids=lambda f: f.__name__
)
@settings(max_examples=40, deadline=None)
@given(raws=st.lists(st.text(max_size=30) | st.none(), max_size=10))
def test_never_raises_on_any_text(
    function: Callable[[pd.Series], pd.Series], raws: list[str | None]
) -> None:
    raw = pd.Series(raws, dtype=object)
    parsed = function(raw)
    assert len(parsed) == len(raws)
    if function in PARSERS:
        # A value comes out only for text that is there; missing markers stay NULL.
        assert not (n.is_missing(raw) & parsed.notna()).any()
