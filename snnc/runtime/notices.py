"""Notices of a long wait: `notice_if_slow` says what is happening when a step takes longer than a
moment (compiling the kernels on a cold numba cache stalls the first batch ~14 s), and nothing when it
does not. The library prints nothing itself: the caller passes `notify` (the CLI prints to stderr)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

KERNELS = ("preparing the simulation kernels (numba compiles them on first use, ~15 s; later runs load them "
           "from its cache)")
AFTER = 1.5  # s: loading the kernels from numba's cache takes ~0.7 s, compiling them ~14 s


@contextmanager
def notice_if_slow(notify: Callable[[str], None] | None, message: str, after: float | None = None) -> Iterator[None]:
    """Call notify(message) once if the body is still running `after` seconds (default AFTER) in."""
    if notify is None:
        yield
        return
    timer = threading.Timer(AFTER if after is None else after, notify, (message,))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
