"""The cost mirror: model pages in the seed page's exact format that follow the providers'
published tier rules, the catalog one refresh of it publishes, and the three ways to ask it
for a cost (the CLI, the ``request_cost`` macro, ``cost()``), each checked against the others.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from modelcat.api.cost import Cost, cost
from modelcat.demo.mirror import MirrorServer
from tests.support import SEED_PAGE, modelcat, refresh

TWO_TIERS = ["<=200K Context", ">200K Context"]
VERTEX = "Vertex Ai-Language-Models"
OFFER_HEADER = (
    "| Provider | Region | Context Window | Max Output | Input Price | Output Price "
    "| Cache Read | Cache Write |"
)

# Model id -> (tier column labels, price rows, provider rows, context window). Prices as a
# page writes them; "—" is "no price here".
PAGES: dict[str, tuple[list[str], dict[str, list[str]], list[list[str]], str]] = {
    # Google's long-context rule: above 200K every token of the request costs more.
    "two-tier-1m": (
        TWO_TIERS,
        {
            "Input Price": ["$1.25", "$2.5"],
            "Output Price": ["$10", "$15"],
            "Cache Read": ["$0.31", "$0.625"],
        },
        [
            ["Vertex Ai-Language-Models", "Global", "1M", "64K", "$1.25", "$10", "$0.31", "—"],
            ["Vertex Ai-Language-Models", "us-east5", "1M", "64K", "$1.4", "$11", "$0.35", "—"],
            ["Gemini", "—", "—", "64K", "$1.25", "$10", "—", "—"],
            # The batch tier at half price: ranked only against other batch offers.
            [f"{VERTEX} Batch", "Global", "1M", "64K", "$0.625", "$5", "—", "—"],
        ],
        "1,048,576",
    ),
    # Anthropic's long-context rule, with a cache-write price of its own.
    "sonnet-long": (
        TWO_TIERS,
        {
            "Input Price": ["$3", "$6"],
            "Output Price": ["$15", "$22.5"],
            "Cache Read": ["$0.3", "$0.6"],
            "Cache Write": ["$3.75", "$7.5"],
        },
        [["Anthropic", "—", "1M", "64K", "$3", "$15", "$0.3", "$3.75"]],
        "1M",
    ),
    "three-tier": (
        ["<=128K Context", "128K-1M", ">1M Context"],
        {
            "Input Price": ["$1", "$2", "$4"],
            "Output Price": ["$4", "$8", "$16"],
            "Cache Read": ["$0.1", "$0.2", "$0.4"],
        },
        [],
        "2M",
    ),
    # The upper tier has an input price but "—" for output.
    "upper-dash": (
        TWO_TIERS,
        {
            "Input Price": ["$0.8", "$1.6"],
            "Output Price": ["$3.2", "—"],
            "Cache Read": ["$0.2", "$0.4"],
        },
        [],
        "1M",
    ),
    "embedding": (
        TWO_TIERS,
        {"Input Price": ["$0.13", "—"], "Output Price": ["—", "—"]},
        [],
        "8K",
    ),
    # Column headers that are not context tiers: no tier can be chosen by prompt size.
    "batch-columns": (
        ["Standard", "Batch"],
        {"Input Price": ["$2", "$1"], "Output Price": ["$8", "$4"]},
        [],
        "128K",
    ),
    # One readable tier beside one that is not: the "Batch" column might apply as well.
    "mixed-columns": (
        ["<=200K Context", "Batch"],
        {"Input Price": ["$2", "$1"], "Output Price": ["$8", "$4"]},
        [],
        "128K",
    ),
    # Two columns claim 200,001..1,000,000 tokens.
    "overlapping-tiers": (
        ["<=128K Context", "128K-1M", ">200K Context"],
        {"Input Price": ["$1", "$2", "$3"]},
        [],
        "2M",
    ),
    # One column with no bound: it applies at every prompt size.
    "flat-price": (
        ["Price"],
        {"Input Price": ["$0.5"], "Output Price": ["$1.5"]},
        [["Acme [eu]", "—", "32K", "8K", "$0.5", "$1.5", "—", "—"]],
        "32K",
    ),
    # Cells the catalog cannot read are unknown prices, never "no price".
    "unreadable-cells": (
        TWO_TIERS,
        {
            "Input Price": ["$1", "—"],
            "Output Price": ["$2/1K", "—"],
            "Cache Read": ["ask sales", "—"],
        },
        [["Acme", "—", "128K", "8K", "$1", "$2", "ask sales", "—"]],
        "128K",
    ),
    "max-price": (
        ["Price"],
        {
            row: ["$999,999,999.999999999"]
            for row in ("Input Price", "Output Price", "Cache Read", "Cache Write")
        },
        [],
        "1M",
    ),
}
SEED = "gpt-4.1-mini-2025-04-14"  # the real page: "—" in the whole >200K column


def model_page(model_id: str, tiers: list[str], prices: dict, offers: list, context: str) -> str:
    """A model page in the seed page's exact format."""
    head, _, _ = SEED_PAGE.read_text().replace(SEED, model_id).partition("## Model Metadata")
    rows = [f"| Metric | {' | '.join(tiers)} |", "|" + " --- |" * (len(tiers) + 1)]
    rows += [f"| {label} | {' | '.join(cells)} |" for label, cells in prices.items()]
    offer_rows = [OFFER_HEADER, "|" + " --- |" * 8]
    offer_rows += [f"| {' | '.join(cells)} |" for cells in offers]
    return (
        f"{head}## Model Metadata\n- Display name: {model_id}\n- Model ID: {model_id}\n"
        f"- Provider family: Test\n- Release date: 2025-06-01\n- Context window: {context}\n"
        "- Max output: 64K\n- Input modalities: text\n- Output modalities: text\n"
        "- Tool use support: Yes\n- Computer use support: No\n- Cache control support: Yes\n"
        "## Official Pricing (per 1M tokens)\n" + "\n".join(rows) + "\n\n"
        "## Provider Availability\n" + "\n".join(offer_rows) + "\n"
    )


def write_mirror(root: Path) -> Path:
    models = root / "llms" / "models"
    models.mkdir(parents=True)
    shutil.copyfile(SEED_PAGE, models / f"{SEED}.md")
    for model_id, page in PAGES.items():
        (models / f"{model_id}.md").write_text(model_page(model_id, *page))
    index = "".join(f"- [{m}](/llms/models/{m}.md): {m} model detail\n" for m in [SEED, *PAGES])
    (root / "llms.txt").write_text(f"# PipeLLM\n\n## Models\n\n{index}")
    (root / "robots.txt").write_text("User-agent: *\nAllow: /\n")
    return root


def cost_catalog(factory: pytest.TempPathFactory) -> Path:
    """The mirror's catalog, published once per test session and shared read-only."""
    root = factory.getbasetemp() / "cost-catalog"
    data_dir = root / "data"
    if not (data_dir / "catalog.duckdb").exists():
        with MirrorServer(write_mirror(root / "mirror")) as server:
            result = refresh(server, data_dir)
        assert result.returncode == 0, result.stdout + result.stderr
    return data_dir


USAGE_OPTIONS = {
    "output_tokens": "--output-tokens",
    "cache_read_tokens": "--cache-read-tokens",
    "cache_write_tokens": "--cache-write-tokens",
    "provider": "--provider",
    "region": "--region",
    "as_of": "--as-of",
}


def cli_args(model_id: str, input_tokens: int, **usage: Any) -> list[str]:
    args = ["cost", model_id, "--input-tokens", str(input_tokens), "--format", "json"]
    for name, value in usage.items():
        if name == "requests":
            args += ["--requests-per-month", str(value)]
        else:
            args += [USAGE_OPTIONS[name], str(value)]
    return args


def plain(row: Cost) -> dict[str, Any]:
    """A result as the CLI's JSON writes it."""
    return json.loads(
        json.dumps(
            {k: format(v, "f") if isinstance(v, Decimal) else v for k, v in asdict(row).items()}
        )
    )


def sql_row(data_dir: Path, model_id: str, input_tokens: int, **usage: Any) -> dict[str, Any]:
    """The request_cost macro, queried as an analyst would."""
    named = {k: v for k, v in usage.items() if k != "region"}
    args = "".join(f", {k} := ?" for k in named)
    with duckdb.connect(str(data_dir / "catalog.duckdb"), read_only=True) as con:
        cursor = con.execute(
            f"FROM request_cost(?, ?{args})", [model_id, input_tokens, *named.values()]
        )
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    if "region" in usage:
        rows = [r for r in rows if r["region"] == usage["region"]]
    (row,) = rows
    return plain(Cost(**{k: tuple(v) if isinstance(v, list) else v for k, v in row.items()}))


def agreed(data_dir: Path, model_id: str, input_tokens: int, **usage: Any) -> dict[str, Any]:
    """The Python function's answer, checked to be the macro's to the digit."""
    python = plain(cost(model_id, input_tokens, data_dir=data_dir, **usage))
    assert python == sql_row(data_dir, model_id, input_tokens, **usage)
    return python


def answer(data_dir: Path, model_id: str, input_tokens: int, **usage: Any) -> dict[str, Any]:
    """The CLI's answer, checked to be the macro's and the Python function's to the digit."""
    result = modelcat(*cli_args(model_id, input_tokens, **usage), "--data-dir", str(data_dir))
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed == agreed(data_dir, model_id, input_tokens, **usage)
    return printed
