"""How much memory snnc lets one piece of work take: checked before the work or the allocation starts, so
that an input too large for this machine is a clear error (exit 1), not a MemoryError, an OOM kill or
minutes of swapping. The compiler's own limits (source size, neurons, steps) live beside the checks that
use them; this is the one figure that depends on the machine."""

from __future__ import annotations

import os

MEMORY_FRACTION = 0.5  # of the machine's physical memory: one run may take at most this much
FALLBACK_BYTES = 8 << 30  # where the platform does not say how much memory there is


def memory_budget() -> int:
    """Bytes one simulation, one data set or one program's arrays may take."""
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):
        physical = 0
    return int(physical * MEMORY_FRACTION) if physical > 0 else FALLBACK_BYTES


def format_bytes(count: float) -> str:
    """1536 -> '1.5 KiB', 3.2e12 -> '2.9 TiB'."""
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(count) < 1024 or unit == "PiB":
            return f"{count:,.0f} {unit}" if unit == "bytes" else f"{count:,.1f} {unit}"
        count /= 1024
    return f"{count:.3g} EiB"  # (unreachable)
