"""An independent reader of pages on CommonMark rules, for tests only: GitHub's own
CommonMark + GFM parser (cmark-gfm, C), read through the HTML it renders. Not our parser:
the fuzzer and the parser's differential tests compare ours against it.

Raw HTML is omitted from cmark-gfm's output (its safe default), so code and HTML blocks hold
no values here either. Text is as cmark-gfm renders it: entities and backslash escapes
decoded, emphasis marks gone.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import cmarkgfm
from cmarkgfm.cmark import Options

# (heading, its list items' text, its tables as (header, rows))
Table = tuple[list[str], list[list[str]]]
Found = list[tuple[str, list[str], list[Table]]]


class _Blocks(HTMLParser):
    """cmark-gfm's HTML of a page body: (heading, list items, tables) per heading, and
    every table in page order (``tables``: those before the first heading too)."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__(convert_charrefs=True)
        self.lines = lines
        self.found: Found = []
        self.tables: list[Table] = []
        self.text: list[str] | None = None  # a heading's or a cell's text being collected
        # Open list items, innermost last: the text of each one's first paragraph, and
        # whether that paragraph has ended (CommonMark's reading of the item's value).
        # And the section each item began in (a heading inside an item comes after it).
        self.items: list[tuple[list[str], list[bool]]] = []
        self.item_sections: list[list[str] | None] = []
        self.row: list[str] | None = None
        self.row_fits = True

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.items and tag in {"ul", "ol", "pre", "table", "blockquote", "hr"}:
            self.items[-1][1][0] = True  # a block after the item's text ends it
        if tag in HEADINGS or tag in {"td", "th"}:
            self.text = []
        elif tag == "li":
            self.items.append(([], [False]))
            self.item_sections.append(self.found[-1][1] if self.found else None)
        elif tag == "table":
            self.tables.append(([], []))
            if self.found:
                self.found[-1][2].append(self.tables[-1])
        elif tag == "tr":
            self.row = []
            # A row whose source line has another number of cells than the header is no
            # row to read: GFM pads or cuts it, the catalog refuses it.
            line = int((dict(attrs)["data-sourcepos"] or "1").split(":")[0])
            header = self.tables[-1][0]
            self.row_fits = not header or len(_cells(self.lines[line - 1])) == len(header)

    def handle_endtag(self, tag: str) -> None:
        if tag in HEADINGS and self.text is not None:
            self.found.append((_spaces("".join(self.text)), [], []))
            self.text = None
        elif tag == "p" and self.items:
            self.items[-1][1][0] = True
        elif tag == "li" and self.items:
            text = _spaces("".join(self.items.pop()[0]))
            section = self.item_sections.pop()
            if section is not None:
                section.append(text)
        elif tag in {"td", "th"} and self.row is not None and self.text is not None:
            self.row.append(_spaces("".join(self.text)))
            self.text = None
        elif tag == "tr" and self.row is not None:
            header, rows = self.tables[-1]
            if not header:
                header.extend(self.row)
            elif self.row_fits:
                rows.append(self.row)
            self.row = None

    def handle_data(self, data: str) -> None:
        if self.text is not None:
            self.text.append(data)
        elif self.items and not self.items[-1][1][0]:
            self.items[-1][0].append(data)


HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}


def _spaces(text: str) -> str:
    """CommonMark's whitespace (space, tab, line end) as one space; no other character."""
    return re.sub(r"[ \t\r\n]+", " ", text).strip(" ")


def _cells(line: str) -> list[str]:
    """A GFM table row's cells as written: split at each pipe no backslash escapes."""
    row = line.strip(" \t")
    row = row.lstrip(">").strip(" \t") if row.startswith(">") else row
    row = row[1:] if row.startswith("|") else row
    row = row[:-1] if row.endswith("|") and not row.endswith("\\|") else row
    return re.split(r"(?<!\\)\|", row)


def split_front_matter(text: str) -> str:
    """The body after a YAML front matter between two ``---`` lines (any CommonMark line end)."""
    lines = re.split(r"\r\n|\r|\n", text.removeprefix("\ufeff"))
    if len(lines) > 1 and lines[0].strip(" \t") == "---":
        for i, line in enumerate(lines[1:], 1):
            if line.rstrip(" \t") == "---":
                return "\n".join(lines[i + 1 :])
    return "\n".join(lines)


def read(text: str) -> _Blocks:
    """The page as cmark-gfm reads it (``found``, ``tables``)."""
    body = split_front_matter(text)
    html = cmarkgfm.markdown_to_html_with_extensions(
        body, options=Options.CMARK_OPT_SOURCEPOS, extensions=["table"]
    )
    reader = _Blocks(re.split(r"\r\n|\r|\n", body))
    reader.feed(html)
    reader.close()
    return reader


def sections(text: str) -> Found:
    """Each heading of the page with its list items' text and its tables, as cmark-gfm reads
    the page: code and HTML blocks hold none (raw HTML is omitted from its output)."""
    return read(text).found
