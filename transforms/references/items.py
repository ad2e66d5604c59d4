"""What the crawl yields for a reference catalog: one ReferenceItem per source fetched."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(slots=True)
class ReferenceItem:
    source: str  # a ReferenceSource
    url: str  # as requested (the key of its validator)
    fetched_at: datetime
    http_status: int | None  # 304: the archived body (content_sha256) still holds
    error: str | None  # why it was not fetched (HTTP error, network, robots.txt); None if it was
    body: bytes | None = None
    content_sha256: str | None = None
    retries: int = 0
    etag: str | None = None
    last_modified: str | None = None
