"""Compiling, writing and loading programs without numpy's transparent huge pages: numpy asks the kernel for
huge pages (madvise) on every array of 4 MiB or more, and where the kernel then compacts memory on the fault
(transparent_hugepage/defrag `madvise`, as on the development machine) the passes' and the program checks'
many short-lived arrays cost system time: the unseen 1k -> 200k -> 100k network spent 11.2 s of system time
in route_synapses with them, 1.4 s without (its user time alike, 18 s), and loaded in 21 s with them, 9.3 s
without. `NUMPY_MADVISE_HUGEPAGE=0` does the same for a whole process."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from numpy._core import multiarray


@contextmanager
def without_huge_pages() -> Iterator[None]:
    """numpy's huge-page advice off for the block, then as it was (a no-op where numpy lacks the switch)."""
    switch = getattr(multiarray, "_set_madvise_hugepage", None)
    if switch is None:
        yield
        return
    previous = switch(False)
    try:
        yield
    finally:
        switch(previous)
