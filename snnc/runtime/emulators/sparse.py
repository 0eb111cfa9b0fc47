"""Sparse projections in the runtime: a sparse projection's weights are a vector, one entry per existing
synapse in the order of its SparseWeights (ir/synapses.py), so training, its optimizer and its checkpoints
hold only existing synapses and gradients exist only for them. What computes on dense matrices (the
general core, the optics, NIR) scatters the vector onto its (pre, post) matrix here, differentiably and up
to MAX_DENSE entries; the fast kernels run the synapse lists themselves (fast_groups)."""

from __future__ import annotations

import warnings

import numpy as np
import torch

from snnc.compiler.ir.synapses import SparseWeights, dense_entries_problem
from snnc.diagnostics import SnncError, error

Tensor = torch.Tensor
_flat: dict[int, tuple[SparseWeights, Tensor]] = {}  # id(synapses) -> (synapses, source * post + target)


def flat_index(synapses: SparseWeights) -> Tensor:
    """Each synapse's position in the row-major (pre, post) matrix (int64, (nnz,); cached per record)."""
    cached = _flat.get(id(synapses))
    if cached is not None and cached[0] is synapses:
        return cached[1]
    if len(_flat) > 64:
        _flat.clear()
    index = torch.from_numpy(synapses.sources.astype(np.int64) * synapses.post + synapses.indices)
    _flat[id(synapses)] = (synapses, index)
    return index


def densify(name: str, synapses: SparseWeights, w: Tensor) -> Tensor:
    """The (pre, post) matrix of a sparse projection's weight vector `w`, differentiable in `w`; SnncError
    (E484) when the matrix has more than MAX_DENSE entries."""
    problem = dense_entries_problem(name, synapses)
    if problem is not None:
        raise SnncError([error("E484", f"{problem}: the general simulation core computes on dense matrices; "
                               "networks of LIF and LI populations with event inputs run sparse (the fast path)")])
    return w.new_zeros(synapses.pre * synapses.post).index_put((flat_index(synapses),), w).view(synapses.shape)


def times_transposed(g: Tensor, synapses: SparseWeights, w: Tensor) -> Tensor:
    """g @ W.T for g (..., post) and the sparse projection's (pre, post) W with weights `w` (nnz,): the
    gradient that flows back through the projection to its sources, (..., pre), without a dense W."""
    with warnings.catch_warnings():  # torch calls its sparse CSR tensors beta; the structure is checked (IR)
        warnings.simplefilter("ignore", UserWarning)
        matrix = torch.sparse_csr_tensor(torch.from_numpy(synapses.indptr), torch.from_numpy(
            synapses.indices.astype(np.int64)), w.detach().to(g.dtype), size=synapses.shape, check_invariants=False)
    flat = g.reshape(-1, synapses.post)
    return (matrix @ flat.T.contiguous()).T.reshape(*g.shape[:-1], synapses.pre)
