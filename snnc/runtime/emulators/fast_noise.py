"""philox.py's counter-based Gaussian noise compiled by numba: the kernels draw the membrane noise of a block
of samples and a step themselves (`draw`), and `fill` gives the general core the same values as a (T, B, N)
array. The source is philox.py's; the overloads below give its numpy helpers their scalar meaning."""

from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.extending import intrinsic, overload

from snnc.runtime.emulators import philox

U64, U32 = np.uint64, np.uint32
INLINE = dict(cache=True, inline="always", error_model="numpy")
JIT = dict(cache=True, fastmath=False, nogil=True, error_model="numpy")


def _uint32_operation(helper, result, build) -> None:
    """Overload philox's `helper` (x, y) of two uint32 values by the LLVM instruction `build` makes: 32 bits
    in, `result` out (numba's own integer arithmetic would widen to 64)."""

    @intrinsic
    def operation(_typingctx, x, y):
        if x != types.uint32 or y != types.uint32:
            return None

        def codegen(_context, builder, _signature, args):
            return build(builder, *args)

        return result(types.uint32, types.uint32), codegen

    overload(helper, inline="always")(lambda x, y: lambda x, y: operation(x, y))


for _helper, _result, _build in (
        (philox.shift_right, types.uint32, lambda b, x, y: b.lshr(x, y)),
        (philox.bit_and, types.uint32, lambda b, x, y: b.and_(x, y))):
    _uint32_operation(_helper, _result, _build)


def _inline(helper) -> None:
    """Compile philox's `helper` (w) where numba code calls it (philox's functions call one another)."""
    overload(helper, inline="always")(lambda w: helper)


for _helper in (philox.normal, philox.low_normal, philox.high_normal, philox.normal_pair):
    _inline(_helper)
philox4x32 = njit(**INLINE)(philox.philox4x32)


@njit(**INLINE)
def _words(words, blocks, t, b0, b1, call, k0, k1, sample_inner):
    """words[l K + k] = word l of the Philox block q < `blocks` of sample b0 + j at step t, K the blocks of
    all the samples, k = j blocks + q (k = q (b1 - b0) + j where `sample_inner`: a population of fewer than
    64 neurons, whose few blocks a sample would leave the vectorized loop mostly idle). Unsigned indexes
    here and below: numba then has no negative index to wrap, whose select made LLVM scatter and gather
    instead of storing and loading vectors (3x slower, measured)."""
    time, rows, blocks = U64(t), U64(b1 - b0), U64(blocks)
    count = rows * blocks
    for outer in range(blocks if sample_inner else rows):
        for inner in range(rows if sample_inner else blocks):
            q, j = (outer, inner) if sample_inner else (inner, outer)
            w0, w1, w2, w3 = philox4x32(U64(q), U64(b0) + U64(j), time, call, k0, k1)
            k = U64(outer) * (rows if sample_inner else blocks) + U64(inner)
            words[k] = U32(w0)
            words[count + k] = U32(w1)
            words[U64(2) * count + k] = U32(w2)
            words[U64(3) * count + k] = U32(w3)


@njit(**INLINE)
def _segment(out, k, r0, c0, n, t, b0, b1, call, k0, k1, words):
    """out[k, r0 + b - b0, c0 + l Q + q] = normal l of block q (Q = ceil(n / 8)) of sample b at step t,
    b0 <= b < b1, 8 Q columns and up to 2 LANES past them (scratch, or the next segment's, overwritten
    after). The Philox words of all the samples first, then each looked up and placed: flat loops that LLVM
    vectorizes (the lookup as gathers from the constant table; one loop doing both took 0.64 instead of
    0.53 ns a normal). A sample's blocks are padded to a multiple of 8 (blocks q >= Q are drawn and
    dropped), so no loop has a scalar remainder: 31 blocks, for 246 neurons, took as long on their 7 left
    over as on 24 vectorized. Fewer than 8 blocks loop over the samples innermost instead (10 neurons: 5.5
    -> 1.6 ns a normal with Box-Muller, 1.25 with the table)."""
    q_count = (n + philox.LANES - 1) // philox.LANES
    rows = U64(b1 - b0)
    sample_inner = q_count < 8
    blocks = q_count if sample_inner else (q_count + 7) // 8 * 8
    count = rows * U64(blocks)
    _words(words, blocks, t, b0, b1, call, k0, k1, sample_inner)
    for j in range(rows):
        for word in range(U64(4)):
            column = U64(c0) + U64(2) * word * U64(q_count)
            if sample_inner:
                first = word * count + j
                for q in range(U64(q_count)):
                    low, high = philox.normal_pair(words[first + q * rows])
                    out[k, U64(r0) + j, column + q] = low
                    out[k, U64(r0) + j, column + U64(q_count) + q] = high
            else:
                first = word * count + j * U64(blocks)
                for q in range(U64(blocks)):
                    out[k, U64(r0) + j, column + q] = philox.low_normal(words[first + q])
                for q in range(U64(blocks)):
                    out[k, U64(r0) + j, column + U64(q_count) + q] = philox.high_normal(words[first + q])


@njit(**INLINE)
def scratch_words(n, rows):
    """The scratch words `draw` needs for `rows` samples of a group of n neurons (blocks padded to 8)."""
    return 4 * rows * ((n + 8 * philox.LANES - 1) // (8 * philox.LANES) * 8)


@njit(**JIT)
def draw(noise, t0, t1, b0, b1, out, words):
    """out[t - t0, b - b0, c] = the standard normal of column c for sample b at step t, t0 <= t < t1, b0 <= b
    < b1, for every segment of the Noise (a population: its columns and Philox key); `words` (>= 4 (b1 - b0)
    Q,) uint32 is scratch. Compiled on its own, not inlined into the kernels: LLVM vectorizes it the same
    wherever it is called from."""
    segments, call = noise.segments, U64(noise.call)
    for t in range(t0, t1):
        for s in range(segments.shape[0]):
            c0, c1 = segments[s, 0], segments[s, 1]
            _segment(out, t - t0, 0, c0, c1 - c0, t, b0, b1, call, U64(segments[s, 2]), U64(segments[s, 3]),
                     words)


@njit(**JIT)
def fill(out, k0, k1, call, lo, hi):
    """out[t, b] = the (T, B, N + PAD) standard normals of one population (key (k0, k1), batch call `call`)
    for the samples lo <= b < hi (philox.normals; the last PAD columns are scratch)."""
    steps, n = out.shape[0], out.shape[2] - philox.PAD
    rows = 16
    size = scratch_words(n, rows)
    words = np.empty(size, np.uint32)
    call, k0, k1 = U64(call), U64(k0), U64(k1)
    for t in range(steps):
        for b0 in range(lo, hi, rows):
            b1 = min(b0 + rows, hi)
            _segment(out, t, b0, 0, n, t, b0, b1, call, k0, k1, words)
