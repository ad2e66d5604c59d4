"""A full disk, for real: a limit on the size of any file a process writes (``RLIMIT_FSIZE``,
what ``ulimit -f`` sets). A write past it fails with EFBIG, the way a write to a full disk
fails with ENOSPC: the same ``OSError`` from the same ``write``, with nothing mocked."""

from __future__ import annotations

import resource
import signal
from collections.abc import Iterator
from contextlib import contextmanager


def limit_file_size(limit_bytes: int) -> None:
    """Limit this process (and what it starts) to files of ``limit_bytes``; a write past it
    fails with EFBIG rather than killing the process with SIGXFSZ."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, hard))


@contextmanager
def file_size_limit(limit_bytes: int) -> Iterator[None]:
    """``limit_file_size`` in this process, for the ``with`` block only."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.getsignal(signal.SIGXFSZ)
    limit_file_size(limit_bytes)
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, handler)
