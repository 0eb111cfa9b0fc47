"""A sparse projection (its synapses only, ir/synapses.py) and the same projection held dense (its (pre, post)
matrix, zero where no synapse) are the same network: equal spikes and, for the synapses that exist, equal
gradients, on the fast path and on the general core, feed-forward and recurrent."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from snnc.compiler.ir.synapses import SparseWeights
from snnc.runtime.emulators import sparse
from snnc.runtime.emulators.base import emulator_for
from snnc.runtime.in_the_loop import in_the_loop
from tests.conftest import timed_network
from tests.runtime.conftest import compile_text
from tests.runtime.test_fast_lif import batch

# Sparse into, within and out of the hidden layer (one sign-constrained), next to a dense one.
SPARSE = timed_network("sparse", "20 ms", """\
    input  x[16] : latency(t_max = 12 ms)
    pop    h[12] : LIF(tau_mem = 5 ms, tau_syn = 3 ms, v_th = 0.4, refractory = 1 ms)
    pop    g[6]  : LIF(tau_mem = 4 ms, tau_syn = 3 ms, v_th = 0.3)
    pop    o[3]  : LI(tau_mem = 4 ms, tau_syn = 3 ms)
    proj x -> h : sparse(p = 0.4, init = normal(0.3, 0.3))
    proj h -> h : sparse(p = 0.3, init = normal(0, 0.3)) delay 1 ms
    proj x -> g : dense(init = normal(0.1, 0.2))
    proj h -> g : sparse(p = 0.5, init = normal(0.2, 0.2)) positive
    proj g -> o : sparse(p = 0.6, init = normal(0.1, 0.5))
    proj h -> o : dense(init = normal(0, 0.3))
    output o : max_membrane""")
SPARSE_KEYS = ("x->h", "h->h", "h->g", "g->o")
DENSE = SPARSE.replace("sparse(p = 0.4,", "dense(").replace("sparse(p = 0.3,", "dense(").replace(
    "sparse(p = 0.5,", "dense(").replace("sparse(p = 0.6,", "dense(")


def the_pair(fast: bool):
    """The sparse program's emulator with its weights, and the dense program's with the same weights as
    (pre, post) matrices."""
    sparse_program, dense_program = compile_text(SPARSE), compile_text(DENSE)
    sparse, dense = emulator_for(sparse_program), emulator_for(dense_program)
    sparse.fast = dense.fast = fast
    assert sparse.fast_path() == dense.fast_path() == fast
    synapses = {key: sparse_program.ir.edge_attrs(key)["weights"] for key in SPARSE_KEYS}
    assert all(isinstance(s, SparseWeights) and 0 < s.nnz < s.pre * s.post for s in synapses.values())
    assert not isinstance(dense_program.ir.edge_attrs("x->h")["weights"], SparseWeights)
    weights = sparse.initial_weights()
    assert all(weights[key].shape == (synapses[key].nnz,) for key in SPARSE_KEYS)  # one weight per synapse
    matrices = {key: torch.from_numpy(synapses[key].to_dense(w.numpy())) if key in synapses else w.clone()
                for key, w in weights.items()}
    return sparse_program, sparse, weights, dense, matrices, synapses


@pytest.mark.parametrize("fast", [True, False], ids=["fast_path", "general_core"])
def test_a_sparse_network_has_the_spikes_of_the_same_network_dense(fast):
    program, sparse, weights, dense, matrices, _ = the_pair(fast)
    stimulus = batch(program, 24, seed=4)
    a, b = sparse.observe(stimulus, weights), dense.observe(stimulus, matrices)
    assert float(b.spikes["h"].sum()) > 50 and float(b.spikes["g"].sum()) > 20  # the sparse paths carry spikes
    for name in b.spikes:
        assert torch.equal(a.spikes[name], b.spikes[name]), name
    for name in b.membrane:  # the dense rows add exact zeros where the sparse lists have no synapse
        torch.testing.assert_close(a.membrane[name], b.membrane[name], rtol=0, atol=1e-6)
    torch.testing.assert_close(a.scores, b.scores, rtol=0, atol=1e-6)


@pytest.mark.parametrize("fast", [True, False], ids=["fast_path", "general_core"])
def test_a_sparse_network_has_the_gradients_of_the_same_network_dense_at_its_synapses(fast):
    program, sparse, weights, dense, matrices, synapses = the_pair(fast)
    stimulus = batch(program, 16, seed=2)
    labels = torch.arange(16) % 3
    results = []
    for emulator, w in ((sparse, weights), (dense, matrices)):
        w = {k: v.clone().requires_grad_(True) for k, v in w.items()}
        scores, activity = in_the_loop(emulator, emulator.make_twin(), stimulus, w)
        loss = torch.nn.functional.cross_entropy(5 * scores, labels) + 1e-2 * torch.relu(activity - 2.0).square().mean()
        results.append(dict(zip(sorted(w), torch.autograd.grad(loss, [w[k] for k in sorted(w)]))))
    of_sparse, of_dense = results
    for key, g in of_dense.items():
        scale = float(g.abs().max())
        assert scale > 0, key
        if key in synapses:  # the sparse gradient is the dense one read at the synapses
            s = synapses[key]
            assert of_sparse[key].shape == (s.nnz,)
            expected = g[torch.from_numpy(s.sources).long(), torch.from_numpy(s.indices).long()]
        else:
            expected = g
        torch.testing.assert_close(of_sparse[key], expected, rtol=0, atol=1e-5 * scale)


def test_a_sparse_projection_too_large_to_make_dense_is_an_error_where_the_core_needs_it():
    """Analog (`current`) inputs run on the general core, which computes on dense matrices: 9,000 x 8,000 =
    72M entries is past MAX_DENSE (2^26 = 67,108,864), one entry fewer per row fits."""
    from snnc.compiler.ir.synapses import MAX_DENSE, dense_entries_problem
    from snnc.diagnostics import SnncError
    from snnc.runtime.emulators.base import Stimulus

    text = SPARSE.replace("x[16] : latency(t_max = 12 ms)", "x[9000] : current").replace(
        "h[12]", "h[8000]").replace("sparse(p = 0.4, init = normal(0.3, 0.3))", "sparse(p = 0.0001)")
    program = compile_text(text)
    emulator = emulator_for(program)
    assert not emulator.fast_path()
    synapses = program.ir.edge_attrs("x->h")["weights"]
    assert dense_entries_problem("x->h", synapses) is not None

    def empty(pre, post):
        return SparseWeights(pre, post, np.zeros(pre + 1, np.int64), np.zeros(0, np.int32), np.zeros(0, np.float32))

    assert MAX_DENSE == 2**26 and dense_entries_problem("a", empty(2**13, 2**13)) is None  # at the limit
    assert dense_entries_problem("a", empty(2**13, 2**13 + 1)) == (  # one row of 8,192 past it
        "projection 'a' has 0 synapses stored sparse, but here it needs its dense 8,192 x 8,193 matrix of "
        "67,117,056 entries; at most 67,108,864 are made dense")
    stimulus = Stimulus(1, program.ir.header.steps, {}, {"x": torch.zeros(1, 9000)})
    with pytest.raises(SnncError) as info:
        emulator.observe(stimulus, emulator.initial_weights())
    assert "error[E484]: projection 'x->h' has" in info.value.render() and "72,000,000 entries" in info.value.render()


def test_a_records_flat_index_is_computed_once_and_never_another_records():
    """sparse.flat_index: each synapse's place in the (pre, post) matrix, kept per record (the same tensor on
    every call), and a record never gets the index of another that had its id before it."""
    mask = np.array([[1, 0, 1], [0, 0, 0], [0, 1, 1]], bool)
    synapses = SparseWeights.from_dense(np.arange(9, dtype=np.float32).reshape(3, 3), mask)
    index = sparse.flat_index(synapses)
    assert index.tolist() == [0, 2, 7, 8] and index.dtype == torch.int64
    assert sparse.flat_index(synapses) is index
    other = SparseWeights.from_dense(np.ones((3, 3), np.float32), ~mask)
    sparse._flat[id(other)] = (synapses, index)  # as if `other` took the id of a record now gone
    assert sparse.flat_index(other).tolist() == [1, 3, 4, 5, 6]
