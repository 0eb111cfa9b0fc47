"""A stable counting sort, in time linear in the keys (numba; numpy's stable argsort, O(n log n), where numba
is missing): the transpose of a sparse projection's synapses (SparseWeights.by_target) and the batch
router's grouping by hemisphere (targets/bss2_batch.py) run on it. 10M keys: ~0.1 s against numpy's ~3 s."""

from __future__ import annotations

import importlib.util

import numpy as np


def stable_order(key: np.ndarray, start: np.ndarray) -> np.ndarray:
    """The positions of `key` (integers in [0, K)) grouped by key, in their order within a key (int64);
    `start` (K + 1,): where each key's positions begin (the cumulative counts)."""
    if len(key) < 1 << 12 or importlib.util.find_spec("numba") is None:  # (small: not worth the kernel)
        return np.argsort(key, kind="stable").astype(np.int64)
    from snnc.compiler.ir.counting_kernel import counting_sort

    return counting_sort(key, start)


def distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values, ascending: np.unique by sorting (numpy 2.4's np.unique hashes integers, ~100x
    slower here on millions of them: 11M int64 14 s against 0.14 s)."""
    ordered = np.sort(np.asarray(values).ravel())
    return ordered[_run_starts(ordered)]


def distinct_counted(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """np.unique(values, return_inverse=True, return_counts=True) by sorting (see distinct): the distinct
    values ascending, each value's index among them, and how often each occurs."""
    values = np.asarray(values).ravel()
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    first = _run_starts(ordered)
    inverse = np.empty(len(values), np.int64)
    inverse[order] = np.cumsum(first) - 1
    starts = np.flatnonzero(first)
    return ordered[first], inverse, np.diff(np.append(starts, len(values)))


def _run_starts(ordered: np.ndarray) -> np.ndarray:
    """Where a sorted array's runs of equal values begin (bool, the first entry True)."""
    first = np.ones(len(ordered), bool)
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    return first
