"""Page text -> structured record. Pure: no network, no Scrapy, no interpretation of values.

A mirror page is YAML front matter followed by Markdown: an H1 title, a preamble of
``Key: value`` lines, then ``## Section`` blocks holding bullets, pipe tables and paragraphs.
The body is read as CommonMark with GFM tables (markdown-it-py), so a line ends where
CommonMark ends one (``\n``, ``\r\n``, ``\r``; never at U+2028 or a form feed), code and
HTML blocks are no values, and headings, lists and tables are what CommonMark makes of
them. The parser keeps every value exactly as written (a cell's or bullet's source text);
turning ``128K`` into 128000 is the job of ``transforms.build.normalize``. Anything it cannot
make sense of is reported in ``Page.problems`` rather than raised, so one odd page never
stops a crawl.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple
from urllib.parse import urldefrag, urljoin

import yaml
from markdown_it import MarkdownIt
from markdown_it.rules_block.state_block import StateBlock
from markdown_it.rules_block.table import table as markdown_it_table
from markdown_it.token import Token

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
_HTML_START = re.compile(rb"^\s*<(!doctype\s+html|html|head|body)\b", re.IGNORECASE)
# CommonMark's line endings, and only those (``str.splitlines`` breaks on U+2028, FF, ...).
_LINE_END = re.compile(r"\r\n|\r|\n")
# Blocks hold lists in quotes in lists...; deeper than this CommonMark readers stop reading.
_MAX_NESTING = 50
# The block structure only: values are kept as written, so inline Markdown is not parsed
# (but for a label in emphasis, below). About half the cost of a full parse.
_BLOCKS = MarkdownIt("commonmark", {"maxNesting": _MAX_NESTING}).disable("inline")


def _gfm_table(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """markdown-it's table rule, read as cmark-gfm reads tables: a "delimiter row" of dashes
    alone underlines a heading (``| a |`` over ``---``), and a header line without a pipe
    over a one-column delimiter row (``Note`` over ``|---|``) opens a one-column table,
    which markdown-it would not open (its rows would then be read as a table of their own)."""
    line = start + 1
    if line >= end:
        return False
    delimiter = _line(state, line)
    if _SETEXT_DASHES.fullmatch(delimiter):
        return False
    header = _line(state, start)
    if "|" in header or not _ONE_COLUMN.fullmatch(delimiter) or state.is_code_block(start):
        return markdown_it_table(state, start, end, silent)
    if state.is_code_block(line) or state.sCount[line] < state.blkIndent:
        return False
    if silent:
        return True
    rows = [start]
    line += 1
    terminators = state.md.block.ruler.getRules("blockquote")
    while line < end and state.sCount[line] >= state.blkIndent and _line(state, line):
        if state.is_code_block(line) or any(rule(state, line, end, True) for rule in terminators):
            break
        rows.append(line)
        line += 1
    state.push("table_open", "table", 1).map = [start, line]
    for i, row in enumerate(rows):
        state.push("tr_open", "tr", 1).map = [row, row + 1]
        state.push("td_open", "td", 1)
        # The first cell, as GFM keeps it: the cells after it are dropped from the table.
        cell = state.push("inline", "", 0)
        cell.content = header.strip() if i == 0 else _split_row(_line(state, row))[0]
        cell.map = [row, row + 1]
        cell.children = []
        state.push("td_close", "td", -1)
        state.push("tr_close", "tr", -1)
    state.push("table_close", "table", -1)
    state.line = line
    return True


def _line(state: StateBlock, line: int) -> str:
    return state.src[state.bMarks[line] + state.tShift[line] : state.eMarks[line]]


_SETEXT_DASHES = re.compile(r"-+[ \t]*")
_ONE_COLUMN = re.compile(r"(?:\|[ \t]*:?-+:?[ \t]*\|?|:?-+:?[ \t]*\||:-+:?|-+:)[ \t]*")
# GFM opens a table only where a paragraph could stand (its header row is a paragraph's
# line); markdown-it's own rule comes before every block ("> | a | b |" over a delimiter
# row would be a table, not a quote). Ours: after headings, before underlined headings.
_BLOCKS.block.ruler.after("heading", "gfm_table", _gfm_table, {"alt": ["paragraph", "reference"]})
_INLINE = MarkdownIt("commonmark")
_NOT_DATA = {"fence": "code block", "code_block": "code block", "html_block": "HTML block"}
# A line of a code or HTML block that would be a value outside it: a table row, a bullet,
# a heading or a "Label: value" line.
_LOOKS_LIKE_DATA = re.compile(r"\s*(?:\||[-*+][ \t]|[0-9]{1,9}[.)][ \t]|#{1,6}[ \t]|[^:]+:[ \t])")
# A "Content type: ..." line of the page's preamble (the site writes one under the title).
_BODY_CONTENT_TYPE = re.compile(r"(?:^|[\r\n])[ \t]*content[ _-]?type[ \t]*:[ \t]*([^\r\n]*)", re.I)
_LABEL = re.compile(r"(.*?):[ \t]+(.*)", re.DOTALL)
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
    doubt = _doubt(content_type, front_matter, problems, body)
    return Peek(content_type, _links(body, url)[0], doubt)


def _doubt(
    content_type: str | None, front_matter: dict[str, str], problems: list[str], body: str
) -> str | None:
    """A model page must say so exactly; one that may have meant to is no page to skip."""
    if content_type is None and problems:
        return f"the front matter could not be read ({problems[0]})"
    if content_type is None and front_matter:
        return "the front matter has no content_type"
    if content_type is None:
        said = _BODY_CONTENT_TYPE.search(body)
        if said and lookalike(said[1]) == MODEL_CONTENT_TYPE:
            return f"no front matter, but the page says {said[0].strip()!r}"
        return None
    if content_type != MODEL_CONTENT_TYPE and lookalike(content_type) == MODEL_CONTENT_TYPE:
        return f"content_type {content_type!r} is not written {MODEL_CONTENT_TYPE!r}"
    return None


def lookalike(text: str) -> str:
    """The text as a reader would see it: compatibility forms folded (NFKC), invisible
    characters (zero-width, bidi controls, soft hyphens) dropped, case folded, and every
    dash, underscore or run of spaces written ``-``. Two texts with the same look-alike
    may be taken for one another."""
    dashed = []
    for char in unicodedata.normalize("NFKC", text).casefold():
        category = unicodedata.category(char)
        if category == "Cf":
            continue
        dashed.append("-" if category == "Pd" or char in "_\u2212" or char.isspace() else char)
    return re.sub("-+", "-", "".join(dashed)).strip("-")


def parse_page(text: str, url: str) -> Page:
    """Parse one mirror page. Never raises on malformed input; reports it in ``problems``."""
    front_matter, body, problems = _split_front_matter(text)
    links, link_problems = _links(body, url)
    problems += link_problems
    page = Page(url, front_matter, None, Section(PREAMBLE), [], links, problems)
    _Reader(page, body).read(_BLOCKS.parse(body))
    return page


class _Reader:
    """Maps markdown-it's block tokens to the page's sections, bullets, tables and
    paragraphs, keeping each value's text as written."""

    def __init__(self, page: Page, body: str) -> None:
        self.page = page
        self.problems = page.problems
        self.section = page.preamble
        self.seen_headings: set[str] = set()
        # markdown-it counts lines as CommonMark does: only \n, \r\n and \r end one.
        self.lines = _LINE_END.split(body)
        self.items: list[bool] = []  # open list items: whether each has its bullet yet
        self.quotes = 0  # open block quotes: their rows' lines start with '>'

    def read(self, tokens: list[Token]) -> None:
        i = 0
        while i < len(tokens):
            token = tokens[i]
            kind = token.type
            if kind == "heading_open":
                lines = tokens[i + 1].content.split("\n")  # an underlined heading's lines
                self.heading(int(token.tag[1]), " ".join(line.strip() for line in lines))
                i += 3
                continue
            if kind == "table_open":
                i = self.table(tokens, i)
                continue
            if kind == "list_item_open":
                self.items.append(False)
            elif kind == "list_item_close":
                self.items.pop()
            elif kind == "blockquote_open":
                self.quotes += 1
            elif kind == "blockquote_close":
                self.quotes -= 1
            elif kind == "inline":  # a paragraph's: headings and cells are read above
                self.paragraph(token.content)
            elif kind in _NOT_DATA:
                self.not_data(_NOT_DATA[kind], token.content)
            if token.nesting == 1 and token.level >= _MAX_NESTING - 1:
                self.problems.append(
                    f"blocks in {self.section.heading!r} are nested more than {_MAX_NESTING}"
                    " deep; what they hold is not read"
                )
            i += 1

    def heading(self, level: int, heading: str) -> None:
        page = self.page
        if level == 1 and page.title is None and not page.sections:
            page.title = heading
            return
        if heading.casefold() in self.seen_headings:
            self.problems.append(f"section {heading!r} appears more than once")
        self.seen_headings.add(heading.casefold())
        self.section = Section(heading)
        page.sections.append(self.section)

    def paragraph(self, content: str) -> None:
        lines = [line.strip() for line in content.split("\n")]
        if self.items:
            text = " ".join(lines)
            # An item's first paragraph is its bullet; any other paragraph stands apart.
            self.section.bullets.append(_bullet(text) if not self.items[-1] else (None, text))
            self.items[-1] = True
            return
        text_lines: list[str] = []
        table_like = False
        for line in [*lines, ""]:
            if line.startswith("|"):
                table_like = True
                line = ""  # not read: it ends the text around it
            elif self.section is self.page.preamble and ": " in line:
                self.section.bullets.append(_bullet(line))
                line = ""
            if line:
                text_lines.append(line)
            elif text_lines:
                self.section.paragraphs.append(" ".join(text_lines))
                text_lines = []
        if table_like:
            self.problems.append(f"table in {self.section.heading!r} has no header separator row")

    def table(self, tokens: list[Token], i: int) -> int:
        """Read the table opening at ``tokens[i]``; returns the index after it."""
        header: list[str] = []
        table: Table | None = None
        row: list[str] = []
        row_line = ""
        while tokens[i].type != "table_close":
            token = tokens[i]
            if token.type == "tr_open":
                row = []
                row_line = self.row_line(token)
            elif token.type == "inline":
                row.append(token.content.strip())
            elif token.type == "tr_close":
                if table is None:
                    header = row
                    table = Table(header, [])
                else:
                    self.row(table, row, row_line)
            i += 1
        if table is not None:
            self.section.tables.append(table)
        return i + 1

    def row_line(self, token: Token) -> str:
        line = self.lines[token.map[0]] if token.map else ""
        if self.quotes:
            line = line.lstrip(" >")
        return line.strip()

    def row(self, table: Table, cells: list[str], line: str) -> None:
        # GFM pads a short row and drops a long row's extra cells; either would map values
        # by position into columns they do not belong to, so the row is kept as written.
        written = _split_row(line)
        if len(written) != len(table.header):
            self.problems.append(
                f"table row in {self.section.heading!r} has {len(written)} cells, header has "
                f"{len(table.header)}; its values are not read: {line[:80]!r}"
            )
            cells = written
        table.rows.append(cells)
        table.lines.append(line)

    def not_data(self, what: str, content: str) -> None:
        """Code and HTML blocks are no values; one that holds what would be is reported."""
        if what == "HTML block" and content.lstrip().startswith("<!--"):
            what = "HTML comment"
        for line in content.split("\n"):
            if _LOOKS_LIKE_DATA.match(line):
                self.problems.append(
                    f"{what} in {self.section.heading!r} holds what looks like page values;"
                    f" not read: {line.strip()[:80]!r}"
                )
                return


def _bullet(item: str) -> tuple[str | None, str]:
    """``Label: value`` -> (label, value); anything else is an unlabelled bullet. A label
    in emphasis (``**Model ID**: value``, ``**Model ID:** value``) is read without it."""
    if item[:1] in {"*", "_"} and (emphasised := _emphasised_label(item)) is not None:
        return emphasised
    match = _LABEL.match(item)
    if match and match[1].strip():
        return match[1].strip(), match[2].strip()
    if item.endswith(":") and len(item) > 1:
        return item[:-1].strip(), ""
    return None, item


def _emphasised_label(item: str) -> tuple[str, str] | None:
    """The label and value of a bullet whose label CommonMark reads as emphasis."""
    children = [c for c in _INLINE.parseInline(item)[0].children or [] if c.content or c.nesting]
    if len(children) < 3 or children[0].type not in {"strong_open", "em_open"}:
        return None
    opener, inner, closer = children[:3]
    if inner.type != "text" or closer.type != opener.type.replace("_open", "_close"):
        return None
    marker = opener.markup
    rest = item[len(marker) + len(inner.content) + len(marker) :]
    if not item.startswith(marker + inner.content + marker):
        return None  # the emphasis holds escapes or entities: not a plain label
    label = inner.content.strip()
    if label.endswith(":") and (not rest or rest[0] in " \t"):
        return label[:-1].strip(), rest.strip()
    if rest.startswith(":") and (len(rest) == 1 or rest[1] in " \t"):
        return label, rest[1:].strip()
    return None


def _split_front_matter(text: str) -> tuple[dict[str, str], str, list[str]]:
    """The front matter, the body after it, and what could not be read of the front matter.

    Its lines end as the body's do (``\n``, ``\r\n`` or ``\r``): a page written with
    carriage returns alone has front matter too.
    """
    text = text.removeprefix("\ufeff")
    first = _LINE_END.search(text)
    if first is None or text[: first.start()].strip(" \t") != "---":
        return {}, text, []
    yaml_lines: list[str] = []
    start = first.end()
    while True:
        end = _LINE_END.search(text, start)
        line = text[start : end.start() if end else len(text)]
        if line.rstrip(" \t") == "---":
            body = text[end.end() :] if end else ""
            break
        yaml_lines.append(line)
        if end is None:
            return {}, text, ["front matter is not closed by a '---' line"]
        start = end.end()
    yaml_text = "\n".join(yaml_lines)
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
