"""The allocator a run's Arrow memory comes from."""

from __future__ import annotations

import contextlib

import pyarrow as pa


def return_freed_memory() -> None:
    """Arrow's default allocator (mimalloc) keeps what it frees; jemalloc gives it back to
    the system, which took ~100 MB off the peak of a 10,000-page refresh. By default
    jemalloc waits a second before giving pages back, and pages freed by one step then
    still count when the next step peaks: returning them at once took 90 MB off the peak of
    a 50,000-model rebuild."""
    with contextlib.suppress(NotImplementedError):  # builds of pyarrow without jemalloc
        pa.set_memory_pool(pa.jemalloc_memory_pool())
        pa.jemalloc_set_decay_ms(0)
