"""Damage to the page archive, as a disk, a person or an attacker might do it: one body's
record in its pack rewritten (another frame under the same hash, or none at all)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from transforms.pages.archive import pack_record, read_pack


def frame_of(root: Path, sha256: str) -> bytes:
    """The stored zstd frame of one body (the first copy found)."""
    for path in sorted((root / "packs").glob("*.pack")):
        for sha, place in read_pack(path).records:
            if sha == sha256:
                return path.read_bytes()[place.offset : place.offset + place.length]
    raise FileNotFoundError(sha256)


def replace_frame(root: Path, sha256: str, frame: bytes | None) -> None:
    """Every copy of ``sha256`` in the archive's packs stored as ``frame`` (None: removed)."""
    found = False
    for path in sorted((root / "packs").glob("*.pack")):
        pack, data = read_pack(path), path.read_bytes()
        if all(sha != sha256 for sha, _ in pack.records):
            continue
        found = True
        records = [
            (sha, frame if sha == sha256 else data[place.offset : place.offset + place.length])
            for sha, place in pack.records
        ]
        path.write_bytes(
            b"".join(pack_record(sha, kept) for sha, kept in records if kept is not None)
        )
    if not found:
        raise FileNotFoundError(sha256)


DAMAGE: dict[str, Callable[[bytes], bytes | None]] = {
    "garbage": lambda frame: b"garbage",
    "truncated": lambda frame: frame[: len(frame) // 2],
    "missing": lambda frame: None,
}


def damage(root: Path, sha256: str, how: str) -> None:
    replace_frame(root, sha256, DAMAGE[how](frame_of(root, sha256)))
