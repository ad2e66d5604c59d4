"""What the crawl yields: one PageItem per URL it touched, whatever happened to it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Outcome(StrEnum):
    MODEL = "model"  # a model-detail-page, parsed
    SKIPPED = "skipped"  # an index or another content type: links followed, no model
    REDIRECTED = "redirected"  # 3xx: final_url is the target, crawled as a page of its own
    NOT_MODIFIED = "not_modified"  # 304: the archived copy still holds
    QUARANTINED = "quarantined"  # answered, but not a usable markdown page; see error
    FAILED = "failed"  # HTTP error or network failure after retries
    DISALLOWED = "disallowed"  # robots.txt forbids it or it redirects off the site


@dataclass(slots=True)
class PageItem:
    url: str  # as requested
    final_url: str | None  # the URL answered; for a redirect, its target
    http_status: int | None
    outcome: Outcome
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
