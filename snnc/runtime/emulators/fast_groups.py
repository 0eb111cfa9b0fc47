"""A group of core.simulate (one population, or the populations of a recurrent cycle) as the fast kernels see
it: its populations side by side as the columns of one neuron vector, and the kernels' arguments built
from the network's tensors: the Drive from earlier groups, the Recurrence inside the group (per source
neuron the list of its nonzero weights, built from the weights of each call: ~0.1 ms for 246 x 246),
the per-neuron Neurons, and (T, B, N) arrays gathered from and split into populations."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from snnc.runtime.emulators import core, fast_events
from snnc.runtime.emulators.fast_arguments import Drive, Neurons, Noise, Recurrence, Spikes
from snnc.runtime.emulators.fast_buffers import EMPTY3, as_float32
from snnc.runtime.emulators.membrane_noise import MembraneNoise

Tensor = torch.Tensor
NO_RECURRENCE = Recurrence(np.zeros((0, 7), np.int64), np.zeros(1, np.int64), np.zeros(0, np.int32),
                           np.zeros(0, np.float32))
NO_SPIKES = Spikes(EMPTY3, np.zeros(1, np.int64), np.zeros(0, np.int64))


@dataclass(frozen=True)
class Layout:
    """A group's populations (in the plan's order) and their columns [first, stop) in its neuron vector."""

    names: tuple[str, ...]
    columns: dict[str, tuple[int, int]]
    size: int
    external: tuple[core.Edge, ...]  # projections into the group from earlier groups
    internal: tuple[core.Edge, ...]  # projections inside the group (recurrence)

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
                  tuple(e for e in incoming if e.source in group))


# Each external edge: (edge, its rows [first, stop) in the Drive's src and w, its target's columns).
Rows = list[tuple[core.Edge, int, int, int, int]]


def drive(plan: core.Plan, group: Layout, spikes: dict[str, Tensor], weights: dict[str, Tensor],
          batch: int) -> tuple[Drive, Rows]:
    """The group's event input from earlier groups as one source raster (T, B, P) with its CSR index and one
    weight matrix (P, N) (each source's row zero outside its target's columns), and where each edge lies
    in them."""
    n = group.size
    if not group.external:
        return Drive(*fast_events.index(torch.zeros(plan.steps, batch, 0)), np.zeros((0, n), np.float32), 0), []
    if len(group.external) == 1 and len(group.names) == 1:  # the common case: no copy, the delay in the kernel
        [e] = group.external
        p = plan.sizes[e.source]
        return (Drive(*fast_events.index(spikes[e.source]), as_float32(weights[e.name]), e.delay_steps),
                [(e, 0, p, 0, n)])
    rows, start = [], 0
    for e in group.external:
        rows.append((e, start, start + plan.sizes[e.source], *group.columns[e.target]))
        start += plan.sizes[e.source]
    if len(group.external) == 1:
        [e] = group.external
        src, delay = spikes[e.source], e.delay_steps
    else:
        src = torch.cat([core.shifted(spikes[e.source], e.delay_steps) for e in group.external], dim=2)
        delay = 0
    if len(group.names) == 1:  # several edges into one population: their weights stacked
        return Drive(*fast_events.index(src), as_float32(torch.cat([weights[e.name] for e in group.external])),
                     delay), rows
    w = np.zeros((start, n), np.float32)
    for e, r0, r1, c0, c1 in rows:
        w[r0:r1, c0:c1] = as_float32(weights[e.name])
    return Drive(*fast_events.index(src), w, delay), rows


# Each internal edge: (edge, the offset of its gradient in the kernels' flat grad_rec, its weights' shape).
RecurrentRows = list[tuple[core.Edge, int, tuple[int, int]]]


def recurrence(group: Layout, weights: dict[str, Tensor]) -> tuple[Recurrence, RecurrentRows, int]:
    """The projections inside the group as CSR lists of nonzero weights per source neuron, where each
    edge's gradient lies in the flat grad_rec, and grad_rec's size."""
    if not group.internal:
        return NO_RECURRENCE, [], 0
    edges = np.empty((len(group.internal), 7), np.int64)
    counts, cols, vals, rows = [], [], [], []
    first_row = offset = 0
    for k, e in enumerate(group.internal):
        (s0, s1), (q0, q1) = group.columns[e.source], group.columns[e.target]
        w = as_float32(weights[e.name])
        nonzero = w != 0
        counts.append(nonzero.sum(axis=1))
        cols.append((np.nonzero(nonzero)[1] + q0).astype(np.int32))  # row-major: grouped by source, ascending
        vals.append(w[nonzero])
        edges[k] = (s0, s1, q0, q1, e.delay_steps, first_row, offset)
        rows.append((e, offset, w.shape))
        first_row += s1 - s0
        offset += w.size
    start = np.zeros(first_row + 1, np.int64)
    np.cumsum(np.concatenate(counts), out=start[1:])
    return Recurrence(edges, start, np.concatenate(cols), np.concatenate(vals)), rows, offset


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
