"""What the crawler remembers between runs.

- ``PageArchive``: every body fetched, once, as ``<root>/<sha[:2]>/<sha256>.zst`` (a plain
  zstd frame: ``zstd -dc`` reads it). Which run and URL saw a body is in that run's
  ``pages.jsonl``; with the archive, any run can be rebuilt without the network.
- ``Validators``: for each URL, the ETag / Last-Modified it was served with and what its body
  held (hash, content type, links, parse problems), so that a 304 costs no parse at all.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyarrow as pa


class PageArchive:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.codec = pa.Codec("zstd")
        self.made: set[Path] = set()

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / f"{sha256}.zst"

    def __contains__(self, sha256: str) -> bool:
        return self.path(sha256).exists()

    def put(self, sha256: str, body: bytes) -> None:
        """Store a body under its hash; a body already stored is not written again."""
        path = self.path(sha256)
        if path.exists():
            return
        if path.parent not in self.made:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.made.add(path.parent)
        partial = path.with_suffix(f".{os.getpid()}.partial")
        # One-shot compression is ~10x cheaper per page than a compressed stream.
        partial.write_bytes(self.codec.compress(body, asbytes=True))
        os.replace(partial, path)  # a crash never leaves a truncated body under a real name

    def get(self, sha256: str) -> bytes:
        with pa.input_stream(self.path(sha256), compression="zstd") as stream:
            return stream.read()

    def hashes(self) -> Iterator[str]:
        for path in self.root.glob("??/*.zst"):
            yield path.name.removesuffix(".zst")

    def prune(self, keep: Iterable[str]) -> int:
        """Delete every body not in ``keep``; returns how many were deleted."""
        wanted = set(keep)
        deleted = 0
        for sha256 in list(self.hashes()):
            if sha256 not in wanted:
                self.path(sha256).unlink()
                deleted += 1
        return deleted


@dataclass(slots=True)
class Validator:
    etag: str | None
    last_modified: str | None
    content_sha256: str
    content_type: str | None
    links: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def request_headers(self) -> dict[str, str]:
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


class Validators:
    """URL -> Validator, kept in one JSON file, replaced atomically."""

    def __init__(self, entries: dict[str, Validator] | None = None) -> None:
        self.entries = entries or {}

    @classmethod
    def load(cls, path: Path | None) -> Validators:
        if path is None or not path.exists():
            return cls()
        raw = json.loads(path.read_text(encoding="utf-8"))
        return cls({url: Validator(**entry) for url, entry in raw.items()})

    def save(self, path: Path) -> None:
        partial = path.with_suffix(".partial")
        partial.write_text(
            json.dumps({url: asdict(v) for url, v in sorted(self.entries.items())}),
            encoding="utf-8",
        )
        os.replace(partial, path)

    def get(self, url: str) -> Validator | None:
        return self.entries.get(url)

    def __setitem__(self, url: str, validator: Validator) -> None:
        self.entries[url] = validator

    def __len__(self) -> int:
        return len(self.entries)
