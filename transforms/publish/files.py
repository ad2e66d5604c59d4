"""Writing files so that a crash never leaves half of one under its real name: fsync and
atomic links."""

from __future__ import annotations

import os
from pathlib import Path


def fsync_tree(directory: Path) -> None:
    """Flush every file of ``directory`` and the directory itself to disk."""
    for path in directory.iterdir():
        with path.open("rb") as handle:
            os.fsync(handle.fileno())
    fsync_dir(directory)


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def point(link: Path, target: Path) -> None:
    """Atomically make ``link`` a symlink to ``target``."""
    temporary = link.with_name(f".{link.name}.tmp")
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(target, target_is_directory=True)
    os.replace(temporary, link)
