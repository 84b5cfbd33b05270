"""Freed memory kept for the process's next allocations (glibc's ``mallopt``).

By default glibc hands a freed block of 128 KB or more back to Linux (it was mapped on its
own), raising that bound to the largest block freed so far, and trims the top of its heap
beyond twice the bound. A run that allocates its arrays afresh, as a mining call does (the
conditional databases, the search's working arrays, the result store, the records and the
sort's scratch), then faults them in again page by page, each 4 KB page zeroed by the
kernel: 700-2,200 minor faults a call on the dense ladder's runs of 10-35 ms, 1-5 ms of
their CPU time (benchmarks/README.md, session 15). :func:`keep_freed_memory` keeps blocks
below MMAP_BELOW in the heap and up to TRIM_ABOVE free at its top, so that a later call of
the same process reuses them unfaulted. Larger arrays are still mapped on their own (NumPy
asks for huge pages on those) and returned when freed.

Process-wide and set once: only with glibc, and not where the user set any ``MALLOC_*``
variable (glibc's own tuning: their word wins).
"""
from __future__ import annotations

import ctypes
import os

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3   # glibc's malloc.h
MMAP_BELOW = 32 << 20    # blocks from this size on are mapped on their own (glibc's largest
                         # automatic bound)
TRIM_ABOVE = 256 << 20   # free memory at the heap's top kept up to this much
_applied = False


def _glibc():
    """The process's C library if it is glibc (it has ``mallopt``), else None."""
    try:
        libc = ctypes.CDLL(None)
    except OSError:
        return None
    return libc if hasattr(libc, "gnu_get_libc_version") else None


def keep_freed_memory() -> bool:
    """Sets glibc to keep freed memory for reuse (see the module), once per process.
    Returns whether it was set by this call."""
    global _applied
    if _applied:
        return False
    _applied = True
    if any(name.startswith("MALLOC_") for name in os.environ):
        return False
    libc = _glibc()
    if libc is None:
        return False
    return bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_BELOW)) and \
        bool(libc.mallopt(M_TRIM_THRESHOLD, TRIM_ABOVE))
