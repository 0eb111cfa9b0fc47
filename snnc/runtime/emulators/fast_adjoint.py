"""The adjoint of the fast kernels (fast_kernels.py): backpropagation through time of one group of the twin,
replayed with its observed spikes, over the samples [lo, hi) of a batch, float32, no GIL held.

The twin takes every spike's value from the substrate, so its forward is fixed by the observed spikes:
a recurrent group's input from its own spikes is known in advance and the membranes are recomputed as
in a feed-forward population. The gradient does flow around the cycle: dL/dz of a source neuron at step
t gathers the gradient of its targets' input current at t + delay through the projection's nonzero
weights (the Recurrence's CSR lists, so a sparse projection costs its density). That term is computed
for a block of samples at once with samples in the innermost loop (vectorized over samples; the
gradient of the input current is transposed to (neuron, sample) per step for it), everything else is
vectorized over neurons as in the forward."""

from __future__ import annotations

import numpy as np
from numba import njit

from snnc.runtime.emulators.fast_arguments import Noise
from snnc.runtime.emulators.fast_kernels import BLOCK, F32, INLINE, JIT, _rest, _step


@njit(**JIT)
def adjoint(drive, recurrence, neurons, observed, surrogate, loss, down, grad_x, grad_w, grad_rec, lo, hi):
    """Backpropagation through time of one group (Drive, Recurrence, Neurons) replayed with its observed
    spikes (Spikes; z of shape (0, 0, 0): a group that does not spike, LI).

    Recomputes the membranes, then runs the adjoint backwards in time. The loss's gradient with respect to
    the spikes is loss.z (T, B, N) + loss.activity (B,) + the gradient that flows back from a population
    of a later group, down.gx[t + down.delay] @ down.wt (Downstream) + the group's own projections;
    loss.v (T, B, N) is the gradient with respect to the recorded membrane (LossGradients). Writes
    grad_x (T, B, N), the gradient with respect to the input current of each step (unless its shape is
    (0, 0, 0)), and accumulates grad_w (D, N) of the Drive's dense weights and grad_rec (flat: one entry per
    synapse of the Drive's sparse lists and of the Recurrence's, at their offsets). The spike is the Surrogate of
    (V - v_th) / unit, V recomputed or surrogate.membrane where given; the reset is not differentiated
    (with a given membrane not even through V's own value: core.simulate's `observed`) and a refractory
    neuron passes no gradient (core.simulate with detach_reset)."""
    steps, n = drive.src.shape[0], drive.w.shape[1]
    spiking = observed.z.shape[0] > 0
    # Blocks of samples through the twin's forward (one inlined call per step and block), as many as keep
    # the two recorded (T, block, N) factors near 2 MB: with 8 MB, two threads contended for the cache
    # (measured, T = 50, hidden 1024, 1 thread: 106 -> 74 ms per 256 samples). A recurrent group takes up
    # to 64 samples (16 MB): its gradient through its own projections runs samples innermost, which LLVM
    # vectorizes well only from 32 on (measured, T = 100, hidden 246 with p = 0.1 recurrence, batch 256,
    # 1 thread, ms per adjoint: 16 samples 66, 24 54, 32 45, 64 41, 128 47).
    if recurrence.edges.shape[0] == 0:
        block = max(1, min(BLOCK, (1 << 18) // max(steps * n, 1)))
    else:
        block = max(1, min(4 * BLOCK, (1 << 21) // max(steps * n, 1)))
    v, i, ref = np.empty((block, n), F32), np.empty((block, n), F32), np.zeros((block, n), np.int32)
    x, has_x = np.empty((block, n), F32), np.zeros(block, np.bool_)
    ring = 1  # steps of dL/dx the group's projections reach back from (a delay of T steps or more: none)
    for e in range(recurrence.edges.shape[0]):
        ring = max(ring, min(recurrence.edges[e, 4], steps - 1) + 1)
    # gz, gvp, gi (block, N); the sum of one source neuron over its targets, per sample; dL/dx^T of the
    # steps the group's projections reach back from (a ring over the largest delay)
    scratch = (np.empty((block, n), F32), np.empty((block, n), F32), np.empty((block, n), F32),
               np.empty(block, F32), np.zeros((ring, n, block), F32))
    zeros = np.zeros((1, 1, n), F32)
    quiet = (Noise(np.zeros((0, 4), np.int64), 0, np.zeros(n, F32)), np.zeros((1, 1, n), F32),  # the twin: no noise
             np.empty(0, np.uint32))
    passes = (np.ones((steps, block, n), F32), np.zeros((steps, block, n), F32))  # pass_v, pass_z
    state, unwritten = (v, i, ref), (np.empty((1, 1, n), F32), np.empty((1, 1, n), F32))
    grads = (grad_x, grad_w, grad_rec)
    for b0 in range(lo, hi, block):
        b1 = min(b0 + block, hi)
        _rest(b0, b1, state, neurons.v_leak)
        for t in range(steps):  # the twin's forward, recording how gradients pass each step
            if spiking:
                _step(t, b0, b1, state, x, has_x, drive, recurrence, quiet, observed, True, neurons, unwritten,
                      True, surrogate, passes)
            else:
                _step(t, b0, b1, state, x, has_x, drive, recurrence, quiet, (zeros, observed.start, observed.index),
                      False, neurons, unwritten, False, surrogate, passes)
        if spiking and surrogate.membrane.shape[0] > 0:
            _surrogate_at(surrogate, b0, b1, neurons.v_th, passes)
        _backward(b0, b1, drive, recurrence, neurons, observed, passes, loss, down, scratch, grads)


@njit(**INLINE)
def _surrogate_at(surrogate, b0, b1, v_th, passes):
    """The passes of a membrane twin: pass_z evaluated on the given membrane surrogate.membrane[t, b] instead
    of the recomputed one, and pass_v = 1 (the reset not differentiated at all: the measured membrane
    already shows it, so hxtorch skips the reset when it injects one; core.simulate's `observed`); both
    kept 0 where a refractory neuron is held (the surrogate itself is never 0)."""
    unit, beta, membrane = surrogate
    pass_v, pass_z = passes
    one = F32(1.0)
    for t in range(pass_z.shape[0]):
        for j in range(b1 - b0):
            for k in range(pass_z.shape[2]):
                if pass_z[t, j, k] != 0:
                    d = one + beta * abs((membrane[t, b0 + j, k] - v_th[k]) / unit[k])
                    pass_z[t, j, k] = one / (d * d) / unit[k]
                    pass_v[t, j, k] = one


@njit(cache=True, error_model="numpy")  # one call per block of samples: not inlined
def _backward(b0, b1, drive, recurrence, neurons, observed, passes, loss, down, scratch, grads):
    """The adjoint of samples b0 <= b < b1 (rows b - b0 of the passes), backwards in time; each step's
    dL/dx_t goes to grad_x and to the weight gradients of the spikes it follows (_step_gradients)."""
    a_mem, a_syn, k_syn = neurons.a_mem, neurons.a_syn, neurons.k_syn
    pass_v, pass_z = passes
    grad_z, grad_v = loss.z, loss.v
    down_gx, down_wt, down_delay = down
    gz, gvp, gi, _, _ = scratch
    steps, n, samples = pass_v.shape[0], pass_v.shape[2], b1 - b0
    tz, bz = grad_z.shape[0] > 1, grad_z.shape[1] > 1  # which dimensions are not broadcast
    tg, bg = grad_v.shape[0] > 1, grad_v.shape[1] > 1
    for j in range(samples):
        for k in range(n):
            gvp[j, k] = F32(0.0)  # dL/dV'_{t+1}, V' the membrane before the reset
            gi[j, k] = F32(0.0)  # dL/dI_{t+1}
    for t in range(steps - 1, -1, -1):
        for j in range(samples):
            for k in range(n):  # I_t enters I_{t+1} (times a_syn) and V'_{t+1} (times k_syn); x_t enters I_t
                gi[j, k] = a_syn[k] * gi[j, k] + k_syn[k] * gvp[j, k]
        _step_gradients(t, b0, b1, drive, recurrence, observed, gi, grads)
        for j in range(samples):
            b = b0 + j
            ga = loss.activity[b]
            for k in range(n):
                gz[j, k] = grad_z[t * tz, b * bz, k] + ga
            td = t + down_delay
            if td < steps:
                for m in range(down_gx.shape[2]):
                    g = down_gx[td, b, m]
                    for k in range(n):
                        gz[j, k] += g * down_wt[m, k]
        if recurrence.edges.shape[0] > 0:
            _recurrent_gradient(t, steps, samples, recurrence, gi, scratch)
        for j in range(samples):
            b = b0 + j
            for k in range(n):
                gv = a_mem[k] * gvp[j, k] + grad_v[t * tg, b * bg, k]  # dL/dV_t: from V'_{t+1} and the readout
                gvp[j, k] = pass_v[t, j, k] * gv + gz[j, k] * pass_z[t, j, k]  # LI: pass_v = 1, pass_z = 0


@njit(**INLINE)
def _recurrent_gradient(t, steps, samples, recurrence, gx, scratch):
    """gz[j, p] += sum_k W[p, k] dL/dx_{t + delay}[j, k] for every projection inside the group (its nonzero
    weights), samples innermost: gx = dL/dx_t is transposed into the ring gt first, where the steps of
    every delay stay until they are read."""
    edges, start, col, val = recurrence
    gz, _, _, acc, gt = scratch
    n, ring = gx.shape[1], gt.shape[0]
    slot = t % ring
    for k in range(n):
        for j in range(samples):
            gt[slot, k, j] = gx[j, k]
    for e in range(edges.shape[0]):
        td = t + edges[e, 4]
        if td >= steps:
            continue
        read = td % ring
        s0, s1, q0, q1, row0 = edges[e, 0], edges[e, 1], edges[e, 2], edges[e, 3], edges[e, 5]
        for p in range(s0, s1):
            r = row0 + p - s0
            for j in range(samples):
                acc[j] = F32(0.0)
            first, stop = start[r], start[r + 1]
            if stop - first == q1 - q0:  # a full row: its columns are q0, q0 + 1, ... (not loaded: 17% faster)
                for q in range(first, stop):
                    c, w = q0 + q - first, val[q]
                    for j in range(samples):
                        acc[j] += w * gt[read, c, j]
            else:
                for q in range(first, stop):
                    c, w = col[q], val[q]
                    for j in range(samples):
                        acc[j] += w * gt[read, c, j]
            for j in range(samples):
                gz[j, p] += acc[j]


@njit(**INLINE)
def _step_gradients(t, b0, b1, drive, recurrence, observed, gx, grads):
    """With gx[b - b0] = dL/dx_t of the samples b0 <= b < b1: grad_x[t, b] (unless its shape is (0, 0, 0)),
    and dL/dW[p] += s dL/dx_t for each source spike s at t - delay, of the Drive (into grad_w) and of the
    group's own observed spikes (into grad_rec), found through their CSR indexes."""
    grad_x, grad_w, grad_rec = grads
    src, start, index, w, delay, sparse = drive
    dense = w.shape[0]
    edges, lists, col = recurrence.edges, recurrence.start, recurrence.col
    n, batch = gx.shape[1], src.shape[1]
    if grad_x.shape[0] > 0:
        for b in range(b0, b1):
            for k in range(n):
                grad_x[t, b, k] = gx[b - b0, k]
    ts = t - delay
    if ts >= 0:
        for b in range(b0, b1):
            r = ts * batch + b
            for e in range(start[r], start[r + 1]):
                p = index[e]
                s = src[ts, b, p]
                if p < dense:
                    for k in range(n):  # a group of several populations: zeros outside the target's columns
                        grad_w[p, k] += s * gx[b - b0, k]
                else:  # a sparse projection's source: the gradients of its synapses only
                    for q in range(sparse.start[p - dense], sparse.start[p - dense + 1]):
                        grad_rec[sparse.offset + q] += s * gx[b - b0, sparse.col[q]]
    for e in range(edges.shape[0]):
        ts = t - edges[e, 4]
        if ts < 0:
            continue
        s0, s1, q0, q1, row0, offset = edges[e, 0], edges[e, 1], edges[e, 2], edges[e, 3], edges[e, 5], edges[e, 6]
        for b in range(b0, b1):
            r = ts * batch + b
            for f in range(observed.start[r], observed.start[r + 1]):
                p = observed.index[f]
                if p < s0 or p >= s1:
                    continue
                s = observed.z[ts, b, p]
                first, stop = lists[row0 + p - s0], lists[row0 + p - s0 + 1]
                if stop - first == q1 - q0:  # a full row: its columns are q0, q0 + 1, ...
                    for q in range(first, stop):
                        grad_rec[offset + q] += s * gx[b - b0, q0 + q - first]
                else:
                    for q in range(first, stop):
                        grad_rec[offset + q] += s * gx[b - b0, col[q]]
