"""Small checks the records' `problems()` methods share. A problem is a (key, phrase) pair, the key
relative to the record ("hw_weights"), the phrase saying what is wrong and what was found."""

from __future__ import annotations

from typing import Any

import numpy as np

Problem = tuple[str, str]


def array_problems(array: Any, key: str, dtype: Any = None, shape: tuple | None = None) -> list[Problem]:
    """An array of numbers (of `dtype` and `shape` when given), all finite."""
    if not isinstance(array, np.ndarray):
        return [(key, f"expected an array, got {type(array).__name__}")]
    if dtype is not None and array.dtype != np.dtype(dtype):
        return [(key, f"expected {np.dtype(dtype)} values, got {array.dtype}")]
    if array.dtype.kind not in "biuf":
        return [(key, f"expected numbers, got {array.dtype} values")]
    if shape is not None and array.shape != tuple(shape):
        return [(key, f"expected shape {list(shape)}, got {list(array.shape)}")]
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        return [(key, f"{int(array.size - np.isfinite(array).sum()):,} values are not finite")]
    return []


def within(array: np.ndarray, key: str, low: float, high: float, why: str = "") -> list[Problem]:
    """Every value of `array` in [low, high]."""
    if array.size and (array.min() < low or array.max() > high):
        return [(key, f"values from {array.min()} to {array.max()}; they must lie in [{low}, {high}]{why}")]
    return []


def at_least(record: Any, keys: tuple[str, ...], low: float) -> list[Problem]:
    """Scalar fields of `record` that are below `low`."""
    return [(key, f"must be >= {low}, got {getattr(record, key)}") for key in keys if getattr(record, key) < low]


def unique_rows(columns: list[np.ndarray], key: str, what: str) -> list[Problem]:
    """The rows of these equal-length columns are distinct."""
    if not columns or not len(columns[0]):
        return []
    rows = np.stack([np.asarray(c, np.int64) for c in columns], axis=1)
    distinct = len(np.unique(rows, axis=0))
    return [] if distinct == len(rows) else [(key, f"{len(rows) - distinct:,} entries repeat {what}")]
