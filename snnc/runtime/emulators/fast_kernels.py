"""Event-driven numba kernels of the fast path (snnc.runtime.emulators.fast_lif): the forward of one group of
LIF or LI populations (core.simulate's groups: one population, or the populations of a recurrent cycle,
laid side by side as the columns of one neuron vector) over the samples [lo, hi) of a batch, the time
loop inside, float32 throughout. They release the GIL: fast_lif runs chunks of a batch on threads. The
adjoint of the same step is fast_adjoint.py.

A source spike adds its weight row to the group's input at its step (plus the edge's delay), so an
input that spikes once costs one row-add instead of T rows of a dense matmul (a source of a sparse
projection adds its list of synapses: its cost is its synapses); the spikes of a (T, B, P)
raster are found once (count_events, list_events: a CSR index over its rows r = t * B + b). A spike of
the group itself reaches its targets through a Recurrence: per source neuron the list of its nonzero
weights (CSR), so a projection of density p costs p of a dense one; it is added after the step's
membranes, to the current of the step it was emitted in plus the delay, as core._run_group does (even a
zero-delay recurrent spike moves the membrane from the next step on). Every update is written in the
order of core.simulate, one rounding per operation (fastmath off: no fused multiply-adds), so the neuron
dynamics are those of the core bit for bit; only the order in which a step's input rows are summed
differs from the core's matmuls (float32 rounding of that sum, ~1e-7 relative). An LI population runs
the LIF update with v_th = +inf: it never spikes, and `v - 0 * (v - v_reset)` is v exactly.

How it is written, and why (each measured):
- Helpers are inlined once per step and block of samples, and arrays are indexed element by element
  rather than sliced into row views: each inlined call and each view takes and drops a reference on its
  arrays (NRT_incref/decref calls), which cost ~100 ns per sample and step.
- Optional addends (gradients) come as a (1, 1, N) array of zeros when absent and are indexed at
  [0, 0, n] then (a dimension of size 1 is broadcast), which adds 0.0 (exact) instead of branching; the
  membrane noise is normals times per-neuron scales, zeros without noise. Optional spikes and outputs
  come as (0, 0, 0) arrays when absent.
- The neuron loop is branch-free (selects), so LLVM vectorizes it; numba's numpy error model keeps the
  divisions of the surrogate free of Python's ZeroDivisionError checks, which stopped vectorization."""

from __future__ import annotations

import numpy as np
from numba import njit

from snnc.runtime.emulators.fast_noise import draw, scratch_words
from snnc.runtime.emulators.philox import PAD

F32 = np.float32
BLOCK = 16  # samples advanced together through a step: the (T, B, N) outputs are written in order
# The membrane noise of up to STEPS_DRAWN steps is drawn at a time, in a buffer of at most NOISE_BYTES
# (or one step): drawn step by step between the neurons' updates, the noise cost 1.5-2.5 us a sample more
# on the benchmark's network (its table and words kept leaving the caches), bss2 inference 82-83% of
# reference's instead of 85-86% (runtime_throughput, one kernel thread, measured in turns).
STEPS_DRAWN, NOISE_BYTES = 8, 1 << 19
JIT = dict(cache=True, fastmath=False, nogil=True, error_model="numpy")
INLINE = dict(cache=True, inline="always", error_model="numpy")


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
    samples b0 <= b < b1, a sparse projection's source p >= D through its synapse list (row p - D of the
    Drive's `sparse`); has_x[b - b0]: whether any did (x is not written otherwise)."""
    src, start, index, w, delay, sparse = drive
    dense = w.shape[0]
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
            if p < dense:
                for k in range(x.shape[1]):
                    x[j, k] += s * w[p, k]
            else:
                for q in range(sparse.start[p - dense], sparse.start[p - dense + 1]):
                    x[j, sparse.col[q]] += s * sparse.val[q]


@njit(**INLINE)
def _any_spike(spikes, t, b, first, stop):
    """Whether spikes[t, b, first:stop] has a nonzero entry: a count without branches (it vectorizes), as
    most rows of a raster are empty and a loop that stops at the first spike does not vectorize."""
    count = 0
    for p in range(first, stop):
        count += spikes[t, b, p] != 0
    return count > 0


@njit(**INLINE)
def _recurrent_events(recurrence, spikes, t, b0, b1, x, has_x):
    """Adds to x[b - b0] the group's own spikes that reach step t: z[t - delay, b] through each edge of the
    Recurrence. spikes = (z, start, index): what the forward wrote so far (no index: start of length 1,
    the rows are scanned), or the observed spikes of the twin with their CSR index."""
    edges = recurrence.edges
    z, start, index = spikes
    indexed = start.shape[0] > 1
    for e in range(edges.shape[0]):
        ts = t - edges[e, 4]
        if ts < 0:
            continue
        s0, s1 = edges[e, 0], edges[e, 1]
        for b in range(b0, b1):
            if indexed:
                r = ts * z.shape[1] + b
                for f in range(start[r], start[r + 1]):
                    p = index[f]
                    if s0 <= p < s1:
                        _add_row(recurrence, e, p, z[ts, b, p], x, has_x, b - b0)
            elif _any_spike(z, ts, b, s0, s1):
                for p in range(s0, s1):
                    if z[ts, b, p] != 0:
                        _add_row(recurrence, e, p, z[ts, b, p], x, has_x, b - b0)


@njit(**INLINE)
def _add_row(recurrence, e, p, s, x, has_x, j):
    """x[j] += s times the weights of source neuron p (a group column) of edge e."""
    edges, start, col, val = recurrence
    if not has_x[j]:
        has_x[j] = True
        for k in range(x.shape[1]):
            x[j, k] = F32(0.0)
    q0, q1 = edges[e, 2], edges[e, 3]
    r = edges[e, 5] + p - edges[e, 0]
    first, stop = start[r], start[r + 1]
    if stop - first == q1 - q0:  # a full row: a row-add over the target's columns (it vectorizes)
        for k in range(q0, q1):
            x[j, k] += s * val[first + k - q0]
    else:
        for q in range(first, stop):
            x[j, col[q]] += s * val[q]


@njit(**INLINE)
def _currents(b0, b1, i, x, has_x, a_syn):
    """I_t = a_syn I_{t-1} + x_t of the samples b0 <= b < b1 (without input the current only decays:
    the core adds 0)."""
    for j in range(b1 - b0):
        if has_x[j]:
            for n in range(i.shape[1]):
                i[j, n] = a_syn[n] * i[j, n] + x[j, n]
        else:
            for n in range(i.shape[1]):
                i[j, n] = a_syn[n] * i[j, n]


@njit(**INLINE)
def _neurons(t, b0, b1, state, x, has_x, noise, forced, is_forced, neurons, outputs, record, surrogate, passes,
             currents):
    """One step of every neuron of the samples b0 <= b < b1 (rows b - b0 of the state (v, i, ref)):
    core._run_group's membrane from the previous step's current, noise, refractory hold, spike, reset;
    then, with `currents`, the current with this step's input x (has_x: _events; a recurrent group adds
    its own spikes to x first and calls _currents itself). Writes the spikes to outputs.z[t, b] and the
    membrane after reset to outputs.v[t, b] (dimensions of size 1 are broadcast: a scratch). `is_forced`:
    the spikes are forced[t, b] (the twin), not threshold crossings. With `record` (the adjoint) also how
    a gradient passes the step, in passes = (pass_v, pass_z): pass_v[t, b - b0] = dV/dV' (1 - z, 0 while
    held) and pass_z = dz/dV' (the SuperSpike surrogate 1 / (1 + beta |V' - v_th| / unit)^2 / unit, 0
    while held; fast_adjoint evaluates it on surrogate.membrane instead where given). `is_forced`,
    `record` and `currents` are literals at every call site. `noise` = (standard normals (S, rows, N + PAD) of
    S steps: [t % S, b - b0], or row 0 for all samples when it has one; the neurons' scales (N,)) adds
    z * scale to the membrane, the core's noise tensor bit for bit. One call per step and block of samples:
    every call of an inlined function takes and drops a reference on each array argument (an atomic
    operation), which cost more than a small population's whole step when it was made per sample."""
    v, i, ref = state
    v_leak, v_th, v_reset, a_mem, a_syn, k_syn, refractory = neurons
    z_out, v_out = outputs
    unit, beta, _ = surrogate
    pass_v, pass_z = passes
    normals, scale = noise
    tn = t % normals.shape[0]
    one, zero = F32(1.0), F32(0.0)
    n_neurons = v.shape[1]
    for b in range(b0, b1):
        j = b - b0
        jn = j * (normals.shape[1] > 1)
        tz, bz = t * (z_out.shape[0] > 1), b * (z_out.shape[1] > 1)
        tv, bv = t * (v_out.shape[0] > 1), b * (v_out.shape[1] > 1)
        for n in range(n_neurons):
            vn = v_leak[n] + a_mem[n] * (v[j, n] - v_leak[n]) + k_syn[n] * i[j, n] + normals[tn, jn, n] * scale[n]
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
            ref[j, n] = refractory[n] if z > 0.5 else max(r - 1, 0)
            z_out[tz, bz, n] = z
            v_out[tv, bv, n] = vn
            v[j, n] = vn
    if currents:
        _currents(b0, b1, i, x, has_x, a_syn)


@njit(**INLINE)
def _step(t, b0, b1, state, x, has_x, drive, recurrence, noise, spikes, is_forced, neurons, outputs, record,
          surrogate, passes):
    """Step t of the samples b0 <= b < b1: the input from earlier groups, the neurons, and in a recurrent
    group its own spikes (`spikes` = (z, start, index), _recurrent_events: forced ones, or those the
    forward wrote, this step's included) into this step's current. `noise` = (Noise, standard normals
    (S, block, N + PAD), scratch): where the Noise has segments, the normals of steps t .. t + S - 1 are
    drawn first at every S-th step (fast_noise). `is_forced` and `record` are literals."""
    _events(drive, t, b0, b1, x, has_x)
    spec, normals, words = noise
    drawn = normals.shape[0]
    if spec.segments.shape[0] > 0 and t % drawn == 0:
        draw(spec, t, min(t + drawn, drive.src.shape[0]), b0, b1, normals, words)
    noise = (normals, spec.scale)
    if recurrence.edges.shape[0] == 0:
        _neurons(t, b0, b1, state, x, has_x, noise, spikes[0], is_forced, neurons, outputs, record, surrogate,
                 passes, True)
    else:
        _neurons(t, b0, b1, state, x, has_x, noise, spikes[0], is_forced, neurons, outputs, record, surrogate,
                 passes, False)
        _recurrent_events(recurrence, spikes, t, b0, b1, x, has_x)
        _currents(b0, b1, state[1], x, has_x, neurons.a_syn)


@njit(**INLINE)
def _rest(b0, b1, state, v_leak):
    """The state of samples b0 <= b < b1 at the start: V at rest, no current, not refractory."""
    v, i, ref = state
    for j in range(b1 - b0):
        for k in range(v.shape[1]):
            v[j, k] = v_leak[k]
            i[j, k] = F32(0.0)
            ref[j, k] = 0


@njit(**JIT)
def forward(drive, recurrence, neurons, noise, forced, outputs, lo, hi):
    """Simulate one group (its Drive, Recurrence and Neurons) on samples [lo, hi); writes the Outputs (a
    recurrent group reads its own spikes back from outputs.z, which must then be a full (T, B, N) array).
    `noise` (Noise) is drawn for each block, STEPS_DRAWN steps at a time, and added to the membrane after
    integration;
    `forced` (T, B, N) replaces the threshold crossings by given spikes (the twin's replay; (0, 0, 0): none)."""
    steps, n = drive.src.shape[0], drive.w.shape[1]
    z_out, v_out = outputs
    is_forced = forced.shape[0] > 0
    spikes = (forced if is_forced else z_out, np.zeros(1, np.int64), np.zeros(0, np.int64))  # rows scanned
    if z_out.shape[0] == 0:
        z_out = np.empty((1, 1, n), F32)
    if v_out.shape[0] == 0:
        v_out = np.empty((1, 1, n), F32)
    v, i, x = np.empty((BLOCK, n), F32), np.empty((BLOCK, n), F32), np.empty((BLOCK, n), F32)
    ref, has_x = np.zeros((BLOCK, n), np.int32), np.zeros(BLOCK, np.bool_)
    unused = np.empty((1, 1, n), F32)
    words = scratch_words(n, BLOCK)
    chunk = max(1, min(STEPS_DRAWN, NOISE_BYTES // (4 * BLOCK * (n + PAD))))
    shape = (chunk, BLOCK, n + PAD) if noise.segments.shape[0] > 0 else (1, 1, n + PAD)  # zeros: no noise
    drawn = (noise, np.zeros(shape, F32), np.empty(words, np.uint32))
    state, written = (v, i, ref), (z_out, v_out)
    no_surrogate, no_passes = (neurons.v_leak, F32(0.0), np.empty((0, 0, 0), F32)), (unused, unused)
    for b0 in range(lo, hi, BLOCK):
        b1 = min(b0 + BLOCK, hi)
        _rest(b0, b1, state, neurons.v_leak)
        for t in range(steps):
            if is_forced:  # literal flags: the inlined loops have no branch left on them
                _step(t, b0, b1, state, x, has_x, drive, recurrence, drawn, spikes, True, neurons, written, False,
                      no_surrogate, no_passes)
            else:
                _step(t, b0, b1, state, x, has_x, drive, recurrence, drawn, spikes, False, neurons, written, False,
                      no_surrogate, no_passes)
