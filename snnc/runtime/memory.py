"""Process-wide allocator tuning, only when asked: `tune_memory()`, or SNNC_KEEP_MEMORY=1 in the
environment (read at the first simulation of the fast path). A library does not retune the process
behind its user's back; the `snnc train` and `snnc run` commands and the benchmarks ask.

Why it helps: every batch allocates fresh (T, B, N) outputs. With glibc's defaults, blocks over its
mmap threshold are unmapped when freed and smaller ones trimmed from the top of the heap, so the next
batch page-faults all of it back in (the kernel zeroes every page): that cost as much as the simulation
(measured, 2 cores: 12,800 -> 31,700 samples/s at batch 64 and 17,500 -> 27,000 at batch 1024, T = 50).
Tuned, blocks come from the heap (no mmap) and up to 2 GB of freed heap is kept for reuse; the process
keeps its peak memory."""

from __future__ import annotations

import ctypes
import os
import sys

ENVIRONMENT = "SNNC_KEEP_MEMORY"  # "1": tune at the first simulation
_tuned = False
_environment_read = False


def tune_memory() -> bool:
    """Let glibc keep freed memory for reuse instead of returning it to the OS (for this whole process,
    from now on). Returns whether it is tuned: False where the C library is not glibc."""
    global _tuned
    if _tuned or not sys.platform.startswith("linux"):
        return _tuned
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-1, 1 << 31)  # M_TRIM_THRESHOLD
        libc.mallopt(-4, 0)  # M_MMAP_MAX: no block is mmapped on its own
    except (OSError, AttributeError):  # not glibc: nothing to tune
        return False
    _tuned = True
    return True


def memory_tuned() -> bool:
    """Whether tune_memory() tuned the allocator in this process."""
    return _tuned


def tune_memory_if_asked() -> None:
    """tune_memory() if the environment asks (SNNC_KEEP_MEMORY=1); reads the environment once."""
    global _environment_read
    if not _environment_read:
        _environment_read = True
        if os.environ.get(ENVIRONMENT) == "1":
            tune_memory()
