"""The fast path of the spiking core: feed-forward networks of LIF and LI populations with event inputs,
in float32, run by event-driven numba kernels (fast_kernels.py) instead of core.simulate's per-step
torch loop; the twin's backward is a hand-written adjoint (backpropagation through time) of the same
kernels, wrapped as a torch.autograd.Function.

Semantics are core.simulate's (docs/runtime.md): same update order, same reset and refractory rules,
same noise tensors (drawn by the emulator and passed in). What differs is only the float32 rounding of
each step's summed input rows (the core sums them in a matmul): membranes agree to ~1e-6 of the
threshold, and spikes are equal unless a membrane lands within that of the threshold. The adjoint
equals autograd through core.simulate with the SuperSpike surrogate, observed spikes and detached
reset, to float32 rounding (tests/runtime/test_fast_lif.py).

`unsupported(...)` says why a network does not qualify (recurrence, AdEx, analog inputs, float64,
numba missing); the emulators and the twin then run the general core.

This module orchestrates (per population: its drive, coefficients, outputs, the kernel on chunks of
the batch) and holds the autograd Function; beside it, by job: fast_kernels.py (the numba kernels),
fast_events.py (the event index of a raster, cached), fast_buffers.py (the output buffer pool),
fast_threads.py (the thread pool and chunking). Allocator tuning is opt-in (snnc.runtime.memory)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch

from snnc.runtime import memory
from snnc.runtime.emulators import core, fast_buffers, fast_events
from snnc.runtime.emulators.fast_buffers import EMPTY3, as_float32, zeros
from snnc.runtime.emulators.fast_threads import chunks, parallel

try:  # numba is a dependency; without it (an unusual platform) everything runs on the general core
    from snnc.runtime.emulators import fast_kernels
except ImportError as exc:  # pragma: no cover - exercised only where numba cannot be installed
    fast_kernels, NUMBA_MISSING = None, str(exc)
else:
    NUMBA_MISSING = ""

Tensor = torch.Tensor
_warned = False


def _forward(drive, neurons, noise, forced, outputs, _chunk: int, lo: int, hi: int) -> None:
    fast_kernels.forward(drive, neurons, noise, forced, outputs, lo, hi)


def _adjoint(drive, neurons, observed, surrogate, loss, down, grad_x, grad_w, chunk: int, lo: int, hi: int) -> None:
    # each chunk accumulates into its own grad_w
    fast_kernels.adjoint(drive, neurons, observed, surrogate, loss, down, grad_x, grad_w[chunk], lo, hi)


def unsupported(plan: core.Plan, params: dict[str, core.NeuronParams], dtype: torch.dtype) -> str | None:
    """Why the fast path cannot run this network, or None when it can."""
    if dtype != torch.float32:
        return f"dtype {dtype} (the fast path is float32)"
    for group in plan.groups:
        if len(group) > 1 or any(e.source == group[0] for e in plan.incoming(group[0])):
            return f"recurrent populations {', '.join(group)}"
        if params[group[0]].kind not in ("lif", "li") or params[group[0]].needs_core():
            return f"population '{group[0]}' is {params[group[0]].needs_core() or params[group[0]].kind}"
    if any(e.analog for e in plan.edges):
        return "an analog (current/intensity) input"
    if fast_kernels is None:
        _warn_missing()
        return f"numba is not available ({NUMBA_MISSING})"
    return None


def _warn_missing() -> None:
    global _warned
    if not _warned:
        warnings.warn(f"numba cannot be imported ({NUMBA_MISSING}): the emulators run on the general (slower) "
                      "core", RuntimeWarning, stacklevel=3)
        _warned = True


Rows = list[tuple[core.Edge, int, int]]  # each incoming edge and its first and last row in the drive's src and w


def _drive(plan: core.Plan, name: str, spikes: dict[str, Tensor], weights: dict[str, Tensor],
           batch: int) -> tuple[fast_kernels.Drive, Rows]:
    """A population's event inputs as one source raster (T, B, P) with its CSR index and one weight matrix
    (P, N), and where each incoming edge lies in them."""
    incoming = plan.incoming(name)
    n = plan.sizes[name]
    if not incoming:
        return fast_kernels.Drive(*fast_events.index(torch.zeros(plan.steps, batch, 0)), np.zeros((0, n), np.float32),
                                  0), []
    if len(incoming) == 1:  # the common case: no copy, the delay applied in the kernel
        [e] = incoming
        return (fast_kernels.Drive(*fast_events.index(spikes[e.source]), as_float32(weights[e.name]), e.delay_steps),
                [(e, 0, plan.sizes[e.source])])
    rows, start = [], 0
    for e in incoming:
        rows.append((e, start, start + plan.sizes[e.source]))
        start += plan.sizes[e.source]
    src = torch.cat([core.shifted(spikes[e.source], e.delay_steps) for e in incoming], dim=2)
    w = torch.cat([weights[e.name] for e in incoming])
    return fast_kernels.Drive(*fast_events.index(src), as_float32(w), 0), rows


_coefficient_cache: dict[int, tuple] = {}


def _coefficients(p: core.NeuronParams, dt: float) -> fast_kernels.Neurons:
    """The kernels' per-neuron arrays of a population (cached: emulators keep their parameter objects)."""
    cached = _coefficient_cache.get(id(p))
    if cached is not None and cached[0] is p and cached[1] == dt:
        return cached[2]
    if len(_coefficient_cache) > 256:
        _coefficient_cache.clear()
    _coefficient_cache[id(p)] = (p, dt, _arrays(p, dt))
    return _coefficient_cache[id(p)][2]


def _arrays(p: core.NeuronParams, dt: float) -> fast_kernels.Neurons:
    c = core.Coefficients.of(p, dt)
    spiking = p.spiking  # an LI neuron is a LIF neuron that never reaches its threshold (fast_kernels)
    v_th = p.v_th if spiking else torch.full_like(p.v_leak, float("inf"))
    v_reset = p.v_reset if spiking else torch.zeros_like(p.v_leak)
    return fast_kernels.Neurons(*(as_float32(a) for a in (p.v_leak, v_th, v_reset, c.a_mem, c.a_syn, c.k_syn)),
                                int(p.refractory_steps))


def simulate(plan: core.Plan, params: dict[str, core.NeuronParams], weights: dict[str, Tensor],
             events: dict[str, Tensor], noise: dict[str, Tensor] | None = None,
             forced: dict[str, Tensor] | None = None, run: tuple[str, ...] | None = None,
             membranes: tuple[str, ...] | None = None) -> core.Trace:
    """core.simulate with the step-function spike (the emulators' forward), on the fast kernels.
    `forced[population]` (T, B, N) replaces that population's threshold crossings by given spikes (the
    twin's replay); `run` limits the simulation to these populations (their sources are in `events`);
    `membranes` limits the recorded membranes to these populations (None: all), which saves writing a
    (T, B, N) trace per population nobody reads (inference needs the readout's only)."""
    memory.tune_memory_if_asked()
    T = plan.steps
    batch = next(iter(events.values())).shape[1]
    spikes: dict[str, Tensor] = dict(events)
    membrane: dict[str, Tensor] = {}
    for (name,) in plan.groups:
        if run is not None and name not in run:
            continue
        p, n = params[name], plan.sizes[name]
        drive, _ = _drive(plan, name, spikes, weights, batch)
        z = fast_buffers.POOL.empty((T, batch, n)) if p.spiking else EMPTY3
        recorded = membranes is None or name in membranes
        v = fast_buffers.POOL.empty((T, batch, n)) if recorded else EMPTY3
        parallel(_forward, chunks(batch), drive, _coefficients(p, plan.dt),
                 zeros(n) if noise is None or name not in noise else as_float32(noise[name]),
                 EMPTY3 if forced is None or name not in forced else as_float32(forced[name]),
                 fast_kernels.Outputs(z, v))
        if p.spiking:
            spikes[name] = torch.from_numpy(z)
        if recorded:
            membrane[name] = torch.from_numpy(v)
    return _Trace(spikes={k: s for k, s in spikes.items() if k in params and params[k].spiking},
                  membrane=membrane)


def _activity(spikes: dict[str, Tensor], batch: int) -> Tensor:
    """core.Trace.activity: (B,) spikes per sample over the spiking populations."""
    return sum((fast_events.spikes_per_sample(z) for z in spikes.values()), torch.zeros(batch))


class _Trace(core.Trace):
    """core.Trace whose activity counts spikes from the event index where there is one."""

    def activity(self) -> Tensor:
        batch = next(iter(self.membrane.values())).shape[1]
        return _activity(self.spikes, batch)


class _Replay(torch.autograd.Function):
    """forward(job, *weights) -> (membrane, spikes, activity) of the output population as the twin replays
    them (spikes: the observed ones); backward: the adjoint of every population, in reverse order."""

    @staticmethod
    def forward(ctx, job: _ReplayJob, *weights: Tensor):
        w = dict(zip(job.names, weights))
        out = job.output
        trace = simulate(job.plan, job.params, w, job.sources, forced=job.observed, run=(out,))
        ctx.job, ctx.weights = job, w
        spikes = trace.spikes.get(out, torch.zeros(0))
        activity = _activity(job.observed, job.batch)
        return trace.membrane[out], spikes, activity

    @staticmethod
    def backward(ctx, grad_v: Tensor | None, grad_z: Tensor | None, grad_activity: Tensor | None):
        job, weights = ctx.job, ctx.weights
        plan, T, batch = job.plan, job.plan.steps, job.batch
        grad_spikes: dict[str, Tensor] = {}
        if grad_z is not None and grad_z.numel():
            grad_spikes[job.output] = grad_z
        g_act = as_float32(grad_activity) if grad_activity is not None else np.zeros(batch, np.float32)
        no_activity = np.zeros(batch, np.float32)
        grads: dict[str, Tensor] = {}
        grad_x_of: dict[str, np.ndarray] = {}  # population -> dL/d(its input current), (T, B, N)
        for (name,) in reversed(plan.groups):
            p, n = job.params[name], plan.sizes[name]
            drive, rows = _drive(plan, name, job.sources, weights, batch)
            # The gradient from downstream populations: the first edge inside the kernel, others here.
            down = [e for e in plan.edges if e.source == name and e.target in grad_x_of]
            for e in down[1:]:
                g = _shift_back(torch.from_numpy(grad_x_of[e.target]) @ weights[e.name].detach().T, e.delay_steps)
                grad_spikes[name] = g if name not in grad_spikes else grad_spikes[name] + g
            upstream = any(e.source in job.observed for e, _, _ in rows)
            grad_x = fast_buffers.POOL.empty((T, batch, n)) if upstream else EMPTY3
            gv = grad_v if name == job.output and grad_v is not None else None
            loss = fast_kernels.LossGradients(as_float32(grad_spikes[name]) if name in grad_spikes else zeros(n),
                                              g_act if p.spiking else no_activity,
                                              zeros(n) if gv is None else as_float32(gv))
            downstream = (fast_kernels.Downstream(grad_x_of[down[0].target], as_float32(weights[down[0].name].T),
                                                  down[0].delay_steps) if down else
                          fast_kernels.Downstream(np.zeros((1, 1, 0), np.float32), np.zeros((0, n), np.float32), 0))
            ranges = chunks(batch)
            grad_w = np.zeros((len(ranges),) + drive.w.shape, np.float32)
            parallel(_adjoint, ranges, drive, _coefficients(p, plan.dt),
                     as_float32(job.observed[name]) if p.spiking else EMPTY3,
                     fast_kernels.Surrogate(as_float32(p.threshold_unit()), np.float32(job.beta)), loss, downstream,
                     grad_x, grad_w)
            if upstream:
                grad_x_of[name] = grad_x
            gw = torch.from_numpy(grad_w.sum(axis=0))
            for e, lo, hi in rows:
                grads[e.name] = gw[lo:hi]
        return (None, *(grads.get(n) for n in job.names))


def _shift_back(g: Tensor, steps: int) -> Tensor:
    """g[t + steps] at t (zeros shifted in at the end): the gradient of a delayed input at its source."""
    if steps == 0:
        return g
    return torch.cat([g[steps:], g.new_zeros((min(steps, g.shape[0]),) + g.shape[1:])])


@dataclass
class _ReplayJob:
    plan: core.Plan
    params: dict[str, core.NeuronParams]  # the twin's (nominal) parameters
    sources: dict[str, Tensor]  # inputs' events and every spiking population's observed spikes
    observed: dict[str, Tensor]
    output: str
    batch: int
    beta: float
    names: tuple[str, ...]


def replay(plan: core.Plan, params: dict[str, core.NeuronParams], weights: dict[str, Tensor],
           events: dict[str, Tensor], observed: dict[str, Tensor], output: str,
           beta: float) -> tuple[Tensor, Tensor | None, Tensor]:
    """The twin's (membrane, spikes or None, activity) of the output population, differentiable in the
    weights: the core with observed spikes, SuperSpike(beta) and a detached reset, on the fast kernels."""
    observed = {k: z for k, z in observed.items() if k in params and params[k].spiking}
    sources = {**events, **observed}
    batch = next(iter(events.values())).shape[1]
    names = tuple(weights)
    job = _ReplayJob(plan, params, sources, observed, output, batch, beta, names)
    v, z, activity = _Replay.apply(job, *(weights[n] for n in names))
    return v, (z if params[output].spiking else None), activity
