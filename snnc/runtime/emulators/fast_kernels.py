"""Event-driven numba kernels of the fast path (snnc.runtime.emulators.fast_lif): one feed-forward LIF or
LI population over the samples [lo, hi) of a batch, the time loop inside, float32 throughout. They
release the GIL: fast_lif runs chunks of a batch on threads.

A source spike adds its weight row to the population's input at its step (plus the edge's delay), so an
input that spikes once costs one row-add instead of T rows of a dense matmul; the spikes of a (T, B, P)
raster are found once (count_events, list_events: a CSR index over its rows r = t * B + b). Every update
is written in the order of core.simulate, one rounding per operation (fastmath off: no fused
multiply-adds), so the neuron dynamics are those of the core bit for bit; only the order in which a
step's input rows are summed differs from the core's matmul (float32 rounding of that sum, ~1e-7
relative). An LI population runs the LIF update with v_th = +inf: it never spikes, and
`v - 0 * (v - v_reset)` is v exactly.

How it is written, and why (each measured):
- Helpers are inlined once per step and block of samples, and arrays are indexed element by element
  rather than sliced into row views: each inlined call and each view takes and drops a reference on its
  arrays (NRT_incref/decref calls), which cost ~100 ns per sample and step.
- Optional addends (noise, gradients) come as a (1, 1, N) array of zeros when absent and are indexed at
  [0, 0, n] then (a dimension of size 1 is broadcast), which adds 0.0 (exact) instead of branching.
  Optional spikes and outputs come as (0, 0, 0) arrays when absent.
- The neuron loop is branch-free (selects), so LLVM vectorizes it; numba's numpy error model keeps the
  divisions of the surrogate free of Python's ZeroDivisionError checks, which stopped vectorization."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

F32 = np.float32
BLOCK = 16  # samples advanced together through a step: the (T, B, N) outputs are written in order
JIT = dict(cache=True, fastmath=False, nogil=True, error_model="numpy")
INLINE = dict(cache=True, inline="always", error_model="numpy")


class Drive(NamedTuple):
    """A population's event input: src (T, B, P) source spikes with their CSR index (start, index: the
    sources that spiked in row r = t * B + b are index[start[r]:start[r + 1]]), w (P, N) the weights and
    delay the steps from a source spike to its row-add."""

    src: np.ndarray
    start: np.ndarray
    index: np.ndarray
    w: np.ndarray
    delay: int


class Neurons(NamedTuple):
    """A population's per-neuron (N,) float32 coefficients (core.Coefficients; an LI population has
    v_th = +inf and v_reset = 0) and its refractory period in steps."""

    v_leak: np.ndarray
    v_th: np.ndarray
    v_reset: np.ndarray
    a_mem: np.ndarray
    a_syn: np.ndarray
    k_syn: np.ndarray
    refractory: int


class Outputs(NamedTuple):
    """What the forward writes, (T, B, N) each ((0, 0, 0): not kept): spikes z and membranes v."""

    z: np.ndarray
    v: np.ndarray


class Surrogate(NamedTuple):
    """The twin's spike derivative: SuperSpike of (V - v_th) / unit (unit: (N,) float32) with sharpness beta."""

    unit: np.ndarray
    beta: np.float32


class LossGradients(NamedTuple):
    """The loss's gradient with respect to a population's spikes z (T, B, N), its activity (B,) and its
    recorded membrane v (T, B, N); (1, 1, N) zeros stand for absent z and v."""

    z: np.ndarray
    activity: np.ndarray
    v: np.ndarray


class Downstream(NamedTuple):
    """The gradient that flows back from a downstream population: gx (T, B, M) the gradient of its input
    currents, wt (M, N) the weights to it transposed, delay their delay in steps (M = 0: none)."""

    gx: np.ndarray
    wt: np.ndarray
    delay: int


@njit(**JIT)
def count_events(bits, counts, t0, t1):
    """counts[t, b] = the nonzero entries of row (t, b) of a (T, B, P) raster viewed as uint32, for
    t0 <= t < t1 (an integer reduction: it vectorizes; rows are read in memory order)."""
    for t in range(t0, t1):
        for b in range(bits.shape[1]):
            c = 0
            for p in range(bits.shape[2]):
                c += bits[t, b, p] != 0
            counts[t, b] = c


@njit(**JIT)
def list_events(bits, start, index, t0, t1):
    """index[start[r]:start[r + 1]] = the positions of the nonzero entries of row r = t * B + b, in order
    (the CSR index of a raster; count_events gave the row lengths)."""
    batch = bits.shape[1]
    for t in range(t0, t1):
        for b in range(batch):
            r = t * batch + b
            k, stop = start[r], start[r + 1]
            if k == stop:
                continue
            for p in range(bits.shape[2]):
                if bits[t, b, p] != 0:
                    index[k] = p
                    k += 1
                    if k == stop:
                        break


@njit(**INLINE)
def _events(drive, t, b0, b1, x, has_x):
    """x[b - b0] = sum_p src[t - delay, b, p] * w[p] over the sources that spiked (in order of p) for the
    samples b0 <= b < b1; has_x[b - b0]: whether any did (x is not written otherwise)."""
    src, start, index, w, delay = drive
    ts = t - delay
    for b in range(b0, b1):
        j = b - b0
        has_x[j] = False
        if ts < 0:
            continue
        r = ts * src.shape[1] + b
        if start[r] == start[r + 1]:
            continue
        has_x[j] = True
        for k in range(x.shape[1]):
            x[j, k] = F32(0.0)
        for e in range(start[r], start[r + 1]):
            p = index[e]
            s = src[ts, b, p]
            for k in range(x.shape[1]):
                x[j, k] += s * w[p, k]


@njit(**INLINE)
def _neurons(t, b0, b1, state, x, has_x, noise, forced, is_forced, neurons, outputs, record, surrogate, passes):
    """One step of every neuron of the samples b0 <= b < b1 (rows b - b0 of the state (v, i, ref)):
    core._run_group's membrane from the previous step's current, noise, refractory hold, spike, reset;
    then the current with this step's input x (has_x: _events). Writes the spikes to outputs.z[t, b] and the
    membrane after reset to outputs.v[t, b] (dimensions of size 1 are broadcast: a scratch). `is_forced`:
    the spikes are forced[t, b] (the twin), not threshold crossings. With `record` (the adjoint) also how
    a gradient passes the step, in passes = (pass_v, pass_z): pass_v[t, b - b0] = dV/dV' (1 - z, 0 while
    held) and pass_z = dz/dV' (the SuperSpike surrogate 1 / (1 + beta |V' - v_th| / unit)^2 / unit, 0
    while held). `is_forced` and
    `record` are literals at every call site. One call per step and block of samples: every call of an
    inlined function takes and drops a reference on each array argument (an atomic operation), which
    cost more than a small population's whole step when it was made per sample."""
    v, i, ref = state
    v_leak, v_th, v_reset, a_mem, a_syn, k_syn, refractory = neurons
    z_out, v_out = outputs
    unit, beta = surrogate
    pass_v, pass_z = passes
    one, zero = F32(1.0), F32(0.0)
    n_neurons = v.shape[1]
    for b in range(b0, b1):
        j = b - b0
        tn, bn = t * (noise.shape[0] > 1), b * (noise.shape[1] > 1)
        tz, bz = t * (z_out.shape[0] > 1), b * (z_out.shape[1] > 1)
        tv, bv = t * (v_out.shape[0] > 1), b * (v_out.shape[1] > 1)
        for n in range(n_neurons):
            vn = v_leak[n] + a_mem[n] * (v[j, n] - v_leak[n]) + k_syn[n] * i[j, n] + noise[tn, bn, n]
            r = ref[j, n]
            vn = v_reset[n] if r > 0 else vn  # a refractory neuron is held at v_reset (ref stays 0 without one)
            u = vn - v_th[n]
            if is_forced:
                z = forced[t, b, n]
            else:
                z = one if u >= 0 else zero
            if record:
                d = one + beta * abs(u / unit[n])
                g = one / (d * d) / unit[n]
                pass_v[t, j, n] = zero if r > 0 else one - z
                pass_z[t, j, n] = zero if r > 0 else g
            vn = vn - z * (vn - v_reset[n])
            ref[j, n] = refractory if z > 0.5 else max(r - 1, 0)
            z_out[tz, bz, n] = z
            v_out[tv, bv, n] = vn
            v[j, n] = vn
        if has_x[j]:  # without input the current only decays (core: + 0)
            for n in range(n_neurons):
                i[j, n] = a_syn[n] * i[j, n] + x[j, n]
        else:
            for n in range(n_neurons):
                i[j, n] = a_syn[n] * i[j, n]


@njit(**JIT)
def forward(drive, neurons, noise, forced, outputs, lo, hi):
    """Simulate one population (its Drive and Neurons) on samples [lo, hi); writes the Outputs. `noise`
    (T, B, N) is added to the membrane after integration (a (1, 1, N) array of zeros: none); `forced`
    (T, B, N) replaces the threshold crossings by given spikes (the twin's replay; (0, 0, 0): none)."""
    steps, n = drive.src.shape[0], drive.w.shape[1]
    v_leak = neurons.v_leak
    z_out, v_out = outputs
    is_forced = forced.shape[0] > 0
    if z_out.shape[0] == 0:
        z_out = np.empty((1, 1, n), F32)
    if v_out.shape[0] == 0:
        v_out = np.empty((1, 1, n), F32)
    v, i, x = np.empty((BLOCK, n), F32), np.empty((BLOCK, n), F32), np.empty((BLOCK, n), F32)
    ref, has_x = np.zeros((BLOCK, n), np.int32), np.zeros(BLOCK, np.bool_)
    unused = np.empty((1, 1, n), F32)
    state, written, no_surrogate, no_passes = (v, i, ref), (z_out, v_out), (v_leak, F32(0.0)), (unused, unused)
    for b0 in range(lo, hi, BLOCK):
        b1 = min(b0 + BLOCK, hi)
        for j in range(b1 - b0):
            for k in range(n):
                v[j, k] = v_leak[k]
                i[j, k] = F32(0.0)
                ref[j, k] = 0
        for t in range(steps):
            _events(drive, t, b0, b1, x, has_x)
            if is_forced:  # literal flags: the inlined loops have no branch left on them
                _neurons(t, b0, b1, state, x, has_x, noise, forced, True, neurons, written, False, no_surrogate,
                         no_passes)
            else:
                _neurons(t, b0, b1, state, x, has_x, noise, forced, False, neurons, written, False, no_surrogate,
                         no_passes)


@njit(**JIT)
def adjoint(drive, neurons, observed, surrogate, loss, down, grad_x, grad_w, lo, hi):
    """Backpropagation through time of one population of the twin, replayed with its observed spikes.

    Recomputes the membranes from its Drive, then runs the adjoint backwards in time. The loss's gradient
    with respect to the spikes is loss.z (T, B, N) + loss.activity (B,) + the gradient that flows back
    from a downstream population, down.gx[t + down.delay] @ down.wt (Downstream); loss.v (T, B, N) is
    the gradient with respect to the recorded membrane (LossGradients); a (0, 0, 0) observed stands for
    a population that does not spike. Writes grad_x (T, B, N), the gradient with respect to the input
    current of each step (unless its shape is (0, 0, 0)), and accumulates grad_w (P, N).
    The spike is the Surrogate of (V - v_th) / unit; the reset is not differentiated and a refractory
    neuron passes no gradient (core.simulate with detach_reset)."""
    steps, n = drive.src.shape[0], drive.w.shape[1]
    v_leak = neurons.v_leak
    spiking = observed.shape[0] > 0
    # Blocks of samples through the twin's forward (one inlined call per step and block), as many as keep
    # the two recorded (T, block, N) factors near 2 MB: with 8 MB, two threads contended for the cache
    # (measured, T = 50, hidden 1024, 1 thread: 106 -> 74 ms per 256 samples).
    block = max(1, min(BLOCK, (1 << 18) // max(steps * n, 1)))
    v, i, ref = np.empty((block, n), F32), np.empty((block, n), F32), np.zeros((block, n), np.int32)
    x, has_x = np.empty((block, n), F32), np.zeros(block, np.bool_)
    scratch = (np.empty(n, F32), np.empty(n, F32), np.empty(n, F32), np.zeros((steps, n), F32))  # gz, gvp, gi, gx
    zeros = np.zeros((1, 1, n), F32)
    passes = (np.ones((steps, block, n), F32), np.zeros((steps, block, n), F32))  # pass_v, pass_z
    state, unwritten = (v, i, ref), (np.empty((1, 1, n), F32), np.empty((1, 1, n), F32))
    for b0 in range(lo, hi, block):
        b1 = min(b0 + block, hi)
        for j in range(b1 - b0):
            for k in range(n):
                v[j, k] = v_leak[k]
                i[j, k] = F32(0.0)
                ref[j, k] = 0
        for t in range(steps):  # the twin's forward, recording how gradients pass each step
            _events(drive, t, b0, b1, x, has_x)
            if spiking:
                _neurons(t, b0, b1, state, x, has_x, zeros, observed, True, neurons, unwritten, True, surrogate,
                         passes)
            else:
                _neurons(t, b0, b1, state, x, has_x, zeros, zeros, False, neurons, unwritten, False, surrogate,
                         passes)
        for b in range(b0, b1):
            _backward(b, b - b0, drive, neurons, passes, loss, down, scratch, grad_x, grad_w)


@njit(cache=True, error_model="numpy")  # a call per sample (not inlined: numba refused to inline it)
def _backward(b, j, drive, neurons, passes, loss, down, scratch, grad_x, grad_w):
    """The adjoint of sample b (row j of the passes), backwards in time; then grad_x and grad_w."""
    src, start, index, w, delay = drive
    a_mem, a_syn, k_syn = neurons.a_mem, neurons.a_syn, neurons.k_syn
    pass_v, pass_z = passes
    grad_z, grad_v = loss.z, loss.v
    down_gx, down_wt, down_delay = down
    gz, gvp, gi, gx = scratch
    steps, batch, n = src.shape[0], src.shape[1], w.shape[1]
    tz, bz = grad_z.shape[0] > 1, grad_z.shape[1] > 1  # which dimensions are not broadcast
    tg, bg = grad_v.shape[0] > 1, grad_v.shape[1] > 1
    ga = loss.activity[b]
    for k in range(n):
        gvp[k] = F32(0.0)  # dL/dV'_{t+1}, V' the membrane before the reset
        gi[k] = F32(0.0)  # dL/dI_{t+1}
    for t in range(steps - 1, -1, -1):
        for k in range(n):
            gz[k] = grad_z[t * tz, b * bz, k] + ga
        td = t + down_delay
        if td < steps:
            for m in range(down_gx.shape[2]):
                g = down_gx[td, b, m]
                for k in range(n):
                    gz[k] += g * down_wt[m, k]
        for k in range(n):
            # I_t enters I_{t+1} (times a_syn) and V'_{t+1} (times k_syn); x_t enters I_t (times 1).
            g_i = a_syn[k] * gi[k] + k_syn[k] * gvp[k]
            gi[k] = g_i
            gx[t, k] = g_i
            gv = a_mem[k] * gvp[k] + grad_v[t * tg, b * bg, k]  # dL/dV_t: from V'_{t+1} and the readout
            gvp[k] = pass_v[t, j, k] * gv + gz[k] * pass_z[t, j, k]  # LI: pass_v = 1, pass_z = 0
    if grad_x.shape[0] > 0:
        for t in range(steps):
            for k in range(n):
                grad_x[t, b, k] = gx[t, k]
    for t in range(delay, steps):  # dL/dW[p] += s * dL/dx_t for each source spike s at t - delay
        r = (t - delay) * batch + b
        for e in range(start[r], start[r + 1]):
            p = index[e]
            s = src[t - delay, b, p]
            for k in range(n):
                grad_w[p, k] += s * gx[t, k]
