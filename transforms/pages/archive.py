"""What the crawler remembers between runs.

- ``PageArchive``: every body fetched, once, as ``<root>/<sha[:2]>/<sha256>.zst`` (a plain
  zstd frame: ``zstd -dc`` reads it). Which run and URL saw a body is in that run's
  ``pages.jsonl``; with the archive, any run can be rebuilt without the network. A body is
  checked against its SHA-256 whenever it is read: a file that does not give back exactly
  those bytes (damaged, truncated, replaced) is ``CorruptBody``, never a page.
- ``Validators``: for each URL, the ETag / Last-Modified it was served with and what its body
  held (hash, content type, links, parse problems), so that a 304 costs no parse at all. A
  store that cannot be read loads as what can be: see ``Validators.load``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import pyarrow as pa


class CorruptBody(ValueError):
    """An archived body that does not read back as the bytes its hash names."""


class PageArchive:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.codec = pa.Codec("zstd")
        self.made: set[Path] = set()

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / f"{sha256}.zst"

    def put(self, sha256: str, body: bytes) -> None:
        """Store a body under its hash; a body already stored intact is not written again."""
        path = self.path(sha256)
        if path.exists() and self.intact(sha256):
            return
        if path.parent not in self.made:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.made.add(path.parent)
        partial = path.with_suffix(f".{os.getpid()}.partial")
        # One-shot compression is ~10x cheaper per page than a compressed stream.
        partial.write_bytes(self.codec.compress(body, asbytes=True))
        os.replace(partial, path)  # a crash never leaves a truncated body under a real name

    def get(self, sha256: str) -> bytes:
        """The body stored under ``sha256``, verified against it.

        Raises ``FileNotFoundError`` if there is none and ``CorruptBody`` if the file does
        not decompress to bytes with that hash.
        """
        frame = self.path(sha256).read_bytes()
        try:
            body = self._decompress(frame)
        except (OSError, ValueError, pa.ArrowException) as error:
            raise CorruptBody(f"archived body {sha256[:12]}… is damaged: {error}") from None
        if hashlib.sha256(body).hexdigest() != sha256:
            raise CorruptBody(f"archived body {sha256[:12]}… does not match its SHA-256")
        return body

    def intact(self, sha256: str) -> bool:
        """Whether the archive can give back the body ``sha256``, byte for byte."""
        try:
            self.get(sha256)
        except (FileNotFoundError, CorruptBody):
            return False
        return True

    def _decompress(self, frame: bytes) -> bytes:
        size = _content_size(frame)
        if size is None:  # not one of ours (they all record their size): decode as a stream
            with pa.input_stream(pa.BufferReader(frame), compression="zstd") as stream:
                return stream.read()
        if size > _MAX_BODY:
            raise ValueError(f"its header claims {size} bytes")
        # One shot, into a buffer of the recorded size: about half the cost of a stream.
        return self.codec.decompress(frame, decompressed_size=size, asbytes=True)

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


_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_MAX_BODY = 1 << 30  # a recorded size beyond any page: damage, not a body


def _content_size(frame: bytes) -> int | None:
    """The decompressed size a zstd frame header records (RFC 8878, 3.1.1.1), or None."""
    if len(frame) < 6 or not frame.startswith(_ZSTD_MAGIC):
        return None
    descriptor = frame[4]
    single_segment = descriptor >> 5 & 1
    # Fields: magic, descriptor, window (unless single segment), dictionary id, content size.
    start = 5 + (not single_segment) + (0, 1, 2, 4)[descriptor & 3]
    width = (single_segment, 2, 4, 8)[descriptor >> 6]
    if not width or len(frame) < start + width:
        return None
    return int.from_bytes(frame[start : start + width], "little") + (256 if width == 2 else 0)


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


_FIELDS = [f.name for f in fields(Validator)]
_SHA256 = re.compile(r"[0-9a-f]{64}")
_OPTIONAL_TEXTS = ("etag", "last_modified", "content_type")


def _validator(entry: Any) -> Validator | None:
    """``entry`` as a Validator if it has every field of one, each of the right type."""
    if not isinstance(entry, dict) or not set(_FIELDS) <= set(entry):
        return None
    values = {name: entry[name] for name in _FIELDS}
    sha256 = values["content_sha256"]
    if not (isinstance(sha256, str) and _SHA256.fullmatch(sha256)):
        return None
    if not all(_is_text(values[name], optional=True) for name in _OPTIONAL_TEXTS):
        return None
    if not all(
        isinstance(values[name], list) and all(_is_text(item) for item in values[name])
        for name in ("links", "problems")
    ):
        return None
    return Validator(**values)


def _is_text(value: Any, *, optional: bool = False) -> bool:
    return isinstance(value, str) or (optional and value is None)


class Validators:
    """URL -> Validator, kept in one JSON file, replaced atomically.

    Loading never fails on what it finds, since a store that cannot be read costs only full
    fetches: a file that is not a JSON object of entries loads as an empty store, with the
    reason in ``unreadable``; entries that are not validators are left out and counted in
    ``dropped``.
    """

    def __init__(self, entries: dict[str, Validator] | None = None) -> None:
        self.entries = entries or {}
        self.unreadable: str | None = None
        self.dropped = 0

    @classmethod
    def load(cls, path: Path | None) -> Validators:
        store = cls()
        if path is None or not path.exists():
            return store
        try:
            raw = json.loads(path.read_bytes())
        except (ValueError, RecursionError) as error:
            store.unreadable = f"not JSON: {error}"
            return store
        if not isinstance(raw, dict):
            store.unreadable = f"a JSON {type(raw).__name__}, not an object of URLs"
            return store
        for url, entry in raw.items():
            validator = _validator(entry)
            if validator is None:
                store.dropped += 1
            else:
                store.entries[url] = validator
        return store

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
