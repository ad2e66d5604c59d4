"""A run's reference log, ``runs/RUN_ID/references.jsonl``: one JSON line per catalog the
crawl fetched (or failed to), its body in the archive by SHA-256. A rebuild reads the
references again from here."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from transforms.references.items import ReferenceItem

if TYPE_CHECKING:
    from transforms.pages.archive import PageArchive, Validator

# The content type a reference catalog's validator records (pages record their front matter's).
REFERENCE_CONTENT = "reference-catalog"

# Why a catalog of the last snapshot has no record: the run was not asked to fetch it.
NOT_ASKED = "not fetched by this run"


@dataclass(frozen=True)
class FetchRecord:
    source: str
    url: str
    fetched_at: datetime
    http_status: int | None
    error: str | None
    content_sha256: str | None


def stage_reference(item: ReferenceItem, log: Path, archive: PageArchive) -> None:
    """Archive the body and append the item's line to the log (a 304 names the archived
    body it revalidated)."""
    if item.body is not None and item.content_sha256 is not None:
        archive.put(item.content_sha256, item.body)
    line = {
        "source": item.source,
        "url": item.url,
        "fetched_at": item.fetched_at.isoformat(),
        "http_status": item.http_status,
        "error": item.error,
        "content_sha256": item.content_sha256 if item.error is None else None,
    }
    with log.open("a", encoding="utf-8") as file:
        file.write(json.dumps(line) + "\n")


def reference_validator(item: ReferenceItem) -> Validator:
    """What the validator store keeps of a catalog fetched (or revalidated) by a run."""
    from transforms.pages.archive import Validator

    assert item.content_sha256 is not None
    return Validator(
        etag=item.etag,
        last_modified=item.last_modified,
        content_sha256=item.content_sha256,
        content_type=REFERENCE_CONTENT,
    )


def read_reference_log(log: Path) -> list[FetchRecord]:
    """The log's records, the last per source (a line cut short by a crash is skipped)."""
    records: dict[str, FetchRecord] = {}
    if not log.exists():
        return []
    for text in log.read_text(encoding="utf-8").splitlines():
        try:
            line = json.loads(text)
            record = FetchRecord(
                source=line["source"],
                url=line["url"],
                fetched_at=datetime.fromisoformat(line["fetched_at"]),
                http_status=line["http_status"],
                error=line["error"],
                content_sha256=line["content_sha256"],
            )
        except (ValueError, KeyError, TypeError):
            continue
        records[record.source] = record
    return list(records.values())
