"""A public catalog's file -> its entries, pure: no network, no pandas.

Four formats (``ReferenceSource``): LiteLLM's ``model_prices_and_context_window.json``,
OpenRouter's ``/api/v1/models``, models.dev's ``api.json`` and genai-prices' ``data.json``.
Numbers are read from their literal text (``json.loads`` hands the literal to ``Number``),
never through a float, so LiteLLM's ``4e-07`` per token is exactly 0.4 per 1M. A value that
is not a price or a limit is no value: ``None``, with a ``Problem`` naming the entry and key.
A file that is not the format at all raises ``UnreadableReference``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from transforms.contract.vocabulary import Metric, ReferenceSource

# The reference price column's scale and width (``REFERENCE_USD``): a price with more
# digits is no value rather than a rounded one.
PRICE_SCALE = 20
PRICE_INTEGER_DIGITS = 18
MAX_BODY_DEPTH = 64  # a hostile file cannot nest deeper than any real catalog


class UnreadableReference(ValueError):
    """The file is not the source's format (HTML, truncated JSON, another shape)."""


class Number(str):
    """A JSON number, as its literal text."""


@dataclass(frozen=True)
class ReferencePrice:
    metric: str
    tier_min_tokens: int  # exclusive lower bound; 0 for the first (or only) tier
    tier_max_tokens: int | None  # inclusive upper bound; None when open-ended
    usd_per_mtok: Decimal | None  # None: not a price (see the entry's problems)
    raw_value: str  # the literal as written


@dataclass(frozen=True)
class Problem:
    source_model: str
    key: str
    raw_value: str | None
    problem: str


@dataclass
class ReferenceEntry:
    source_model: str  # the key as the source writes it (provider/model where ids repeat)
    model: str  # the source's model id, without its provider
    provider: str | None  # the source's own provider (or author), if it names one
    # The provider whose offer this entry prices: None for a first-party price (compared
    # with official prices), else a provider key (compared with that provider's offer).
    offer_provider: str | None
    context_window_tokens: int | None = None
    max_output_tokens: int | None = None
    prices: list[ReferencePrice] = field(default_factory=list)
    aliases: tuple[str, ...] = ()  # other ids the source gives the model (a canonical slug)
    match: Any = None  # genai-prices' match clause, as written


@dataclass
class ParsedReference:
    entries: list[ReferenceEntry]
    problems: list[Problem]


def load_json(body: bytes) -> Any:
    """The JSON document, numbers as ``Number``; UnreadableReference if it is not JSON."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UnreadableReference(f"not UTF-8 text ({error.reason})") from None
    if text.lstrip()[:1] == "<":
        raise UnreadableReference("an HTML or XML page, not JSON")
    try:
        return json.loads(text, parse_float=Number, parse_int=Number, parse_constant=_constant)
    except RecursionError:
        raise UnreadableReference("JSON nested too deep") from None
    except ValueError as error:
        raise UnreadableReference(f"not JSON: {error}") from None


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_reference(source: ReferenceSource, body: bytes, today: date) -> ParsedReference:
    """The entries of one source's file; ``today`` picks genai-prices' dated prices."""
    document = load_json(body)
    parsers = {
        ReferenceSource.LITELLM: _litellm,
        ReferenceSource.OPENROUTER: _openrouter,
        ReferenceSource.MODELS_DEV: _models_dev,
        ReferenceSource.GENAI_PRICES: lambda doc, out: _genai_prices(doc, out, today),
    }
    out = ParsedReference([], [])
    try:
        parsers[source](document, out)
    except UnreadableReference:
        raise
    except (TypeError, AttributeError, KeyError, ValueError, RecursionError) as error:
        # Whatever a file does, it is an unreadable catalog, never a failed run.
        raise UnreadableReference(f"a shape not known ({type(error).__name__}: {error})") from None
    return _once(out)


def _once(parsed: ParsedReference) -> ParsedReference:
    """Each entry once, and each of its prices once per metric and tier: the first as
    written wins, a repeat is a problem (a catalog is a key-value list; two values for one
    key are never merged)."""
    entries: dict[str, ReferenceEntry] = {}
    for entry in parsed.entries:
        if entry.source_model in entries:
            parsed.problems.append(
                Problem(entry.source_model, "id", None, "repeated entry; the first is kept")
            )
            continue
        prices: dict[tuple[str, int], ReferencePrice] = {}
        for price in entry.prices:
            tier = (price.metric, price.tier_min_tokens)
            if tier in prices:
                why = f"a second {price.metric} price from {price.tier_min_tokens} tokens; ignored"
                parsed.problems.append(
                    Problem(entry.source_model, price.metric, price.raw_value, why)
                )
                continue
            prices[tier] = price
        entry.prices = list(prices.values())
        entries[entry.source_model] = entry
    return ParsedReference(list(entries.values()), parsed.problems)


def exact_text(value: Decimal | int) -> str:
    """A value as exact decimal text without trailing zeros: ``0.8``, ``3``, ``1047576``."""
    if isinstance(value, int):
        return str(value)
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in {"-0", "0", ""} else text


# -- values -------------------------------------------------------------------------------


class _Reader:
    """Reads one entry's values, noting what is not a value."""

    def __init__(self, source_model: str, out: ParsedReference) -> None:
        self.source_model, self.out = source_model, out

    def problem(self, key: str, raw: Any, why: str) -> None:
        shown = None if raw is None else (raw if isinstance(raw, str) else json.dumps(raw))
        self.out.problems.append(Problem(self.source_model, key, shown, why))

    def price(self, key: str, raw: Any, *, per_token: bool) -> Decimal | None:
        """USD per 1M tokens from a JSON number or decimal string (per token or per 1M)."""
        if not isinstance(raw, str):  # Number is a str; so is OpenRouter's decimal text
            self.problem(key, raw, "not a number")
            return None
        value = _decimal(raw)
        if value is None:
            self.problem(key, raw, "not a number")
            return None
        if value < 0:
            why = "-1: a variable price, not a price" if value == -1 else "a negative price"
            self.problem(key, raw, why)
            return None
        if per_token:  # exact: the digits kept, the exponent moved (scaleb would round)
            sign, digits, exponent = value.as_tuple()
            value = Decimal((sign, digits, int(exponent) + 6))
        value = _without_trailing_zeros(value)
        exponent = int(value.as_tuple().exponent)
        if -exponent > PRICE_SCALE or value.adjusted() >= PRICE_INTEGER_DIGITS:
            self.problem(key, raw, f"more digits than {PRICE_SCALE} decimal places hold")
            return None
        return value

    def limit(self, key: str, raw: Any) -> int | None:
        """A token count: a whole number above 0 (0 and absent are no value)."""
        if raw is None:
            return None
        value = _decimal(raw) if isinstance(raw, str) else None
        if value is None or value != value.to_integral_value() or not 0 < value < 2**63:
            self.problem(key, raw, "not a positive whole number of tokens")
            return None
        return int(value)


def _without_trailing_zeros(value: Decimal) -> Decimal:
    """The same number without trailing zeros, exactly (``normalize`` rounds to 28 digits)."""
    sign, digits, exponent = value.as_tuple()
    kept = list(digits)
    exponent = int(exponent)
    while len(kept) > 1 and kept[-1] == 0 and exponent < 0:
        kept.pop()
        exponent += 1
    return Decimal((sign, tuple(kept), exponent)) if any(kept) else Decimal(0)


def _decimal(text: str) -> Decimal | None:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _object(value: Any, what: str) -> dict:
    if not isinstance(value, dict):
        raise UnreadableReference(f"{what} is not a JSON object")
    return value


def _list(value: Any, what: str) -> list:
    if not isinstance(value, list):
        raise UnreadableReference(f"{what} is not a JSON list")
    return value


def _member(spec: dict, key: str) -> dict:
    """An object's member that should be an object, or an empty one."""
    value = spec.get(key)
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and not isinstance(value, Number) else None


# -- LiteLLM ------------------------------------------------------------------------------

LITELLM_METRICS = {
    "input_cost_per_token": Metric.INPUT,
    "output_cost_per_token": Metric.OUTPUT,
    "cache_read_input_token_cost": Metric.CACHE_READ,
    "cache_creation_input_token_cost": Metric.CACHE_WRITE,
    "input_cost_per_audio_token": Metric.AUDIO_INPUT,
    "output_cost_per_audio_token": Metric.AUDIO_OUTPUT,
}
LITELLM_TIER = re.compile(r"^(?P<key>[a-z_]+?)_above_(?P<count>\d+)(?P<unit>[km])_tokens$")
UNITS = {"k": 1_000, "m": 1_000_000}


def _litellm(document: Any, out: ParsedReference) -> None:
    for key, spec in _object(document, "the file").items():
        if key == "sample_spec" or not isinstance(spec, dict):
            continue
        provider_prefix, _, model = key.partition("/") if "/" in key else ("", "", key)
        read = _Reader(key, out)
        entry = ReferenceEntry(
            source_model=key,
            model=model,
            provider=provider_prefix or _text(spec.get("litellm_provider")),
            offer_provider=provider_key(provider_prefix) if provider_prefix else None,
            context_window_tokens=read.limit("max_input_tokens", spec.get("max_input_tokens")),
            max_output_tokens=read.limit("max_output_tokens", spec.get("max_output_tokens")),
        )
        tiers: dict[str, list[tuple[int, str, Any]]] = {}
        for name, raw in spec.items():
            if name in LITELLM_METRICS:
                tiers.setdefault(name, []).append((0, name, raw))
            elif (tier := LITELLM_TIER.match(name)) and tier["key"] in LITELLM_METRICS:
                start = int(tier["count"]) * UNITS[tier["unit"]]
                tiers.setdefault(tier["key"], []).append((start, name, raw))
        for base, found in tiers.items():
            for (start, name, raw), end in _bounds(found):
                entry.prices.append(
                    ReferencePrice(
                        LITELLM_METRICS[base],
                        start,
                        end,
                        read.price(name, raw, per_token=True),
                        _raw(raw),
                    )
                )
        out.entries.append(entry)


def _bounds(tiers: list[tuple[int, str, Any]]) -> Iterator[tuple[tuple[int, str, Any], int | None]]:
    """Each tier with its inclusive upper bound: the next tier's start, or open-ended."""
    ordered = sorted(tiers, key=lambda tier: tier[0])
    for index, tier in enumerate(ordered):
        yield tier, ordered[index + 1][0] if index + 1 < len(ordered) else None


def _raw(raw: Any) -> str:
    return raw if isinstance(raw, str) else json.dumps(raw)


def provider_key(text: str) -> str:
    """A provider name as our ``provider_key``: lower-cased, non-[a-z0-9] runs -> '-'."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


# -- OpenRouter ---------------------------------------------------------------------------

OPENROUTER_METRICS = {
    "prompt": Metric.INPUT,
    "completion": Metric.OUTPUT,
    "input_cache_read": Metric.CACHE_READ,
    "input_cache_write": Metric.CACHE_WRITE,
}


def _openrouter(document: Any, out: ParsedReference) -> None:
    models = _list(_object(document, "the file").get("data"), "'data'")
    for spec in models:
        model_id = _text(spec.get("id")) if isinstance(spec, dict) else None
        if not model_id:
            continue
        author, _, model = model_id.partition("/") if "/" in model_id else ("", "", model_id)
        read = _Reader(model_id, out)
        top = _member(spec, "top_provider")
        slug = _text(spec.get("canonical_slug"))
        entry = ReferenceEntry(
            source_model=model_id,
            model=model,
            provider=author or None,
            offer_provider=None,  # the model-level price: compared with official prices
            context_window_tokens=read.limit("context_length", spec.get("context_length")),
            max_output_tokens=read.limit(
                "top_provider.max_completion_tokens", top.get("max_completion_tokens")
            ),
            aliases=(slug.partition("/")[2] or slug,) if slug and slug != model_id else (),
        )
        pricing = _member(spec, "pricing")
        for name, metric in OPENROUTER_METRICS.items():
            if name in pricing:
                raw = pricing[name]
                value = read.price(f"pricing.{name}", raw, per_token=True)
                entry.prices.append(ReferencePrice(metric, 0, None, value, _raw(raw)))
        out.entries.append(entry)


# -- models.dev ---------------------------------------------------------------------------

PER_MTOK_METRICS = {
    "input": Metric.INPUT,
    "output": Metric.OUTPUT,
    "cache_read": Metric.CACHE_READ,
    "cache_write": Metric.CACHE_WRITE,
    "input_audio": Metric.AUDIO_INPUT,
    "output_audio": Metric.AUDIO_OUTPUT,
}
MODELS_DEV_TIER = re.compile(r"^context_over_(?P<count>\d+)(?P<unit>[km])$")


def _models_dev(document: Any, out: ParsedReference) -> None:
    for provider_id, provider in _object(document, "the file").items():
        if not isinstance(provider, dict) or not isinstance(provider.get("models"), dict):
            raise UnreadableReference(f"provider {provider_id!r} has no 'models' object")
        for model_id, spec in provider["models"].items():
            if not isinstance(spec, dict):
                continue
            source_model = f"{provider_id}/{model_id}"
            read = _Reader(source_model, out)
            limit = _member(spec, "limit")
            entry = ReferenceEntry(
                source_model=source_model,
                model=model_id,
                provider=provider_id,
                offer_provider=provider_key(provider_id),
                context_window_tokens=read.limit("limit.context", limit.get("context")),
                max_output_tokens=read.limit("limit.output", limit.get("output")),
            )
            cost = _member(spec, "cost")
            tiers: dict[str, list[tuple[int, str, Any]]] = {}
            for name, raw in cost.items():
                if name in PER_MTOK_METRICS:
                    tiers.setdefault(name, []).append((0, f"cost.{name}", raw))
                elif (tier := MODELS_DEV_TIER.match(name)) and isinstance(raw, dict):
                    start = int(tier["count"]) * UNITS[tier["unit"]]
                    for metric, value in raw.items():
                        if metric in PER_MTOK_METRICS:
                            key = f"cost.{name}.{metric}"
                            tiers.setdefault(metric, []).append((start, key, value))
                elif name == "tiers":
                    read.problem("cost.tiers", raw, "tier shape not read")
            for base, found in tiers.items():
                for (start, key, raw), end in _bounds(found):
                    value = read.price(key, raw, per_token=False)
                    entry.prices.append(
                        ReferencePrice(PER_MTOK_METRICS[base], start, end, value, _raw(raw))
                    )
            out.entries.append(entry)


# -- genai-prices -------------------------------------------------------------------------


def _genai_prices(document: Any, out: ParsedReference, today: date) -> None:
    for provider in _list(document, "the file"):
        provider = _object(provider, "a provider")
        provider_id = _text(provider.get("id"))
        if not provider_id:
            raise UnreadableReference("a provider without an 'id'")
        for spec in _list(provider.get("models", []), f"{provider_id}'s 'models'"):
            model_id = _text(spec.get("id")) if isinstance(spec, dict) else None
            if not model_id:
                continue
            source_model = f"{provider_id}/{model_id}"
            read = _Reader(source_model, out)
            entry = ReferenceEntry(
                source_model=source_model,
                model=model_id,
                provider=provider_id,
                offer_provider=provider_key(provider_id),
                context_window_tokens=read.limit("context_window", spec.get("context_window")),
                match=spec.get("match"),
            )
            prices = _prices_in_force(spec.get("prices"), today)
            for name, raw in prices.items():
                metric = PER_MTOK_METRICS.get(name.removesuffix("_mtok"))
                if metric is None or not name.endswith("_mtok"):
                    continue
                entry.prices.extend(_genai_price(read, f"prices.{name}", metric, raw))
            out.entries.append(entry)


def _prices_in_force(prices: Any, today: date) -> dict:
    """A model's prices, or of its dated entries the one in force ``today``.

    genai-prices tries them last to first: the last whose constraint holds wins, else the
    first. A date constraint (``start_date``, or ``start`` in older files) holds from that
    day; an entry constrained otherwise (a time-of-day window) is not the list price.
    """
    if isinstance(prices, dict):
        return prices
    if not isinstance(prices, list):
        return {}
    dated = [p for p in prices if isinstance(p, dict) and isinstance(p.get("prices"), dict)]
    for entry in reversed(dated):
        constraint = _member(entry, "constraint")
        start = _text(constraint.get("start_date") or constraint.get("start"))
        if not constraint or (
            start is not None
            and set(constraint) <= {"start_date", "start"}
            and start[:10] <= today.isoformat()
        ):
            return entry["prices"]
    return dated[0]["prices"] if dated else {}


def _genai_price(read: _Reader, key: str, metric: str, raw: Any) -> Iterator[ReferencePrice]:
    """One price: a number, or ``{"base", "tiers": [{"start", "price"}]}``."""
    if not isinstance(raw, dict):
        yield ReferencePrice(metric, 0, None, read.price(key, raw, per_token=False), _raw(raw))
        return
    tiers: list[tuple[int, str, Any]] = [(0, f"{key}.base", raw.get("base"))]
    listed = raw.get("tiers")
    for index, tier in enumerate(listed if isinstance(listed, list) else []):
        if not isinstance(tier, dict):
            read.problem(f"{key}.tiers[{index}]", tier, "a tier is not an object")
            continue
        start = read.limit(f"{key}.tiers[{index}].start", tier.get("start"))
        if start is not None:
            tiers.append((start, f"{key}.tiers[{index}].price", tier.get("price")))
    for (start, name, value), end in _bounds(tiers):
        yield ReferencePrice(
            metric, start, end, read.price(name, value, per_token=False), _raw(value)
        )
