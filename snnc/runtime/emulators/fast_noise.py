"""philox.py's counter-based Gaussian noise compiled by numba: the kernels draw the membrane noise of a block
of samples and a step themselves (`draw`), and `fill` gives the general core the same values as a (T, B, N)
array. The source is philox.py's; the overloads below give its three numpy helpers their scalar meaning."""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic, overload

from snnc.runtime.emulators import philox

U64 = np.uint64
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
def _block(out, j, c, q, stride, sample, t, call, k0, k1):
    """The four normals of Philox block q of sample `sample` at step t into out[j, c + l * stride + q]
    (unsigned column indexes: numba then has no negative index to wrap, which stopped LLVM from
    vectorizing the loop over q when c was not a constant: 3x slower, measured)."""
    w0, w1, w2, w3 = philox4x32(U64(q), U64(sample), U64(t), call, k0, k1)
    z0, z1 = gaussian_pair(w0, w1)
    z2, z3 = gaussian_pair(w2, w3)
    column, stride = U64(c) + U64(q), U64(stride)
    out[j, column] = z0
    out[j, column + stride] = z1
    out[j, column + U64(2) * stride] = z2
    out[j, column + U64(3) * stride] = z3


@njit(**INLINE)
def draw(noise, t, b0, b1, out):
    """out[b - b0, c] = the standard normal of column c for sample b at step t, b0 <= b < b1, for every
    segment of the Noise (a population: its columns and Philox key). A segment of n neurons writes 4
    ceil(n / 4) columns: what passes its end is overwritten by the next segment, or lands in the 3 columns
    `out` has beyond the group's. Small segments loop over samples innermost (vectorized either way)."""
    segments, call = noise.segments, U64(noise.call)
    for s in range(segments.shape[0]):
        c0, c1, k0, k1 = segments[s, 0], segments[s, 1], U64(segments[s, 2]), U64(segments[s, 3])
        q_count = (c1 - c0 + 3) // 4
        if q_count >= b1 - b0:
            for j in range(b1 - b0):
                for q in range(q_count):
                    _block(out, j, c0, q, q_count, b0 + j, t, call, k0, k1)
        else:
            for q in range(q_count):
                for j in range(b1 - b0):
                    _block(out, j, c0, q, q_count, b0 + j, t, call, k0, k1)


@njit(**JIT)
def fill(out, k0, k1, call, lo, hi):
    """out[t, b] = the (T, B, N + 3) standard normals of one population (key (k0, k1), batch call `call`)
    for the samples lo <= b < hi (philox.normals; the last 3 columns are scratch)."""
    steps, n = out.shape[0], out.shape[2] - 3
    q_count = (n + 3) // 4
    call, k0, k1 = U64(call), U64(k0), U64(k1)
    for t in range(steps):
        row = out[t]
        for b in range(lo, hi):
            for q in range(q_count):
                _block(row, b, 0, q, q_count, b, t, call, k0, k1)
