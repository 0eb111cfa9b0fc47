"""The sort-based replacements of np.unique (numpy 2.4 hashes integers, ~100x slower on millions)."""

import numpy as np
import pytest

from snnc.compiler.ir.counting import distinct, distinct_counted


@pytest.mark.parametrize("values", [[], [7], [3, 3], [5, -1, 5, 2, -1, 5], list(range(9, -1, -1))])
def test_distinct_and_distinct_counted_equal_np_unique(values):
    values = np.array(values, np.int64)
    keys, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    assert np.array_equal(distinct(values), keys)
    ours = distinct_counted(values)
    assert all(np.array_equal(a, b) for a, b in zip(ours, (keys, inverse, counts)))


def test_distinct_counted_by_hand():
    keys, inverse, counts = distinct_counted(np.array([4, 1, 4, 4, 0]))
    assert keys.tolist() == [0, 1, 4] and inverse.tolist() == [2, 1, 2, 2, 0] and counts.tolist() == [1, 1, 3]
    assert inverse.dtype == np.int64
