"""The counting sort's numba kernel (counting.py imports it when first needed: numba's import takes ~0.5 s,
which commands that never sort many keys do not pay)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def counting_sort(key, start):  # pragma: no cover - compiled
    order = np.empty(len(key), np.int64)
    cursor = start[:-1].copy()
    for i in range(len(key)):
        order[cursor[key[i]]] = i
        cursor[key[i]] += 1
    return order
