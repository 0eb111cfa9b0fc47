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
numba missing); the emulators and the twin then run the general core."""

from __future__ import annotations

import ctypes
import os
import sys
import warnings
import weakref
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import torch

from snnc.runtime.emulators import core

try:  # numba is a dependency; without it (an unusual platform) everything runs on the general core
    from snnc.runtime.emulators import fast_kernels
except ImportError as exc:  # pragma: no cover - exercised only where numba cannot be installed
    fast_kernels, NUMBA_MISSING = None, str(exc)
else:
    NUMBA_MISSING = ""

Tensor = torch.Tensor
_warned = False
# Threads that run chunks of a batch (the kernels release the GIL); threads that wait block instead
# of spinning, so busy shared cores cost no more than their share. SNNC_THREADS overrides.
THREADS = int(os.environ.get("SNNC_THREADS", 0)) or min(len(os.sched_getaffinity(0)), 8)
MIN_CHUNK = 8  # samples: smaller chunks cost more in hand-over than they gain
MIN_ROWS = 4096  # raster rows (steps x samples) per chunk of the event index
_pool: ThreadPoolExecutor | None = None


_malloc_tuned = False


def _reuse_freed_memory() -> None:
    """Let glibc keep freed memory for the next batch instead of returning it to the OS.

    Every batch allocates fresh (T, B, N) outputs. With glibc's defaults, blocks over its mmap threshold
    are unmapped when freed and smaller ones trimmed from the top of the heap, so the next batch
    page-faults all of it back in (the kernel zeroes every page): that cost as much as the simulation
    (measured, 2 cores: 12,800 -> 31,700 samples/s at batch 64 and 17,500 -> 27,000 at batch 1024, T = 50).
    So blocks come from the heap (no mmap) and up to 2 GB of freed heap is kept for reuse; the process
    keeps its peak memory. SNNC_KEEP_MEMORY=0 leaves malloc alone."""
    global _malloc_tuned
    if _malloc_tuned or os.environ.get("SNNC_KEEP_MEMORY", "1") == "0" or not sys.platform.startswith("linux"):
        return
    _malloc_tuned = True
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-1, 1 << 31)  # M_TRIM_THRESHOLD
        libc.mallopt(-4, 0)  # M_MMAP_MAX: no block is mmapped on its own
    except (OSError, AttributeError):  # not glibc: nothing to tune
        pass


def set_threads(threads: int) -> None:
    """Threads the fast kernels use (default: the CPU cores this process may run on, at most 8)."""
    global THREADS, _pool
    THREADS = max(1, int(threads))
    if _pool is not None:
        _pool.shutdown()
        _pool = None


def _chunks(size: int, least: int = MIN_CHUNK) -> list[tuple[int, int]]:
    """The ranges [lo, hi) that `size` items (samples, steps) are split into, one per thread at most and
    none smaller than `least`."""
    chunks = max(1, min(THREADS, size // least))
    return [(c * size // chunks, (c + 1) * size // chunks) for c in range(chunks)]


def _parallel(kernel, chunks: list[tuple[int, int]], *args) -> None:
    """kernel(*args, c, lo, hi) for every chunk c, on the threads."""
    global _pool
    if len(chunks) == 1:
        kernel(*args, 0, *chunks[0])
        return
    if _pool is None:
        _pool = ThreadPoolExecutor(THREADS, thread_name_prefix="snnc-fast")
    for future in [_pool.submit(kernel, *args, c, lo, hi) for c, (lo, hi) in enumerate(chunks)]:
        future.result()


def _forward(*args):
    fast_kernels.forward(*args[:-3], *args[-2:])


def _adjoint(*args):
    c, lo, hi = args[-3:]  # each chunk accumulates into its own grad_w
    grad_w = args[-4]
    fast_kernels.adjoint(*args[:-4], grad_w[c], lo, hi)


def unsupported(plan: core.Plan, params: dict[str, core.NeuronParams], dtype: torch.dtype) -> str | None:
    """Why the fast path cannot run this network, or None when it can."""
    if dtype != torch.float32:
        return f"dtype {dtype} (the fast path is float32)"
    for group in plan.groups:
        if len(group) > 1 or any(e.source == group[0] for e in plan.incoming(group[0])):
            return f"recurrent populations {', '.join(group)}"
        if params[group[0]].kind not in ("lif", "li"):
            return f"population '{group[0]}' is {params[group[0]].kind}"
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


def _np(t: Tensor) -> np.ndarray:
    return t.detach().to(torch.float32).contiguous().numpy()


_EMPTY3 = np.zeros((0, 0, 0), np.float32)  # an absent spike raster or output (fast_kernels)


def _zeros(n: int) -> np.ndarray:
    """An absent addend of n neurons: broadcast over steps and samples by the kernels."""
    return np.zeros((1, 1, n), np.float32)


_buffers: dict[tuple[int, ...], list[np.ndarray]] = {}
POOL_BYTES = min(4 << 30, os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 4)


def _empty(shape: tuple[int, ...]) -> np.ndarray:
    """An uninitialized float32 array for a kernel's (T, B, N) output, reusing one that nothing refers to
    any more (the tensors handed out from it, their views and the observation that held them are gone).
    Fresh memory page-faults on first touch and the kernel zeroes every page, which cost as much as the
    simulation (measured, 2 cores, T = 50: 17,500 -> 29,000 samples/s at batch 1024); reused memory is warm.
    The pool holds at most POOL_BYTES; idle arrays of other shapes make room first."""
    arrays = _buffers.setdefault(shape, [])
    for k in range(len(arrays)):
        if _idle(arrays, k):
            return arrays[k]
    a = np.empty(shape, np.float32)
    held = sum(x.nbytes for xs in _buffers.values() for x in xs)
    for other, xs in list(_buffers.items()):
        if held + a.nbytes <= POOL_BYTES:
            break
        if other != shape:
            idle = [k for k in range(len(xs)) if _idle(xs, k)]
            held -= sum(xs[k].nbytes for k in idle)
            _buffers[other] = [xs[k] for k in range(len(xs)) if k not in idle]
    if held + a.nbytes <= POOL_BYTES:
        arrays.append(a)
    return a


def _idle(arrays: list[np.ndarray], k: int) -> bool:
    """Whether nothing but the pool refers to arrays[k] (the list and getrefcount's argument)."""
    return sys.getrefcount(arrays[k]) == 2


_index_cache: OrderedDict[tuple, tuple] = OrderedDict()
INDEX_CACHE = 8  # rasters: a batch's stimulus and observed spikes, indexed in the forward and reused after


def _count(bits: np.ndarray, counts: np.ndarray, _chunk: int, t0: int, t1: int) -> None:
    fast_kernels.count_events(bits, counts, t0, t1)


def _list(bits: np.ndarray, start: np.ndarray, index: np.ndarray, _chunk: int, t0: int, t1: int) -> None:
    fast_kernels.list_events(bits, start, index, t0, t1)


def _index_key(raster: Tensor) -> tuple:
    return id(raster), raster.data_ptr(), raster._version, tuple(raster.shape)


def _cached_index(raster: Tensor) -> tuple[np.ndarray, np.ndarray] | None:
    """(start, index) of `raster` if _index has it (the same live tensor, unmodified), else None."""
    key = _index_key(raster)
    hit = _index_cache.get(key)
    if hit is None or hit[0]() is not raster:
        return None
    _index_cache.move_to_end(key)
    return hit[1], hit[2]


def _index(raster: Tensor) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(src, start, index): a (T, B, P) raster as float32 numpy and its CSR index, the sources that spiked
    in row r = t * B + b being index[start[r]:start[r + 1]]. Cached per tensor (weakly): the stimulus and
    the observed spikes are indexed once, for the forward and again for the twin's backward. The cache
    keeps no view of the raster's memory (a pooled output buffer it held could never be reused: measured,
    2 cores, T = 100, batch 256: the hidden layer's forward took 40 ms instead of 14 on fresh pages)."""
    hit = _cached_index(raster)
    if hit is not None:
        return _np(raster), *hit
    src = _np(raster)
    bits = src.view(np.uint32)
    steps, batch = src.shape[:2]
    counts = np.empty((steps, batch), np.int64)
    rows = _chunks(steps, max(1, MIN_ROWS // batch))  # threads only for many rows: a hand-over costs ~50 us
    _parallel(_count, rows, bits, counts)
    start = np.zeros(steps * batch + 1, np.int64)
    np.cumsum(counts.ravel(), out=start[1:])
    index = np.empty(int(start[-1]), np.int64)
    _parallel(_list, rows, bits, start, index)
    _index_cache[_index_key(raster)] = (weakref.ref(raster), start, index)
    while len(_index_cache) > INDEX_CACHE:
        _index_cache.popitem(last=False)
    return src, start, index


@dataclass
class _Drive:
    """A population's event inputs as one source raster (T, B, P), its CSR index and one weight matrix
    (P, N)."""

    src: np.ndarray
    start: np.ndarray
    index: np.ndarray
    w: Tensor
    delay: int
    edges: list[tuple[core.Edge, int, int]]  # edge, its first and last row in src / w


def _drive(plan: core.Plan, name: str, spikes: dict[str, Tensor], weights: dict[str, Tensor], batch: int) -> _Drive:
    incoming = plan.incoming(name)
    n = plan.sizes[name]
    if not incoming:
        return _Drive(*_index(torch.zeros(plan.steps, batch, 0)), torch.zeros(0, n), 0, [])
    if len(incoming) == 1:  # the common case: no copy, the delay applied in the kernel
        [e] = incoming
        return _Drive(*_index(spikes[e.source]), weights[e.name], e.delay_steps, [(e, 0, plan.sizes[e.source])])
    rows, start = [], 0
    for e in incoming:
        rows.append((e, start, start + plan.sizes[e.source]))
        start += plan.sizes[e.source]
    src = torch.cat([core.shifted(spikes[e.source], e.delay_steps) for e in incoming], dim=2)
    return _Drive(*_index(src), torch.cat([weights[e.name] for e in incoming]), 0, rows)


_coefficient_cache: dict[int, tuple] = {}


def _coefficients(p: core.NeuronParams, dt: float) -> tuple:
    """The kernels' per-neuron arrays of a population (cached: emulators keep their parameter objects)."""
    cached = _coefficient_cache.get(id(p))
    if cached is not None and cached[0] is p and cached[1] == dt:
        return cached[2]
    if len(_coefficient_cache) > 256:
        _coefficient_cache.clear()
    _coefficient_cache[id(p)] = (p, dt, _arrays(p, dt))
    return _coefficient_cache[id(p)][2]


def _arrays(p: core.NeuronParams, dt: float) -> tuple:
    c = core.Coefficients.of(p, dt)
    spiking = p.spiking  # an LI neuron is a LIF neuron that never reaches its threshold (fast_kernels)
    v_th = p.v_th if spiking else torch.full_like(p.v_leak, float("inf"))
    v_reset = p.v_reset if spiking else torch.zeros_like(p.v_leak)
    return (_np(p.v_leak), _np(v_th), _np(v_reset), _np(c.a_mem), _np(c.a_syn), _np(c.k_syn),
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
    _reuse_freed_memory()
    T = plan.steps
    batch = next(iter(events.values())).shape[1]
    spikes: dict[str, Tensor] = dict(events)
    membrane: dict[str, Tensor] = {}
    for (name,) in plan.groups:
        if run is not None and name not in run:
            continue
        p, n = params[name], plan.sizes[name]
        drive = _drive(plan, name, spikes, weights, batch)
        z = _empty((T, batch, n)) if p.spiking else _EMPTY3
        recorded = membranes is None or name in membranes
        v = _empty((T, batch, n)) if recorded else _EMPTY3
        _parallel(_forward, _chunks(batch), drive.src, drive.start, drive.index, _np(drive.w), drive.delay,
                  *_coefficients(p, plan.dt), _zeros(n) if noise is None or name not in noise else _np(noise[name]),
                  _EMPTY3 if forced is None or name not in forced else _np(forced[name]), z, v)
        if p.spiking:
            spikes[name] = torch.from_numpy(z)
        if recorded:
            membrane[name] = torch.from_numpy(v)
    return _Trace(spikes={k: s for k, s in spikes.items() if k in params and params[k].spiking},
                  membrane=membrane)


def _spikes_per_sample(raster: Tensor) -> Tensor:
    """(B,) spikes of a (T, B, N) raster: its row lengths when its event index is cached (the forward
    indexed it for the next population), else a sum (a pass over the raster)."""
    hit = _cached_index(raster) if raster.dtype == torch.float32 else None
    if hit is not None:
        start = hit[0]
        per_row = (start[1:] - start[:-1]).reshape(raster.shape[:2])
        return torch.from_numpy(per_row.sum(axis=0).astype(np.float32))  # 0/1 spikes: the count is the sum
    return raster.sum(dim=(0, 2))


def _activity(spikes: dict[str, Tensor], batch: int) -> Tensor:
    """core.Trace.activity: (B,) spikes per sample over the spiking populations."""
    return sum((_spikes_per_sample(z) for z in spikes.values()), torch.zeros(batch))


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
        g_act = _np(grad_activity) if grad_activity is not None else np.zeros(batch, np.float32)
        no_activity = np.zeros(batch, np.float32)
        grads: dict[str, Tensor] = {}
        grad_x_of: dict[str, np.ndarray] = {}  # population -> dL/d(its input current), (T, B, N)
        for (name,) in reversed(plan.groups):
            p, n = job.params[name], plan.sizes[name]
            drive = _drive(plan, name, job.sources, weights, batch)
            # The gradient from downstream populations: the first edge inside the kernel, others here.
            down = [e for e in plan.edges if e.source == name and e.target in grad_x_of]
            for e in down[1:]:
                g = _shift_back(torch.from_numpy(grad_x_of[e.target]) @ weights[e.name].detach().T, e.delay_steps)
                grad_spikes[name] = g if name not in grad_spikes else grad_spikes[name] + g
            upstream = any(e.source in job.observed for e, _, _ in drive.edges)
            grad_x = _empty((T, batch, n)) if upstream else _EMPTY3
            gv = grad_v if name == job.output and grad_v is not None else None
            chunks = _chunks(batch)
            grad_w = np.zeros((len(chunks),) + tuple(drive.w.shape), np.float32)
            _parallel(_adjoint, chunks, drive.src, drive.start, drive.index, _np(drive.w), drive.delay,
                      *_coefficients(p, plan.dt),
                      _np(job.observed[name]) if p.spiking else _EMPTY3, _np(p.threshold_unit()),
                      np.float32(job.beta), _np(grad_spikes[name]) if name in grad_spikes else _zeros(n),
                      g_act if p.spiking else no_activity, _zeros(n) if gv is None else _np(gv),
                      grad_x_of[down[0].target] if down else np.zeros((1, 1, 0), np.float32),
                      _np(weights[down[0].name].T) if down else np.zeros((0, n), np.float32),
                      down[0].delay_steps if down else 0,
                      grad_x, grad_w)
            if upstream:
                grad_x_of[name] = grad_x
            gw = torch.from_numpy(grad_w.sum(axis=0))
            for e, lo, hi in drive.edges:
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
