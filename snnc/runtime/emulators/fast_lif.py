"""The fast path of the spiking core: networks of LIF and LI populations with event inputs, in float32, run
by event-driven numba kernels (fast_kernels.py) instead of core.simulate's per-step torch loop, group by
group as the core runs them (a population, or the populations of a recurrent cycle side by side:
fast_groups.py); the twin's backward is a hand-written adjoint (backpropagation through time) of the
same kernels (fast_adjoint.py), wrapped as a torch.autograd.Function.

Semantics are core.simulate's (docs/runtime.md): same update order, same reset and refractory rules,
same causal arrival of recurrent spikes (at the step they were emitted plus the delay, in the current),
same membrane noise (counter-based: the kernels draw the values the core adds, philox.py). What differs
is only the float32 rounding of each step's summed input rows (the core sums them in matmuls):
membranes agree to ~1e-6 of the threshold, and spikes are equal unless a membrane lands within that of
the threshold. The adjoint equals autograd through core.simulate with the SuperSpike surrogate, observed
spikes and detached reset, to float32 rounding (tests/runtime/test_fast_lif.py, test_fast_recurrent.py).

`unsupported(...)` says why a network does not qualify (AdEx, analog inputs, float64, numba missing);
the emulators and the twin then run the general core.

This module orchestrates (per group: its drive, recurrence, coefficients, outputs, the kernel on chunks
of the batch) and holds the autograd Function; beside it, by job: fast_groups.py (a group's layout and
the kernels' arguments: fast_arguments.py), fast_kernels.py and fast_adjoint.py (the numba kernels),
fast_events.py (the event index of a raster, cached), fast_buffers.py (the output buffer pool),
fast_threads.py (the thread pool and chunking). Allocator tuning is opt-in (snnc.runtime.memory)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch

from snnc.runtime import memory
from snnc.runtime.emulators import core, fast_arguments, fast_buffers, fast_events, fast_groups
from snnc.runtime.emulators.fast_buffers import EMPTY3, as_float32, zeros
from snnc.runtime.emulators.fast_threads import chunks, parallel
from snnc.runtime.emulators.membrane_noise import MembraneNoise
from snnc.runtime.emulators.sparse import times_transposed

try:  # numba is a dependency; without it (an unusual platform) everything runs on the general core
    from snnc.runtime.emulators import fast_adjoint, fast_kernels
except ImportError as exc:  # pragma: no cover - exercised only where numba cannot be installed
    fast_adjoint, fast_kernels, NUMBA_MISSING = None, None, str(exc)
else:
    NUMBA_MISSING = ""

Tensor = torch.Tensor
_warned = False


def _forward(drive, recurrence, neurons, noise, forced, outputs, _chunk: int, lo: int, hi: int) -> None:
    fast_kernels.forward(drive, recurrence, neurons, noise, forced, outputs, lo, hi)


def _adjoint(drive, recurrence, neurons, observed, surrogate, loss, down, grad_x, grad_w, grad_rec, chunk: int,
             lo: int, hi: int) -> None:
    # each chunk accumulates into its own grad_w and grad_rec
    fast_adjoint.adjoint(drive, recurrence, neurons, observed, surrogate, loss, down, grad_x, grad_w[chunk],
                         grad_rec[chunk], lo, hi)


def unsupported(plan: core.Plan, params: dict[str, core.NeuronParams], dtype: torch.dtype) -> str | None:
    """Why the fast path cannot run this network, or None when it can."""
    if dtype != torch.float32:
        return f"dtype {dtype} (the fast path is float32)"
    for group in plan.groups:
        recurrent = len(group) > 1 or any(e.source == group[0] for e in plan.incoming(group[0]))
        for name in group:
            if params[name].kind not in ("lif", "li") or params[name].needs_core():
                return f"population '{name}' is {params[name].needs_core() or params[name].kind}"
            if recurrent and not params[name].spiking:
                return f"population '{name}' does not spike but is part of a recurrent cycle"
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


def simulate(plan: core.Plan, params: dict[str, core.NeuronParams], weights: dict[str, Tensor],
             events: dict[str, Tensor], noise: MembraneNoise | None = None,
             forced: dict[str, Tensor] | None = None, run: tuple[str, ...] | None = None,
             membranes: tuple[str, ...] | None = None) -> core.Trace:
    """core.simulate with the step-function spike (the emulators' forward), on the fast kernels; the kernels
    draw the membrane `noise` themselves (the values core.simulate adds: philox.py).
    `forced[population]` (T, B, N) replaces that population's threshold crossings by given spikes (the
    twin's replay); `run` limits the simulation to the groups of these populations (their sources are in
    `events`); `membranes` limits the recorded membranes to these populations (None: all), which saves
    writing a (T, B, N) trace per population nobody reads (inference needs the readout's only)."""
    memory.tune_memory_if_asked()
    T = plan.steps
    batch = next(iter(events.values())).shape[1]
    spikes: dict[str, Tensor] = dict(events)
    membrane: dict[str, Tensor] = {}
    for names in plan.groups:
        if run is not None and not any(name in run for name in names):
            continue
        group = fast_groups.layout(plan, names)
        n, spiking = group.size, params[names[0]].spiking  # a group of several populations spikes (unsupported)
        drive, _ = fast_groups.drive(plan, group, spikes, weights, batch)
        recurrence, _, _ = fast_groups.recurrence(group, weights)
        z = fast_buffers.POOL.empty((T, batch, n)) if spiking else EMPTY3
        recorded = [name for name in names if membranes is None or name in membranes]
        v = fast_buffers.POOL.empty((T, batch, n)) if recorded else EMPTY3
        given_forced = fast_groups.gather(group, forced)
        parallel(_forward, chunks(batch), drive, recurrence, fast_groups.neurons(group, params, plan.dt),
                 fast_groups.noise(group, noise), EMPTY3 if given_forced is None else given_forced,
                 fast_arguments.Outputs(z, v))
        if spiking:
            spikes.update((name, torch.from_numpy(a)) for name, a in fast_groups.split(group, z).items())
        if recorded:
            membrane.update((name, torch.from_numpy(a)) for name, a in fast_groups.split(group, v).items()
                            if name in recorded)
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
    them (spikes: the observed ones); backward: the adjoint of every group, in reverse order."""

    @staticmethod
    def forward(ctx, job: _ReplayJob, *weights: Tensor):
        w = dict(zip(job.names, weights))
        out = job.output
        trace = simulate(job.plan, job.params, w, job.sources, forced=job.observed, run=(out,), membranes=(out,))
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
        grads: dict[str, Tensor] = {}
        grad_x_of: dict[str, np.ndarray] = {}  # population -> dL/d(its input current), (T, B, N)
        for names in reversed(plan.groups):
            group = fast_groups.layout(plan, names)
            n, spiking = group.size, job.params[names[0]].spiking
            drive, rows = fast_groups.drive(plan, group, job.sources, weights, batch)
            listed = drive.sparse.val.shape[0]  # the synapses of the Drive's sparse projections: grad_rec first
            recurrence, recurrent_rows, recurrent_size = fast_groups.recurrence(group, weights, listed)
            # The gradient from populations of later groups: one dense edge inside the kernel, others here.
            down = [e for e in plan.edges if e.source in names and e.target in grad_x_of]
            in_kernel = down[0] if down and len(names) == 1 and down[0].name not in plan.synapses else None
            for e in down:
                if e is not in_kernel:
                    g = _shift_back(_through(plan, e, torch.from_numpy(grad_x_of[e.target]), weights[e.name]),
                                    e.delay_steps)
                    grad_spikes[e.source] = g if e.source not in grad_spikes else grad_spikes[e.source] + g
            upstream = any(e.source in job.observed for e, *_ in rows)
            grad_x = fast_buffers.POOL.empty((T, batch, n)) if upstream else EMPTY3
            gz = fast_groups.gather(group, grad_spikes)
            gv = fast_groups.gather(group, {job.output: grad_v} if grad_v is not None else None)
            loss = fast_arguments.LossGradients(zeros(n) if gz is None else gz,
                                                g_act if spiking else np.zeros(batch, np.float32),
                                                zeros(n) if gv is None else gv)
            downstream = (fast_arguments.Downstream(grad_x_of[in_kernel.target], as_float32(weights[in_kernel.name].T),
                                                    in_kernel.delay_steps) if in_kernel is not None else
                          fast_arguments.Downstream(np.zeros((1, 1, 0), np.float32), np.zeros((0, n), np.float32), 0))
            ranges = chunks(batch)
            grad_w = np.zeros((len(ranges),) + drive.w.shape, np.float32)
            grad_rec = np.zeros((len(ranges), listed + recurrent_size), np.float32)
            parallel(_adjoint, ranges, drive, recurrence, fast_groups.neurons(group, job.params, plan.dt),
                     fast_groups.observed_spikes(group, job.observed) if spiking else fast_groups.NO_SPIKES,
                     _surrogate(job, group, spiking), loss, downstream, grad_x, grad_w, grad_rec)
            if upstream:
                grad_x_of.update(fast_groups.split(group, grad_x))
            gw, gr = torch.from_numpy(grad_w.sum(axis=0)), torch.from_numpy(grad_rec.sum(axis=0))
            for e, r0, r1, c0, c1, at in rows:  # a sparse projection's gradient: one per synapse
                grads[e.name] = gw[r0:r1, c0:c1] if at < 0 else gr[at:at + plan.synapses[e.name].nnz]
            for e, first, count, shape in recurrent_rows:
                g = gr[listed + first:listed + first + count]
                grads[e.name] = g if shape is None else g.reshape(shape)
        return (None, *(grads.get(n) for n in job.names))


def _through(plan: core.Plan, edge: core.Edge, grad_x: Tensor, w: Tensor) -> Tensor:
    """The gradient of a population's input currents (T, B, M) carried back through `edge` to its source's
    spikes (T, B, N): grad_x @ W.T (a sparse projection's through its synapses)."""
    synapses = plan.synapses.get(edge.name)
    return grad_x @ w.detach().T if synapses is None else times_transposed(grad_x, synapses, w)


def _surrogate(job: _ReplayJob, group: fast_groups.Layout, spiking: bool) -> fast_arguments.Surrogate:
    """The group's surrogate: SuperSpike(beta) per threshold unit, on the given membranes where every
    population of the group has one (job.surrogate_membrane), else on the recomputed ones."""
    unit = np.concatenate([as_float32(job.params[name].threshold_unit()) for name in group.names])
    given = job.surrogate_membrane is not None and all(name in job.surrogate_membrane for name in group.names)
    membrane = fast_groups.gather(group, job.surrogate_membrane) if spiking and given else None
    return fast_arguments.Surrogate(unit, np.float32(job.beta), EMPTY3 if membrane is None else membrane)


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
    surrogate_membrane: dict[str, Tensor] | None


def replay(plan: core.Plan, params: dict[str, core.NeuronParams], weights: dict[str, Tensor],
           events: dict[str, Tensor], observed: dict[str, Tensor], output: str, beta: float,
           surrogate_membrane: dict[str, Tensor] | None = None) -> tuple[Tensor, Tensor | None, Tensor]:
    """The twin's (membrane, spikes or None, activity) of the output population, differentiable in the
    weights: the core with observed spikes, SuperSpike(beta) and a detached reset, on the fast kernels.
    `surrogate_membrane[population]` (T, B, N): a measured membrane (the membrane twin), for the groups whose
    every population has one: the surrogate is evaluated on it instead of on the recomputed one (before
    the reset), and the reset is left out of the gradient as core.simulate(observed=...) leaves it out."""
    observed = {k: z for k, z in observed.items() if k in params and params[k].spiking}
    sources = {**events, **observed}
    batch = next(iter(events.values())).shape[1]
    names = tuple(weights)
    job = _ReplayJob(plan, params, sources, observed, output, batch, beta, names, surrogate_membrane)
    v, z, activity = _Replay.apply(job, *(weights[n] for n in names))
    return v, (z if params[output].spiking else None), activity
