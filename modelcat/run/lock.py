"""One refresh or rebuild per data directory at a time: an ``flock`` on ``DATA_DIR/.lock``,
which the kernel releases if the process dies. The file says who holds it.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from transforms.contract.layout import DataDir


class RefreshLocked(RuntimeError):
    """Another refresh holds this data directory."""


@contextmanager
def locked(data_dir: DataDir) -> Iterator[None]:
    data_dir.root.mkdir(parents=True, exist_ok=True)
    with data_dir.lock.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise RefreshLocked(
                f"{data_dir.root} is being refreshed by {holder}; try again when it is done"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} since {datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}\n")
        handle.flush()
        yield
