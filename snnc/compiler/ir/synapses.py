"""A projection's synapses and weights, in the one of two forms its connectivity gives it (edge attr `weights`):

- **dense** (`dense`, `from_file`): a float32 numpy array (pre, post); every entry is a synapse.
- **sparse** (`sparse(p)`, `one_to_one`): a `SparseWeights` record holding only the synapses that exist, in
  CSR by source (int32 target indices, sorted, no duplicates), so a projection costs its synapses, not its
  dense shape (1,000 x 1,000,000 at p = 0.01 is 10M synapses, not 10^9 entries).

A synapse's position in the CSR order is its **id**: every per-synapse array of a sparse projection (bss2
hardware weights and synapse rows, training's gradients and optimizer moments) is a vector aligned with
`values`; a dense projection's per-synapse arrays stay (pre, post) matrices. The functions below read either
form, so a pass asks "how many synapses", "which target neurons" without caring which it holds."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from snnc.compiler.ir.checks import Problem, array_problems
from snnc.compiler.ir.counting import stable_order
from snnc.compiler.ir.serialize import serializable

MAX_DENSE = 1 << 26  # entries a sparse projection may be densified to (NIR export, onn, the general core)


@serializable
@dataclass(frozen=True, eq=False)
class SparseWeights:
    """The existing synapses of a projection from `pre` source to `post` target neurons, in CSR by source:
    source i's synapses are the positions indptr[i]:indptr[i + 1] (int64, (pre + 1,), from 0 to nnz,
    non-decreasing), onto target neurons indices[...] (int32, (nnz,), strictly increasing within a source:
    sorted, no duplicates), with weights values[...] (float32, (nnz,), model units, finite). A synapse's
    position is its id, which every per-synapse array of the projection shares."""

    pre: int
    post: int
    indptr: np.ndarray
    indices: np.ndarray
    values: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return (self.pre, self.post)

    @property
    def nnz(self) -> int:
        return int(len(self.indices))

    @cached_property
    def sources(self) -> np.ndarray:
        """The source neuron of every synapse (int32, (nnz,); computed once)."""
        return np.repeat(np.arange(self.pre, dtype=np.int32), np.diff(self.indptr))

    @cached_property
    def by_target(self) -> tuple[np.ndarray, np.ndarray]:
        """(colptr int64 (post + 1,), ids int64 (nnz,)): the synapses into target neuron j are
        ids[colptr[j]:colptr[j + 1]], by source ascending (the transpose, computed once)."""
        colptr = np.zeros(self.post + 1, np.int64)
        np.cumsum(np.bincount(self.indices, minlength=self.post), out=colptr[1:])
        return colptr, stable_order(self.indices, colptr)

    def into(self, start: int, stop: int) -> np.ndarray:
        """The ids of the synapses into target neurons [start, stop), by target, then source."""
        colptr, ids = self.by_target
        return ids[colptr[start]:colptr[stop]]

    def with_values(self, values: np.ndarray) -> SparseWeights:
        """The same synapses with other weights (float32, (nnz,)), sharing what was computed of the synapses."""
        other = SparseWeights(self.pre, self.post, self.indptr, self.indices, np.asarray(values, np.float32))
        other.__dict__.update((k, v) for k, v in self.__dict__.items() if k in ("sources", "by_target"))
        return other

    def to_dense(self, values: np.ndarray | None = None) -> np.ndarray:
        """The (pre, post) matrix: the weights (or `values`, aligned with the synapses) where synapses exist,
        0 elsewhere."""
        dense = np.zeros(self.shape, np.result_type(self.values if values is None else values))
        dense[self.sources, self.indices] = self.values if values is None else values
        return dense

    def mask(self) -> np.ndarray:
        """bool (pre, post): where synapses exist."""
        exists = np.zeros(self.shape, bool)
        exists[self.sources, self.indices] = True
        return exists

    @classmethod
    def from_dense(cls, weights: np.ndarray, mask: np.ndarray) -> SparseWeights:
        """The synapses of `mask` (bool (pre, post)) with their weights from `weights`."""
        rows, cols = np.nonzero(mask)  # row-major: by source, targets ascending
        indptr = np.zeros(mask.shape[0] + 1, np.int64)
        np.cumsum(np.bincount(rows, minlength=mask.shape[0]), out=indptr[1:])
        return cls(int(mask.shape[0]), int(mask.shape[1]), indptr, cols.astype(np.int32),
                   np.asarray(weights, np.float32)[rows, cols])

    def problems(self) -> list[Problem]:
        """indptr from 0 to nnz, never falling; indices within post and increasing within each source;
        finite float32 values, one per synapse."""
        problems = [(key, f"must be >= 0, got {getattr(self, key)}") for key in ("pre", "post")
                    if getattr(self, key) < 0]
        problems = problems or array_problems(self.indptr, "indptr", np.int64, (self.pre + 1,))
        if problems:
            return problems
        nnz = int(self.indptr[-1])
        if self.indptr[0] != 0 or np.any(np.diff(self.indptr) < 0):
            return [("indptr", f"must rise from 0 to the {nnz:,} synapses, never falling")]
        problems = array_problems(self.indices, "indices", np.int32, (nnz,))
        problems += array_problems(self.values, "values", np.float32, (nnz,))
        if problems or not nnz:
            return problems
        if self.indices.min() < 0 or self.indices.max() >= self.post:
            return [("indices", f"values from {self.indices.min()} to {self.indices.max()}; they must lie in "
                     f"[0, {self.post - 1}] (the target neurons)")]
        starts = np.zeros(nnz, bool)
        starts[self.indptr[:-1][self.indptr[:-1] < nnz]] = True
        if not np.all((np.diff(self.indices.astype(np.int64)) > 0) | starts[1:]):
            return [("indices", "must increase within each source neuron (sorted, no synapse twice)")]
        return []


Weights = np.ndarray | SparseWeights


def is_sparse(weights: Weights) -> bool:
    return isinstance(weights, SparseWeights)


def shape_of(weights: Weights) -> tuple[int, int]:
    return tuple(weights.shape)


def synapse_count(weights: Weights) -> int:
    """The synapses that exist: pre x post of a dense projection, nnz of a sparse one."""
    return weights.nnz if is_sparse(weights) else int(weights.shape[0]) * int(weights.shape[1])


def values_of(weights: Weights) -> np.ndarray:
    """The weights of the existing synapses: the (pre, post) matrix, or the (nnz,) vector."""
    return weights.values if is_sparse(weights) else weights


def per_target(weights: Weights) -> np.ndarray:
    """Synapses into each target neuron (int64, (post,))."""
    if is_sparse(weights):
        return np.bincount(weights.indices, minlength=weights.post).astype(np.int64)
    return np.full(weights.shape[1], weights.shape[0], np.int64)


def per_source(weights: Weights) -> np.ndarray:
    """Synapses from each source neuron (int64, (pre,))."""
    if is_sparse(weights):
        return np.diff(weights.indptr)
    return np.full(weights.shape[0], weights.shape[1], np.int64)


def same_synapses(a: Weights, b: Weights) -> bool:
    """Whether two weights have the same synapses (shape, and a sparse projection's which pairs)."""
    if is_sparse(a) != is_sparse(b) or shape_of(a) != shape_of(b):
        return False
    return not is_sparse(a) or (np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices))


def dense_entries_problem(name: str, weights: Weights, limit: int = MAX_DENSE) -> str | None:
    """Why a sparse projection cannot be densified (its pre x post matrix over `limit` entries), or None."""
    pre, post = weights.shape
    if pre * post <= limit:
        return None
    return (f"projection '{name}' has {synapse_count(weights):,} synapses stored sparse, but here it needs its dense "
            f"{pre:,} x {post:,} matrix of {pre * post:,} entries; at most {limit:,} are made dense")


def as_dense(weights: Weights) -> tuple[np.ndarray, np.ndarray | None]:
    """(the (pre, post) matrix, bool mask of the existing synapses or None for dense): for what computes on
    dense matrices (optics, NIR). The caller checks `dense_entries_problem` first."""
    if is_sparse(weights):
        return weights.to_dense(), weights.mask()
    return weights, None
