"""A group of core.simulate (one population, or the populations of a recurrent cycle) as the fast kernels see
it: its populations side by side as the columns of one neuron vector, and the kernels' arguments built
from the network's tensors: the Drive from earlier groups (dense projections' weight rows, sparse ones'
synapse lists), the Recurrence inside the group (per source neuron the list of its synapses, built from
the weights of each call: ~0.1 ms for 246 x 246), the per-neuron Neurons, and (T, B, N) arrays gathered
from and split into populations."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from snnc.compiler.ir.synapses import SparseWeights
from snnc.runtime.emulators import core, fast_events
from snnc.runtime.emulators.fast_arguments import Drive, Neurons, Noise, Recurrence, Spikes, Synapses
from snnc.runtime.emulators.fast_buffers import EMPTY3, as_float32
from snnc.runtime.emulators.membrane_noise import MembraneNoise

Tensor = torch.Tensor
NO_RECURRENCE = Recurrence(np.zeros((0, 7), np.int64), np.zeros(1, np.int64), np.zeros(0, np.int32),
                           np.zeros(0, np.float32))
NO_SPIKES = Spikes(EMPTY3, np.zeros(1, np.int64), np.zeros(0, np.int64))
NO_SYNAPSES = Synapses(np.zeros(1, np.int64), np.zeros(0, np.int32), np.zeros(0, np.float32), 0)


@dataclass(frozen=True)
class Layout:
    """A group's populations (in the plan's order) and their columns [first, stop) in its neuron vector."""

    names: tuple[str, ...]
    columns: dict[str, tuple[int, int]]
    size: int
    external: tuple[core.Edge, ...]  # projections into the group from earlier groups
    internal: tuple[core.Edge, ...]  # projections inside the group (recurrence)
    synapses: dict[str, SparseWeights]  # the sparse ones among them: their weights are vectors

    @property
    def recurrent(self) -> bool:
        return bool(self.internal)


def layout(plan: core.Plan, group: tuple[str, ...]) -> Layout:
    """The layout of one of the plan's groups."""
    columns, start = {}, 0
    for name in group:
        columns[name] = (start, start + plan.sizes[name])
        start += plan.sizes[name]
    incoming = [e for name in group for e in plan.incoming(name)]
    return Layout(tuple(group), columns, start, tuple(e for e in incoming if e.source not in group),
                  tuple(e for e in incoming if e.source in group),
                  {e.name: plan.synapses[e.name] for e in incoming if e.name in plan.synapses})


# Each external edge: (edge, its rows [first, stop) in the Drive's src, its target's columns [first, stop), and
# the position of its first synapse in the Drive's sparse lists, -1 for a dense projection: rows first..stop
# of w, dense projections' sources first).
Rows = list[tuple[core.Edge, int, int, int, int, int]]


def drive(plan: core.Plan, group: Layout, spikes: dict[str, Tensor], weights: dict[str, Tensor],
          batch: int) -> tuple[Drive, Rows]:
    """The group's event input from earlier groups as one source raster (T, B, P) with its CSR index, the
    dense projections' weight rows (D, N) (each source's row zero outside its target's columns) and the
    sparse projections' synapse lists (their sources after the dense ones), and where each edge lies in them."""
    n = group.size
    if not group.external:
        return Drive(*fast_events.index(torch.zeros(plan.steps, batch, 0)), np.zeros((0, n), np.float32), 0,
                     NO_SYNAPSES), []
    edges = sorted(group.external, key=lambda e: e.name in group.synapses)  # dense ones first, else in order
    rows, start, first = [], 0, 0
    for e in edges:
        synapses = group.synapses.get(e.name)
        at = -1 if synapses is None else first
        rows.append((e, start, start + plan.sizes[e.source], *group.columns[e.target], at))
        start += plan.sizes[e.source]
        first += 0 if synapses is None else synapses.nnz
    if len(edges) == 1:  # the common case: no copy, the delay in the kernel
        src, delay = spikes[edges[0].source], edges[0].delay_steps
    else:
        src = torch.cat([core.shifted(spikes[e.source], e.delay_steps) for e in edges], dim=2)
        delay = 0
    dense = [(e, r0, r1, c0, c1) for e, r0, r1, c0, c1, s in rows if s < 0]
    if not dense:
        w = np.zeros((0, n), np.float32)
    elif len(group.names) == 1:  # one population: the edges' weights stacked
        w = as_float32(weights[dense[0][0].name]) if len(dense) == 1 else as_float32(
            torch.cat([weights[e.name] for e, *_ in dense]))
    else:
        w = np.zeros((dense[-1][2], n), np.float32)
        for e, r0, r1, c0, c1 in dense:
            w[r0:r1, c0:c1] = as_float32(weights[e.name])
    sparse = [(group.synapses[e.name], weights[e.name], c0) for e, _, _, c0, _, s in rows if s >= 0]
    return Drive(*fast_events.index(src), w, delay, lists(sparse, 0)), rows


def lists(parts: list[tuple[SparseWeights, Tensor, int]], offset: int) -> Synapses:
    """The synapse lists of sparse projections, one after another: (synapses, weight vector, the group column
    of their target's first neuron) each; their gradients from `offset` on."""
    if not parts:
        return NO_SYNAPSES._replace(offset=offset)
    if len(parts) == 1 and parts[0][2] == 0:  # no copy of the structure
        synapses, w, _ = parts[0]
        return Synapses(synapses.indptr, synapses.indices, as_float32(w), offset)
    starts, first = [], 0
    for synapses, _, _ in parts:
        starts.append(synapses.indptr[:-1] + first)
        first += synapses.nnz
    return Synapses(np.concatenate(starts + [np.array([first], np.int64)]),
                    np.concatenate([(s.indices + c0).astype(np.int32) for s, _, c0 in parts]),
                    np.concatenate([as_float32(w) for _, w, _ in parts]), offset)


# Each internal edge: (edge, the position of its first synapse in the Recurrence's lists, its synapses, and the
# (pre, post) shape of a dense projection's weights or None for a sparse one's vector).
RecurrentRows = list[tuple[core.Edge, int, int, tuple[int, int] | None]]


def recurrence(group: Layout, weights: dict[str, Tensor], offset: int = 0) -> tuple[Recurrence, RecurrentRows, int]:
    """The projections inside the group as lists of synapses per source neuron (a dense projection's every
    entry: full rows; a sparse one's synapses), their gradients in the flat grad_rec from `offset` on, where
    each edge lies in the lists, and how many synapses they hold."""
    if not group.internal:
        return NO_RECURRENCE, [], 0
    edges = np.empty((len(group.internal), 7), np.int64)
    counts, cols, vals, rows = [], [], [], []
    first_row = first = 0
    for k, e in enumerate(group.internal):
        (s0, s1), (q0, q1) = group.columns[e.source], group.columns[e.target]
        synapses = group.synapses.get(e.name)
        w = as_float32(weights[e.name])
        if synapses is None:  # row-major: grouped by source, ascending
            counts.append(np.full(s1 - s0, q1 - q0, np.int64))
            cols.append(np.tile(np.arange(q0, q1, dtype=np.int32), s1 - s0))
        else:
            counts.append(np.diff(synapses.indptr))
            cols.append((synapses.indices + q0).astype(np.int32))
        vals.append(w.reshape(-1))
        edges[k] = (s0, s1, q0, q1, e.delay_steps, first_row, offset)
        rows.append((e, first, w.size, None if synapses is not None else w.shape))
        first_row += s1 - s0
        first += w.size
    start = np.zeros(first_row + 1, np.int64)
    np.cumsum(np.concatenate(counts), out=start[1:])
    return Recurrence(edges, start, np.concatenate(cols), np.concatenate(vals)), rows, first


_coefficient_cache: dict[tuple, tuple] = {}


def neurons(group: Layout, params: dict[str, core.NeuronParams], dt: float) -> Neurons:
    """The kernels' per-neuron arrays of a group (cached: emulators keep their parameter objects)."""
    members = tuple(params[name] for name in group.names)
    key = tuple(map(id, members))
    cached = _coefficient_cache.get(key)
    if cached is not None and all(a is b for a, b in zip(cached[0], members)) and cached[1] == dt:
        return cached[2]
    if len(_coefficient_cache) > 256:
        _coefficient_cache.clear()
    parts = [_arrays(p, dt) for p in members]
    arrays = Neurons(*(np.concatenate(column) for column in zip(*parts)))
    _coefficient_cache[key] = (members, dt, arrays)
    return arrays


def _arrays(p: core.NeuronParams, dt: float) -> Neurons:
    c = core.Coefficients.of(p, dt)
    spiking = p.spiking  # an LI neuron is a LIF neuron that never reaches its threshold (fast_kernels)
    v_th = p.v_th if spiking else torch.full_like(p.v_leak, float("inf"))
    v_reset = p.v_reset if spiking else torch.zeros_like(p.v_leak)
    return Neurons(*(as_float32(a) for a in (p.v_leak, v_th, v_reset, c.a_mem, c.a_syn, c.k_syn)),
                   np.full(p.v_leak.shape[0], p.refractory_steps, np.int32))


def noise(group: Layout, membrane_noise: MembraneNoise | None) -> Noise:
    """The kernels' Noise of a group: a segment (columns, Philox key) and scales for each of its populations
    that has membrane noise in this call."""
    scale = np.zeros(group.size, np.float32)
    segments = []
    for name in group.names:
        if membrane_noise is not None and name in membrane_noise.scales:
            c0, c1 = group.columns[name]
            segments.append((c0, c1, *membrane_noise.keys[name]))
            scale[c0:c1] = membrane_noise.scales[name]
    call = 0 if membrane_noise is None else membrane_noise.call
    return Noise(np.array(segments, np.int64).reshape(-1, 4), call, scale)


def gather(group: Layout, tensors: dict[str, Tensor] | None) -> np.ndarray | None:
    """The group's (T, B, N) array of per-population (T, B, n) tensors (zeros for those absent; a
    dimension of size 1 is kept only when every population's is 1), or None when none is given."""
    given = {name: tensors[name] for name in group.names if tensors is not None and name in tensors}
    if not given:
        return None
    if len(group.names) == 1:
        return as_float32(given[group.names[0]])
    t = max(a.shape[0] for a in given.values())
    b = max(a.shape[1] for a in given.values())
    out = np.zeros((t, b, group.size), np.float32)
    for name, a in given.items():
        c0, c1 = group.columns[name]
        out[:, :, c0:c1] = as_float32(a)
    return out


def observed_spikes(group: Layout, observed: dict[str, Tensor]) -> Spikes:
    """The group's observed (T, B, N) spikes with their CSR index (fast_events: a population's own raster is
    indexed once, for the next population's drive and for this)."""
    raster = observed[group.names[0]] if len(group.names) == 1 else torch.from_numpy(gather(group, observed))
    return Spikes(*fast_events.index(raster))


def split(group: Layout, array: np.ndarray) -> dict[str, np.ndarray]:
    """A group's (T, B, N) array as its populations' (T, B, n) arrays (itself for one population, else
    contiguous copies)."""
    if len(group.names) == 1:
        return {group.names[0]: array}
    return {name: np.ascontiguousarray(array[:, :, c0:c1]) for name, (c0, c1) in group.columns.items()}
