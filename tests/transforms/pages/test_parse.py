"""Tests for ``transforms.pages.parse``: golden pages, the seed page value by value, messy pages,
``decode_markdown``, and properties that hold for any text.

Golden files: every ``tests/fixtures/pages/NAME.md`` has a ``NAME.json`` holding its parse.
``UPDATE_GOLDEN=1 .venv/bin/pytest tests/transforms/pages/test_parse.py`` rewrites them
after a deliberate parser change: then review the diff by hand against the pages before
committing it.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.support import PAGES, SEED_PAGE
from transforms.pages import parse
from transforms.pages.parse import (
    MODEL_CONTENT_TYPE,
    PREAMBLE,
    NotMarkdown,
    Page,
    Section,
    decode_markdown,
    parse_page,
)

SEED_URL = "https://www.pipellm.ai/llms/models/gpt-4.1-mini-2025-04-14.md"
# Pages are parsed at the URL they would be served from; relative links resolve against it.
FIXTURE_URLS = {"llms-index": "https://www.pipellm.ai/llms.txt"}
PRICING = "Official Pricing (per 1M tokens)"
UPDATE_GOLDEN = os.environ.get("UPDATE_GOLDEN") == "1"


def find_section(page: Page, heading_prefix: str) -> Section | None:
    """The first section whose heading starts with ``heading_prefix`` (case-insensitive)."""
    prefix = heading_prefix.casefold()
    return next((s for s in page.sections if s.heading.casefold().startswith(prefix)), None)


def bullet_values(section: Section | None) -> dict[str, str]:
    """Labelled bullets as {label: raw}; the first of a repeated label wins."""
    assert section is not None
    values: dict[str, str] = {}
    for label, raw in section.bullets:
        if label is not None:
            values.setdefault(label, raw)
    return values


def read_page(path: Path) -> str:
    """The page as the crawler sees it: bytes through ``decode_markdown``, CRLF kept."""
    return decode_markdown(path.read_bytes(), "text/markdown; charset=utf-8")


def fixture_url(name: str) -> str:
    return FIXTURE_URLS.get(name, f"https://www.pipellm.ai/llms/models/{name}.md")


def section_record(section: Section) -> dict[str, Any]:
    return {
        "heading": section.heading,
        "bullets": [list(bullet) for bullet in section.bullets],
        "tables": [{"header": t.header, "rows": t.rows} for t in section.tables],
        "paragraphs": section.paragraphs,
    }


def page_record(page: Page) -> dict[str, Any]:
    """Everything a parse produced, as plain JSON values."""
    return {
        "url": page.url,
        "front_matter": page.front_matter,
        "title": page.title,
        "preamble": section_record(page.preamble),
        "sections": [section_record(section) for section in page.sections],
        "links": page.links,
        "problems": page.problems,
        "cells": [
            {
                "section": cell.section,
                "row": cell.row,
                "row_label": cell.row_label,
                "column": cell.column,
                "raw": cell.raw,
            }
            for cell in page.cells()
        ],
    }


SEED_TEXT = read_page(SEED_PAGE)
SEED_BLOCKS = re.split(r"(?m)^(?=## )", SEED_TEXT)  # [head, "## Query Intents\n...", ...]


@pytest.fixture(scope="module")
def seed() -> Page:
    return parse_page(SEED_TEXT, SEED_URL)


def cells_of(page: Page, section: str) -> list[tuple[int, str | None, str | None, str]]:
    return [(c.row, c.row_label, c.column, c.raw) for c in page.cells() if c.section == section]


# --- Golden fixtures -----------------------------------------------------------------------


@pytest.mark.parametrize("page_path", sorted(PAGES.glob("*.md")), ids=lambda path: path.stem)
def test_page_parses_to_its_golden_json(page_path: Path) -> None:
    golden = page_path.with_suffix(".json")
    actual = page_record(parse_page(read_page(page_path), fixture_url(page_path.stem)))
    if UPDATE_GOLDEN:
        golden.write_text(json.dumps(actual, indent=2, ensure_ascii=False) + "\n")
        pytest.skip(f"rewrote {golden.name}; review its diff")
    assert golden.exists(), f"{golden.name} is missing: run with UPDATE_GOLDEN=1 and review it"
    # Round-trip through JSON so tuples compare equal to the lists the file holds.
    assert json.loads(json.dumps(actual)) == json.loads(golden.read_text())


def test_every_golden_json_has_its_page() -> None:
    orphans = [p.name for p in PAGES.glob("*.json") if not p.with_suffix(".md").exists()]
    assert orphans == []


# --- The seed page, every value checked by hand against the file -----------------------------


def test_seed_front_matter_has_all_eight_keys_unquoted(seed: Page) -> None:
    assert seed.front_matter == {
        "title": "GPT-4.1 Mini",
        "route_path": "/model/gpt-4.1-mini-2025-04-14",
        "canonical_url": "https://www.pipellm.ai/model/gpt-4.1-mini-2025-04-14",
        "markdown_path": "/llms/models/gpt-4.1-mini-2025-04-14.md",
        "markdown_url": "https://www.pipellm.ai/llms/models/gpt-4.1-mini-2025-04-14.md",
        "content_type": "model-detail-page",
        "description": "Machine-readable detail page for GPT-4.1 Mini.",
        "generated_at": "2026-03-27T06:53:30.752Z",
    }
    assert list(seed.front_matter) == [
        "title",
        "route_path",
        "canonical_url",
        "markdown_path",
        "markdown_url",
        "content_type",
        "description",
        "generated_at",
    ]
    assert seed.content_type == "model-detail-page"
    assert seed.content_type == MODEL_CONTENT_TYPE


def test_seed_title_and_four_preamble_lines(seed: Page) -> None:
    assert seed.title == "GPT-4.1 Mini"
    assert seed.preamble.heading == PREAMBLE
    assert seed.preamble.bullets == [
        ("Canonical page", "https://www.pipellm.ai/model/gpt-4.1-mini-2025-04-14"),
        ("Markdown mirror", "https://www.pipellm.ai/llms/models/gpt-4.1-mini-2025-04-14.md"),
        ("Content type", "model-detail-page"),
        ("Generated at", "2026-03-27T06:53:30.752Z"),
    ]
    assert seed.preamble.tables == []
    assert seed.preamble.paragraphs == []


def test_seed_sections_in_page_order(seed: Page) -> None:
    assert [s.heading for s in seed.sections] == [
        "Query Intents",
        "Overview",
        "Model Metadata",
        PRICING,
        "Provider Availability",
    ]
    assert find_section(seed, "query intents").bullets == [
        (
            None,
            "Understand pricing, provider availability, context window, and capabilities"
            " for GPT-4.1 Mini.",
        ),
        (None, "Compare GPT-4.1 Mini against other models available through PipeLLM."),
        (None, "Find the canonical model identifier to use in SDK or API requests."),
    ]


def test_seed_model_metadata_has_eleven_bullets(seed: Page) -> None:
    metadata = find_section(seed, "Model Metadata")
    assert metadata.bullets == [
        ("Display name", "GPT-4.1 Mini"),
        ("Model ID", "gpt-4.1-mini-2025-04-14"),
        ("Provider family", "Openai"),
        ("Release date", "Unknown"),
        ("Context window", "128K"),
        ("Max output", "16K"),
        ("Input modalities", "text"),
        ("Output modalities", "text"),
        ("Tool use support", "Yes"),
        ("Computer use support", "No"),
        ("Cache control support", "Yes"),
    ]
    assert metadata.tables == []
    assert metadata.paragraphs == []


def test_seed_official_pricing_cells_by_row_and_tier(seed: Page) -> None:
    (table,) = find_section(seed, "Official Pricing").tables
    assert table.header == ["Metric", "<=200K Context", ">200K Context"]
    low, high = "<=200K Context", ">200K Context"
    assert cells_of(seed, PRICING) == [
        (1, None, "Metric", "Metric"),  # the header row: each cell under itself
        (1, None, low, low),
        (1, None, high, high),
        (2, "Input Price", low, "$0.8"),
        (2, "Input Price", high, "—"),
        (3, "Output Price", low, "$3.2"),
        (3, "Output Price", high, "—"),
        (4, "Cache Read", low, "$0.2"),
        (4, "Cache Read", high, "—"),
        (5, "Image Input", low, "$0"),
        (5, "Image Input", high, "—"),
        (6, "Image Output", low, "$0"),
        (6, "Image Output", high, "—"),
    ]


def test_seed_provider_availability_row(seed: Page) -> None:
    (table,) = find_section(seed, "Provider Availability").tables
    assert table.header == [
        "Provider",
        "Region",
        "Context Window",
        "Max Output",
        "Input Price",
        "Output Price",
        "Cache Read",
        "Cache Write",
    ]
    assert table.rows == [["OpenAI", "—", "128K", "16K", "$0.8", "$3.2", "$0.2", "—"]]
    assert cells_of(seed, "Provider Availability") == [
        *((1, None, column, column) for column in table.header),
        (2, "OpenAI", "Region", "—"),
        (2, "OpenAI", "Context Window", "128K"),
        (2, "OpenAI", "Max Output", "16K"),
        (2, "OpenAI", "Input Price", "$0.8"),
        (2, "OpenAI", "Output Price", "$3.2"),
        (2, "OpenAI", "Cache Read", "$0.2"),
        (2, "OpenAI", "Cache Write", "—"),
    ]


def test_seed_overview_is_one_paragraph(seed: Page) -> None:
    (overview,) = find_section(seed, "Overview").paragraphs
    assert overview.startswith("GPT-4.1 Mini is a mid-sized model delivering performance")
    assert "1 million token context window" in overview
    assert "(e.g., 31.6% on Aider’s polyglot diff benchmark)" in overview
    assert overview.endswith("with tight performance constraints.")


def test_seed_has_no_problems_and_no_links(seed: Page) -> None:
    assert seed.problems == []
    assert seed.links == []  # its URLs are bare text, not markdown links


def test_seed_cells_start_with_front_matter_then_title(seed: Page) -> None:
    cells = list(seed.cells())
    assert [(c.section, c.row, c.row_label) for c in cells[:9]] == [
        ("front matter", 1, "title"),
        ("front matter", 2, "route_path"),
        ("front matter", 3, "canonical_url"),
        ("front matter", 4, "markdown_path"),
        ("front matter", 5, "markdown_url"),
        ("front matter", 6, "content_type"),
        ("front matter", 7, "description"),
        ("front matter", 8, "generated_at"),
        ("title", 1, None),
    ]
    # 8 front matter + title + 4 preamble + 3 intents + overview + 11 metadata
    # + 3 + 5x2 official prices + 8 + 7 provider columns (headers, then rows).
    assert len(cells) == 8 + 1 + 4 + 3 + 1 + 11 + 3 + 10 + 8 + 7


# --- Messy pages -----------------------------------------------------------------------------


def parse_fixture(name: str) -> Page:
    return parse_page(read_page(PAGES / f"{name}.md"), fixture_url(name))


@pytest.mark.parametrize("name", ["crlf-line-endings", "bom"])
def test_crlf_and_bom_copies_of_seed_parse_like_the_seed(name: str, seed: Page) -> None:
    raw = (PAGES / f"{name}.md").read_bytes()
    # Guard against git or an editor normalising the very bytes this test is about.
    assert (b"\r\n" in raw) == (name == "crlf-line-endings")
    assert raw.startswith(b"\xef\xbb\xbf") == (name == "bom")
    page = parse_page(raw.decode("utf-8"), SEED_URL)  # the parser itself copes, too
    assert page_record(page) == page_record(seed)


def test_reordered_sections_keep_their_own_content() -> None:
    page = parse_fixture("sections-reordered")
    assert [s.heading for s in page.sections] == [
        "Provider Availability",
        "Model Metadata",
        PRICING,
        "Overview",
        "Query Intents",
    ]
    # The preamble may follow the title; it still ends at the first "##".
    assert page.title == "Codex Auto Review"
    assert page.preamble.bullets == [
        ("Canonical page", "https://www.pipellm.ai/model/codex-auto-review"),
        ("Generated at", "2026-11-20T06:53:30.752Z"),
    ]
    assert bullet_values(find_section(page, "Model Metadata"))["Context window"] == "1050k"
    assert find_section(page, "Official Pricing").tables[0].rows == [
        ["Output Price", "$30", "$45"],
        ["Input Price", "$5", "$10.00"],
    ]
    assert find_section(page, "Provider Availability").tables[0].rows[1][:2] == [
        "OpenAI Batch",
        "Global",
    ]
    assert page.problems == []


def test_unknown_bullet_and_extra_columns_are_kept_as_written() -> None:
    page = parse_fixture("extra-bullet-and-column")
    assert bullet_values(find_section(page, "Model Metadata"))["Knowledge cutoff"] == "2025-01"
    assert cells_of(page, PRICING)[4:7] == [
        (2, "Input Price", "<=128K Context", "$1.25"),
        (2, "Input Price", "<=1M Context", "$2.50"),
        (2, "Input Price", ">1M Context", "$5"),
    ]
    assert cells_of(page, "Provider Availability")[-1] == (
        2,
        "Vertex_ai-language-models",
        "Latency",
        "420ms",
    )
    assert page.problems == []


def test_ragged_rows_are_kept_and_reported() -> None:
    page = parse_fixture("ragged-table-row")
    (table,) = find_section(page, "Official Pricing").tables
    assert table.rows == [
        ["Input Price", "$3"],
        ["Output Price", "$15", "$22.50", "$30"],
        ["Cache Read", "$0.3", "—"],
        ["Cache Write", "$3.75", "—"],
    ]
    # A row that does not fit the header is never mapped by position: it is kept whole,
    # without a column or a row label, so no value lands in a column it does not belong to.
    assert cells_of(page, PRICING)[3:8] == [
        (2, None, None, "| Input Price | $3 |"),
        (3, None, None, "| Output Price | $15 | $22.50 | $30 |"),
        (4, "Cache Read", "<=200K Context", "$0.3"),
        (4, "Cache Read", ">200K Context", "—"),
        (5, "Cache Write", "<=200K Context", "$3.75"),
    ]
    # GFM: a row without its leading pipe still belongs to the table above it.
    assert find_section(page, "Official Pricing").paragraphs == []
    assert find_section(page, "Provider Availability").tables == []
    assert page.problems == [
        "table row in 'Official Pricing (per 1M tokens)' has 2 cells, header has 3;"
        " its values are not read: '| Input Price | $3 |'",
        "table row in 'Official Pricing (per 1M tokens)' has 4 cells, header has 3;"
        " its values are not read: '| Output Price | $15 | $22.50 | $30 |'",
        "table in 'Provider Availability' has no header separator row",
    ]


def test_index_without_front_matter_resolves_relative_and_absolute_links() -> None:
    page = parse_fixture("llms-index")
    assert page.front_matter == {}
    assert page.content_type != MODEL_CONTENT_TYPE
    assert page.title == "PipeLLM"
    assert page.preamble.paragraphs == ["Machine-readable model catalog."]  # a block quote
    # Fragments dropped, duplicates once, images skipped, other schemes left to the spider.
    assert page.links == [
        "https://www.pipellm.ai/llms/models/gpt-4.1-mini-2025-04-14.md",
        "https://www.pipellm.ai/llms/models/claude-3-haiku-20240307.md",
        "https://www.pipellm.ai/llms/models/codex-auto-review.md",
        "https://www.pipellm.ai/llms/providers/openai.md",
        "https://www.pipellm.ai/llms/providers/anthropic.md",
        "https://example.com/llms.txt",
        "mailto:team@pipellm.ai",
    ]
    assert page.problems == []


def test_unclosed_front_matter_is_reported_and_page_is_not_a_model() -> None:
    page = parse_fixture("unclosed-front-matter")
    assert page.front_matter == {}
    assert page.content_type != MODEL_CONTENT_TYPE
    assert page.problems == ["front matter is not closed by a '---' line"]
    # The body is still read, so the values stay visible as cells.
    assert page.title == "Broken Model"
    assert bullet_values(find_section(page, "Model Metadata")) == {
        "Model ID": "broken-model",
        "Context window": "128K",
    }


def test_invalid_yaml_front_matter_is_reported_and_body_still_parsed() -> None:
    page = parse_fixture("invalid-yaml-front-matter")
    assert page.front_matter == {}
    (problem,) = page.problems
    assert problem.startswith("front matter is not valid YAML: ")
    assert page.title == "GPT-4.1 Mini"
    assert bullet_values(find_section(page, "Model Metadata"))["Context window"] == "128K"


def test_escaped_pipe_stays_inside_its_cell() -> None:
    page = parse_fixture("escaped-pipe")
    (table,) = find_section(page, "Provider Availability").tables
    assert table.rows == [
        ["Acme | Batch", "us-east-1 | eu-west-1", "$1.5", "ends with a pipe |"],
        ["Acme", "—", "$2", "plain"],
    ]
    assert page.problems == []


# --- Parser rules, one at a time -------------------------------------------------------------

URL = "https://www.pipellm.ai/llms/models/x.md"


@pytest.mark.parametrize(
    ("line", "is_heading"),
    [
        ("## Overview", True),
        ("###### Six", True),
        ("##", True),
        ("#1 on the leaderboard", False),
        ("#hashtag", False),
        ("####### Seven hashes", False),
    ],
)
def test_heading_needs_one_to_six_hashes_and_a_space(line: str, is_heading: bool) -> None:
    page = parse_page(f"# Title\n## First\n{line}\n", URL)
    assert (len(page.sections) == 2) is is_heading
    if not is_heading:
        assert page.sections[0].paragraphs == [line]


def test_only_first_h1_before_any_section_is_the_title() -> None:
    page = parse_page("# Title\n# Second\n## A\n# Third\n", URL)
    assert page.title == "Title"
    assert [s.heading for s in page.sections] == ["Second", "A", "Third"]
    assert parse_page("## A\n# Late\n", URL).title is None


def test_repeated_section_is_reported_and_first_one_wins() -> None:
    page = parse_page("## Model Metadata\n- Model ID: a\n## model metadata\n- Model ID: b\n", URL)
    assert page.problems == ["section 'model metadata' appears more than once"]
    assert bullet_values(find_section(page, "MODEL METADATA")) == {"Model ID": "a"}


def test_repeated_bullet_label_first_value_wins() -> None:
    page = parse_page("## S\n- Context window: 128K\n- Context window: 1M\n", URL)
    assert bullet_values(page.sections[0]) == {"Context window": "128K"}
    assert page.sections[0].bullets == [("Context window", "128K"), ("Context window", "1M")]


@pytest.mark.parametrize(
    ("line", "bullet"),
    [
        ("- Model ID: gpt-4o", ("Model ID", "gpt-4o")),
        ("* Model ID: gpt-4o", ("Model ID", "gpt-4o")),
        ("+ Model ID: gpt-4o", ("Model ID", "gpt-4o")),
        ("- Note: a: b", ("Note", "a: b")),  # only the first ": " separates
        ("- Release date:", ("Release date", "")),
        ("- See https://x.test/a", (None, "See https://x.test/a")),
        ("-   Padded  :  value  ", ("Padded", "value")),
    ],
)
def test_bullet_label_and_value(line: str, bullet: tuple[str | None, str]) -> None:
    assert parse_page(f"## S\n{line}\n", URL).sections[0].bullets == [bullet]


def test_preamble_key_value_lines_need_no_dash_but_sections_do() -> None:
    page = parse_page("Content type: model-detail-page\n## S\nKey: value\n", URL)
    assert page.preamble.bullets == [("Content type", "model-detail-page")]
    assert page.sections[0].bullets == []
    assert page.sections[0].paragraphs == ["Key: value"]


def test_paragraph_lines_join_with_a_space_until_a_blank_line() -> None:
    page = parse_page("## Overview\nFirst line\n  second line\n\nNext paragraph\n", URL)
    assert page.sections[0].paragraphs == ["First line second line", "Next paragraph"]


def test_table_without_separator_row_is_reported_not_read() -> None:
    page = parse_page("## S\n| A | B |\n| x | y |\n", URL)
    assert page.sections[0].tables == []
    assert page.problems == ["table in 'S' has no header separator row"]


def test_table_separator_may_carry_alignment_colons() -> None:
    page = parse_page("## S\n| A | B |\n|:---|---:|\n| x | y |\n", URL)
    assert page.sections[0].tables[0].rows == [["x", "y"]]


def test_cells_number_bullets_then_table_rows_then_paragraphs_per_section() -> None:
    page = parse_page("## S\n- a: 1\n\n| M | T |\n| --- | --- |\n| r | v |\n\ntext\n", URL)
    assert cells_of(page, "S") == [
        (1, "a", None, "1"),
        (2, None, "M", "M"),
        (2, None, "T", "T"),
        (3, "r", "T", "v"),
        (4, None, None, "text"),
    ]


def test_malformed_link_target_is_reported_not_raised() -> None:
    # Regression: urljoin raised ValueError on this, crashing the whole crawl callback.
    page = parse_page("- [bad](http://[::1/x.md)\n- [good](/llms/models/a.md)\n", URL)
    assert page.links == ["https://www.pipellm.ai/llms/models/a.md"]
    assert page.problems == ["link target 'http://[::1/x.md' is not a valid URL"]


@pytest.mark.parametrize(
    ("front", "problem"),
    [
        ("- a\n- b\n", "front matter is not a mapping"),
        ("just text\n", "front matter is not a mapping"),
        ("key: [a, b\n", "front matter is not valid YAML: "),
        ("key: \ud800\n", "front matter is not valid YAML: "),  # regression: raised
    ],
)
def test_front_matter_that_is_no_mapping_is_reported(front: str, problem: str) -> None:
    page = parse_page(f"---\n{front}---\n# T\n", URL)
    assert page.front_matter == {}
    assert len(page.problems) == 1
    assert page.problems[0].startswith(problem)
    assert page.title == "T"


def test_front_matter_keeps_scalars_and_reports_nested_values() -> None:
    page = parse_page("---\na: 1\nb: [x, y]\nc: yes\n---\n", URL)
    # BaseLoader keeps every scalar as the text written: "1" and "yes", not 1 and True.
    assert page.front_matter == {"a": "1", "c": "yes"}
    assert page.problems == ["front matter key 'b' is not a plain scalar"]


def test_front_matter_yaml_tags_are_not_executed() -> None:
    page = parse_page('---\na: !!python/object/apply:os.system ["false"]\nb: ok\n---\n', URL)
    assert page.front_matter == {"b": "ok"}
    assert page.problems == ["front matter key 'a' is not a plain scalar"]


def test_front_matter_decodes_yaml_quoting() -> None:
    # YAML semantics, so these values are not verbatim substrings of the page.
    page = parse_page("---\na: \"x\\u00e9\"\nb: 'it''s'\n---\n", URL)
    assert page.front_matter == {"a": "xé", "b": "it's"}


def test_empty_text_gives_an_empty_page() -> None:
    page = parse_page("", URL)
    assert page_record(page) == page_record(Page(URL, {}, None, Section(PREAMBLE), [], [], []))


# --- decode_markdown -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type", "text"),
    [
        (b"# T\n", None, "# T\n"),
        (b"# T\n", "text/markdown; charset=utf-8", "# T\n"),
        (b"# T\n", "text/plain", "# T\n"),
        (b"\xef\xbb\xbf---\ntitle: x\n", None, "---\ntitle: x\n"),
        ("Aider’s — ≤200K\n".encode(), None, "Aider’s — ≤200K\n"),
        (b"# T\r\n- a: b\r\n", None, "# T\r\n- a: b\r\n"),
        (b"# About <html> tags\n", None, "# About <html> tags\n"),  # only the start is sniffed
    ],
    ids=["plain", "markdown-type", "text-plain", "bom", "non-ascii", "crlf", "html-later"],
)
def test_decode_markdown_returns_the_text(body: bytes, content_type: str | None, text: str) -> None:
    assert decode_markdown(body, content_type) == text


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b"", None, "empty body"),
        (b" \n\t\r\n", None, "empty body"),
        (b"\xef\xbb\xbf", None, "empty body"),  # regression: decoded to ""
        (b"\xef\xbb\xbf \n", None, "empty body"),
        (b"# T\n", "text/html", "HTML page"),
        (b"# T\n", "Text/HTML; charset=utf-8", "HTML page"),
        (b"# T\n", "application/xhtml+xml", "HTML page"),
        (b"<!DOCTYPE html>\n<html><body>Log in</body></html>", None, "HTML page"),
        (b"<!doctype HTML><title>Sign in</title>", "text/plain", "HTML page"),
        (b"\n  <html lang='en'><body>Log in</body></html>", None, "HTML page"),
        (b"<head><title>x</title></head>", None, "HTML page"),
        (b"\xef\xbb\xbf<!DOCTYPE html><html></html>", None, "HTML page"),  # regression
        (b"# T\x00\x01", None, "binary body (NUL bytes)"),
        (b"# T \xff\xfe", None, "invalid UTF-8 at byte 4"),
        (b"caf\xc3", None, "invalid UTF-8 at byte 3"),  # truncated multi-byte character
        (b"\xed\xa0\x80", None, "invalid UTF-8 at byte 0"),  # an encoded lone surrogate
    ],
    ids=[
        "empty",
        "whitespace",
        "bom-only",
        "bom-whitespace",
        "html-type",
        "html-type-case",
        "xhtml-type",
        "doctype",
        "doctype-lower",
        "html-tag",
        "head-tag",
        "bom-doctype",
        "nul",
        "invalid-utf8",
        "truncated-utf8",
        "surrogate",
    ],
)
def test_decode_markdown_refuses_with_a_reason(
    body: bytes, content_type: str | None, reason: str
) -> None:
    with pytest.raises(NotMarkdown, match=re.escape(reason)):
        decode_markdown(body, content_type)


def test_not_markdown_is_a_value_error() -> None:
    assert issubclass(NotMarkdown, ValueError)


# --- Properties ------------------------------------------------------------------------------


def flat(text: str) -> str:
    """Whitespace runs as one space, ``\\|`` as ``|``, NUL as U+FFFD and ``>`` as a space:
    the only rewriting the body gets (paragraph lines are joined, lines trimmed, escaped
    pipes in table cells unescaped, NUL replaced as CommonMark requires, a block quote's
    markers left out of the lines they begin)."""
    return " ".join(text.replace("\\|", "|").replace("\x00", "\ufffd").replace(">", " ").split())


def assert_values_come_from(page: Page, text: str, *, front_matter: bool = True) -> None:
    """Every value and label the parser emits stands in the page; it invents nothing."""
    source = flat(text)
    for cell in page.cells():
        if cell.section == "front matter" and not front_matter:
            continue
        for value in (cell.raw, cell.row_label, cell.column):
            assert value is None or flat(value) in source, cell


# Pieces that steer random text into the parser's branches: front matter, tables, bullets.
MARKDOWN_PIECES = st.sampled_from(
    [
        *("\n", "\r\n", "---\n", "---", "# ", "## ", "- ", "* ", ": ", " ", "\t", "key: v\n"),
        *("|", " | ", "\\|", "| --- |", "[a](", "](/x.md)", ")", "![i](", "\ufeff", "—", "$0.8"),
    ]
)
MARKDOWNISH = st.lists(MARKDOWN_PIECES | st.text(st.characters(), max_size=4), max_size=60).map(
    "".join
)


@settings(max_examples=300, deadline=None)
@given(text=st.text(st.characters(), max_size=300) | MARKDOWNISH)
@example(text=">0\r>0")  # a quote's markers are no text
@example(text="[\n]()0")  # a line that begins inside a link
def test_parse_never_raises_and_invents_nothing(text: str) -> None:
    page = parse_page(text, URL)
    # Front matter values are YAML, whose escapes may legitimately decode to new text.
    assert_values_come_from(page, text, front_matter=False)


@settings(max_examples=150, deadline=None)
@given(end=st.integers(0, len(SEED_TEXT)))
def test_any_prefix_of_the_seed_parses_to_values_from_the_page(end: int) -> None:
    text = SEED_TEXT[:end]
    page = parse_page(text, SEED_URL)
    assert_values_come_from(page, text)
    # The front matter is read whole once its closing line is in, and not at all before.
    full = parse_page(SEED_TEXT, SEED_URL).front_matter
    assert page.front_matter in ({}, full)


def block_heading(block: str) -> str:
    return block.split("\n", 1)[0].removeprefix("## ").strip()


@settings(max_examples=60, deadline=None)
@given(order=st.lists(st.integers(1, len(SEED_BLOCKS) - 1), max_size=12))
def test_shuffled_and_repeated_sections_keep_their_content(order: list[int], seed: Page) -> None:
    text = SEED_BLOCKS[0] + "".join(SEED_BLOCKS[i] for i in order)
    page = parse_page(text, SEED_URL)
    headings = [block_heading(SEED_BLOCKS[i]) for i in order]
    assert [s.heading for s in page.sections] == headings
    for section in page.sections:
        assert section_record(section) == section_record(find_section(seed, section.heading))
    repeated = sorted({h for h in headings if headings.count(h) > 1})
    reported = sorted({re.match(r"section '(.*)' appears", p)[1] for p in page.problems})
    assert reported == repeated
    assert_values_come_from(page, text)


CELL_TEXT = st.text(
    st.characters(exclude_characters="|\\", exclude_categories=["Cc", "Cs", "Zl", "Zp"]),
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(
    extra=st.lists(
        st.tuples(CELL_TEXT, st.lists(CELL_TEXT, min_size=5, max_size=5)), min_size=1, max_size=6
    )
)
def test_extra_pricing_columns_are_read_without_disturbing_the_others(
    extra: list[tuple[str, list[str]]], seed: Page
) -> None:
    headers = [header for header, _ in extra]
    columns = [values for _, values in extra]
    lines = SEED_TEXT.split("\n")
    start = lines.index("| Metric | <=200K Context | >200K Context |")
    lines[start] += "".join(f" {h} |" for h in headers)
    lines[start + 1] += " --- |" * len(extra)
    for row in range(5):
        lines[start + 2 + row] += "".join(f" {values[row]} |" for values in columns)
    text = "\n".join(lines)
    page = parse_page(text, SEED_URL)
    (table,) = find_section(page, "Official Pricing").tables
    (original,) = find_section(seed, "Official Pricing").tables
    assert table.header == original.header + [h.strip() for h in headers]
    assert table.rows == [
        original.rows[row] + [values[row].strip() for values in columns] for row in range(5)
    ]
    assert page.problems == []
    assert_values_come_from(page, text)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.integers(100, 800), columns=st.integers(2, 12))
def test_huge_tables_keep_every_row_and_cell(rows: int, columns: int) -> None:
    header = ["Provider"] + [f"Column {c}" for c in range(1, columns)]
    body = [[f"Provider {r}"] + [f"${r}.{c}" for c in range(1, columns)] for r in range(rows)]
    text = "\n".join(
        ["## Provider Availability", "| " + " | ".join(header) + " |", "|---" * columns + "|"]
        + ["| " + " | ".join(cells) + " |" for cells in body]
    )
    page = parse_page(text, URL)
    (table,) = page.sections[0].tables
    assert table.header == header
    assert table.rows == body
    cells = cells_of(page, "Provider Availability")
    assert len(cells) == columns + rows * (columns - 1)
    assert cells[-1] == (rows + 1, f"Provider {rows - 1}", header[-1], f"${rows - 1}.{columns - 1}")
    assert page.problems == []


# --- The front matter fast path reads exactly what YAML reads ------------------------------

_KEYS = st.from_regex(r"[A-Za-z_][A-Za-z0-9_-]{0,15}", fullmatch=True)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_KEYS, st.text(max_size=40), max_size=8), st.sampled_from(["\n", "\r\n"]))
def test_simple_front_matter_agrees_with_yaml(entries: dict[str, str], newline: str) -> None:
    import yaml

    from transforms.pages.parse import simple_front_matter

    text = newline.join(f'{key}: "{value}"' for key, value in entries.items())
    fast = simple_front_matter(text)
    if fast is None:
        return  # left to YAML: nothing to compare
    assert fast == entries
    assert fast == (yaml.load(text, Loader=yaml.BaseLoader) or {})


# Lines that are almost entries: the characters YAML treats specially, and entries with odd
# separators or values. Plain random text rarely lands next to the fast path's edges.
_NEAR_ENTRY_LINES = st.one_of(
    st.text(
        st.sampled_from(list(" \t\r:\"'#ab-_\\\x85\u2028\xa0\ufeff{}[]&*!|>%@`,?")), max_size=12
    ),
    st.builds(
        lambda key, gap, value: f'{key}:{gap}"{value}"',
        _KEYS,
        st.sampled_from(["", " ", "  ", "\t", " \t"]),
        st.text(max_size=12),
    ),
)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(max_size=200),
        st.builds("\n".join, st.lists(_NEAR_ENTRY_LINES, max_size=6)),
    )
)
@example("\t")  # PyYAML rejects a line of only a tab; the fast path once skipped it as blank
@example('title: "a"\n \t')
def test_simple_front_matter_never_reads_what_yaml_reads_differently(text: str) -> None:
    import yaml

    from transforms.pages.parse import simple_front_matter

    fast = simple_front_matter(text)
    if fast is not None:
        assert fast == (yaml.load(text, Loader=yaml.BaseLoader) or {})


# --- CommonMark rules (issue 18) ---------------------------------------------------------------

PRICE_TABLE = "| Metric | <=200K Context |\n| --- | --- |\n| Input Price | $0.8 |\n"


@pytest.mark.parametrize(
    "separator", ["\u2028", "\u2029", "\x85", "\x0c", "\x0b", "\x1c", "\x1d", "\x1e"]
)
def test_only_commonmark_line_endings_end_a_line(separator: str) -> None:
    text = (
        f"## Model Metadata\n- Context window: 1{separator}28K\n"
        f"## Official Pricing\n| Metric | T |\n| --- | --- |\n| Input Price | $1{separator}.6 |\n"
    )
    page = parse_page(text, URL)
    metadata, pricing = page.sections
    # The value stays one value, the separator in it: it reads as no number, never as 1.
    assert metadata.bullets == [("Context window", f"1{separator}28K")]
    assert pricing.tables[0].rows == [["Input Price", f"$1{separator}.6"]]


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_every_commonmark_line_ending_reads_the_same_page(newline: str, seed: Page) -> None:
    page = parse_page(SEED_TEXT.replace("\n", newline), SEED_URL)
    assert page_record(page) == page_record(seed)


@pytest.mark.parametrize(
    ("block", "what"),
    [
        (f"```\n{PRICE_TABLE}```\n", "code block"),
        (f"~~~markdown\n{PRICE_TABLE}~~~\n", "code block"),
        ("\n".join("    " + line for line in PRICE_TABLE.splitlines()) + "\n", "code block"),
        (f"<!--\n{PRICE_TABLE}-->\n", "HTML comment"),
        (f"<div>\n{PRICE_TABLE}</div>\n", "HTML block"),
        ("```\n- Model ID: other\n```\n", "code block"),
    ],
    ids=["fence", "tilde-fence", "indented", "comment", "html", "fenced-bullet"],
)
def test_code_and_html_blocks_are_no_values_and_are_reported(block: str, what: str) -> None:
    page = parse_page(f"## Overview\nText.\n\n{block}\n## Model Metadata\n- Model ID: a\n", URL)
    overview, metadata = page.sections
    assert overview.tables == []
    assert overview.bullets == []
    assert overview.paragraphs == ["Text."]
    assert metadata.bullets == [("Model ID", "a")]
    (problem,) = page.problems
    assert problem.startswith(f"{what} in 'Overview' holds what looks like page values")


def test_code_block_of_plain_text_is_no_problem() -> None:
    page = parse_page("## Overview\n```\nprint(1)\n```\n", URL)
    assert page.sections[0].paragraphs == []
    assert page.problems == []


@pytest.mark.parametrize(
    "heading",
    [
        "## Official Pricing (per 1M tokens) ##",
        "## Official Pricing (per 1M tokens) #####",
        "## Official Pricing (per 1M tokens)\t##  ",
        "   ## Official Pricing (per 1M tokens)",
        "##\tOfficial Pricing (per 1M tokens)",
        "Official Pricing (per 1M tokens)\n---",
    ],
    ids=["closing", "long-closing", "tab-closing", "indented", "tab", "setext"],
)
def test_headings_read_as_commonmark_reads_them(heading: str) -> None:
    page = parse_page(f"# T\n{heading}\n{PRICE_TABLE}", URL)
    (section,) = page.sections
    assert section.heading == PRICING
    assert section.tables[0].rows == [["Input Price", "$0.8"]]


def test_closing_hash_that_is_text_stays() -> None:
    page = parse_page("## C# ##\n## C\\##\n", URL)
    assert [s.heading for s in page.sections] == ["C#", "C\\##"]


@pytest.mark.parametrize(
    ("item", "bullet"),
    [
        ("-\tModel ID: a", ("Model ID", "a")),
        ("*\tModel ID: a", ("Model ID", "a")),
        ("1. Model ID: a", ("Model ID", "a")),
        ("2) Model ID: a", ("Model ID", "a")),
        ("- Model ID:\ta", ("Model ID", "a")),
        ("- **Model ID**: a", ("Model ID", "a")),
        ("- **Model ID:** a", ("Model ID", "a")),
        ("- __Model ID__: a", ("Model ID", "a")),
        ("- *Model ID*: a", ("Model ID", "a")),
        ("- **Model ID**: **a**", ("Model ID", "**a**")),  # the value as written
        ("- **Model** ID: a", ("**Model** ID", "a")),  # not a label in emphasis
        ("- ** Model ID**: a", ("** Model ID**", "a")),  # no emphasis in CommonMark
    ],
)
def test_list_items_read_as_commonmark_reads_them(
    item: str, bullet: tuple[str | None, str]
) -> None:
    assert parse_page(f"## S\n{item}\n", URL).sections[0].bullets == [bullet]


def test_a_list_item_spanning_lines_is_one_value() -> None:
    page = parse_page("## S\n- Context window: 128K\n  or 1M\n- Max output: 8K\n", URL)
    assert page.sections[0].bullets == [("Context window", "128K or 1M"), ("Max output", "8K")]


def test_table_row_with_extra_or_missing_cells_is_kept_whole() -> None:
    text = "## S\n| A | B |\n| --- | --- |\n| x | 1 | 2 |\n| y |\n| z | 3 |\n"
    page = parse_page(text, URL)
    assert cells_of(page, "S")[2:] == [
        (2, None, None, "| x | 1 | 2 |"),
        (3, None, None, "| y |"),
        (4, "z", "B", "3"),
    ]
    assert len(page.problems) == 2


def test_table_in_a_block_quote_is_read_with_its_rows_counted() -> None:
    page = parse_page("## S\n> | A | B |\n> | --- | --- |\n> | x | 1 |\n", URL)
    assert page.sections[0].tables[0].rows == [["x", "1"]]
    assert page.problems == []


def test_nesting_too_deep_is_reported() -> None:
    page = parse_page("## S\n" + "> " * 80 + "- Model ID: a\n", URL)
    assert page.sections[0].bullets == []
    assert any("nested more than" in problem for problem in page.problems)


@pytest.mark.parametrize("newline", ["\r", "\r\n"])
def test_front_matter_lines_end_as_the_body_lines_do(newline: str) -> None:
    text = newline.join(["---", 'content_type: "model-detail-page"', "---", "# T", ""])
    page = parse_page(text, URL)
    assert page.front_matter == {"content_type": "model-detail-page"}
    assert page.title == "T"


@pytest.mark.parametrize("separator", ["\u2028", "\x85", "\x0c"])
def test_front_matter_is_not_closed_by_another_separator(separator: str) -> None:
    page = parse_page(f"---\na: b\n---{separator}\n# T\n", URL)
    assert page.front_matter == {}
    assert page.problems == ["front matter is not closed by a '---' line"]


# --- Against an independent CommonMark reader (cmark-gfm) ---------------------------------------

# Words without inline Markdown (emphasis, code, links, entities, escapes, HTML): there the
# text as written and the text cmark-gfm renders are one.
_WORD = st.text(st.sampled_from("abcxyz019$.—-,/:"), min_size=1, max_size=6)


def _row(cells: list[str], lead: str, trail: str) -> str:
    return lead + " | ".join(cells) + trail


_EDGES = st.tuples(st.sampled_from(["| ", ""]), st.sampled_from([" |", ""]))
# A table as one piece: header, delimiter row, rows of any width.
_TABLE = st.builds(
    lambda n, rows, edges, quote, align: "\n".join(
        quote + line
        for line in [
            _row([f"h{i}" for i in range(n)], *edges),
            _row([align] * n, "| ", " |"),
            *(_row(row, *edges) for row in rows),
        ]
    ),
    st.integers(2, 4),
    st.lists(st.lists(_WORD, min_size=1, max_size=5), max_size=4),
    _EDGES,
    st.sampled_from(["", "", "> ", "  "]),
    st.sampled_from(["---", ":---", "---:", ":-:"]),
)
_LINE = st.one_of(
    st.builds(lambda n, w: "#" * n + " " + w, st.integers(1, 7), _WORD),
    st.builds(lambda w, c: f"## {w} {c}", _WORD, st.sampled_from(["#", "##", "\t##", "#x"])),
    st.builds(lambda w: f"{w}", _WORD),
    st.builds(
        lambda m, w: f"{m}{w}: {w}", st.sampled_from(["- ", "-\t", "* ", "1. ", "2) "]), _WORD
    ),
    st.builds(
        lambda cells, edges: _row(cells, *edges), st.lists(_WORD, min_size=1, max_size=4), _EDGES
    ),
    _TABLE,
    st.sampled_from(["", "", "```", "~~~", "    | a | b |", "<!--", "-->", "<div>", "</div>"]),
    st.sampled_from(["---", "===", "> quote", "  - nested: x", "\t| a |"]),
    # Blocks that end a table but cannot interrupt a paragraph, and a delimiter-like item.
    st.sampled_from(["- | - |", "2) x", "-", "> | a | b |", "  | a | b |", "| - |"]),
)
_BODY = st.tuples(st.lists(_LINE, max_size=25), st.sampled_from(["\n", "\r\n", "\r"])).map(
    lambda parts: parts[1].join(parts[0]) + parts[1]
)


_BODY_AFTER_FRONT_MATTER = re.compile(r"\A\ufeff?---\r?\n.*?\n---\r?\n", re.DOTALL)


def _tables(tables: list) -> list[tuple[list[str], list[list[str]]]]:
    """Every table, each with its rows that fit the header."""
    return [(header, [row for row in rows if len(row) == len(header)]) for header, rows in tables]


@settings(max_examples=400, deadline=None)
@given(body=_BODY)
@example(body="## A ##\n| a | b |\n|---|---|\n| 1 | 2 |\n| 3 |\n")
@example(body="## A\n```\n| a | b |\n|---|---|\n```\n| c | d |\n| --- | --- |\n| 1 | 2 |\n")
@example(body="## A\r| a | b |\r|---|---|\r1 | 2\r")
# Where pulldown-cmark, whose events the parser reads, reads otherwise than cmark-gfm:
@example(body="0\nh0 | h1 |\n| --- | --- |\n")  # a table under a line, no pipe in front
@example(body="0\nh0 | h1 |\n| --- | --- |\n- | - |\n")  # its delimiter row led by a pipe
@example(body="    | a | b |\r# 0\r")  # a code block ends at a lone \r
@example(body="## A\t##\n| a | b |\n|---|---|\n")  # closing '#'s after a tab
@example(body="####### 0\nh0 | h1\n| --- | --- |\n-\n")  # a table in an underlined heading
@example(body="####### 0\nh0 | h1 |\n| --- | --- |\n===\n| 0 | 0 |\n")  # '='s: a row
@example(body="-\t0: 0\n  | h0 | h1 |\n  | --- | --- |\n")  # lazy lines (the tab's columns)
@example(body="> quote\n> h0 | h1 |\n> | --- | --- |\n| h0 | h1 |\n| --- | --- |\n")
@example(body="> quote\n> h0 | h1 |\n> | --- | --- |\n0\n2) 0: 0\n| h0 | h1 |\n| --- | --- |\n")
@example(body="| h0 | h1 |\n| --- | --- |\n    | a | b |\n0\n---\n")  # an indented row
@example(body="####### 0\nh0 | h1 |\n| --- | --- |\n2) 0: 0\n| 0 | 0 |\n")  # a list
@example(body="-\n    | a | b |\n  h0 | h1 |\n  | --- | --- |\n")  # an item's content column
@example(body="> quote\n<span>\n# 0\n")  # a lazy line that starts an HTML block
@example(body="h0 | h1 |\n- | - |\n")  # a delimiter row that is a list item
@example(body="| a | b |\n2) x\n| --- | --- |\n| 1 | 2 |\n\n---\n")  # a failed try, a rule
def test_headings_and_tables_are_those_cmark_gfm_reads(body: str) -> None:
    """Our parser and GitHub's CommonMark reader agree on the page's headings and on every
    table row that fits its header (rows that do not are refused by ours, not read)."""
    from tests.support.commonmark import read

    page = parse_page(body, URL)
    theirs = read(body)
    ours_headings = ([page.title] if page.title is not None else []) + [
        section.heading for section in page.sections
    ]
    assert ours_headings == [heading for heading, _, _ in theirs.found]
    ours = [(t.header, t.rows) for s in (page.preamble, *page.sections) for t in s.tables]
    assert _tables(ours) == _tables(theirs.tables)


class PanicException(BaseException):
    """What pyo3 raises when the Rust parser panics (its own class is not importable)."""


def test_a_panic_of_the_markdown_parser_is_a_problem_of_the_page(monkeypatch) -> None:
    """pulldown-cmark has panicked on odd inputs in past versions: such a page is reported
    and read no further, and nothing read before the panic is kept."""

    def panicking(text: str, options: object) -> Iterator[tuple[object, dict[str, int]]]:
        yield {"Start": {"Heading": {"level": "H2"}}}, {"start": 0, "end": 5}
        yield {"Text": "S"}, {"start": 3, "end": 4}
        yield {"End": {"Heading": "H2"}}, {"start": 0, "end": 5}
        raise PanicException("index out of bounds")

    monkeypatch.setattr(parse.pyromark, "events_with_range", panicking)
    page = parse_page('---\nmodel_id: "m"\n---\n## S\n- a: 1\n', URL)
    assert page.front_matter == {"model_id": "m"}
    assert page.sections == []
    assert page.problems == [
        "the Markdown parser failed on the page (index out of bounds); its body is not read"
    ]


def test_other_base_exceptions_pass_through_the_parser(monkeypatch) -> None:
    def interrupted(text: str, options: object) -> Iterator[tuple[object, dict[str, int]]]:
        raise KeyboardInterrupt
        yield

    monkeypatch.setattr(parse.pyromark, "events_with_range", interrupted)
    with pytest.raises(KeyboardInterrupt):
        parse_page("## S\n", URL)


# The saved pages' bodies (front matter off: cmark-gfm would read it as Markdown).
_SAVED_BODIES = sorted(
    {_BODY_AFTER_FRONT_MATTER.sub("", read_page(path)) for path in PAGES.glob("*.md")}
)


@settings(max_examples=200, deadline=None)
@given(
    body=st.sampled_from(_SAVED_BODIES),
    spliced=st.lists(st.tuples(st.integers(0, 10**6), _LINE), max_size=6),
)
def test_real_pages_with_lines_spliced_in_read_as_cmark_gfm_reads_them(
    body: str, spliced: list[tuple[int, str]]
) -> None:
    """Real pages with the lines above put anywhere in them: our headings and tables are
    cmark-gfm's."""
    from tests.support.commonmark import read

    lines = body.split("\n")
    for at, line in spliced:
        lines.insert(at % (len(lines) + 1), line)
    body = "\n".join(lines)
    page = parse_page(body, URL)
    theirs = read(body)
    ours_headings = ([page.title] if page.title is not None else []) + [
        section.heading for section in page.sections
    ]
    # Ours are as written; cmark-gfm renders a backslash escape (the pages write ``\|``).
    ours_headings = [_ESCAPED.sub(r"\1", heading) for heading in ours_headings]
    assert ours_headings == [heading for heading, _, _ in theirs.found]
    ours = [(t.header, t.rows) for s in (page.preamble, *page.sections) for t in s.tables]
    assert _tables(ours) == _tables(theirs.tables)


_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")


def test_a_table_ended_by_a_lazy_line_is_read_as_gfm_reads_it() -> None:
    """GFM ends a table in a quote at a line without '>' (pulldown-cmark reads that line on,
    in the quote's paragraph): the table, then the line as a paragraph outside."""
    page = parse_page("## S\n> Note\n> h | v\n> --- | ---\n> x | 1\nlazy | 2\n", URL)
    (table,) = page.sections[0].tables
    assert (table.header, table.rows) == (["h", "v"], [["x", "1"]])
    assert page.sections[0].paragraphs == ["Note", "lazy | 2"]


def test_tables_that_part_from_pulldown_cmark_too_often_stop_the_reading() -> None:
    """Each parting reads the rest of the page again; past a bound the rest is reported,
    not read, so a hostile page costs a bounded number of readings."""
    block = "> p\n> h | h\n> --- | ---\nlazy\n\n"
    page = parse_page("## S\n" + block * 40, URL)
    assert len(page.sections[0].tables) == 17
    assert page.problems == [
        "tables in 'S' end too often where pulldown-cmark reads on; what follows is not read"
    ]
    assert parse_page("## S\n" + block * 10, URL).problems == []


def test_a_quote_line_over_a_delimiter_row_is_a_quote_not_a_table() -> None:
    page = parse_page("## S\n> | Input Price | $9.9 |\n|---|---|\n", URL)
    assert page.sections[0].tables == []


def test_a_pipe_row_underlined_by_dashes_is_a_heading() -> None:
    page = parse_page("## S\n| Official Pricing |\n---\n", URL)
    assert [s.heading for s in page.sections] == ["S", "| Official Pricing |"]


def test_a_header_without_pipes_opens_a_one_column_table_as_in_gfm() -> None:
    """GFM: ``Note`` over ``|---|`` is a one-column table, and the rows under it are its
    rows (cut to one cell), not a table of their own: nothing there is a price."""
    text = f"## Official Pricing (per 1M tokens)\nNote\n|---|\n{PRICE_TABLE}"
    page = parse_page(text, URL)
    (table,) = page.sections[0].tables
    assert table.header == ["Note"]
    assert [c for c in page.cells() if c.row_label == "Input Price"] == []
    assert len(page.problems) == 3  # three rows wider than the table, kept whole


# --- Pages that may be model pages (issue 18 item 2) -------------------------------------------


@pytest.mark.parametrize(
    ("text", "doubt"),
    [
        ('---\ncontent_type: "model-detail-page"\n---\n', None),
        ('---\ncontent_type: "provider-page"\n---\n', None),
        ("# PipeLLM\n- [a](/a.md)\n", None),  # an index: no front matter, no content type
        ('---\ncontent_type: "model\u2011detail\u2011page"\n---\n', "is not written"),
        ('---\ncontent_type: "model-detail\u200b-page"\n---\n', "is not written"),
        ('---\ncontent_type: "\u202emodel-detail-page"\n---\n', "is not written"),
        ('---\ncontent_type: "MODEL_DETAIL_PAGE"\n---\n', "is not written"),
        ('---\ncontent_type: "ｍｏｄｅｌ-detail-page"\n---\n', "is not written"),
        ('---\ncontent_type: "model – detail – page"\n---\n', "is not written"),
        ('---\ntitle: "X"\n---\n# X\n', "the front matter has no content_type"),
        ("# X\nContent type: model-detail-page\n", "no front matter, but the page says"),
        ("# X\rContent-Type:  Model-Detail-Page\r", "no front matter, but the page says"),
        ("---\ncontent_type: [model-detail-page]\n---\n", "could not be read"),
    ],
)
def test_a_page_that_may_be_a_model_page_is_in_doubt(text: str, doubt: str | None) -> None:
    from transforms.pages.parse import peek_page

    found = peek_page(text, URL).doubt
    if doubt is None:
        assert found is None
    else:
        assert found is not None
        assert doubt in found
