"""Page text -> structured record. Pure: no network, no Scrapy, no interpretation of values.

A mirror page is YAML front matter followed by markdown: an H1 title, a preamble of
``Key: value`` lines, then ``## Section`` blocks holding bullets, pipe tables and paragraphs.
The parser keeps every value exactly as written; turning ``128K`` into 128000 is the job of
``transforms.build.normalize``. Anything it cannot make sense of is reported in ``Page.problems``
rather than raised, so one odd page never stops a crawl.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple
from urllib.parse import urldefrag, urljoin

import yaml

MODEL_CONTENT_TYPE = "model-detail-page"
PREAMBLE = "preamble"

# libyaml's C loader is ~8x faster; BaseLoader builds no Python objects and keeps every
# scalar as the string written, which is both the safe choice and the raw text we want.
_YAML_LOADER = getattr(yaml, "CBaseLoader", yaml.BaseLoader)

# ``[text](target "title")``. The text holds no brackets and the target no parentheses, so
# every scan stops at the next one: linear in the page (nested brackets made it quadratic).
_LINK = re.compile(r'(?<!!)\[[^\[\]]*\]\(\s*<?([^()\s<>]+)>?(?:\s+"[^"\n]*")?\s*\)')
# A value of characters YAML prints as themselves: no quote, backslash or line break.
_SIMPLE_ENTRY = re.compile(
    r"^([A-Za-z_][A-Za-z0-9_-]*):[ ]+"
    r'"([\x20\x21\x23-\x5b\x5d-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]*)"'
    r"[ ]*$"
)
_TABLE_SEPARATOR = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_HTML_START = re.compile(rb"^\s*<(!doctype\s+html|html|head|body)\b", re.IGNORECASE)
# An ATX heading is 1-6 '#' then a space or the line's end; "#1 on evals" is paragraph text.
_HEADING = re.compile(r"#{1,6}(?=[ \t]|$)")
_UTF8_BOM = b"\xef\xbb\xbf"


class NotMarkdown(ValueError):
    """The response body is not a markdown page; the message is the quarantine reason."""


def unreadable(error: BaseException) -> str:
    """The quarantine reason of a page whose handling raised: a page is never lost."""
    return f"page could not be read: {type(error).__name__}: {str(error)[:200]}"


@dataclass(frozen=True, slots=True)
class Cell:
    """One value as the page wrote it, with where it stood."""

    section: str  # "front matter", "title", PREAMBLE, or a "## heading" as written
    row: int  # 1-based position within the section
    row_label: str | None  # bullet label, or a table row's first cell
    column: str | None  # table column header; None for bullets and paragraphs
    raw: str


@dataclass(slots=True)
class Table:
    header: list[str]
    rows: list[list[str]]
    lines: list[str] = field(default_factory=list)  # each row's line as written


@dataclass(slots=True)
class Section:
    heading: str
    bullets: list[tuple[str | None, str]] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    paragraphs: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Page:
    url: str
    front_matter: dict[str, str]
    title: str | None
    preamble: Section  # what stands between the title and the first "##" heading
    sections: list[Section]
    links: list[str]
    problems: list[str]

    @property
    def content_type(self) -> str | None:
        return self.front_matter.get("content_type")

    def cells(self) -> Iterator[Cell]:
        """Every value on the page as flat cells: front matter, title, then each section's
        bullets, table rows and paragraphs, sections in page order."""
        for row, (key, raw) in enumerate(self.front_matter.items(), 1):
            yield Cell("front matter", row, key, None, raw)
        if self.title is not None:
            yield Cell("title", 1, None, None, self.title)
        for section in (self.preamble, *self.sections):
            row = 0
            for label, raw in section.bullets:
                row += 1
                yield Cell(section.heading, row, label, None, raw)
            for table in section.tables:
                # The header is a row of its own: each cell under itself, with no row label.
                row += 1
                for column in table.header:
                    yield Cell(section.heading, row, None, column, column)
                for cells, line in zip(table.rows, table.lines, strict=True):
                    row += 1
                    if len(cells) != len(table.header):
                        # Mapped by position it would shift values into the wrong columns:
                        # kept whole, with neither a column nor a row label.
                        yield Cell(section.heading, row, None, None, line)
                        continue
                    for column, raw in zip(table.header[1:], cells[1:], strict=True):
                        yield Cell(section.heading, row, cells[0], column, raw)
            for paragraph in section.paragraphs:
                row += 1
                yield Cell(section.heading, row, None, None, paragraph)


def decode_markdown(body: bytes, content_type_header: str | None = None) -> str:
    """Decode a response body that should be a markdown page, or raise ``NotMarkdown``."""
    # Drop the BOM first: it would hide an HTML start and make a blank body look non-empty.
    body = body.removeprefix(_UTF8_BOM)
    if not body.strip():
        raise NotMarkdown("empty body")
    declared = (content_type_header or "").split(";")[0].strip().lower()
    if declared in {"text/html", "application/xhtml+xml"} or _HTML_START.match(body[:512]):
        raise NotMarkdown("HTML page, not markdown (login wall or error page?)")
    if b"\x00" in body:
        raise NotMarkdown("binary body (NUL bytes)")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise NotMarkdown(f"invalid UTF-8 at byte {error.start}") from None


class Peek(NamedTuple):
    content_type: str | None
    links: list[str]
    doubt: str | None  # why a page that is not a model page may be one; None if it is not


def peek_page(text: str, url: str) -> Peek:
    """What the crawl needs before a page is parsed: its content type, its links, and
    whether a page that does not say it is a model page might be one.

    The same front matter and link reading as ``parse_page``, at a fraction of the cost, so
    the crawling process can leave the full parse to the one staging the run.
    """
    front_matter, body, problems = _split_front_matter(text)
    content_type = front_matter.get("content_type")
    return Peek(content_type, _links(body, url)[0], _doubt(content_type, problems))


def _doubt(content_type: str | None, front_problems: list[str]) -> str | None:
    """A model page must say so exactly; one that may have meant to is no page to skip."""
    if content_type is None and front_problems:
        return f"the front matter could not be read ({front_problems[0]})"
    if content_type is None or content_type == MODEL_CONTENT_TYPE:
        return None
    if "-".join(content_type.replace("_", "-").split()).casefold() == MODEL_CONTENT_TYPE:
        return f"content_type {content_type!r} is not written {MODEL_CONTENT_TYPE!r}"
    return None


def parse_page(text: str, url: str) -> Page:
    """Parse one mirror page. Never raises on malformed input; reports it in ``problems``."""
    front_matter, body, problems = _split_front_matter(text)
    links, link_problems = _links(body, url)
    problems += link_problems
    page = Page(url, front_matter, None, Section(PREAMBLE), [], links, problems)

    section = page.preamble
    table_lines: list[str] = []
    paragraph: list[str] = []

    def flush() -> None:
        if table_lines:
            problems.extend(_add_table(section, table_lines))
            table_lines.clear()
        if paragraph:
            section.paragraphs.append(" ".join(paragraph))
            paragraph.clear()

    seen_headings: set[str] = set()
    for raw_line in body.splitlines():
        line = raw_line.strip()
        if line.startswith("|"):
            if paragraph:
                flush()
            table_lines.append(line)
            continue
        if table_lines:
            flush()
        if not line:
            flush()
        elif marker := _HEADING.match(line):
            flush()
            level = marker.end()
            heading = line[level:].strip()
            if level == 1 and page.title is None and not page.sections:
                page.title = heading
                continue
            if heading.casefold() in seen_headings:
                problems.append(f"section {heading!r} appears more than once")
            seen_headings.add(heading.casefold())
            section = Section(heading)
            page.sections.append(section)
        elif line[:2] in {"- ", "* ", "+ "}:
            flush()
            section.bullets.append(_bullet(line[2:].strip()))
        elif section is page.preamble and ": " in line:
            flush()
            section.bullets.append(_bullet(line))
        else:
            paragraph.append(line)
    flush()
    return page


def _bullet(item: str) -> tuple[str | None, str]:
    """``Label: value`` -> (label, value); anything else is an unlabelled bullet."""
    label, sep, value = item.partition(": ")
    if sep and label.strip():
        return label.strip(), value.strip()
    if item.endswith(":") and len(item) > 1:
        return item[:-1].strip(), ""
    return None, item


def _split_front_matter(text: str) -> tuple[dict[str, str], str, list[str]]:
    """The front matter, the body after it, and what could not be read of the front matter."""
    text = text.removeprefix("\ufeff")
    lines = text.split("\n", 1)
    if lines[0].strip() != "---" or len(lines) == 1:
        return {}, text, []
    rest = lines[1]
    match = re.search(r"^---[ \t]*\r?$", rest, re.MULTILINE)
    if match is None:
        return {}, text, ["front matter is not closed by a '---' line"]
    yaml_text, body = rest[: match.start()], rest[match.end() :]
    simple = simple_front_matter(yaml_text)
    if simple is not None:
        return simple, body, []
    try:
        loaded = yaml.load(yaml_text, Loader=_YAML_LOADER)
    # A str with lone surrogates cannot be encoded for libyaml; it is no YAML either.
    except (yaml.YAMLError, UnicodeEncodeError) as error:
        return {}, body, [f"front matter is not valid YAML: {str(error).splitlines()[0]}"]
    except RecursionError:  # PyYAML builds nested values recursively
        return {}, body, ["front matter is nested too deeply to read"]
    if loaded is None:
        return {}, body, []
    if not isinstance(loaded, dict):
        return {}, body, ["front matter is not a mapping"]
    front_matter: dict[str, str] = {}
    problems = []
    for key, value in loaded.items():
        if isinstance(key, str) and isinstance(value, str):
            front_matter[key] = value
        else:
            problems.append(f"front matter key {key!r} is not a plain scalar")
    return front_matter, body, problems


def simple_front_matter(yaml_text: str) -> dict[str, str] | None:
    """Front matter of only ``key: "text"`` lines, read without a YAML parser; else None.

    That is how the site writes it, and PyYAML (its constructor is Python even over libyaml)
    cost more than the rest of the page. A quoted value without backslashes, quotes or
    control characters means the same to YAML; anything else is left to YAML.
    """
    entries: dict[str, str] = {}
    for line in yaml_text.split("\n"):
        line = line.removesuffix("\r")
        if not line.strip(" "):  # only spaces: PyYAML rejects a line holding a tab
            continue
        match = _SIMPLE_ENTRY.match(line)
        if match is None or match[1] in entries:
            return None
        entries[match[1]] = match[2]
    return entries


def _split_row(line: str) -> list[str]:
    inner = line.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") and not inner.endswith("\\|") else inner
    cells = re.split(r"(?<!\\)\|", inner)
    return [cell.strip().replace("\\|", "|") for cell in cells]


def _add_table(section: Section, lines: list[str]) -> list[str]:
    """Add the table these lines write to ``section``; returns what could not be read."""
    if len(lines) < 2 or not _TABLE_SEPARATOR.match(lines[1]):
        return [f"table in {section.heading!r} has no header separator row"]
    header = _split_row(lines[0])
    table = Table(header, [])
    problems = []
    for line in lines[2:]:
        cells = _split_row(line)
        if len(cells) != len(header):
            problems.append(
                f"table row in {section.heading!r} has {len(cells)} cells, header has "
                f"{len(header)}; its values are not read: {line[:80]!r}"
            )
        table.rows.append(cells)
        table.lines.append(line)
    section.tables.append(table)
    return problems


def _links(body: str, base_url: str) -> tuple[list[str], list[str]]:
    """The page's link targets, absolute, each once; and the targets that are no URL."""
    links: list[str] = []
    problems: list[str] = []
    seen: set[str] = set()
    for match in _LINK.finditer(body):
        try:
            target = urldefrag(urljoin(base_url, match.group(1)))[0]
        except ValueError:  # e.g. "http://[::1" - urllib rejects a malformed IPv6 host
            problems.append(f"link target {match.group(1)[:80]!r} is not a valid URL")
            continue
        if target not in seen:
            seen.add(target)
            links.append(target)
    return links, problems
