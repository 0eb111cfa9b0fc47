"""The arguments of the fast kernels (fast_kernels.py, fast_adjoint.py) as named tuples of numpy arrays, as
Norse keeps neuron state and parameters: numba passes them by value at no measurable cost (measured on
the benchmark's goal row against 18-31 positional arguments: docs/runtime.md). Plain Python: the fast
path's orchestration builds them without importing numba."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Synapses(NamedTuple):
    """Sparse projections as lists of synapses per source row r (CSR): the synapses of row r are positions
    start[r]:start[r + 1], onto the group's columns col[...] (int32) with weights val[...] (float32); the
    gradient of the synapse at position q is grad_rec[offset + q] (the kernels' flat weight gradient)."""

    start: np.ndarray
    col: np.ndarray
    val: np.ndarray
    offset: int


class Drive(NamedTuple):
    """A group's input from earlier groups: src (T, B, P) source spikes with their CSR index (start, index:
    the sources that spiked in row r = t * B + b are index[start[r]:start[r + 1]]); the sources p < D of
    dense projections reach the group through w (D, N), their weight rows (in a group of several
    populations, each source's row is zero outside its target's columns: a row-add over the whole row, as
    restricting it to the target's columns stopped LLVM from vectorizing it and made the feed-forward path
    1.7x slower, measured), the sources p >= D of sparse projections through `sparse`, row p - D of its
    lists (so a sparse projection costs its synapses); delay: the steps from a source spike to its add."""

    src: np.ndarray
    start: np.ndarray
    index: np.ndarray
    w: np.ndarray
    delay: int
    sparse: Synapses


class Recurrence(NamedTuple):
    """The projections inside a group. edges (E, 7) int64, per projection: its source's columns [first,
    stop), its target's columns [first, stop), its delay in steps, the row of its first source neuron in
    `start` and the offset of the lists' gradients in the kernels' flat grad_rec. The synapses of source
    neuron p (group column) of edge e are val[start[r]:start[r + 1]] onto the group's columns col[...],
    r = edges[e, 5] + p - edges[e, 0] (a dense projection's every entry, a sparse one's synapses); the
    gradient of the synapse at position q is grad_rec[edges[e, 6] + q]. E = 0: a feed-forward group."""

    edges: np.ndarray
    start: np.ndarray
    col: np.ndarray
    val: np.ndarray


class Spikes(NamedTuple):
    """A group's observed spikes z (T, B, N) with their CSR index (start, index: the neurons that spiked in
    row r = t * B + b are index[start[r]:start[r + 1]]); z of shape (0, 0, 0): a group that does not spike."""

    z: np.ndarray
    start: np.ndarray
    index: np.ndarray


class Neurons(NamedTuple):
    """A group's per-neuron (N,) float32 coefficients (core.Coefficients; an LI population has v_th = +inf
    and v_reset = 0) and refractory periods in steps (int32)."""

    v_leak: np.ndarray
    v_th: np.ndarray
    v_reset: np.ndarray
    a_mem: np.ndarray
    a_syn: np.ndarray
    k_syn: np.ndarray
    refractory: np.ndarray


class Noise(NamedTuple):
    """A group's membrane noise (philox.py, drawn by the kernels: fast_noise.draw): segments (S, 4) int64, per
    population its columns [first, stop) and its Philox key (two 32-bit words); call the batch call (the
    last word of the counters); scale (N,) float32 the standard deviation of each neuron's noise. S = 0:
    none (scale zeros)."""

    segments: np.ndarray
    call: int
    scale: np.ndarray


class Outputs(NamedTuple):
    """What the forward writes, (T, B, N) each ((0, 0, 0): not kept): spikes z and membranes v."""

    z: np.ndarray
    v: np.ndarray


class Surrogate(NamedTuple):
    """The twin's spike derivative: SuperSpike of (V - v_th) / unit (unit: (N,) float32) with sharpness beta,
    V the membrane before the reset as the twin recomputes it, or `membrane` (T, B, N) where given (a
    membrane the substrate observed; (0, 0, 0): recomputed)."""

    unit: np.ndarray
    beta: np.float32
    membrane: np.ndarray


class LossGradients(NamedTuple):
    """The loss's gradient with respect to a group's spikes z (T, B, N), its activity (B,) and its
    recorded membrane v (T, B, N); (1, 1, N) zeros stand for absent z and v."""

    z: np.ndarray
    activity: np.ndarray
    v: np.ndarray


class Downstream(NamedTuple):
    """The gradient that flows back from a population of a later group: gx (T, B, M) the gradient of its
    input currents, wt (M, N) the weights to it transposed, delay their delay in steps (M = 0: none)."""

    gx: np.ndarray
    wt: np.ndarray
    delay: int
