"""Row groups appended to a copy of a Parquet file, without decoding the ones it keeps.

A history file's closed rows never change, so each snapshot's file begins with the row
groups of the one before it. Decoding and encoding them again costs every run time in
proportion to the whole history. Instead the bytes of the row groups that stay are copied
as they are, the rows after them are written by Arrow into a file of their own (``tail``),
and the two footers are merged into one: the kept row groups, then the tail's, their
offsets moved to where their bytes now stand.

A Parquet footer is a ``FileMetaData`` struct in Thrift's compact protocol. It is read here
into a generic tree that keeps every field, known or not, and written back byte for byte as
it was read (``encode(decode(b)) == b``), so only the fields named below change: row-group
and column-chunk offsets, row-group ordinals, the file's row count and the row groups'
hashes (below). Anything this does not
expect (encryption, page indexes or bloom filters in the kept row groups, another schema)
raises ``CannotAppend``, and the caller writes the file whole instead.

Bytes copied without decoding must still be the bytes written. A file this appends to holds
the SHA-256 of each row group's bytes in its footer (``HASHES``, put there by
``record_hashes`` or by the append that wrote it); the kept row groups are copied only if
their bytes still match. So a damaged file is never carried forward: written whole instead,
it fails as loudly as it always did.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

MAGIC = b"PAR1"
HASHES = b"modelcat.row_group_sha256"  # footer key: each row group's SHA-256, comma-separated
# Compact protocol type codes (fields and elements share them; a field's bool is its type).
_TRUE, _FALSE, _I8, _I16, _I32, _I64, _DOUBLE, _BINARY = 1, 2, 3, 4, 5, 6, 7, 8
_LIST, _SET, _MAP, _STRUCT, _UUID = 9, 10, 11, 12, 13
_BOOL_ELEMENT = 2  # a bool in a list, set or map: one byte

# Field ids of parquet.thrift that this changes.
_FILE_NUM_ROWS, _FILE_SCHEMA, _FILE_ROW_GROUPS, _FILE_KEY_VALUES = 3, 2, 4, 5
_FILE_ENCRYPTION = (8, 9)  # encryption_algorithm, footer_signing_key_metadata
_GROUP_COLUMNS, _GROUP_NUM_ROWS, _GROUP_FILE_OFFSET, _GROUP_ORDINAL = 1, 3, 5, 7
_CHUNK_FILE_PATH, _CHUNK_FILE_OFFSET, _CHUNK_META = 1, 2, 3
_CHUNK_INDEXES = (4, 6)  # offset_index_offset, column_index_offset
_CHUNK_ENCRYPTION = (8, 9)
_META_DATA_PAGE, _META_INDEX_PAGE, _META_DICTIONARY_PAGE = 9, 10, 11
_META_COMPRESSED_SIZE, _META_BLOOM_FILTER = 7, 14


class CannotAppend(ValueError):
    """The file cannot be appended to by copying its bytes; write it whole."""


@dataclass
class Struct:
    """A Thrift struct as read: its fields in order, each (id, type code, value)."""

    fields: list[tuple[int, int, object]]

    def get(self, field_id: int) -> object:
        for fid, _, value in self.fields:
            if fid == field_id:
                return value
        return None

    def has(self, field_id: int) -> bool:
        return any(fid == field_id for fid, _, _ in self.fields)

    def set(self, field_id: int, value: object) -> None:
        for i, (fid, kind, _) in enumerate(self.fields):
            if fid == field_id:
                self.fields[i] = (fid, kind, value)
                return
        raise CannotAppend(f"the footer lacks field {field_id}")


@dataclass
class List:
    element: int
    items: list[object]


@dataclass
class Map:
    key: int
    value: int
    items: list[tuple[object, object]]


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    def byte(self) -> int:
        if self.at >= len(self.data):
            raise CannotAppend("the footer ends inside a value")
        self.at += 1
        return self.data[self.at - 1]

    def take(self, n: int) -> bytes:
        if n < 0 or self.at + n > len(self.data):
            raise CannotAppend("the footer ends inside a value")
        self.at += n
        return self.data[self.at - n : self.at]

    def varint(self) -> int:
        shift = result = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7
            if shift > 70:
                raise CannotAppend("a varint in the footer is too long")

    def zigzag(self) -> int:
        n = self.varint()
        return (n >> 1) ^ -(n & 1)

    def value(self, kind: int, depth: int) -> object:
        if depth > 64:
            raise CannotAppend("the footer is nested too deeply")
        if kind in (_TRUE, _FALSE):  # only as a field; its value is its type
            return None
        if kind == _I8:
            return self.byte()
        if kind in (_I16, _I32, _I64):
            return self.zigzag()
        if kind == _DOUBLE:
            return self.take(8)
        if kind == _BINARY:
            return self.take(self.varint())
        if kind == _UUID:
            return self.take(16)
        if kind in (_LIST, _SET):
            header = self.byte()
            size, element = header >> 4, header & 0x0F
            if size == 15:
                size = self.varint()
            return List(element, [self.element(element, depth + 1) for _ in range(size)])
        if kind == _MAP:
            size = self.varint()
            if not size:
                return Map(0, 0, [])
            types = self.byte()
            key, value = types >> 4, types & 0x0F
            return Map(
                key,
                value,
                [
                    (self.element(key, depth + 1), self.element(value, depth + 1))
                    for _ in range(size)
                ],
            )
        if kind == _STRUCT:
            return self.struct(depth + 1)
        raise CannotAppend(f"unknown Thrift type {kind} in the footer")

    def element(self, kind: int, depth: int) -> object:
        return self.byte() if kind == _BOOL_ELEMENT else self.value(kind, depth)

    def struct(self, depth: int = 0) -> Struct:
        fields: list[tuple[int, int, object]] = []
        last = 0
        while True:
            header = self.byte()
            if header == 0:
                return Struct(fields)
            delta, kind = header >> 4, header & 0x0F
            field_id = last + delta if delta else self.zigzag()
            fields.append((field_id, kind, self.value(kind, depth)))
            last = field_id


def decode(footer: bytes) -> Struct:
    """A footer's ``FileMetaData``, every field kept."""
    reader = _Reader(footer)
    metadata = reader.struct()
    if reader.at != len(footer):
        raise CannotAppend("the footer has bytes after its metadata")
    return metadata


def encode(value: Struct) -> bytes:
    out = bytearray()
    _struct(out, value)
    return bytes(out)


def _varint(out: bytearray, n: int) -> None:
    while True:
        if n < 0x80:
            out.append(n)
            return
        out.append(n & 0x7F | 0x80)
        n >>= 7


def _zigzag(out: bytearray, n: int) -> None:
    _varint(out, (n << 1) ^ (n >> 63))


def _value(out: bytearray, kind: int, value: object) -> None:
    if kind in (_TRUE, _FALSE):
        return
    if kind == _I8:
        assert isinstance(value, int)
        out.append(value)
    elif kind in (_I16, _I32, _I64):
        assert isinstance(value, int)
        _zigzag(out, value)
    elif kind in (_DOUBLE, _UUID):
        assert isinstance(value, bytes)
        out += value
    elif kind == _BINARY:
        assert isinstance(value, bytes)
        _varint(out, len(value))
        out += value
    elif kind in (_LIST, _SET):
        assert isinstance(value, List)
        size = len(value.items)
        if size < 15:
            out.append(size << 4 | value.element)
        else:
            out.append(0xF0 | value.element)
            _varint(out, size)
        for item in value.items:
            _element(out, value.element, item)
    elif kind == _MAP:
        assert isinstance(value, Map)
        _varint(out, len(value.items))
        if value.items:
            out.append(value.key << 4 | value.value)
        for key, item in value.items:
            _element(out, value.key, key)
            _element(out, value.value, item)
    elif kind == _STRUCT:
        assert isinstance(value, Struct)
        _struct(out, value)


def _element(out: bytearray, kind: int, value: object) -> None:
    if kind == _BOOL_ELEMENT:
        assert isinstance(value, int)
        out.append(value)
    else:
        _value(out, kind, value)


def _struct(out: bytearray, value: Struct) -> None:
    last = 0
    for field_id, kind, item in value.fields:
        delta = field_id - last
        if 0 < delta <= 15:
            out.append(delta << 4 | kind)
        else:
            out.append(kind)
            _zigzag(out, field_id)
        _value(out, kind, item)
        last = field_id
    out.append(0)


def read_footer(path: Path) -> tuple[Struct, int]:
    """A Parquet file's metadata and where its footer starts."""
    size = os.path.getsize(path)
    with path.open("rb") as file:
        if size < 12 or file.read(4) != MAGIC:
            raise CannotAppend(f"{path.name} is not a plain Parquet file")
        file.seek(size - 8)
        tail = file.read(8)
        length = int.from_bytes(tail[:4], "little")
        if tail[4:] != MAGIC or length > size - 12:
            raise CannotAppend(f"{path.name} has no plain Parquet footer (encrypted?)")
        file.seek(size - 8 - length)
        return decode(file.read(length)), size - 8 - length


def record_hashes(path: Path) -> None:
    """Put the SHA-256 of each row group's bytes into the footer of a Parquet file just
    written, so that the next append can trust the bytes it copies from it."""
    metadata, footer_at = read_footer(path)
    with path.open("rb+") as file:
        groups = _row_groups(metadata).items
        digests = [_digest(file, _group_range(_struct_of(group))) for group in groups]
        _set_hashes(metadata, digests)
        file.seek(footer_at)
        file.truncate()
        _write_footer(file, metadata)


def append_row_groups(source: Path, keep: int, tail: Path, destination: Path) -> None:
    """Write ``destination``: the first ``keep`` row groups of ``source`` as their bytes stand,
    then every row group of ``tail``, a Parquet file in the same schema; both with their row
    groups' hashes recorded. Raises ``CannotAppend`` (nothing is left written) when the files
    do not allow it or a kept row group's bytes no longer match their hash."""
    kept, _ = read_footer(source)
    added, added_footer = read_footer(tail)
    for metadata in (kept, added):
        if any(metadata.has(f) for f in _FILE_ENCRYPTION):
            raise CannotAppend("an encrypted footer")
    if encode(_schema(kept)) != encode(_schema(added)):
        raise CannotAppend("the two files' schemas differ")
    groups = _row_groups(kept)
    if not 0 <= keep <= len(groups.items):
        raise CannotAppend(f"the file has {len(groups.items)} row groups, not {keep}")
    copied = [_struct_of(group) for group in groups.items[:keep]]
    ranges = [_group_range(group) for group in copied]
    end = len(MAGIC)
    for start, size in ranges:
        if start != end:
            raise CannotAppend("the kept row groups do not follow one another")
        end = start + size
    digests = [*_hashes(kept)[:keep], *_hashes(added)]
    shift = end - len(MAGIC)  # the tail's bytes after its magic go where the copy ends
    appended = _row_groups(added)
    merged = [*copied, *(_moved(group, shift) for group in appended.items)]
    for ordinal, group in enumerate(merged):
        if group.has(_GROUP_ORDINAL):
            if ordinal > 0x7FFF:
                raise CannotAppend("more row groups than an ordinal can number")
            group.set(_GROUP_ORDINAL, ordinal)
    appended.items = list(merged)
    added.set(_FILE_NUM_ROWS, sum(_int(group.get(_GROUP_NUM_ROWS)) for group in merged))
    _set_hashes(added, digests)
    try:
        with source.open("rb") as old, tail.open("rb") as new, destination.open("wb") as out:
            out.write(MAGIC)
            for (start, size), digest in zip(ranges, digests, strict=False):
                old.seek(start)
                data = old.read(size)
                if hashlib.sha256(data).hexdigest() != digest:
                    raise CannotAppend("a row group to copy no longer matches its hash: damaged")
                out.write(data)
            new.seek(len(MAGIC))
            _copy(new, out, added_footer - len(MAGIC))
            _write_footer(out, added)
    except CannotAppend:
        destination.unlink()
        raise


def _write_footer(out: BinaryIO, metadata: Struct) -> None:
    footer = encode(metadata)
    out.write(footer + len(footer).to_bytes(4, "little") + MAGIC)


def _digest(file: BinaryIO, where: tuple[int, int]) -> str:
    file.seek(where[0])
    data = file.read(where[1])
    if len(data) != where[1]:
        raise CannotAppend("a Parquet file is shorter than its footer says")
    return hashlib.sha256(data).hexdigest()


def _hashes(metadata: Struct) -> list[str]:
    """The row groups' recorded hashes, one per row group."""
    pairs = metadata.get(_FILE_KEY_VALUES)
    for pair in pairs.items if isinstance(pairs, List) else []:
        value = pair.get(2) if isinstance(pair, Struct) and pair.get(1) == HASHES else None
        if isinstance(value, bytes):
            digests = value.decode("ascii", "replace").split(",")
            if len(digests) == len(_row_groups(metadata).items):
                return digests
    raise CannotAppend("the file records no hashes of its row groups")


def _set_hashes(metadata: Struct, digests: list[str]) -> None:
    value = ",".join(digests).encode()
    pairs = metadata.get(_FILE_KEY_VALUES)
    if not isinstance(pairs, List):
        pairs = List(_STRUCT, [])
        at = next((i for i, f in enumerate(metadata.fields) if f[0] > _FILE_KEY_VALUES), None)
        metadata.fields.insert(len(metadata.fields) if at is None else at, (5, _LIST, pairs))
    pairs.items = [
        pair for pair in pairs.items if not (isinstance(pair, Struct) and pair.get(1) == HASHES)
    ] + [Struct([(1, _BINARY, HASHES), (2, _BINARY, value)])]


def _copy(source: BinaryIO, out: BinaryIO, size: int) -> None:
    """The next ``size`` bytes of ``source`` into ``out``."""
    while size:
        data = source.read(min(size, 1 << 20))
        if not data:
            raise CannotAppend("a Parquet file is shorter than its footer says")
        out.write(data)
        size -= len(data)


def _schema(metadata: Struct) -> Struct:
    return Struct([f for f in metadata.fields if f[0] == _FILE_SCHEMA])


def _row_groups(metadata: Struct) -> List:
    groups = metadata.get(_FILE_ROW_GROUPS)
    if not isinstance(groups, List):
        raise CannotAppend("the footer has no row groups")
    return groups


def _struct_of(value: object) -> Struct:
    if not isinstance(value, Struct):
        raise CannotAppend("a row group that is not a struct")
    return value


def _columns(group: object) -> list[Struct]:
    columns = _struct_of(group).get(_GROUP_COLUMNS)
    if not isinstance(columns, List) or not all(isinstance(c, Struct) for c in columns.items):
        raise CannotAppend("a row group without column chunks")
    return columns.items  # type: ignore[return-value]


def _meta(chunk: Struct) -> Struct:
    meta = chunk.get(_CHUNK_META)
    if not isinstance(meta, Struct):
        raise CannotAppend("a column chunk without its metadata")
    if chunk.get(_CHUNK_FILE_PATH) or any(chunk.has(f) for f in _CHUNK_ENCRYPTION):
        raise CannotAppend("a column chunk in another file, or encrypted")
    return meta


def _group_range(group: Struct) -> tuple[int, int]:
    """Where a row group's bytes start, and how many there are: its column chunks, one after
    another, holding all their bytes (no page index or bloom filter elsewhere)."""
    at = None
    size = 0
    for chunk in _columns(group):
        meta = _meta(chunk)
        if any(chunk.has(f) for f in _CHUNK_INDEXES) or meta.has(_META_BLOOM_FILTER):
            raise CannotAppend("a row group has page indexes or bloom filters")
        length = _int(meta.get(_META_COMPRESSED_SIZE))
        if not length:  # a column of an empty row group may have no page at all
            continue
        pages = [_int(meta.get(f)) for f in (_META_DICTIONARY_PAGE, _META_DATA_PAGE) if meta.has(f)]
        start = min((page for page in pages if page), default=0)  # 0: none (an empty group)
        if start < len(MAGIC) or (at is not None and start != at + size):
            raise CannotAppend("a row group's column chunks do not follow one another")
        at = start if at is None else at
        size += length
    if at is None:
        raise CannotAppend("a row group without pages")
    return at, size


def _moved(group: object, shift: int) -> Struct:
    """A tail row group with every offset it holds moved by ``shift`` bytes."""
    group = _struct_of(group)
    _add(group, _GROUP_FILE_OFFSET, shift)
    for chunk in _columns(group):
        meta = _meta(chunk)
        for field_id in (_CHUNK_FILE_OFFSET, *_CHUNK_INDEXES):
            _add(chunk, field_id, shift)
        for field_id in (_META_DATA_PAGE, _META_INDEX_PAGE, _META_DICTIONARY_PAGE):
            _add(meta, field_id, shift)
        _add(meta, _META_BLOOM_FILTER, shift)
    return group


def _add(value: Struct, field_id: int, shift: int) -> None:
    """Move an offset; 0 stays: no offset in a file is 0 (its magic is there), so Arrow writes
    0 for one it does not set (a column chunk's ``file_offset``, an empty group's pages)."""
    if value.has(field_id) and _int(value.get(field_id)):
        value.set(field_id, _int(value.get(field_id)) + shift)


def _int(value: object) -> int:
    if not isinstance(value, int):
        raise CannotAppend("an offset or count in the footer is not an integer")
    return value
