"""What the crawler remembers between runs.

- ``PageArchive``: every body fetched, once, zstd-compressed, in pack files
  (``<root>/packs/*.pack``): each writer appends to a pack of its own, so a run adds one file,
  not one per page. A pack is a sequence of records, each a fixed header (``MCB1``, the raw
  SHA-256 of the body, the frame's length) and one plain zstd frame; it has no index, since
  reading its headers again costs milliseconds. Which run and URL saw a body is in that run's
  ``pages.jsonl``; with the archive, any run can be rebuilt without the network. A body is
  checked against its SHA-256 whenever it is read: a record that does not give back exactly
  those bytes (damaged, truncated, replaced) is ``CorruptBody``, never a page, and a pack
  damaged mid-header ends there (what follows is not in the archive). A finished pack is
  sealed: ``<pack>.sha256`` beside it holds the SHA-256 of the bytes its writer wrote, so that
  whether each of its bodies reads back (``intact``, asked once per URL a crawl revalidates)
  is one pass over the file while it is unchanged. Bodies archived one file each by earlier
  versions (``<root>/<sha[:2]>/<sha256>.zst``) still read, and move into a pack at the next
  ``prune``.
- ``Validators``: for each URL, the ETag / Last-Modified it was served with and what its body
  held (hash, content type, links, parse problems), so that a 304 costs no parse at all. A
  store that cannot be read loads as what can be: see ``Validators.load``.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import re
import secrets
import struct
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa


class CorruptBody(ValueError):
    """An archived body that does not read back as the bytes its hash names."""


_RECORD = struct.Struct("<4s32sQ")  # magic, SHA-256 digest, frame length in bytes
_MAGIC = b"MCB1"
_SEAL = ".sha256"  # the suffix of a pack's seal
_Record = tuple[str, int, int]  # a body's hash, and where its frame lies in its pack
# Packs no bigger than this are merged by ``prune`` (a run's pack holds only what changed).
_SMALL_PACK_BYTES = 4 << 20


@dataclass(frozen=True, slots=True)
class Place:
    """Where one body's zstd frame lies: a record of a pack, or a whole file (``length`` -1)."""

    path: Path
    offset: int = 0
    length: int = -1


@dataclass(slots=True)
class Pack:
    """A pack file read back: its records' places by hash, in order, and whether the file
    ends exactly after the last one (not, after a crash mid-write or damage)."""

    path: Path
    records: list[tuple[str, Place]]
    size: int
    whole: bool


def pack_record(sha256: str, frame: bytes) -> bytes:
    """One pack record: its header, then the frame."""
    return _RECORD.pack(_MAGIC, bytes.fromhex(sha256), len(frame)) + frame


def read_pack(path: Path) -> Pack:
    """The records of a pack, up to the first that is not whole (an unfinished or damaged
    tail ends the pack: nothing after a bad header can be placed)."""
    records: list[tuple[str, Place]] = []
    with path.open("rb") as pack:
        size = os.fstat(pack.fileno()).st_size
        offset = 0
        while offset + _RECORD.size <= size:
            pack.seek(offset)
            magic, digest, length = _RECORD.unpack(pack.read(_RECORD.size))
            start = offset + _RECORD.size
            if magic != _MAGIC or start + length > size:
                break
            records.append((digest.hex(), Place(path, start, length)))
            offset = start + length
    return Pack(path, records, size, whole=offset == size)


class PageArchive:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.packs = self.root / "packs"
        self._places: dict[str, list[Place]] | None = None  # read at first use
        self._pack: Path | None = None  # this writer's own pack, made at its first put
        self._written = hashlib.sha256()  # of the records this writer put in its pack
        # Pack -> its size, time and inode when checked, and its records if it held its seal.
        self._sealed: dict[Path, tuple[tuple[int, int, int], frozenset[_Record] | None]] = {}

    @functools.cached_property
    def codec(self) -> pa.Codec:
        # pyarrow loads at the first body compressed or read, not with this module: the
        # crawl child checks sealed packs without it, and starts 0.1 s sooner.
        import pyarrow as pa

        return pa.Codec("zstd")

    def put(self, sha256: str, body: bytes) -> None:
        """Store a body under its hash; a body already stored intact is not written again.
        Raises ``ValueError`` if ``sha256`` is not the body's: a seal vouches for every record."""
        if hashlib.sha256(body).hexdigest() != sha256:
            raise ValueError(f"{sha256[:12]}… is not the SHA-256 of the body given")
        if self.intact(sha256):
            return
        if self._pack is None:
            self._pack = self._new_pack()
        # One-shot compression is ~10x cheaper per page than a compressed stream.
        frame = self.codec.compress(body, asbytes=True)
        record = pack_record(sha256, frame)
        descriptor = os.open(self._pack, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            offset = os.fstat(descriptor).st_size
            written = 0
            while written < len(record):  # a crash mid-record leaves a tail that reads as none
                written += os.write(descriptor, record[written:])
        finally:
            os.close(descriptor)
        self._written.update(record)
        place = Place(self._pack, offset + _RECORD.size, len(frame))
        self._index().setdefault(sha256, []).insert(0, place)

    def get(self, sha256: str) -> bytes:
        """The body stored under ``sha256``, verified against it.

        Raises ``FileNotFoundError`` if there is none and ``CorruptBody`` if no stored copy
        decompresses to bytes with that hash.
        """
        places = self._index().get(sha256)
        if not places:
            raise FileNotFoundError(f"no archived body {sha256[:12]}…")
        failure: OSError | CorruptBody | None = None
        for place in places:
            try:
                return self._check(self._frame(place), place, sha256)
            except CorruptBody as error:
                failure = error
            except OSError as error:  # gone since the packs were read (pruned, deleted)
                failure = failure or error
        assert failure is not None
        raise failure

    def seal(self) -> None:
        """Seal this writer's pack with the SHA-256 of the records it put there (a later put
        begins a pack of its own), and every other pack with no seal (written before seals,
        or by a run that never ended) whose records all read back: the seal names the bytes
        checked, so a pack that changes after the check does not hold it."""
        if self._pack is not None:
            _write_seal(self._pack, self._written.hexdigest())
            self._pack, self._written = None, hashlib.sha256()
        for path in sorted(self.packs.glob("*.pack")):
            if not _seal_of(path).exists():
                with contextlib.suppress(OSError, CorruptBody):
                    _write_seal(path, self._checked_digest(path))

    def _checked_digest(self, path: Path) -> str:
        """The SHA-256 of a pack whose every record, up to its very end, reads back."""
        digest = hashlib.sha256()
        with path.open("rb") as pack:
            for sha256, place, frame in _records_read(pack, path, digest):
                self._check(frame, place, sha256)
        return digest.hexdigest()

    def intact(self, sha256: str) -> bool:
        """Whether the archive can give back the body ``sha256``, byte for byte: its pack
        is as sealed, or a copy of it reads back."""
        if any(self._in_sealed_pack(sha256, place) for place in self._index().get(sha256, ())):
            return True
        try:
            self.get(sha256)
        except (FileNotFoundError, CorruptBody):
            return False
        return True

    def holds(self, sha256: str) -> bool:
        """Whether the archive has a copy of the body ``sha256`` (unverified: see ``intact``)."""
        return sha256 in self._index()

    def hashes(self) -> Iterator[str]:
        yield from self._index()

    def prune(self, keep: Iterable[str]) -> int:
        """Delete every body not in ``keep``; returns how many were deleted.

        A pack stays as it is while it holds only bodies kept, each once, intact to its end,
        and its seal holds. The others are rewritten, with small packs merged (a run's own
        pack holds only what changed) and bodies still in files of their own, into one new
        sealed pack of the kept bodies that read back intact (so a pack from before seals is
        sealed once); the new pack is whole under its name before anything it replaces is
        deleted, so a crash costs a duplicate, never a body.
        """
        wanted = set(keep)
        packs = [read_pack(path) for path in sorted(self.packs.glob("*.pack"))]
        loose = dict(self._loose())
        stored = {sha for pack in packs for sha, _ in pack.records} | set(loose)
        kept: set[str] = set()

        def clean(pack: Pack) -> bool:
            hashes = [sha for sha, _ in pack.records]
            return (
                pack.whole
                and len(set(hashes)) == len(hashes)
                and wanted.issuperset(hashes)
                and kept.isdisjoint(hashes)
                and _sealed_records(pack.path) is not None
            )

        rewrite: list[Pack] = []
        small: list[Pack] = []
        for pack in packs:
            if pack.size <= _SMALL_PACK_BYTES:
                small.append(pack)
            elif clean(pack):
                kept.update(sha for sha, _ in pack.records)
            else:
                rewrite.append(pack)
        if len(small) == 1 and not rewrite and not loose and clean(small[0]):
            small = []  # a lone small pack with nothing to drop stays as it is
        rewrite += small
        places = [place for pack in rewrite for place in pack.records]
        places += [(sha, Place(path)) for sha, path in loose.items()]
        carried: dict[str, bytes] = {}
        for sha256, place in places:
            if sha256 in wanted and sha256 not in kept and sha256 not in carried:
                try:
                    frame = self._frame(place)
                    self._check(frame, place, sha256)
                except (OSError, CorruptBody):
                    continue  # damaged: another copy may read, else a refresh fetches it again
                carried[sha256] = frame
        if carried:
            self._write_pack(carried)
        for pack in rewrite:
            pack.path.unlink()
            _seal_of(pack.path).unlink(missing_ok=True)
        for seal in self.packs.glob(f"*{_SEAL}*"):  # of a pack gone, or half written
            if seal.suffix != _SEAL or not seal.with_suffix("").exists():
                seal.unlink()
        for path in loose.values():
            path.unlink()
        for directory in {path.parent for path in loose.values()}:
            with contextlib.suppress(OSError):  # something else lives there: not ours
                directory.rmdir()
        self._places, self._sealed = None, {}
        return len(stored - wanted)

    def _write_pack(self, frames: dict[str, bytes]) -> None:
        path = self._new_pack()
        partial = path.with_suffix(".partial")
        written = hashlib.sha256()
        with partial.open("wb") as pack:
            for sha256, frame in frames.items():  # each read back intact before it came here
                record = pack_record(sha256, frame)
                pack.write(record)
                written.update(record)
            pack.flush()
            os.fsync(pack.fileno())
        os.replace(partial, path)
        _write_seal(path, written.hexdigest())

    def _new_pack(self) -> Path:
        self.packs.mkdir(parents=True, exist_ok=True)
        # A name no other writer takes; the time only orders packs for a reader.
        return self.packs / f"{time.time_ns()}-{os.getpid()}-{secrets.token_hex(4)}.pack"

    def _index(self) -> dict[str, list[Place]]:
        if self._places is None:
            places: dict[str, list[Place]] = {}
            # Newest first: a body archived again after damage is read before the old copy.
            for path in sorted(self.packs.glob("*.pack"), reverse=True):
                try:
                    pack = read_pack(path)
                except FileNotFoundError:  # pruned while listed
                    continue
                for sha256, place in pack.records:
                    places.setdefault(sha256, []).append(place)
            for sha256, path in self._loose():
                places.setdefault(sha256, []).append(Place(path))
            self._places = places
        return self._places

    def _in_sealed_pack(self, sha256: str, place: Place) -> bool:
        """Whether ``place`` is the record of ``sha256`` in a pack that holds the very bytes
        it was sealed with: then its body reads back, as every record there does.

        The pack's records are read in the same pass as its hash, so a place found before the
        pack changed is not taken for one of them. A pack is checked again only when its
        size, time or inode has changed: one rewritten in place at its size within the file
        system's clock tick is seen by the next reader (the next crawl). A body read is
        checked against its hash whatever a seal says."""
        if place.length < 0:
            return False
        try:
            stat = place.path.stat()
        except OSError:
            return False
        version = (stat.st_size, stat.st_mtime_ns, stat.st_ino)
        checked = self._sealed.get(place.path)
        if checked is None or checked[0] != version:
            checked = self._sealed[place.path] = (version, _sealed_records(place.path))
        return checked[1] is not None and (sha256, place.offset, place.length) in checked[1]

    def _loose(self) -> Iterator[tuple[str, Path]]:
        """Bodies in files of their own, as versions before packs stored them."""
        for path in self.root.glob("??/*.zst"):
            yield path.name.removesuffix(".zst"), path

    def _frame(self, place: Place) -> bytes:
        if place.length < 0:
            return place.path.read_bytes()
        with place.path.open("rb", buffering=0) as pack:
            return os.pread(pack.fileno(), place.length, place.offset)

    def _check(self, frame: bytes, place: Place, sha256: str) -> bytes:
        """The body ``frame`` holds, if it is the body ``sha256`` names."""
        if place.length >= 0 and len(frame) != place.length:
            raise CorruptBody(f"archived body {sha256[:12]}… is damaged: its pack is cut short")
        import pyarrow as pa

        try:
            body = self._decompress(frame)
        except (OSError, ValueError, pa.ArrowException) as error:
            raise CorruptBody(f"archived body {sha256[:12]}… is damaged: {error}") from None
        if hashlib.sha256(body).hexdigest() != sha256:
            raise CorruptBody(f"archived body {sha256[:12]}… does not match its SHA-256")
        return body

    def _decompress(self, frame: bytes) -> bytes:
        size = _content_size(frame)
        if size is None:  # not one of ours (they all record their size): decode as a stream
            import pyarrow as pa

            with pa.input_stream(pa.BufferReader(frame), compression="zstd") as stream:
                return stream.read()
        if size > _MAX_BODY:
            raise ValueError(f"its header claims {size} bytes")
        # One shot, into a buffer of the recorded size: about half the cost of a stream.
        return self.codec.decompress(frame, decompressed_size=size, asbytes=True)


def _seal_of(pack: Path) -> Path:
    return pack.with_name(pack.name + _SEAL)


def _write_seal(pack: Path, sha256: str) -> None:
    """Seal ``pack``; a seal that cannot be written (a full disk) costs only checks."""
    seal = _seal_of(pack)
    partial = seal.with_name(seal.name + ".partial")
    try:
        partial.write_text(sha256 + "\n", encoding="ascii")
        os.replace(partial, seal)
    except OSError:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)


def _sealed_records(pack: Path) -> frozenset[_Record] | None:
    """The records of a pack whose bytes have the SHA-256 its seal names; None if they
    do not, or the pack or its seal cannot be read."""
    digest = hashlib.sha256()
    try:
        sealed = _seal_of(pack).read_text(encoding="ascii").strip()
        with pack.open("rb") as file:
            records = frozenset(
                (sha256, place.offset, place.length)
                for sha256, place, _ in _records_read(file, pack, digest)
            )
    except (OSError, UnicodeDecodeError, CorruptBody):
        return None
    return records if digest.hexdigest() == sealed else None


def _records_read(pack: IO[bytes], path: Path, digest: Any) -> Iterator[tuple[str, Place, bytes]]:
    """Each record of the open pack ``path`` in turn (its body's hash, its place, its
    frame), its bytes added to ``digest``; ``CorruptBody`` at anything that is not a whole
    record, up to the file's very end."""
    size = os.fstat(pack.fileno()).st_size
    while header := pack.read(_RECORD.size):
        magic, raw_sha, length = (b"", b"", 0)
        if len(header) == _RECORD.size:
            magic, raw_sha, length = _RECORD.unpack(header)
        start = pack.tell()
        if magic != _MAGIC or start + length > size:
            raise CorruptBody(f"{path.name} has a record cut short or not one")
        frame = pack.read(length)
        digest.update(header)
        digest.update(frame)
        yield raw_sha.hex(), Place(path, start, length), frame


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
            # Fields read one by one: ``asdict`` deep-copies every list, 4x slower at 10,000 URLs.
            json.dumps(
                {
                    url: {name: getattr(v, name) for name in _FIELDS}
                    for url, v in sorted(self.entries.items())
                }
            ),
            encoding="utf-8",
        )
        os.replace(partial, path)

    @property
    def whole(self) -> bool:
        """Whether the store loaded every entry its file held (or had no file)."""
        return self.unreadable is None and self.dropped == 0

    def get(self, url: str) -> Validator | None:
        return self.entries.get(url)

    def __setitem__(self, url: str, validator: Validator) -> None:
        self.entries[url] = validator
