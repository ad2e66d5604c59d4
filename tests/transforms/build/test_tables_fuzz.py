"""Fuzzing real pages (issues 9 and 18): hypothesis mutates the seed page (drops, repeats and
shifts table cells, repeats lines and sections, writes units into headings and header cells,
nests the front matter deeply, inserts random bytes; and, as CommonMark reads them, line
separators inside values, code fences, indented code, HTML comments and blocks, closing
hashes, tabs after bullet markers, ordered lists, labels in emphasis and CR-only line ends)
and builds each site of mutated pages through the real stager and catalog build. Whatever
it does:

- the build never raises, and every page has its ``pages`` row;
- every price and context window published equals what an independent reader of the page
  (below: GitHub's own CommonMark + GFM parser, cmark-gfm, read through its HTML; not our
  parser) reads there;
- a value that reader finds on the page but the run left NULL comes with a quality issue.

``MODELCAT_FUZZ_EXAMPLES`` runs more examples (default 12: a few seconds each).
"""

from __future__ import annotations

import os
import random
import re
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from modelcat.demo import DEMO_MIRROR
from tests.support import SEED_PAGE
from tests.support.commonmark import sections
from tests.support.staging import BASE, build_site

SEED = SEED_PAGE.read_text(encoding="utf-8")
# Real pages to mutate: the seed and demo pages with other tiers, sizes and providers.
REAL_PAGES = {
    "gpt-4.1-mini-2025-04-14": SEED,
    **{
        name: (DEMO_MIRROR / "llms" / "models" / f"{name}.md").read_text(encoding="utf-8")
        for name in ("gpt-5-2025-08-07", "gemini-2.0-flash-001", "codex-auto-review")
    },
}
EXAMPLES = int(os.environ.get("MODELCAT_FUZZ_EXAMPLES", "12"))

# What each unit text the fuzzer writes means: True for US dollars per 1M tokens.
UNITS = {
    "(per 1M tokens)": True,
    "(USD per 1M tokens)": True,
    "(per 1K tokens)": False,
    "(per token)": False,
    "in EUR": False,
    "(€)": False,
    "(per 1M tokens) in EUR": False,
    "": None,  # states no unit
}
OPERATIONS = (
    "drop_cell",
    "repeat_cell",
    "shift_cells",
    "repeat_line",
    "drop_line",
    "repeat_section",
    "unit_in_heading",
    "unit_in_header",
    "deep_front_matter",
    "random_bytes",
    # Issue 18: what CommonMark reads otherwise than a line reader.
    "line_separator",
    "code_fence",
    "indented_code",
    "html_comment",
    "html_block",
    "closing_hashes",
    "tab_after_marker",
    "ordered_list",
    "emphasised_label",
    "cr_only",
)
# Characters str.splitlines() breaks a line at and CommonMark does not.
SEPARATORS = ("\u2028", "\u2029", "\x85", "\x0c", "\x0b", "\x1c", "\x1d", "\x1e")
# Blocks whose content is no value: (opening line(s), closing line).
WRAPPERS = {
    "code_fence": (["```"], "```"),
    "html_comment": (["<!--"], "-->"),
    "html_block": (["<div>"], "</div>"),
}
METRICS = {
    "Input Price": "input",
    "Output Price": "output",
    "Cache Read": "cache_read",
    "Cache Write": "cache_write",
    "Image Input": "image_input",
    "Image Output": "image_output",
    "Audio Input": "audio_input",
    "Audio Output": "audio_output",
}
OFFER_COLUMNS = {
    "Input Price": "input_usd_per_mtok",
    "Output Price": "output_usd_per_mtok",
    "Cache Read": "cache_read_usd_per_mtok",
    "Cache Write": "cache_write_usd_per_mtok",
}


def mutate(text: str, steps: list[tuple[str, int, int, str]]) -> bytes:
    lines = text.split("\n")
    extra = b""
    newline = "\n"
    for operation, a, b, unit in steps:
        tables = [i for i, line in enumerate(lines) if line.startswith("|")]
        headings = [i for i, line in enumerate(lines) if line.startswith("## ")]
        bullets = [i for i, line in enumerate(lines) if line.startswith("- ")]
        if operation in {"drop_cell", "repeat_cell", "shift_cells"} and tables:
            i = tables[a % len(tables)]
            cells = lines[i].strip("|").split("|")
            j = b % len(cells)
            if operation == "drop_cell" and len(cells) > 1:
                del cells[j]
            elif operation == "repeat_cell":
                cells.insert(j, cells[j])
            else:
                cells = cells[1:] + cells[:1]
            lines[i] = "|" + "|".join(cells) + "|"
        elif operation == "repeat_line":
            i = a % len(lines)
            lines.insert(i, lines[i])
        elif operation == "drop_line" and len(lines) > 1:
            del lines[a % len(lines)]
        elif operation == "repeat_section" and headings:
            start = headings[a % len(headings)]
            end = next((h for h in headings if h > start), len(lines))
            lines[end:end] = lines[start:end]
        elif operation == "unit_in_heading" and headings:
            i = headings[a % len(headings)]
            name = re.sub(r"\s*\(.*$", "", lines[i])
            lines[i] = f"{name} {unit}".rstrip()
        elif operation == "unit_in_header" and tables:
            header = [i for i in tables if i == 0 or not lines[i - 1].startswith("|")]
            i = header[a % len(header)]
            cells = lines[i].strip("|").split("|")
            j = b % len(cells)
            cells[j] = f" {cells[j].strip()} {unit} ".replace("  ", " ")
            lines[i] = "|" + "|".join(cells) + "|"
        elif operation == "deep_front_matter":
            depth = 100 + a % 2000
            lines.insert(1, "nested: " + "[" * depth + "]" * depth)
        elif operation == "random_bytes":
            extra = random.Random(a).randbytes(b % 64)
        elif operation == "line_separator" and (tables or bullets):
            # Inside a value: a cell or a bullet, after a digit where there is one.
            i = (tables + bullets)[a % len(tables + bullets)]
            digits = [m.end() for m in re.finditer(r"[0-9]", lines[i])] or [len(lines[i])]
            at = digits[b % len(digits)]
            separator = SEPARATORS[b % len(SEPARATORS)]
            lines[i] = lines[i][:at] + separator + lines[i][at:]
        elif operation in WRAPPERS:
            start = a % len(lines)
            end = min(len(lines), start + 1 + b % 8)
            opening, closing = WRAPPERS[operation]
            lines[start:end] = [*opening, *lines[start:end], closing]
        elif operation == "indented_code":
            start = a % len(lines)
            end = min(len(lines), start + 1 + b % 8)
            lines[start:end] = ["", *("    " + line for line in lines[start:end]), ""]
        elif operation == "closing_hashes" and headings:
            i = headings[a % len(headings)]
            lines[i] += " " + "#" * (1 + b % 3) + " " * (b % 2)
        elif operation in {"tab_after_marker", "ordered_list", "emphasised_label"} and bullets:
            i = bullets[a % len(bullets)]
            if operation == "tab_after_marker":
                lines[i] = "-\t" + lines[i][2:]
            elif operation == "ordered_list":
                lines[i] = f"{1 + b % 9}. " + lines[i][2:]
            else:
                lines[i] = re.sub(r"^- ([^:]+):", r"- **\1**:", lines[i])
        elif operation == "cr_only":
            newline = "\r"
    body = newline.join(lines).encode()
    cut = len(body) // 2
    return body[:cut] + extra + body[cut:]


# --- An independent reader: plain line scanning, for the fields checked ---------------------


def usd(cell: str) -> Decimal | None:
    cell = cell.strip()
    if re.fullmatch(r"\$[0-9]+(\.[0-9]+)?", cell):
        return Decimal(cell[1:])
    return None


def tokens(cell: str) -> int | None:
    """128K, 1.05M, 8,192, 1,048,576 (K = 1,000, M = 1,000,000)."""
    match = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)([KkMm]?)", cell.strip().replace(",", ""))
    if match is None:
        return None
    count = Decimal(match[1]) * {"": 1, "K": 1000, "M": 1_000_000}[match[2].upper()]
    return int(count) if count == int(count) else None


def unit_of(text: str, name: str) -> bool | None:
    """True: per 1M USD; False: another unit; None: names no unit. Unknown text: False.
    A unit written twice (the fuzzer may write it again) says what each copy says."""
    if not text.startswith(name):
        return False
    rest, said = text[len(name) :].strip(), set()
    while rest:
        unit = max((u for u in UNITS if u and rest.startswith(u)), key=len, default=None)
        if unit is None:
            return False
        said.add(UNITS[unit])
        rest = rest[len(unit) :].strip()
    return said == {True} if said else None


def read_page(text: str) -> dict:
    """What the page says, where it says it unambiguously: {key: value}; a key the page
    gives two different values for maps to None (ambiguous)."""
    said: dict[tuple, set] = {}

    def say(key: tuple, value: object) -> None:
        said.setdefault(key, set()).add(value)

    for heading, items, tables in sections(text):
        name = re.sub(r"\s*(\(.*|in EUR)$", "", heading)
        if name == "Model Metadata":
            for item in items:
                for label, column in (("Context window", "context"), ("Max output", "output")):
                    if re.match(rf"{label}:[ \t]", item):
                        say((column,), tokens(item.split(":", 1)[1]))
        for header, rows in tables:
            labels = [re.sub(r"\s*(\(.*|in EUR)$", "", cell) for cell in header]
            units = [unit_of(cell, label) for cell, label in zip(header, labels, strict=True)]
            heading_unit = unit_of(heading, name)
            if name == "Official Pricing" and labels[0] == "Metric":
                per_mtok = heading_unit is True and all(u is not False for u in units)
                for row in rows:
                    for tier, cell in zip(header[1:], row[1:], strict=True):
                        metric = METRICS.get(row[0])
                        if metric and cell not in {"—", "-"}:
                            say(("price", metric, tier), usd(cell) if per_mtok else "unit")
            if name == "Provider Availability" and labels[0] == "Provider":
                per_mtok = heading_unit is not False and all(u is not False for u in units)
                for row in rows:
                    region = row[labels.index("Region")] if "Region" in labels else "—"
                    for label, cell in zip(labels[1:], row[1:], strict=True):
                        if label in OFFER_COLUMNS:
                            value = (usd(cell) if per_mtok else "unit") if cell != "—" else None
                            say(("offer", row[0], region, OFFER_COLUMNS[label]), value)
    return {key: next(iter(values)) if len(values) == 1 else None for key, values in said.items()}


# --- The property ----------------------------------------------------------------------------

STEPS = st.lists(
    st.tuples(
        st.sampled_from(OPERATIONS),
        st.integers(0, 10**6),
        st.integers(0, 10**6),
        st.sampled_from(sorted(UNITS)),
    ),
    min_size=1,
    max_size=4,
)


@pytest.mark.slow  # a build per example: about 5 seconds
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    # A build takes seconds: shrinking would take many minutes. A failure is reported as
    # generated, a few readable mutations of a named page.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
@given(
    mutations=st.lists(
        st.tuples(st.sampled_from(sorted(REAL_PAGES)), STEPS), min_size=1, max_size=3
    )
)
def test_mutated_pages_publish_only_what_they_say(tmp_path_factory, mutations) -> None:
    bodies = {
        f"{BASE}fuzz-{i}.md": mutate(REAL_PAGES[name].replace(name, f"fuzz-{i}"), steps)
        for i, (name, steps) in enumerate(mutations)
    }
    bodies[BASE + "seed.md"] = SEED.encode()
    tables = build_site(bodies, tmp_path_factory.mktemp("fuzz") / "run")

    check_site(bodies, tables)


def check_site(bodies: dict[str, bytes], tables: dict[str, pd.DataFrame]) -> None:
    """The property, for a built site of page bodies."""
    pages = tables["pages"]
    assert sorted(pages["url"]) == sorted(bodies)
    for model in tables["models"].to_dict("records"):
        url = model["page_url"]
        said = read_page(bodies[url].decode("utf-8", "replace"))
        flagged = set(
            tables["quality_issues"].loc[tables["quality_issues"]["page_url"] == url, "kind"]
        ) - {"overview_contradiction"}
        for column, key in (("context_window_tokens", "context"), ("max_output_tokens", "output")):
            value = model[column]
            if not pd.isna(value):
                assert said.get((key,)) == value, (url, column, value, said.get((key,)))
        prices = tables["official_prices"]
        for row in prices[prices["model_id"] == model["model_id"]].to_dict("records"):
            read = said.get(("price", row["metric"], row["tier_label"]))
            if pd.isna(row["usd_per_mtok"]):
                assert flagged, (url, row)
            else:
                assert read == row["usd_per_mtok"], (url, row, read)
        offers = tables["provider_offers"]
        for row in offers[offers["model_id"] == model["model_id"]].to_dict("records"):
            region = "—" if pd.isna(row["region"]) else row["region"]
            for column in OFFER_COLUMNS.values():
                read = said.get(("offer", row["provider"], region, column))
                if not pd.isna(row[column]):
                    assert read == row[column], (url, row["provider"], column, read)
                elif isinstance(read, Decimal):
                    assert flagged, (url, row["provider"], column)
    # The unmutated seed publishes whatever the others do: no page blocks another.
    assert "gpt-4.1-mini-2025-04-14" in set(tables["models"]["model_id"])


def test_the_reader_reads_the_seed_as_written() -> None:
    """The independent reader itself, on the page as the site serves it."""
    said = read_page(SEED)
    assert said[("context",)] == 128_000
    assert said[("price", "input", "<=200K Context")] == Decimal("0.8")
    assert said[("offer", "OpenAI", "—", "cache_read_usd_per_mtok")] == Decimal("0.2")
    assert said[("offer", "OpenAI", "—", "cache_write_usd_per_mtok")] is None


# Issue 18's mutations, each at a few places of each real page: one site, one build.
COMMONMARK_OPERATIONS = OPERATIONS[OPERATIONS.index("line_separator") :]


@pytest.mark.slow  # one build of a site of 100 pages or so
def test_each_commonmark_mutation_publishes_only_what_it_says(tmp_path: Path) -> None:
    bodies = {}
    for operation in COMMONMARK_OPERATIONS:
        for name, text in REAL_PAGES.items():
            for place in range(3):
                page = f"fuzz-{operation}-{place}-{name}"
                steps = [(operation, 7 + 13 * place, 5 + 11 * place, "")]
                bodies[f"{BASE}{page}.md"] = mutate(text.replace(name, page), steps)
    bodies[BASE + "seed.md"] = SEED.encode()
    check_site(bodies, build_site(bodies, tmp_path / "run"))


def test_the_reader_reads_commonmark_not_lines() -> None:
    """The independent reader on what a line reader gets wrong."""
    text = SEED.replace("| Input Price | $0.8 | — |", "| Input Price | $0.8 | $1\u2028.6 |")
    text = text.replace("- Context window: 128K", "- **Context window**:\t1\x0c28K")
    text = text.replace(
        "## Official Pricing (per 1M tokens)", "## Official Pricing (per 1M tokens) ##"
    )
    text = text.replace("## Overview\n", "## Overview\n```\n| Cache Write | $9.9 | — |\n```\n")
    said = read_page(text.replace("\n", "\r"))
    assert said[("price", "input", "<=200K Context")] == Decimal("0.8")
    assert said[("price", "input", ">200K Context")] is None  # $1<U+2028>.6: no price
    assert said[("context",)] is None  # 1<FF>28K: no token count
    assert ("price", "cache_write", "<=200K Context") not in said
    assert said[("offer", "OpenAI", "—", "cache_read_usd_per_mtok")] == Decimal("0.2")


def test_a_mutation_is_reproducible(tmp_path: Path) -> None:
    steps = [("random_bytes", 7, 40, ""), ("drop_cell", 3, 2, "")]
    assert mutate(SEED, steps) == mutate(SEED, steps)
