"""Counter-based Gaussian noise: Philox4x32-10 (Salmon, Moraes, Dror & Shaw, "Parallel random numbers: as
easy as 1, 2, 3", SC'11; the Random123 library) turned into standard normals by Box-Muller, each value a
pure function of (key, counter). Nothing is carried from one draw to the next, so the bss2 membrane noise
of (batch call, step, sample, neuron) is the same whichever thread, chunk of the batch or block of samples
computes it, and the general core, the numba kernels and numpy (without numba) draw the same values.

The functions are written once, for numpy arrays; fast_noise.py compiles the same source into the numba
kernels (its overloads give `select`, `float_bits` and `bits_float` their scalar meaning there). Float32
throughout, one rounding per operation (numba's fastmath is off: no fused multiply-adds), so both give the
same bits (tests/runtime/test_noise.py).

Box-Muller, a pair of normals from each 32-bit word: u1 in (0, 1] from its top 20 bits, the angle from
its low 12 (2 bits pick the quadrant, 10 the angle within it, at the centres of 1024 equal steps: 4096
directions spaced evenly, so the mean of cos and sin is exactly 0 and that of their squares exactly 1/2);
z0 = r cos, z1 = r sin with r = sqrt(-2 ln u1), so |z| <= sqrt(40 ln 2) = 5.27 (a normal passes that once
in 7 million draws). A word per pair rather than torch's two (24-bit uniforms) halves the Philox work, which
was half the cost of the noise (fast_noise.py). ln u1 takes the exponent from the float's bits and a
series in s = (m - 1) / (m + 1) on the mantissa m in [sqrt(1/2), sqrt(2)) (error < 2e-9 relative), sin
and cos their Taylor series on [-pi/4, pi/4] (< 3e-8): the values are within 1e-6 of float64 Box-Muller
on the same uniforms and angles (tests/runtime/test_noise.py), i.e. within float32 rounding.

Counters: a population of n neurons takes Q = ceil(n / 8) Philox blocks per (sample, step, call); block q
(counter (q, sample, step, call), the population's key) gives neurons q + l Q for l = 0 .. 7 (word l // 2:
its cos for even l, its sin for odd), so that a vectorized loop over q stores contiguously."""

from __future__ import annotations

import numpy as np

U64, U32, F32 = np.uint64, np.uint32, np.float32
_M0, _M1 = U64(0xD2511F53), U64(0xCD9E8D57)  # Philox4x32's multipliers (Random123)
_W0, _W1 = U64(0x9E3779B9), U64(0xBB67AE85)  # its Weyl key increments
_LOW, _32 = U64(0xFFFFFFFF), U64(32)
WORD = 1 << 32  # counters and keys are 32-bit words (held in uint64)


def select(condition, a, b):
    """a where condition, else b (numba: a branch-free select)."""
    return np.where(condition, a, b)


def float_bits(x):
    """The bits of float32 x as uint32 (numba: a bitcast)."""
    return np.asarray(x, np.float32).view(np.uint32)


def bits_float(i):
    """The float32 whose bits are uint32 i (numba: a bitcast)."""
    return np.asarray(i, np.uint32).view(np.float32)


# uint32 operations, uint32 results (numba widens integer arithmetic to 64 bits; its overloads of these,
# in fast_noise.py, keep 32: LLVM then does the transform in 8 lanes of 32 bits, 0.78 -> 0.56 ns a normal)
def shift_right(x, k):
    return x >> k


def bit_and(x, y):
    return x & y


def bit_or(x, y):
    return x | y


def plus(x, y):
    return x + y


def minus(x, y):
    return x - y


def above(x, y):
    return x > y


def equal(x, y):
    return x == y


def to_float(x):
    """float32 of uint32 x (exact below 2^24)."""
    return np.asarray(x, np.uint32).astype(np.float32)


def philox4x32(c0, c1, c2, c3, k0, k1):
    """Philox4x32-10 of the counter (c0, c1, c2, c3) under the key (k0, k1): four 32-bit words. Arguments
    and results are uint64 values below 2^32 (a 32 x 32-bit product fits in 64 bits)."""
    for r in range(10):
        if r > 0:
            k0 = (k0 + _W0) & _LOW
            k1 = (k1 + _W1) & _LOW
        p0 = _M0 * c0
        p1 = _M1 * c2
        c0, c1, c2, c3 = (p1 >> _32) ^ c1 ^ k0, p1 & _LOW, (p0 >> _32) ^ c3 ^ k1, p0 & _LOW
    return c0, c1, c2, c3


_ONE, _TWO, _HALF, _ZERO = F32(1.0), F32(2.0), F32(0.5), F32(0.0)
_2_20, _2_11 = F32(2.0 ** -20), F32(2.0 ** -11)
_LN2, _HALF_PI, _BIAS = F32(0.6931471805599453), F32(1.5707963267948966), F32(127.0)
_1, _2, _3, _12, _23, _NONE = U32(1), U32(2), U32(3), U32(12), U32(23), U32(0)
_MANTISSA, _ONE_BITS, _SQRT2_BITS, _HALVE = U32(0x7FFFFF), U32(0x3F800000), U32(0x3FB504F3), U32(0x800000)
_ANGLE = U32(0x7FE)
_L9, _L7, _L5, _L3 = F32(1 / 9), F32(1 / 7), F32(1 / 5), F32(1 / 3)  # ln m = 2s (1 + s^2/3 + s^4/5 ...)
_S9, _S7, _S5, _S3 = F32(1 / 362880), F32(-1 / 5040), F32(1 / 120), F32(-1 / 6)
_C10, _C8, _C6, _C4, _C2 = F32(-1 / 3628800), F32(1 / 40320), F32(-1 / 720), F32(1 / 24), F32(-0.5)


def gaussian_pair(w):
    """Two independent standard normals (float32) from one 32-bit word (uint32): Box-Muller, its radius from
    the top 20 bits, its angle from the low 12 (2 pick the quadrant, 10 the angle within it)."""
    x = (to_float(shift_right(w, _12)) + _ONE) * _2_20  # u1 in (0, 1], exactly
    bits = float_bits(x)
    mantissa = bit_or(bit_and(bits, _MANTISSA), _ONE_BITS)  # the bits of m in [1, 2), x = m 2^e
    big = above(mantissa, _SQRT2_BITS)  # m >= sqrt(2): use m / 2 and e + 1
    exponent = to_float(shift_right(bits, _23)) - _BIAS + select(big, _ONE, _ZERO)
    m = bits_float(minus(mantissa, select(big, _HALVE, _NONE)))
    s = (m - _ONE) / (m + _ONE)
    s2 = s * s
    series = (((_L9 * s2 + _L7) * s2 + _L5) * s2 + _L3) * s2 + _ONE
    radius = np.sqrt(-_TWO * (_TWO * s * series + exponent * _LN2))
    step = plus(bit_and(shift_right(w, _1), _ANGLE), _1)  # 2 k + 1 for the 10 bits k above the quadrant's
    phi = (to_float(step) * _2_11 - _HALF) * _HALF_PI  # in (-pi/4, pi/4)
    p2 = phi * phi
    sin = phi * ((((_S9 * p2 + _S7) * p2 + _S5) * p2 + _S3) * p2 + _ONE)
    cos = ((((_C10 * p2 + _C8) * p2 + _C6) * p2 + _C4) * p2 + _C2) * p2 + _ONE
    quadrant = bit_and(w, _3)  # the angle is quadrant * pi/2 + phi
    odd = equal(bit_and(quadrant, _1), _1)
    a, b = select(odd, sin, cos), select(odd, cos, sin)
    a = select(equal(quadrant, _1) | equal(quadrant, _2), -a, a)  # cos(q pi/2 + phi)
    b = select(above(quadrant, _1), -b, b)  # sin(q pi/2 + phi)
    return radius * a, radius * b


LANES = 8  # normals per Philox block: a pair per 32-bit word
PAD = 2 * LANES  # columns past a population that fast_noise's draws may write (scratch)


def blocks(n: int) -> int:
    """Philox blocks per (sample, step, call) of a population of n neurons (8 normals each)."""
    return (n + LANES - 1) // LANES


def normals(key: tuple[int, int], call: int, steps: int, batch: int, n: int) -> np.ndarray:
    """(steps, batch, n) float32 standard normals of a population with Philox key `key` in batch call
    `call` (counters as in the module docstring), with numpy."""
    q = blocks(n)
    c0 = np.arange(q, dtype=U64)[None, None, :]
    c1 = np.arange(batch, dtype=U64)[None, :, None]
    c2 = np.arange(steps, dtype=U64)[:, None, None]
    c0, c1, c2 = np.broadcast_arrays(c0, c1, c2)
    w = philox4x32(c0, c1, c2, U64(call % WORD), U64(key[0]), U64(key[1]))
    z = np.concatenate([lane for word in w for lane in gaussian_pair(word.astype(U32))], axis=2)
    return np.ascontiguousarray(z[:, :, :n])
