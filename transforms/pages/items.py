"""What the crawl yields: one PageItem per URL it touched, whatever happened to it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from transforms.contract.vocabulary import PageOutcome


@dataclass(slots=True)
class PageItem:
    url: str  # as requested
    final_url: str | None  # the URL answered; for a redirect, its target
    http_status: int | None
    outcome: PageOutcome
    content_type: str | None  # the front matter's content_type
    error: str | None
    fetched_at: datetime
    retries: int = 0
    body: bytes | None = None
    content_sha256: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    links: list[str] = field(default_factory=list)  # markdown links on the page
    problems: list[str] = field(default_factory=list)  # what the parser could not read
