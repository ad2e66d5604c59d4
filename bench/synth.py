"""Synthetic markdown mirrors shaped like the real site, for benchmarks and refresh tests.

A mirror is an ``llms.txt`` index of root-relative links, a ``robots.txt`` and one page per
model under ``llms/models/<model_id>.md``, in the format of
``tests/fixtures/pages/gpt-4.1-mini-2025-04-14.md``: front matter, preamble lines, ``# Title``,
Query Intents, Overview, Model Metadata bullets, an Official Pricing table with 1-3 context
tiers and a Provider Availability table with 1-6 providers. Values are written in the styles
the site uses (``128K``, ``1.05M``, ``1,047,576``, ``32768``; ``$0.8``, ``$1.60``, ``$1,250``,
``$0``, ``—``) and every one of them reads back exactly through the real pipeline. The values
agree with each other (no output above its context window, no provider offering more context
than the model, no price 100x off), so the catalog's checks find nothing to flag.

API::

    mirror = generate(1000, seed=0)       # Mirror: models in index order, typed truth
    write(mirror, root)                   # sync ``root`` to it -> WriteStats
    mirror2, changes = mutate(mirror, seed=1, change_prices=10, drop=5, add=5)
    write(mirror2, root)                  # rewrites only the pages that changed

- ``generate(n, seed)`` is deterministic, and model ``i`` does not depend on ``n``:
  ``generate(1000)`` is a prefix of ``generate(10000)``.
- ``Mirror.models`` holds what each page says, typed (``SynthModel``): the fields of the
  ``models`` table, ``official_prices()`` (one ``OfficialPrice`` per priced cell: tier label,
  tier bounds, metric, exact ``Decimal``) and ``offers`` (one ``Offer`` per provider row;
  ``None`` where the page shows ``—``). A refresh of the mirror should publish exactly these.
- ``mutate`` returns a new ``Mirror`` and the ``Changes`` (model ids changed, dropped, added).
  A price change scales every price of the model (official and offered; "$0" stays "$0")
  by one of ``PRICE_CHANGES`` and moves ``generated_at`` one day on; the other pages stay byte
  for byte the same.
- ``write`` sets each page's mtime to its ``generated_at``, so a server's Last-Modified and
  ETag change exactly when a page does; unchanged pages are not touched.
- ``render_page(model)`` and ``render_index(mirror)`` give the text without writing files.

Command line: ``python -m bench.synth OUT --pages 1000 [--seed 0]``.
"""

from __future__ import annotations

import argparse
import os
import random
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

MODELS_DIR = Path("llms") / "models"
INDEX_FILE = "llms.txt"
ROBOTS_FILE = "robots.txt"
SITE = "https://www.pipellm.ai"
ROBOTS = "User-agent: *\nAllow: /\n"
INDEX_HEAD = "# PipeLLM\n\n> Machine-readable model catalog.\n\n## Models\n\n"

# (provider family as the page writes it, model id prefix, name stems)
FAMILIES = (
    ("Openai", "gpt", ("4.1", "4o", "5", "5.1", "5.2", "o3", "o4")),
    ("Anthropic", "claude", ("opus-4", "sonnet-4", "haiku-4", "opus-5", "sonnet-5")),
    ("Google", "gemini", ("2.0-flash", "2.5-pro", "2.5-flash", "3-pro", "3-flash")),
    ("Xai", "grok", ("3", "4", "4.20", "4.5")),
    ("Deepseek", "deepseek", ("v3", "r1", "v3.2")),
    ("Moonshot", "kimi", ("k2", "k2.5", "k2.6")),
    ("Minimax", "minimax", ("m1", "m2", "m2.7")),
    ("Zhipu", "glm", ("4.5", "4.6", "5")),
)
VARIANTS = ("", "mini", "nano", "pro", "lite", "thinking", "preview", "turbo")
PROVIDERS = (
    "OpenAI",
    "OpenAI Batch",
    "Anthropic",
    "Bedrock",
    "Vertex Ai-Language-Models",
    "Vertex Ai-Language-Models Batch",
    "Gemini",
    "Xai",
    "Deepseek",
    "Moonshot",
    "Azure",
    "Together Ai",
    "Fireworks Ai",
    "Groq",
)
PROVIDER_COUNT_WEIGHTS = (35, 25, 15, 10, 8, 7)  # 1..6 providers; most models have one or two
REGIONS = (None, None, None, "Global", "us-east-1", "eu-west-1")
CONTEXT_WINDOWS = (32768, 128000, 131072, 200000, 272000, 400000, 1000000, 1048576, 1050000)
MAX_OUTPUTS = (4096, 8192, 16384, 32000, 32768, 64000, 65536, 100000, 128000)
INPUT_MODALITIES = ("text", "text, image", "text, image, audio", "text, image, video")
OUTPUT_MODALITIES = ("text", "text", "text, image", "text, audio")
SUPPORT = ("Yes", "Yes", "No", "Unknown")
_SUPPORT_VALUE = {"Yes": True, "No": False, "Unknown": None}
# Input prices, USD per 1M tokens; the others are derived from them.
BASE_PRICES = tuple(
    Decimal(p)
    for p in (
        *("0.05", "0.075", "0.1", "0.15", "0.2", "0.25", "0.3", "0.4", "0.5", "0.6", "0.8"),
        *("1", "1.1", "1.25", "1.6", "2", "2.5", "3", "3.2", "4", "5", "6.25", "8", "10"),
        *("12", "15", "25", "30", "60", "75", "150", "600", "1250"),
    )
)
# How ``mutate`` changes a model's prices: all of them by one of these factors.
PRICE_CHANGES = (Decimal("0.5"), Decimal("0.8"), Decimal("1.25"), Decimal(2))
# Official Pricing row label -> the metric the catalog names it.
ROW_METRICS = {
    "Input Price": "input",
    "Output Price": "output",
    "Cache Read": "cache_read",
    "Cache Write": "cache_write",
    "Image Input": "image_input",
    "Image Output": "image_output",
    "Audio Input": "audio_input",
}
OVERVIEW_SENTENCES = (
    "{name} is a {size} model from {family} tuned for {use}.",
    "It keeps a {window} token context window and answers with up to {output} tokens.",
    "{name} scores well on instruction following and tool use, and its latency suits "
    "interactive applications with tight performance constraints.",
    "Compared with earlier releases it lowers cost per token while keeping "
    "quality on coding, retrieval and long-document tasks.",
    "It also shows strong vision understanding (e.g., charts, screenshots and scanned "
    "documents) and works in the provider’s batch mode.",
)
USES = ("chat", "coding", "agents", "long-context retrieval", "reasoning", "extraction")
SIZES = ("small", "mid-sized", "large", "frontier")
_EPOCH = datetime(2026, 1, 1, 6, 53, 30, 752000, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Tier:
    label: str  # the column header as written
    min_tokens: int  # exclusive
    max_tokens: int | None  # inclusive; None when open-ended


# Context tiers as column headers, with the bounds the pipeline reads from them. A single
# column that names no bound ("Price") applies at every context length.
TIER_SETS = (
    (Tier("Price", 0, None),),
    (Tier("<=128K Context", 0, 128000),),
    (Tier("<=200K Context", 0, 200000), Tier(">200K Context", 200000, None)),
    (Tier("<=272K Context", 0, 272000), Tier(">272K Context", 272000, None)),
    (Tier("<=128K Context", 0, 128000), Tier(">128K Context", 128000, None)),
    (
        Tier("<=128K Context", 0, 128000),
        Tier("128K-1M Context", 128000, 1000000),
        Tier(">1M Context", 1000000, None),
    ),
)


@dataclass(frozen=True, slots=True)
class OfficialPrice:
    """One Official Pricing cell that shows a price: one ``official_prices`` row."""

    model_id: str
    tier: Tier
    metric: str
    usd: Decimal


@dataclass(frozen=True, slots=True)
class Offer:
    """One Provider Availability row; ``None`` where the page shows ``—``."""

    provider: str
    region: str | None
    context_window_tokens: int
    max_output_tokens: int
    input_usd: Decimal | None
    output_usd: Decimal | None
    cache_read_usd: Decimal | None
    cache_write_usd: Decimal | None


@dataclass(frozen=True, slots=True)
class SynthModel:
    model_id: str
    display_name: str
    provider_family: str
    release_date: date | None
    context_window_tokens: int
    max_output_tokens: int
    input_modalities: tuple[str, ...]
    output_modalities: tuple[str, ...]
    supports_tool_use: bool | None
    supports_computer_use: bool | None
    supports_cache_control: bool | None
    overview: str
    generated_at: datetime
    tiers: tuple[Tier, ...]
    # (row label, one price per tier; None shows as "—")
    pricing: tuple[tuple[str, tuple[Decimal | None, ...]], ...]
    offers: tuple[Offer, ...]

    @property
    def path(self) -> str:
        return f"/{MODELS_DIR.as_posix()}/{self.model_id}.md"

    def official_prices(self) -> list[OfficialPrice]:
        return [
            OfficialPrice(self.model_id, tier, ROW_METRICS[label], usd)
            for label, prices in self.pricing
            for tier, usd in zip(self.tiers, prices, strict=True)
            if usd is not None
        ]


@dataclass(frozen=True, slots=True)
class Mirror:
    seed: int
    models: tuple[SynthModel, ...]
    next_index: int  # the generator index the next added model gets


@dataclass(frozen=True, slots=True)
class Changes:
    changed: tuple[str, ...] = ()  # model ids whose prices changed
    dropped: tuple[str, ...] = ()
    added: tuple[str, ...] = ()


@dataclass(slots=True)
class WriteStats:
    written: int = 0
    unchanged: int = 0
    removed: int = 0
    paths: list[str] = field(default_factory=list)  # written or removed, root-relative


def generate(n: int, seed: int = 0) -> Mirror:
    """A mirror of ``n`` model pages; the same ``(n, seed)`` always gives the same mirror."""
    return Mirror(seed, tuple(synth_model(seed, i) for i in range(n)), n)


def synth_model(seed: int, index: int) -> SynthModel:
    """Model ``index`` of the mirror seeded ``seed``; independent of the mirror's size."""
    rng = random.Random(f"{seed}/{index}")
    family, prefix, stems = rng.choice(FAMILIES)
    variant = rng.choice(VARIANTS)
    model_id = "-".join(p for p in (prefix, rng.choice(stems), variant, f"{index:05d}") if p)
    display_name = " ".join(
        w.capitalize() if w.isalpha() else w for w in model_id.replace("-", " ").split()
    )
    window = rng.choice(CONTEXT_WINDOWS)
    output = min(rng.choice(MAX_OUTPUTS), window)
    base = rng.choice(BASE_PRICES)
    tiers = rng.choice(TIER_SETS)
    overview = " ".join(
        s.format(
            name=display_name,
            family=family,
            size=rng.choice(SIZES),
            use=rng.choice(USES),
            window=f"{window:,}",
            output=f"{output:,}",
        )
        for s in OVERVIEW_SENTENCES[: rng.randint(1, len(OVERVIEW_SENTENCES))]
    )
    released = None if rng.random() < 0.4 else date(2023, 1, 1) + timedelta(rng.randrange(1400))
    return SynthModel(
        model_id=model_id,
        display_name=display_name,
        provider_family=family,
        release_date=released,
        context_window_tokens=window,
        max_output_tokens=output,
        input_modalities=_modalities(rng.choice(INPUT_MODALITIES)),
        output_modalities=_modalities(rng.choice(OUTPUT_MODALITIES)),
        supports_tool_use=_SUPPORT_VALUE[rng.choice(SUPPORT)],
        supports_computer_use=_SUPPORT_VALUE[rng.choice(SUPPORT)],
        supports_cache_control=_SUPPORT_VALUE[rng.choice(SUPPORT)],
        overview=overview,
        generated_at=_EPOCH + timedelta(seconds=rng.randrange(300 * 86400)),
        tiers=tiers,
        pricing=_pricing(rng, base, len(tiers)),
        offers=_offers(rng, base, window, output),
    )


def _modalities(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(","))


def _pricing(
    rng: random.Random, base: Decimal, tiers: int
) -> tuple[tuple[str, tuple[Decimal | None, ...]], ...]:
    output = base * rng.choice((2, 4, 5, 8))
    first = {
        "Input Price": base,
        "Output Price": output,
        "Cache Read": base * Decimal("0.1") if rng.random() < 0.7 else None,
        "Cache Write": base * Decimal("1.25") if rng.random() < 0.35 else None,
    }
    if rng.random() < 0.6:
        first["Image Input"] = rng.choice((base, Decimal(0), None))
        first["Image Output"] = rng.choice((output, Decimal(0), None))
    if rng.random() < 0.25:
        first["Audio Input"] = rng.choice((base * 4, Decimal(0)))
    rows = []
    for label, price in first.items():
        # Longer context costs double on about half of the pages; "—" on the others.
        doubled = price is not None and price > 0 and rng.random() < 0.5
        rest = tuple(price * 2**k if doubled else None for k in range(1, tiers))
        rows.append((label, (price, *rest)))
    return tuple(rows)


def _offers(rng: random.Random, base: Decimal, window: int, output: int) -> tuple[Offer, ...]:
    count = rng.choices(range(1, 7), weights=PROVIDER_COUNT_WEIGHTS)[0]
    offers = []
    for provider in rng.sample(PROVIDERS, count):
        batch = provider.endswith("Batch")
        factor = Decimal("0.5") if batch else rng.choice((Decimal(1), Decimal(1), Decimal("1.2")))
        price = base * factor
        # A provider may offer less context than the model has, never more; and no provider
        # lets the output exceed its own context: the catalog flags both as contradictions.
        offer_window = rng.choice((window, window, rng.choice(CONTEXT_WINDOWS)))
        offer_window = min(offer_window, window)
        offers.append(
            Offer(
                provider=provider,
                region=rng.choice(REGIONS),
                context_window_tokens=offer_window,
                max_output_tokens=min(
                    rng.choice((output, output, rng.choice(MAX_OUTPUTS))), offer_window
                ),
                input_usd=price,
                output_usd=price * rng.choice((2, 4, 5)),
                cache_read_usd=price * Decimal("0.1") if rng.random() < 0.6 else None,
                cache_write_usd=price * Decimal("1.25") if rng.random() < 0.3 else None,
            )
        )
    return tuple(offers)


def mutate(
    mirror: Mirror, *, seed: int = 1, change_prices: int = 0, drop: int = 0, add: int = 0
) -> tuple[Mirror, Changes]:
    """Change ``change_prices`` models' prices, drop ``drop`` models, add ``add`` new ones.

    The changed and dropped models are distinct, chosen by ``seed``; added models are
    appended to the index and get ids no earlier model had.
    """
    if change_prices + drop > len(mirror.models):
        raise ValueError("cannot change and drop more models than the mirror has")
    rng = random.Random(f"mutate/{mirror.seed}/{seed}")
    picked = rng.sample(range(len(mirror.models)), change_prices + drop)
    to_change, to_drop = set(picked[:change_prices]), set(picked[change_prices:])
    models = []
    for i, model in enumerate(mirror.models):
        if i in to_drop:
            continue
        models.append(_change_price(model, rng) if i in to_change else model)
    first = mirror.next_index
    added = tuple(synth_model(mirror.seed, i) for i in range(first, first + add))
    changes = Changes(
        changed=tuple(mirror.models[i].model_id for i in sorted(to_change)),
        dropped=tuple(mirror.models[i].model_id for i in sorted(to_drop)),
        added=tuple(m.model_id for m in added),
    )
    return Mirror(mirror.seed, (*models, *added), mirror.next_index + add), changes


def _change_price(model: SynthModel, rng: random.Random) -> SynthModel:
    """Every price of the model, official and offered, scaled by one factor: the ratios the
    catalog checks (tiers, providers against the official price) stay plausible."""
    factor = rng.choice(PRICE_CHANGES)

    def scaled(price: Decimal | None) -> Decimal | None:
        if price is None:
            return None
        return (price * factor).quantize(Decimal("0.000001")).normalize() or price * 2

    pricing = tuple((label, tuple(map(scaled, prices))) for label, prices in model.pricing)
    offers = tuple(
        replace(
            o,
            input_usd=scaled(o.input_usd),
            output_usd=scaled(o.output_usd),
            cache_read_usd=scaled(o.cache_read_usd),
            cache_write_usd=scaled(o.cache_write_usd),
        )
        for o in model.offers
    )
    return replace(
        model,
        pricing=pricing,
        offers=offers,
        generated_at=model.generated_at + timedelta(days=1),
    )


def write(mirror: Mirror, root: Path) -> WriteStats:
    """Make ``root`` serve ``mirror``: write what differs, remove pages no longer listed."""
    stats = WriteStats()
    pages = root / MODELS_DIR
    pages.mkdir(parents=True, exist_ok=True)
    wanted = {f"{m.model_id}.md" for m in mirror.models}
    for stale in sorted(p for p in os.listdir(pages) if p.endswith(".md") and p not in wanted):
        (pages / stale).unlink()
        stats.removed += 1
        stats.paths.append((MODELS_DIR / stale).as_posix())
    newest = max((m.generated_at for m in mirror.models), default=_EPOCH)
    files = [
        (root / ROBOTS_FILE, ROBOTS, _EPOCH),
        (root / INDEX_FILE, render_index(mirror), newest),
    ]
    files += [(pages / f"{m.model_id}.md", render_page(m), m.generated_at) for m in mirror.models]
    for path, text, when in files:
        data = text.encode("utf-8")
        if path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data:
            stats.unchanged += 1
            continue
        path.write_bytes(data)
        os.utime(path, (when.timestamp(), when.timestamp()))
        stats.written += 1
        stats.paths.append(path.relative_to(root).as_posix())
    return stats


def render_index(mirror: Mirror) -> str:
    lines = [
        f"- [{m.display_name}]({m.path}): {m.display_name} model detail" for m in mirror.models
    ]
    return INDEX_HEAD + "\n".join(lines) + "\n"


def render_page(model: SynthModel) -> str:
    """The page as the site would write it; styles are fixed per model id, so a page changes
    only when its values do."""
    rng = random.Random(f"style/{model.model_id}")
    stamp = model.generated_at.strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{model.generated_at.microsecond // 1000:03d}Z"
    )
    name, canonical = model.display_name, f"{SITE}/model/{model.model_id}"
    support = {True: "Yes", False: "No", None: "Unknown"}
    lines = [
        "---",
        f'title: "{name}"',
        f'route_path: "/model/{model.model_id}"',
        f'canonical_url: "{canonical}"',
        f'markdown_path: "{model.path}"',
        f'markdown_url: "{SITE}{model.path}"',
        'content_type: "model-detail-page"',
        f'description: "Machine-readable detail page for {name}."',
        f'generated_at: "{stamp}"',
        "---",
        f"Canonical page: {canonical}",
        f"Markdown mirror: {SITE}{model.path}",
        "Content type: model-detail-page",
        f"Generated at: {stamp}",
        f"# {name}",
        "## Query Intents",
        "- Understand pricing, provider availability, context window, and capabilities for "
        f"{name}.",
        f"- Compare {name} against other models available through PipeLLM.",
        "- Find the canonical model identifier to use in SDK or API requests.",
        "## Overview",
        model.overview,
        "## Model Metadata",
        f"- Display name: {name}",
        f"- Model ID: {model.model_id}",
        f"- Provider family: {model.provider_family}",
        f"- Release date: {model.release_date.isoformat() if model.release_date else 'Unknown'}",
        f"- Context window: {_tokens_text(model.context_window_tokens, rng)}",
        f"- Max output: {_tokens_text(model.max_output_tokens, rng)}",
        f"- Input modalities: {', '.join(model.input_modalities)}",
        f"- Output modalities: {', '.join(model.output_modalities)}",
        f"- Tool use support: {support[model.supports_tool_use]}",
        f"- Computer use support: {support[model.supports_computer_use]}",
        f"- Cache control support: {support[model.supports_cache_control]}",
        "## Official Pricing (per 1M tokens)",
        _row(["Metric", *(t.label for t in model.tiers)]),
        _row(["---"] * (len(model.tiers) + 1)),
        *(_row([label, *(_usd_text(p, rng) for p in prices)]) for label, prices in model.pricing),
        "",
        "## Provider Availability",
        _row(
            [
                "Provider",
                "Region",
                "Context Window",
                "Max Output",
                "Input Price",
                "Output Price",
                "Cache Read",
                "Cache Write",
            ]
        ),
        _row(["---"] * 8),
        *(
            _row(
                [
                    o.provider,
                    o.region or "—",
                    _tokens_text(o.context_window_tokens, rng),
                    _tokens_text(o.max_output_tokens, rng),
                    *(
                        _usd_text(p, rng)
                        for p in (o.input_usd, o.output_usd, o.cache_read_usd, o.cache_write_usd)
                    ),
                ]
            )
            for o in model.offers
        ),
    ]
    return "\n".join(lines) + "\n"


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _tokens_text(value: int, rng: random.Random) -> str:
    """A token count in one of the site's styles; every style reads back as ``value``."""
    styles = [f"{value:,}", str(value)]
    if value % 1000 == 0:
        styles += [f"{value // 1000}K", f"{value // 1000}k"]
    if value >= 1_000_000 and value % 10_000 == 0:
        styles.append(f"{_plain(Decimal(value) / 1_000_000)}M")
    return rng.choice(styles)


def _usd_text(value: Decimal | None, rng: random.Random) -> str:
    """A price as the site writes it: ``$0.8``, ``$1.60``, ``$1,250``, ``$0`` or ``—``."""
    if value is None:
        return "—"
    if value == 0:
        return "$0"
    styles = [f"${_plain(value)}"]
    if value == value.quantize(Decimal("0.01")):
        styles.append(f"${value:,.2f}")
    if value >= 1000 and value == value.to_integral_value():
        styles.append(f"${value:,.0f}")
    return rng.choice(styles)


def _plain(value: Decimal) -> str:
    """Shortest fixed-point text: 0.8, 3, 1250 (never 1.25E+3)."""
    return format(value.normalize(), "f")


def main() -> None:
    parser = argparse.ArgumentParser(description="Write a synthetic mirror directory.")
    parser.add_argument("out", type=Path)
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    stats = write(generate(args.pages, args.seed), args.out)
    print(f"{args.out}: {args.pages} model pages; {stats.written} files written")


if __name__ == "__main__":
    main()
