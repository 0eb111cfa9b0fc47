"""philox.py's counter-based Gaussian noise compiled by numba: the kernels draw the membrane noise of a block
of samples and a step themselves (`draw`), and `fill` gives the general core the same values as a (T, B, N)
array. The source is philox.py's; the overloads below give its three numpy helpers their scalar meaning."""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic, overload

from snnc.runtime.emulators import philox

U64, U32 = np.uint64, np.uint32
INLINE = dict(cache=True, inline="always", error_model="numpy")
JIT = dict(cache=True, fastmath=False, nogil=True, error_model="numpy")


@intrinsic
def _bitcast_to_int(_typingctx, x):
    def codegen(_context, builder, _signature, args):
        return builder.bitcast(args[0], ir.IntType(32))

    return types.int32(types.float32), codegen


@intrinsic
def _bitcast_to_float(_typingctx, i):
    def codegen(_context, builder, _signature, args):
        return builder.bitcast(args[0], ir.FloatType())

    return types.float32(types.int32), codegen


@intrinsic
def _select_value(_typingctx, condition, a, b):
    def codegen(_context, builder, _signature, args):
        return builder.select(*args)

    return a(types.boolean, a, a), codegen


@overload(philox.select, inline="always")
def _select(condition, a, b):
    return lambda condition, a, b: _select_value(condition, a, b)


@overload(philox.float_bits, inline="always")
def _float_bits(x):
    return lambda x: _bitcast_to_int(x)


@overload(philox.bits_float, inline="always")
def _bits_float(i):
    return lambda i: _bitcast_to_float(i)


philox4x32 = njit(**INLINE)(philox.philox4x32)
gaussian_pair = njit(**INLINE)(philox.gaussian_pair)


@njit(**INLINE)
def _words(words, q_count, t, b0, b1, call, k0, k1):
    """words[:, j Q + q] = the four Philox words of block q of sample b0 + j at step t (Q = q_count)."""
    time = U64(t)
    for j in range(b1 - b0):
        sample, base = U64(b0 + j), j * q_count
        for q in range(q_count):
            w0, w1, w2, w3 = philox4x32(U64(q), sample, time, call, k0, k1)
            words[0, base + q] = U32(w0)
            words[1, base + q] = U32(w1)
            words[2, base + q] = U32(w2)
            words[3, base + q] = U32(w3)


@njit(**INLINE)
def _normals(words, z, count):
    """z[l, k] = the normals of the words (pairs of rows 0, 1 and 2, 3: Box-Muller), k < count."""
    for pair in range(2):
        for k in range(count):
            a, b = gaussian_pair(U64(words[2 * pair, k]), U64(words[2 * pair + 1, k]))
            z[2 * pair, k] = a
            z[2 * pair + 1, k] = b


@njit(**INLINE)
def _segment(out, c0, n, t, b0, b1, call, k0, k1, words, z):
    """out[b - b0, c0 + l Q + q] = normal l of block q (Q = ceil(n / 4)) of sample b at step t, b0 <= b < b1:
    4 Q columns (what passes c0 + n is scratch, or the next segment's, overwritten after). The Philox
    words of all the samples first, then their transform, then the placement: three flat loops that LLVM
    vectorizes (one loop doing all three kept the transform scalar where it was inlined: 2x slower)."""
    q_count = (n + 3) // 4
    count = (b1 - b0) * q_count
    _words(words, q_count, t, b0, b1, call, k0, k1)
    _normals(words, z, count)
    for j in range(b1 - b0):
        base = j * q_count
        for lane in range(4):
            column = c0 + lane * q_count
            for q in range(q_count):
                out[j, column + q] = z[lane, base + q]


@njit(**JIT)
def draw(noise, t, b0, b1, out, words, z):
    """out[b - b0, c] = the standard normal of column c for sample b at step t, b0 <= b < b1, for every
    segment of the Noise (a population: its columns and Philox key); `words` (4, >= (b1 - b0) Q) uint32 and
    `z` (4, same) float32 are scratch. Compiled on its own, not inlined into the kernels: LLVM vectorizes
    it the same wherever it is called from."""
    segments, call = noise.segments, U64(noise.call)
    for s in range(segments.shape[0]):
        c0, c1 = segments[s, 0], segments[s, 1]
        _segment(out, c0, c1 - c0, t, b0, b1, call, U64(segments[s, 2]), U64(segments[s, 3]), words, z)


@njit(**JIT)
def fill(out, k0, k1, call, lo, hi):
    """out[t, b] = the (T, B, N + 3) standard normals of one population (key (k0, k1), batch call `call`)
    for the samples lo <= b < hi (philox.normals; the last 3 columns are scratch)."""
    steps, n = out.shape[0], out.shape[2] - 3
    rows = 16
    size = rows * ((n + 3) // 4)
    words, z = np.empty((4, size), np.uint32), np.empty((4, size), np.float32)
    call, k0, k1 = U64(call), U64(k0), U64(k1)
    for t in range(steps):
        for b0 in range(lo, hi, rows):
            b1 = min(b0 + rows, hi)
            _segment(out[t, b0:b1], 0, n, t, b0, b1, call, k0, k1, words, z)
