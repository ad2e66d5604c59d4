"""Page text -> structured record. Pure: no network, no Scrapy, no interpretation of values.

A mirror page is YAML front matter followed by Markdown: an H1 title, a preamble of
``Key: value`` lines, then ``## Section`` blocks holding bullets, pipe tables and paragraphs.
The body is read as CommonMark with GFM tables, so a line ends where CommonMark ends one
(``\n``, ``\r\n``, ``\r``; never at U+2028 or a form feed), code and HTML blocks are no
values, and headings, lists and tables are what cmark-gfm (GitHub's reader) makes of them.
The events come from pulldown-cmark (pyromark), a CommonMark parser in Rust; where it reads
GFM tables otherwise than cmark-gfm (a table under a paragraph line without a leading pipe,
one headed by a line without a pipe, rows that end at an indented or a lazy line), the
reader reads them as cmark-gfm does. It keeps every value exactly as written (a cell's or
bullet's source text, cut from the page by the events' byte ranges); turning ``128K`` into
128000 is the job of ``transforms.build.normalize``. Anything it cannot make sense of is
reported in ``Page.problems`` rather than raised, so one odd page never stops a crawl.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from urllib.parse import urldefrag, urljoin

import pyromark
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
_HTML_START = re.compile(rb"^\s*<(!doctype\s+html|html|head|body)\b", re.IGNORECASE)
# CommonMark's line endings, and only those (``str.splitlines`` breaks on U+2028, FF, ...).
_LINE_END = re.compile(r"\r\n|\r|\n")
# Blocks hold lists in quotes in lists...; what is nested deeper than this is not read.
_MAX_NESTING = 50
_TABLES = pyromark.Options.ENABLE_TABLES
# Each time GFM and pulldown-cmark part, the rest of the page is read again: real pages part
# never, and a page that parts more often than this is not read further (bounding the cost).
_MAX_RESTARTS = 16
# What a line of a text block is besides its text.
_OWN, _LAZY, _INDENTED = 0, 1, 2  # the block's own; a lazy continuation; indented 4 or more
# An ATX heading's opening '#'s (an underlined heading has none).
_ATX_OPENING = re.compile(rb" {0,3}#{1,6}(?:[ \t\n]|$)")
# A block quote's or list item's marker, and the spaces after it.
_CONTAINER_MARKER = re.compile(rb"[ \t]*(>|[-+*]|[0-9]{1,9}[.)])([ \t]*)")
_QUOTE_MARKER = re.compile(rb" {0,3}>[ \t]?")
# A line that may be a table's delimiter row, its container prefix included.
_MAYBE_DELIMITER = re.compile(rb"[ \t>]*[-:|][-:| \t]*(?:\n|$)")
# An ATX heading's closing sequence of '#'s.
_ATX_CLOSING = re.compile(rb"[ \t]+#+[ \t]*$")
# Blocks that hold other blocks: each one nests what it holds one level deeper.
_CONTAINERS = frozenset({"BlockQuote", "List", "Item"})
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
    if "\r" in body:
        # CommonMark ends a line at \r\n and \r as at \n; pulldown-cmark does not always
        # (a fenced or indented code block runs on over lone \r). Values hold no line end.
        body = _LINE_END.sub("\n", body)
    try:
        source = body.encode()
    except UnicodeEncodeError:  # lone surrogates: no decoded page holds them
        problems.append("the page holds characters that are not Unicode text; not read")
        return page
    reader = _Reader(page, source, page.preamble, set())
    read_before = len(problems)
    try:
        reader.read(pyromark.events_with_range(body, options=_TABLES))
    except Exception:
        raise
    except BaseException as error:
        # pyo3 raises a panic of the Rust parser as PanicException, a BaseException: a bug
        # of the parser on this page, reported like any other, not a stop of the run.
        if type(error).__name__ != "PanicException":
            raise
        del problems[read_before:]
        problems.append(f"the Markdown parser failed on the page ({error}); its body is not read")
        return Page(url, front_matter, None, Section(PREAMBLE), [], links, problems)
    return page


class _Reader:
    """Maps pulldown-cmark's events (pyromark) to the page's sections, bullets, tables and
    paragraphs. Values are cut from the page by the events' byte ranges, so each keeps its
    text as written (escapes and entities included), less its lines' container prefixes.

    A table's rows are read from the page's lines as GFM reads them (pulldown-cmark ends a
    table, or opens one, otherwise in a few cases). Where the two then part, the page is read
    again from the line after the table, as a page of its own (``read_again``).
    """

    def __init__(
        self, page: Page, source: bytes, section: Section, seen: set[str], restarts: int = 0
    ) -> None:
        self.page = page
        self.problems = page.problems
        self.source = source  # the body as UTF-8, each line ended by \n alone
        self.section = section
        self.seen_headings = seen  # casefolded
        self.restarts = restarts  # readers before this one, each reading from a later line
        self.items: list[bool] = []  # open list items: whether each has its bullet yet
        self.containers: list[str] = []  # open quotes, lists and items, innermost last
        self.container_starts: list[int] = []
        # Where each open container's content begins (None until needed); 0 outside any.
        self.columns: list[int | None] = [0]
        # The text block being read (a paragraph's, a heading's, a tight item's): its lines
        # as (start, end) byte offsets, and where the current line starts, if it has begun.
        self.lines: list[tuple[int, int]] = []
        self.line_start: int | None = None
        self.line_end = 0
        self.heading: tuple[int, bool, int] | None = None  # level, whether ATX, its end
        self.table_start: int | None = None  # where the table being read begins
        self.not_data: tuple[str, list[str]] | None = None  # a code or HTML block's lines
        self.restart: int | None = None  # where GFM reads on otherwise: read from there

    # pyromark types each event as a union of TypedDicts; read as what they are, plain dicts.
    def read(self, events: Iterable[tuple[Any, Any]]) -> None:
        for event, span in events:
            if self.table_start is not None:  # rows are read from the page's lines
                if type(event) is dict and event.get("End") == "Table":
                    self.end_table(span["end"])
            elif type(event) is str:
                if event == "Rule":
                    self.end_text()
                elif self.not_data is None:  # SoftBreak, HardBreak
                    self.end_line(span["end"])
            else:
                ((kind, value),) = event.items()
                if kind == "Start":
                    self.start(value, span)
                elif kind == "End":
                    self.end(value, span["end"])
                elif self.not_data is not None:  # a code or HTML block's text
                    self.not_data[1].append(value)
                else:
                    self.inline(kind == "Text", span["start"], span["end"])
            if self.restart is not None:
                self.read_again(self.restart)
                return
        self.end_text()
        if self.restart is not None:
            self.read_again(self.restart)

    def start(self, value: Any, span: Mapping[str, int]) -> None:
        name = value if type(value) is str else next(iter(value))
        if name in _INLINE_CONTAINERS:
            if self.not_data is None:
                self.inline(False, span["start"], None)
            return
        self.end_text()
        if len(self.containers) >= _MAX_NESTING - 1:
            self.too_deep()
        if name in _CONTAINERS:
            self.containers.append(name)
            self.container_starts.append(span["start"])
            self.columns.append(None)
            if name == "Item":
                self.items.append(False)
        elif len(self.containers) >= _MAX_NESTING:
            return
        elif name == "Heading":
            level = int(value["Heading"]["level"][1])
            atx = _ATX_OPENING.match(self.source, span["start"]) is not None
            self.heading = (level, atx, span["end"])
        elif name == "Table":
            self.table_start = span["start"]
        elif name == "CodeBlock":
            self.not_data = ("code block", [])
        elif name == "HtmlBlock":
            self.not_data = ("HTML block", [])

    def end(self, value: Any, end: int) -> None:
        name = value if type(value) is str else next(iter(value))
        if name in _INLINE_CONTAINERS:
            if self.line_start is None and self.lines:  # a line that began inside the span
                self.line_start = self.line_content(self.line_end)
            if self.line_start is not None:
                self.line_end = end  # a link's target, an emphasis' closing marks
            return
        if len(self.containers) >= _MAX_NESTING and name not in _CONTAINERS:
            return
        if name == "Heading":
            self.end_heading()
        elif name in {"CodeBlock", "HtmlBlock"}:
            if self.not_data is not None:
                self.report_not_data(*self.not_data)
            self.not_data = None
        else:
            self.end_text()
            if name in _CONTAINERS:
                self.containers.pop()
                self.container_starts.pop()
                self.columns.pop()
                if name == "Item":
                    self.items.pop()

    def inline(self, text: bool, start: int, end: int | None) -> None:
        """An inline event: its range extends the text block's current line, or begins it."""
        if len(self.containers) >= _MAX_NESTING:
            return
        if self.line_start is None:
            # A text event leaves out the backslash of an escape it begins with.
            escaped = text and self.source[start - 1 : start] == b"\\"
            self.line_start = start - 1 if escaped else start
            self.line_end = start
        if end is not None:
            self.line_end = end

    def line_content(self, position: int) -> int:
        """Where the text of the line after the one ``position`` is on begins."""
        begin = self.next_line_begin(position)
        start = self.content_start(begin)
        start = begin if start is None else start
        while self.source[start : start + 1] in {b" ", b"\t"}:
            start += 1
        return start

    def end_line(self, end: int) -> None:
        """A line break: the current line ends before its line ending."""
        if self.line_start is None:
            return
        line_end = self.source.find(b"\n", self.line_end, end)
        self.lines.append((self.line_start, line_end if line_end >= 0 else end))
        self.line_start = None

    def text_lines(self) -> tuple[list[str], list[int], list[int | None]]:
        """The text block's lines as written (less their container prefixes), what each
        line is besides (``_OWN``, ``_LAZY``, ``_INDENTED``), and where each begins on the
        page (None inside a code span or a tag running over lines); the block is done."""
        if self.line_start is not None:
            self.lines.append((self.line_start, self.line_end))
        lines: list[str] = []
        kinds: list[int] = []
        begins: list[int | None] = []
        for start, end in self.lines:
            begin = self.start_of_line(start)
            begins.append(begin)
            if not kinds:
                kinds.append(_OWN)  # the first line is the block's own
            elif (content := self.content_start(begin)) is None or content > start:
                kinds.append(_LAZY)  # its containers' markers are missing
            else:
                indented = self.column(start) - self.content_column() >= 4
                kinds.append(_INDENTED if indented else _OWN)
            # A code span or an HTML tag may run over lines: those go by their prefixes.
            first, *rest = self.source[start:end].decode().split("\n")
            lines.append(first)
            lines.extend(self.unquoted(line) for line in rest)
            kinds.extend(_OWN for _ in rest)
            begins.extend(None for _ in rest)
        self.lines = []
        self.line_start = None
        return lines, kinds, begins

    def unquoted(self, line: str) -> str:
        """A line inside a code span or tag running over lines, less its quote markers."""
        for _ in range(self.containers.count("BlockQuote")):
            line = line.lstrip(" \t")
            if not line.startswith(">"):
                break
            line = line[1:]
        return line

    def end_text(self) -> None:
        """A block starts or ends: the text block before it, if any, was a paragraph."""
        if self.line_start is None and not self.lines:
            return
        end = self.line_end if self.line_start is not None else self.lines[-1][1]
        lines, kinds, begins = self.text_lines()
        block_end = self.next_line_begin(end)
        attempt = _first_attempt(lines, kinds)
        maybe_delimiter = _MAYBE_DELIMITER.match(self.source, block_end) is not None
        if (attempt is None and maybe_delimiter) or (attempt is not None and not attempt.opens):
            # pulldown-cmark ended the paragraph where it opened a table (a header line led
            # by a pipe, a delimiter row under it). GFM may read that line as a delimiter
            # row under this paragraph's last line, or as more of this paragraph.
            following = self.following_line(block_end)
            if following and following.strip(" \t") and _continues_paragraph(following):
                lines, kinds = [*lines, following], [*kinds, _OWN]
                begins = [*begins, block_end]
                attempt = attempt or _first_attempt(lines, kinds)
                if attempt is not None and not attempt.opens:
                    self.read_on(lines, kinds, begins)
                    return
        self.paragraph(lines, kinds, begins, block_end, attempt)

    def following_line(self, begin: int) -> str | None:
        """The line at ``begin`` less its containers' markers, if it holds them all and is
        not indented as code."""
        start = self.content_start(begin)
        if start is None or self.column(start) - self.content_column() >= 4:
            return None
        return self.source[start : self.end_of_line(start)].decode()

    def read_on(self, lines: list[str], kinds: list[int], begins: list[int | None]) -> None:
        """A paragraph GFM reads on over the lines after it (no table can open in it any
        more), which pulldown-cmark read as a table: up to a line that ends a paragraph;
        one that underlines it makes it a heading."""
        begin = self.next_line_begin(begins[-1] or 0)
        while begin < len(self.source):
            line = self.following_line(begin)
            if line is None or not line.strip(" \t"):
                break
            if (level := _underline(line)) is not None:
                self.section_heading(level, _joined(lines))
                self.restart = self.next_line_begin(begin)
                return
            if not _continues_paragraph(line):
                break
            lines.append(line)
            kinds.append(_OWN)
            begins.append(begin)
            begin = self.next_line_begin(begin)
        self.paragraph(lines, kinds, begins, begin, _Attempt(0, False))
        self.restart = begin

    def end_heading(self) -> None:
        assert self.heading is not None
        (level, atx, end), self.heading = self.heading, None
        if atx:
            self.drop_atx_closing(end)
            self.section_heading(level, _joined(self.text_lines()[0]))
            return
        lines, kinds, begins = self.text_lines()
        attempt = _first_attempt(lines, kinds)
        if attempt is None or not attempt.opens:
            self.section_heading(level, _joined(lines))
        else:  # GFM reads a table in the lines pulldown-cmark underlines as a heading
            self.paragraph(lines, kinds, begins, self.next_line_begin(end - 1), attempt)

    def drop_atx_closing(self, heading_end: int) -> None:
        """pulldown-cmark keeps an ATX heading's closing ``#``s when a tab stands before
        them; CommonMark drops them after a space or a tab alike."""
        if self.lines or self.line_start is None:
            return  # no text
        if self.source[self.line_end : heading_end].strip():
            return  # pulldown-cmark dropped a closing sequence itself
        closing = _ATX_CLOSING.search(self.source, self.line_start, self.line_end)
        if closing is not None:
            self.line_end = closing.start()

    def section_heading(self, level: int, heading: str) -> None:
        page = self.page
        if level == 1 and page.title is None and not page.sections:
            page.title = heading
            return
        if heading.casefold() in self.seen_headings:
            self.problems.append(f"section {heading!r} appears more than once")
        self.seen_headings.add(heading.casefold())
        self.section = Section(heading)
        page.sections.append(self.section)

    def paragraph(
        self,
        lines: list[str],
        kinds: list[int],
        begins: list[int | None],
        block_end: int,
        attempt: _Attempt | None,
    ) -> None:
        """A paragraph's lines as written, what each is, where each begins on the page,
        where the line after the block begins, and GFM's attempt to open a table in it."""
        if len(self.containers) >= _MAX_NESTING:
            return
        for j in range(1, len(lines)):
            start = begins[j]
            if kinds[j] == _LAZY and start is not None and not _no_block_start(lines[j]):
                # GFM: a lazy line that starts a block (an HTML tag alone on its line) ends
                # the container and starts that block; pulldown-cmark reads it as text.
                head = lines[:j], kinds[:j], begins[:j]
                self.paragraph(*head, start, _first_attempt(*head[:2]))
                self.restart = start if self.restart is None else self.restart
                return
        delimiter = begins[attempt.delimiter] if attempt is not None and attempt.opens else None
        if attempt is not None and delimiter is not None:
            # GFM opens a table where pulldown-cmark reads on (a header line without a pipe,
            # or without one in front): the header line ends the paragraph above it.
            i = attempt.delimiter - 1
            if i:
                self.paragraph(lines[:i], kinds[:i], begins[:i], begins[i] or 0, None)
            rows, after = self.rows(self.next_line_begin(delimiter))
            header = lines[i].strip()
            self.read_table([header, *rows], one_column="|" not in header)
            if after != block_end:
                self.restart = after
            return
        lines = [line.strip() for line in lines]
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

    def end_table(self, end: int) -> None:
        """A table pulldown-cmark read: its header line as written, and its rows as GFM
        reads them."""
        assert self.table_start is not None
        start, self.table_start = self.table_start, None
        delimiter = self.next_line_begin(start)
        header = self.source[start:delimiter].decode().strip()
        content = self.content_start(delimiter)
        line = self.source[content or delimiter : self.end_of_line(delimiter)].decode()
        if not _no_block_start(line):  # GFM: a list item, say, before any delimiter row
            self.paragraph([header], [_OWN], [self.start_of_line(start)], delimiter, None)
            self.restart = delimiter
            return
        rows, after = self.rows(self.next_line_begin(delimiter))
        self.read_table([header, *rows])
        if after != self.next_line_begin(end - 1):
            self.restart = after

    def rows(self, begin: int) -> tuple[list[str], int]:
        """A table's rows from the line at ``begin`` on, as GFM reads them: each line that
        holds its containers' markers and would be a paragraph line on its own (not blank,
        not indented as code, no other block's start). Also where the line after them
        begins."""
        rows = []
        source = self.source
        while begin < len(source):
            end = self.end_of_line(begin)
            start = self.content_start(begin)
            if start is None:
                break  # a lazy line: GFM continues no table with one
            line = source[start:end].decode()
            text = line.lstrip(" \t")
            if not text or self.column(end - len(text.encode())) - self.content_column() >= 4:
                break
            if not _no_block_start(text):
                break
            rows.append(line.strip())
            begin = end + 1
        return rows, min(begin, len(source))

    def read_table(self, lines: list[str], one_column: bool = False) -> None:
        """A table from its header line and its rows' lines, each as written."""
        # GFM keeps a one-column table's header line whole, and each row's first cell.
        table = Table([lines[0]] if one_column else _split_row(lines[0]), [])
        header = table.header
        for line in lines[1:]:
            written = _split_row(line)
            cells = written[:1] if one_column else written
            if len(written) != len(header):
                # GFM pads a short row and drops a long row's extra cells; either would map
                # values by position into columns they do not belong to: kept as written.
                self.problems.append(
                    f"table row in {self.section.heading!r} has {len(written)} cells, header has "
                    f"{len(header)}; its values are not read: {line[:80]!r}"
                )
                cells = written
            table.rows.append(cells)
            table.lines.append(line)
        self.section.tables.append(table)

    def read_again(self, start: int) -> None:
        """Read the page again from the line at ``start`` on, as a page of its own in the
        section it stands in."""
        if self.restarts >= _MAX_RESTARTS:
            self.problems.append(
                f"tables in {self.section.heading!r} end too often where pulldown-cmark"
                " reads on; what follows is not read"
            )
            return
        rest = self.source[start:]
        reader = _Reader(self.page, rest, self.section, self.seen_headings, self.restarts + 1)
        reader.read(pyromark.events_with_range(rest.decode(), options=_TABLES))

    def content_start(self, begin: int) -> int | None:
        """Where the content of the line at ``begin`` starts once its open containers'
        markers (a quote's ``>``, an item's indentation) are passed; None if one is missing
        (a lazy line)."""
        position = begin
        for level, container in enumerate(self.containers, 1):
            if container == "BlockQuote":
                marker = _QUOTE_MARKER.match(self.source, position)
                if marker is None:
                    return None
                position = marker.end()
            elif container == "Item":
                column = self.content_column(level)
                while self.column(position) < column and self.source[position] in b" \t":
                    position += 1
                if self.column(position) < column:
                    return None
        return position

    def column(self, position: int) -> int:
        """The column of a byte position on its line, tabs to the next multiple of 4."""
        return len(self.source[self.start_of_line(position) : position].decode().expandtabs(4))

    def content_column(self, level: int | None = None) -> int:
        """Where the content of the innermost open container (or of the one at ``level``)
        begins, by CommonMark's rules; 0 outside any."""
        level = len(self.columns) - 1 if level is None else level
        known = self.columns[level]
        if known is not None:
            return known
        outer = self.content_column(level - 1)
        container, start = self.containers[level - 1], self.container_starts[level - 1]
        marker = _CONTAINER_MARKER.match(self.source, start)
        if container == "List" or marker is None:
            column = outer
        elif container == "BlockQuote":
            column = self.column(marker.end(1)) + (1 if marker[2] else 0)
        else:
            after_marker = self.column(marker.end(1))
            rest = self.source[marker.end(1) : self.end_of_line(marker.end(1))]
            after_space = self.column(marker.end())
            if not rest.strip(b" \t") or after_space - after_marker >= 5:
                column = after_marker + 1
            else:
                column = after_space
        self.columns[level] = column
        return column

    def start_of_line(self, position: int) -> int:
        """Where the line ``position`` is on begins."""
        return self.source.rfind(b"\n", 0, position) + 1

    def end_of_line(self, position: int) -> int:
        """Where the line ``position`` is on ends, before its line ending."""
        end = self.source.find(b"\n", position)
        return end if end >= 0 else len(self.source)

    def next_line_begin(self, position: int) -> int:
        """Where the line after the one ``position`` is on begins (the page's end if none)."""
        return min(self.end_of_line(position) + 1, len(self.source))

    def too_deep(self) -> None:
        problem = (
            f"blocks in {self.section.heading!r} are nested more than {_MAX_NESTING}"
            " deep; what they hold is not read"
        )
        if problem not in self.problems:
            self.problems.append(problem)

    def report_not_data(self, what: str, content: list[str]) -> None:
        """Code and HTML blocks are no values; one that holds what would be is reported."""
        text = "".join(content)
        if what == "HTML block" and text.lstrip().startswith("<!--"):
            what = "HTML comment"
        for line in text.split("\n"):
            if _LOOKS_LIKE_DATA.match(line):
                self.problems.append(
                    f"{what} in {self.section.heading!r} holds what looks like page values;"
                    f" not read: {line.strip()[:80]!r}"
                )
                return


def _continues_paragraph(line: str) -> bool:
    """Whether a line under a paragraph's line is more of that paragraph (CommonMark)."""
    events = list(pyromark.events("p\n" + line))
    return events.count({"End": "Paragraph"}) == 1 and events[-1] == {"End": "Paragraph"}


def _underline(line: str) -> int | None:
    """The level of the heading a line under a paragraph's line underlines, if it does."""
    match next(iter(pyromark.events("p\n" + line)), None):
        case {"Start": {"Heading": {"level": str(level)}}}:
            return int(level[1])
    return None


def _no_block_start(line: str) -> bool:
    """Whether a line on its own would be a paragraph's (or nothing: a link definition),
    not the start of another block."""
    if line.lstrip(" \t").startswith("|"):
        return True  # no block starts with a pipe
    for event in pyromark.events(line):
        return event == {"Start": "Paragraph"}
    return True


# Inline spans: their events open a text block's line; they are no block of their own.
_INLINE_CONTAINERS = frozenset(
    {"Emphasis", "Strong", "Strikethrough", "Link", "Image", "Superscript", "Subscript"}
)


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
    events: Iterator[tuple[dict[str, Any], dict[str, Any]]] = iter(
        pyromark.events_with_range(item)  # type: ignore[arg-type]
    )
    next(events, None)  # the paragraph
    opener, span = next(events, ({}, {}))
    if opener not in ({"Start": "Strong"}, {"Start": "Emphasis"}) or span["start"] != 0:
        return None
    # The span must hold plain text alone: no escapes, entities or spans inside it.
    texts = []
    for event, _ in events:
        if event == {"End": opener["Start"]}:
            break
        if type(event) is not dict or "Text" not in event:
            return None
        texts.append(event["Text"])
    source = item.encode()
    marker = 2 if opener["Start"] == "Strong" else 1
    label = source[marker : span["end"] - marker].decode()
    if label != "".join(texts):
        return None
    rest = source[span["end"] :].decode()
    label = label.strip()
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


class _Attempt(NamedTuple):
    """cmark-gfm tries to open a table at the first line of a paragraph that reads as a
    delimiter row, headed by the line above; if the two have not as many cells, it tries
    no more in that paragraph."""

    delimiter: int  # the delimiter row's index
    opens: bool


def _first_attempt(lines: list[str], kinds: list[int]) -> _Attempt | None:
    for i in range(1, len(lines)):
        if kinds[i] != _OWN:
            continue  # a delimiter row is neither lazy nor indented
        # GFM trims a row of spaces and tabs only (Python's strip() takes more).
        columns = _delimiter_columns(lines[i].strip(" \t"))
        if columns:
            return _Attempt(i, columns == _cell_count(lines[i - 1].strip(" \t")))
    return None


def _cell_count(row: str) -> int:
    inner = row.removeprefix("|")
    inner = inner[:-1] if inner.endswith("|") and not inner.endswith("\\|") else inner
    return len(_CELL_BORDER.split(inner))


_CELL_BORDER = re.compile(r"(?<!\\)\|")


def _delimiter_columns(line: str) -> int:
    """The number of columns a GFM delimiter row sets (``| --- | :-: |``), or 0 if the line
    is none."""
    pieces = line.split("|")
    columns = 0
    for i, piece in enumerate(pieces):
        piece = piece.strip(" \t")
        if not piece and i in {0, len(pieces) - 1}:
            continue  # the row's outer pipes
        if not _DELIMITER_CELL.fullmatch(piece):
            return 0
        columns += 1
    return columns


_DELIMITER_CELL = re.compile(r":?-+:?")


def _joined(lines: list[str]) -> str:
    return " ".join(line.strip() for line in lines)


def _split_row(line: str) -> list[str]:
    inner = line.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") and not inner.endswith("\\|") else inner
    cells = _CELL_BORDER.split(inner)
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
