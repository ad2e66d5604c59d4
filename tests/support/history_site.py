"""A small mirror site for the history tests, and the test's own model of what it says.

Pages are written in the exact format of ``tests/fixtures/pages/gpt-4.1-mini-2025-04-14.md``.
Every value is a ``Cell``: the text the page shows and what that text means, chosen from
the vocabularies below by whoever edits the site. The tables a refresh must publish are
computed from those meanings here, never by the parser under test.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

SITE = "https://www.pipellm.ai"
MODELS_DIR = "/llms/models"


@dataclass(frozen=True)
class Cell:
    text: str  # as the page writes it
    value: object = None  # what it says; None when it shows no value or an unreadable one
    readable: bool = True  # False: the page shows a value nobody can read

    @property
    def shows_value(self) -> bool:
        return self.text.strip().lower() not in {"", "—", "–", "-", "n/a", "unknown"}


def unreadable(text: str) -> Cell:
    return Cell(text, None, readable=False)


# What a page may say, as it says it.
NONE = Cell("—")
UNKNOWN = Cell("Unknown")
DISPLAY_NAMES = (*(Cell(t, t) for t in ("Fable", "Fable Mini", "Fable: Turbo (preview)")), NONE)
FAMILIES = {"Openai": "openai", "Vertex Ai-Language-Models": "vertex-ai-language-models"}
FAMILY_CELLS = (*(Cell(text, text) for text in FAMILIES), UNKNOWN)
DATES = (
    Cell("2025-04-14", date(2025, 4, 14)),
    Cell("2024-12-01", date(2024, 12, 1)),
    UNKNOWN,
    unreadable("2025-02-30"),
)
TOKENS = (
    Cell("128K", 128_000),
    Cell("1.05M", 1_050_000),
    Cell("1,047,576", 1_047_576),
    Cell("32768", 32_768),
    UNKNOWN,
    unreadable("about 1M"),
)
MODALITIES = (Cell("text", ["text"]), Cell("text, image", ["text", "image"]), UNKNOWN)
SUPPORT = (Cell("Yes", True), Cell("No", False), UNKNOWN, unreadable("Beta"))
OVERVIEWS = (
    "A mid-sized model tuned for chat.",
    "A small model for extraction; it answers fast and costs little.",
)
PRICES = (
    Cell("$0.8", Decimal("0.8")),
    Cell("$1.60", Decimal("1.6")),
    Cell("$1,250", Decimal(1250)),
    Cell("$0", Decimal(0)),
    Cell("$0.25", Decimal("0.25")),
)
PRICE_CELLS = (*PRICES, NONE, unreadable("$0.8/1K"), unreadable("ask sales"))
REGIONS = (NONE, Cell("us-east-1", "us-east-1"), Cell("Global", "Global"))
PROVIDERS = {
    "OpenAI": "openai",
    "Azure": "azure",
    "Vertex Ai-Language-Models Batch": "vertex-ai-language-models-batch",
}
# Official Pricing row label -> metric.
METRICS = {
    "Input Price": "input",
    "Output Price": "output",
    "Cache Read": "cache_read",
    "Cache Write": "cache_write",
    "Image Input": "image_input",
}
# Model Metadata bullet label -> models column, in page order ("Model ID" is the page's id).
ATTRIBUTES = {
    "Display name": "display_name",
    "Provider family": "provider_family",
    "Release date": "release_date",
    "Context window": "context_window_tokens",
    "Max output": "max_output_tokens",
    "Input modalities": "input_modalities",
    "Output modalities": "output_modalities",
    "Tool use support": "supports_tool_use",
    "Computer use support": "supports_computer_use",
    "Cache control support": "supports_cache_control",
}
VOCABULARY = {
    "display_name": DISPLAY_NAMES,
    "provider_family": FAMILY_CELLS,
    "release_date": DATES,
    "context_window_tokens": TOKENS,
    "max_output_tokens": TOKENS,
    "input_modalities": MODALITIES,
    "output_modalities": MODALITIES,
    "supports_tool_use": SUPPORT,
    "supports_computer_use": SUPPORT,
    "supports_cache_control": SUPPORT,
}


@dataclass(frozen=True)
class Tier:
    label: str
    min_tokens: int | None  # exclusive; None when the label cannot be read
    max_tokens: int | None  # inclusive; None when open-ended or unreadable


TIER_SETS = (
    (Tier("<=200K Context", 0, 200_000), Tier(">200K Context", 200_000, None)),
    (Tier("<=256K Context", 0, 256_000), Tier(">256K Context", 256_000, None)),
    (
        Tier("<=128K Context", 0, 128_000),
        Tier("128K-1M Context", 128_000, 1_000_000),
        Tier(">1M Context", 1_000_000, None),
    ),
    (Tier("Price", 0, None),),
    # One column naming no bound applies at every length; two such columns cannot be read.
    (Tier("Standard", 0, None),),
    (Tier("Standard", None, None), Tier("Batch", None, None)),
)


@dataclass(frozen=True)
class Offer:
    provider: str
    region: Cell = NONE
    context_window: Cell = TOKENS[0]
    max_output: Cell = TOKENS[3]
    prices: tuple[Cell, Cell, Cell, Cell] = (PRICES[0], PRICES[1], NONE, NONE)

    @property
    def key(self) -> tuple[str, object]:
        return (self.provider, self.region.value)


@dataclass(frozen=True)
class Page:
    model_id: str
    path: str
    generated_at: datetime
    attributes: dict[str, Cell] = field(default_factory=dict)  # models column -> cell
    overview: str = OVERVIEWS[0]
    tiers: tuple[Tier, ...] = TIER_SETS[0]
    pricing: tuple[tuple[str, tuple[Cell, ...]], ...] = ()  # row label, one cell per tier
    per_1k: bool = False  # the pricing heading says "per 1K tokens": nothing is in our unit
    offers: tuple[Offer, ...] = ()

    def edited(self, **changes: object) -> Page:
        """The page regenerated with ``changes``: the site stamps a new generated_at."""
        return replace(self, generated_at=self.generated_at + timedelta(minutes=1), **changes)

    def cell(self, column: str) -> Cell:
        return self.attributes.get(column, UNKNOWN)


def new_page(model_id: str, *, when: datetime | None = None) -> Page:
    """A plain page: every attribute from the start of its vocabulary, two tiers, one offer."""
    return Page(
        model_id=model_id,
        path=f"{MODELS_DIR}/{model_id}.md",
        generated_at=when or datetime(2026, 3, 27, 6, 53, 30, 752000, tzinfo=UTC),
        attributes={column: cells[0] for column, cells in VOCABULARY.items()},
        pricing=(
            ("Input Price", (PRICES[0], NONE)),
            ("Output Price", (PRICES[1], NONE)),
        ),
        offers=(Offer("OpenAI"),),
    )


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def render(page: Page) -> str:
    """The page as the site writes it (the seed page's format, line for line)."""
    name = page.cell("display_name").value or page.model_id
    canonical, stamp = f"{SITE}/model/{page.model_id}", _stamp(page.generated_at)
    lines = [
        "---",
        f'title: "{name}"',
        f'route_path: "/model/{page.model_id}"',
        f'canonical_url: "{canonical}"',
        f'markdown_path: "{page.path}"',
        f'markdown_url: "{SITE}{page.path}"',
        'content_type: "model-detail-page"',
        f'description: "Machine-readable detail page for {name}."',
        f'generated_at: "{stamp}"',
        "---",
        f"Canonical page: {canonical}",
        f"Markdown mirror: {SITE}{page.path}",
        "Content type: model-detail-page",
        f"Generated at: {stamp}",
        f"# {name}",
        "## Query Intents",
        "- Understand pricing, provider availability, context window, and capabilities for "
        f"{name}.",
        f"- Compare {name} against other models available through PipeLLM.",
        "- Find the canonical model identifier to use in SDK or API requests.",
        "## Overview",
        page.overview,
        "## Model Metadata",
        f"- Display name: {page.cell('display_name').text}",
        f"- Model ID: {page.model_id}",
        *(
            f"- {label}: {page.cell(column).text}"
            for label, column in ATTRIBUTES.items()
            if column != "display_name"
        ),
        f"## Official Pricing (per {'1K' if page.per_1k else '1M'} tokens)",
        _row(["Metric", *(tier.label for tier in page.tiers)]),
        _row(["---"] * (len(page.tiers) + 1)),
        *(_row([label, *(cell.text for cell in cells)]) for label, cells in page.pricing),
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
                    offer.provider,
                    offer.region.text,
                    offer.context_window.text,
                    offer.max_output.text,
                    *(cell.text for cell in offer.prices),
                ]
            )
            for offer in page.offers
        ),
    ]
    return "\n".join(lines) + "\n"


def render_index(pages: list[Page]) -> str:
    links = [f"- [{p.model_id}]({p.path}): {p.model_id} model detail" for p in pages]
    return (
        "# PipeLLM\n\n> Machine-readable model catalog.\n\n## Models\n\n" + "\n".join(links) + "\n"
    )


def write_site(root: Path, pages: list[Page]) -> None:
    """Make ``root`` serve exactly ``pages``: rewrite what differs, delete what is gone."""
    files = {"/robots.txt": "User-agent: *\nAllow: /\n", "/llms.txt": render_index(pages)}
    files |= {page.path: render(page) for page in pages}
    for existing in root.rglob("*.md"):
        if "/" + existing.relative_to(root).as_posix() not in files:
            existing.unlink()
    for path, text in files.items():
        target = root / path.lstrip("/")
        data = text.encode("utf-8")
        if not (target.is_file() and target.read_bytes() == data):
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)


# --- What a refresh must publish ---------------------------------------------------------

PRICE_COLUMNS = ("input", "output", "cache_read", "cache_write")


def model_row(page: Page, base_url: str) -> tuple:
    """The page's models row, in the table's column order, less fetched_at."""
    family = page.cell("provider_family").value
    values = {column: page.cell(column).value for column in VOCABULARY}
    return (
        page.model_id,
        values["display_name"],
        family,
        FAMILIES.get(family),
        *(values[c] for c in list(VOCABULARY)[2:]),
        page.overview,
        base_url + page.path,
        f"{SITE}/model/{page.model_id}",
        page.generated_at.replace(tzinfo=None),
        hashlib.sha256(render(page).encode("utf-8")).hexdigest(),
    )


def price_cells(page: Page) -> list[tuple[Tier, str, Cell]]:
    """Every Official Pricing cell that shows something: (tier, metric, cell)."""
    return [
        (tier, METRICS[label], cell)
        for label, cells in page.pricing
        for tier, cell in zip(page.tiers, cells, strict=True)
        if cell.shows_value
    ]


def official_price_value(page: Page, cell: Cell) -> object:
    """What official_prices publishes for a cell: nothing is read in a unit not per 1M."""
    return None if page.per_1k else cell.value


def official_rows(page: Page) -> list[tuple]:
    """official_prices rows: model_id, tier_label, min, max, metric, usd_per_mtok, raw_value."""
    return [
        (
            page.model_id,
            tier.label,
            tier.min_tokens,
            tier.max_tokens,
            metric,
            official_price_value(page, cell),
            cell.text,
        )
        for tier, metric, cell in price_cells(page)
    ]


def offer_rows(page: Page) -> list[tuple]:
    """provider_offers rows, in its column order."""
    return [
        (
            page.model_id,
            offer.provider,
            PROVIDERS[offer.provider],
            offer.region.value,
            offer.context_window.value,
            offer.max_output.value,
            *(cell.value for cell in offer.prices),
        )
        for offer in page.offers
    ]


def unread_rows(page: Page) -> list[tuple]:
    """unread_prices rows: model_id, provider, region, tier_label, metric, raw_value."""
    official = [
        (page.model_id, None, None, tier.label, metric, cell.text)
        for tier, metric, cell in price_cells(page)
        if page.per_1k or not cell.readable
    ]
    offers = [
        (page.model_id, offer.provider, offer.region.value, None, metric, cell.text)
        for offer in page.offers
        for metric, cell in zip(PRICE_COLUMNS, offer.prices, strict=True)
        if cell.shows_value and not cell.readable
    ]
    return official + offers
