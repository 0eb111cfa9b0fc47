"""Event-driven numba kernels of the fast path (snnc.runtime.emulators.fast_lif): one feed-forward LIF or
LI population over the samples [lo, hi) of a batch, the time loop inside, float32 throughout. They
release the GIL: fast_lif runs chunks of a batch on threads.

A source spike adds its weight row to the population's input at its step (plus the edge's delay), so an
input that spikes once costs one row-add instead of T rows of a dense matmul. Every update is written
in the order of core.simulate, one rounding per operation (fastmath off: no fused multiply-adds), so
the neuron dynamics are those of the core bit for bit; only the order in which a step's input rows
are summed differs from the core's matmul (float32 rounding of that sum, about 1e-7 relative).
An LI population runs the LIF update with v_th = +inf: it never spikes, and `v - 0 * (v - v_reset)`
is v exactly.

Arrays of shape (0, ...) stand for "absent" (no noise, no observed spikes, no incoming gradient)."""

from __future__ import annotations

import numpy as np
from numba import njit

F32 = np.float32
BLOCK = 16  # samples advanced together through a step: the (T, B, N) outputs are written in order


@njit(cache=True, fastmath=False, nogil=True, error_model="numpy")
def count_events(bits, counts, t0, t1):
    """counts[t, b] = the nonzero entries of row (t, b) of a (T, B, P) raster viewed as uint32, for
    t0 <= t < t1 (an integer reduction: it vectorizes; rows are read in memory order)."""
    for t in range(t0, t1):
        for b in range(bits.shape[1]):
            row = bits[t, b]
            c = 0
            for p in range(row.shape[0]):
                c += row[p] != 0
            counts[t, b] = c


@njit(cache=True, fastmath=False, nogil=True, error_model="numpy")
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
            row = bits[t, b]
            for p in range(row.shape[0]):
                if row[p] != 0:
                    index[k] = p
                    k += 1
                    if k == stop:
                        break


@njit(cache=True, inline="always", error_model="numpy")
def _events(src, start, index, w, delay, t, b, x):
    """x = sum_p src[t - delay, b, p] * w[p] over the sources that spiked (the raster's CSR index), in
    order of p."""
    for n in range(x.shape[0]):
        x[n] = F32(0.0)
    ts = t - delay
    if ts < 0:
        return
    r = ts * src.shape[1] + b
    for e in range(start[r], start[r + 1]):
        p = index[e]
        s, wp = src[ts, b, p], w[p]
        for n in range(x.shape[0]):
            x[n] += s * wp[n]


@njit(cache=True, inline="always", error_model="numpy")
def _neurons(v, i, ref, x, nrow, frow, forced, v_leak, v_th, v_reset, a_mem, a_syn, k_syn, refractory, zo, vo,
             record, unit, beta, pass_v, pass_z):
    """One step of every neuron of one sample (core._run_group: the membrane from the previous step's
    current, noise, refractory hold, spike, reset; then the current with this step's input x).
    Writes the spikes into zo and the membrane after reset into vo. With `record` (the adjoint), also
    how a gradient passes the step: pass_v = dV/dV' (1 - z, 0 while held) and pass_z = dz/dV' (the
    SuperSpike surrogate 1 / (1 + beta |V' - v_th| / unit)^2 / unit, 0 while held). Branch-free (selects)
    so that the loop vectorizes; `forced` and `record` are literals at every call site."""
    one, zero = F32(1.0), F32(0.0)
    for n in range(v.shape[0]):
        vn = v_leak[n] + a_mem[n] * (v[n] - v_leak[n]) + k_syn[n] * i[n] + nrow[n]
        r = ref[n]
        vn = v_reset[n] if r > 0 else vn  # a refractory neuron is held at v_reset (ref stays 0 without one)
        u = vn - v_th[n]
        if forced:
            z = frow[n]
        else:
            z = one if u >= 0 else zero
        if record:
            d = one + beta * abs(u / unit[n])
            g = one / (d * d) / unit[n]
            pass_v[n] = zero if r > 0 else one - z
            pass_z[n] = zero if r > 0 else g
        vn = vn - z * (vn - v_reset[n])
        ref[n] = refractory if z > 0.5 else max(r - 1, 0)
        zo[n] = z
        vo[n] = vn
        v[n] = vn
        i[n] = a_syn[n] * i[n] + x[n]


@njit(cache=True, fastmath=False, nogil=True, error_model="numpy")
def forward(src, start, index, w, delay, v_leak, v_th, v_reset, a_mem, a_syn, k_syn, refractory, noise, forced,
            z_out, v_out, lo, hi):
    """Simulate one population on the batch: src (T, B, P) source spikes (start, index: its CSR index),
    w (P, N); writes v_out and,
    when not empty, z_out (T, B, N). `noise` (T, B, N) is added to the membrane after integration;
    `forced` (T, B, N) replaces the threshold crossing by given spikes (the twin's replay)."""
    steps = src.shape[0]
    n = w.shape[1]
    has_noise, has_forced, has_z = noise.shape[0] > 0, forced.shape[0] > 0, z_out.shape[0] > 0
    v, i = np.empty((BLOCK, n), F32), np.empty((BLOCK, n), F32)
    ref = np.zeros((BLOCK, n), np.int32)
    x, zeros, z = np.empty(n, F32), np.zeros(n, F32), np.empty(n, F32)
    for b0 in range(lo, hi, BLOCK):
        b1 = min(b0 + BLOCK, hi)
        for j in range(b1 - b0):
            v[j] = v_leak
            i[j] = F32(0.0)
            ref[j] = 0
        for t in range(steps):
            for b in range(b0, b1):
                j = b - b0
                _events(src, start, index, w, delay, t, b, x)
                nrow = noise[t, b] if has_noise else zeros
                frow = forced[t, b] if has_forced else zeros
                zo = z_out[t, b] if has_z else z
                if has_forced:  # literal flags: the inlined loop has no branch left on them
                    _neurons(v[j], i[j], ref[j], x, nrow, frow, True, v_leak, v_th, v_reset, a_mem, a_syn,
                             k_syn, refractory, zo, v_out[t, b], False, zeros, F32(0.0), zeros, zeros)
                else:
                    _neurons(v[j], i[j], ref[j], x, nrow, frow, False, v_leak, v_th, v_reset, a_mem, a_syn,
                             k_syn, refractory, zo, v_out[t, b], False, zeros, F32(0.0), zeros, zeros)


@njit(cache=True, inline="always", error_model="numpy")
def _backward_step(t, b, gvp, gi, gxt, a_mem, a_syn, k_syn, pv, pz, gz_row, ga, grad_v, has_gv, spiking):
    """One step of the adjoint, backwards: from dL/dV'_{t+1} (gvp) and dL/dI_{t+1} (gi) to dL/dV'_t and
    dL/dI_t = dL/dx_t (gxt). pv, pz: how the step passed a gradient (_neurons); gz_row + ga: dL/dz_t."""
    for k in range(gvp.shape[0]):
        # I_t enters I_{t+1} (times a_syn) and V'_{t+1} (times k_syn); x_t enters I_t (times 1).
        g_i = a_syn[k] * gi[k] + k_syn[k] * gvp[k]
        gi[k] = g_i
        gxt[k] = g_i
        gv = a_mem[k] * gvp[k]  # dL/dV_t: V_t enters V'_{t+1}
        if has_gv:
            gv += grad_v[t, b, k]
        if spiking:
            gvp[k] = pv[k] * gv + (gz_row[k] + ga) * pz[k]
        else:
            gvp[k] = gv


@njit(cache=True, fastmath=False, nogil=True, error_model="numpy")
def adjoint(src, start, index, w, delay, v_leak, v_th, v_reset, a_mem, a_syn, k_syn, refractory, observed, unit, beta,
            grad_z, grad_activity, grad_v, down_gx, down_wt, down_delay, grad_x, grad_w, lo, hi):
    """Backpropagation through time of one population of the twin, replayed with its observed spikes.

    Recomputes the membranes from src (T, B, P) (start, index: its CSR index) and w (P, N), then runs the
    adjoint backwards in time.
    The loss's gradient with respect to the spikes is grad_z (T, B, N) + grad_activity (B,) + the
    gradient that flows back from a downstream population, down_gx[t + down_delay] @ down_wt (down_gx
    (T, B, M) its input currents' gradient, down_wt (M, N) the weights to it, transposed); grad_v
    (T, B, N) is the gradient with respect to the recorded membrane. Writes grad_x (T, B, N), the gradient
    with respect to the input current of each step (when not empty), and accumulates grad_w (P, N).
    The spike is the SuperSpike surrogate of (V - v_th) / unit; the reset is not differentiated and a
    refractory neuron passes no gradient (core.simulate with detach_reset)."""
    steps, batch = src.shape[0], src.shape[1]
    n = w.shape[1]
    spiking, has_gz, has_gv = observed.shape[0] > 0, grad_z.shape[0] > 0, grad_v.shape[0] > 0
    has_down, write_gx = down_gx.shape[0] > 0, grad_x.shape[0] > 0
    v, i, x, zeros = np.empty(n, F32), np.empty(n, F32), np.empty(n, F32), np.zeros(n, F32)
    z, vo, gz_row = np.empty(n, F32), np.empty(n, F32), np.empty(n, F32)
    ref = np.zeros(n, np.int32)
    pass_v, pass_z = np.ones((steps, n), F32), np.zeros((steps, n), F32)
    gx = np.zeros((steps, n), F32)
    gvp, gi = np.empty(n, F32), np.empty(n, F32)
    for b in range(lo, hi):
        v[:] = v_leak
        i[:] = F32(0.0)
        ref[:] = 0
        for t in range(steps):  # the twin's forward, recording how gradients pass each step
            _events(src, start, index, w, delay, t, b, x)
            if spiking:
                _neurons(v, i, ref, x, zeros, observed[t, b], True, v_leak, v_th, v_reset, a_mem, a_syn, k_syn,
                         refractory, z, vo, True, unit, beta, pass_v[t], pass_z[t])
            else:
                _neurons(v, i, ref, x, zeros, zeros, False, v_leak, v_th, v_reset, a_mem, a_syn, k_syn,
                         refractory, z, vo, False, unit, beta, pass_v[t], pass_z[t])
        ga = grad_activity[b]
        gvp[:] = F32(0.0)  # dL/dV'_{t+1}, V' the membrane before the reset
        gi[:] = F32(0.0)  # dL/dI_{t+1}
        for t in range(steps - 1, -1, -1):
            if spiking:
                for k in range(n):
                    gz_row[k] = grad_z[t, b, k] if has_gz else F32(0.0)
                td = t + down_delay
                if has_down and td < steps:
                    gdown = down_gx[td, b]
                    for m in range(gdown.shape[0]):
                        g, wm = gdown[m], down_wt[m]
                        for k in range(n):
                            gz_row[k] += g * wm[k]
                if has_gv:
                    _backward_step(t, b, gvp, gi, gx[t], a_mem, a_syn, k_syn, pass_v[t], pass_z[t], gz_row, ga,
                                   grad_v, True, True)
                else:
                    _backward_step(t, b, gvp, gi, gx[t], a_mem, a_syn, k_syn, pass_v[t], pass_z[t], gz_row, ga,
                                   grad_v, False, True)
            elif has_gv:
                _backward_step(t, b, gvp, gi, gx[t], a_mem, a_syn, k_syn, pass_v[t], pass_z[t], gz_row, ga,
                               grad_v, True, False)
            else:
                _backward_step(t, b, gvp, gi, gx[t], a_mem, a_syn, k_syn, pass_v[t], pass_z[t], gz_row, ga,
                               grad_v, False, False)
        if write_gx:
            for t in range(steps):
                out = grad_x[t, b]
                for k in range(n):
                    out[k] = gx[t, k]
        for t in range(delay, steps):  # dL/dW[p] += s * dL/dx_t for each source spike s at t - delay
            r, gxt = (t - delay) * batch + b, gx[t]
            for e in range(start[r], start[r + 1]):
                p = index[e]
                s, gwp = src[t - delay, b, p], grad_w[p]
                for k in range(n):
                    gwp[k] += s * gxt[k]
