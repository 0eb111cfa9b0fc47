"""The fast path's threads: chunks of a batch (or of a raster's rows) run on a pool of threads, as the
numba kernels release the GIL. Threads that wait block instead of spinning, so busy shared cores cost
no more than their share."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

# Threads that run chunks (default: the cores this process may run on, at most 8); SNNC_THREADS overrides.
THREADS = int(os.environ.get("SNNC_THREADS", 0)) or min(len(os.sched_getaffinity(0)), 8)
MIN_CHUNK = 8  # samples: smaller chunks cost more in hand-over than they gain
_pool: ThreadPoolExecutor | None = None


def set_threads(threads: int) -> None:
    """Threads the fast kernels use from now on."""
    global THREADS, _pool
    THREADS = max(1, int(threads))
    if _pool is not None:
        _pool.shutdown()
        _pool = None


def chunks(size: int, least: int = MIN_CHUNK) -> list[tuple[int, int]]:
    """The ranges [lo, hi) that `size` items (samples, steps) are split into, one per thread at most and
    none smaller than `least`."""
    count = max(1, min(THREADS, size // least))
    return [(c * size // count, (c + 1) * size // count) for c in range(count)]


def parallel(kernel: Callable[..., None], ranges: list[tuple[int, int]], *args) -> None:
    """kernel(*args, c, lo, hi) for every chunk c = (lo, hi) of `ranges`, on the threads."""
    global _pool
    if len(ranges) == 1:
        kernel(*args, 0, *ranges[0])
        return
    if _pool is None:
        _pool = ThreadPoolExecutor(THREADS, thread_name_prefix="snnc-fast")
    for future in [_pool.submit(kernel, *args, c, lo, hi) for c, (lo, hi) in enumerate(ranges)]:
        future.result()
