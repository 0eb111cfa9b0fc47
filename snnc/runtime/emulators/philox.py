"""Counter-based Gaussian noise: Philox4x32-10 (Salmon, Moraes, Dror & Shaw, "Parallel random numbers: as
easy as 1, 2, 3", SC'11; the Random123 library) turned into standard normals by a table, each value a pure
function of (key, counter). Nothing is carried from one draw to the next, so the bss2 membrane noise of
(batch call, step, sample, neuron) is the same whichever thread, chunk of the batch or block of samples
computes it, and the general core, the numba kernels and numpy (without numba) draw the same values.

The functions are written once, for numpy arrays; fast_noise.py compiles the same source into the numba
kernels (its overloads keep `shift_right` and `bit_and` in 32 bits there), so both give the same bits
(tests/runtime/test_noise.py).

The transform, two normals from each 32-bit word: each 16-bit half picks one of the 2^16 equally likely
quantile bins of the standard normal and gives the normal's mean over that bin (`normal`: 15 bits index a
table of the upper half's MAGNITUDES, the 16th gives the sign): an exact inverse-CDF draw at 16-bit
resolution, one table lookup a normal (the kernels gather from the 128 KB table, compiled in as a
constant; a 256 KB table of both signs took 10% longer). Its distribution, computed from the table
(tests/runtime/test_noise.py): mean exactly 0 (symmetric), standard deviation 1 - 7.4e-7, kurtosis
3 - 1.7e-4, |z| <= 4.39 (a normal passes that once in 87,000 draws), and its CDF within 9.5e-6 of the
normal's everywhere (0.63 of a bin's 2^-16, at the outermost bins). It replaced Box-Muller on 20 + 12
bits of a word (ln, sqrt, sin and cos as series: 0.52 ns a normal against 0.3 for the lookup,
microbenchmark), whose tails reached 5.27 sigma.

Counters: a population of n neurons takes Q = ceil(n / 8) Philox blocks per (sample, step, call); block q
(counter (q, sample, step, call), the population's key) gives neurons q + l Q for l = 0 .. 7 (word l // 2:
its low half for even l, its high half for odd), so that a vectorized loop over q stores contiguously."""

from __future__ import annotations

import math
import statistics

import numpy as np

U64, U32, F32 = np.uint64, np.uint32, np.float32
_M0, _M1 = U64(0xD2511F53), U64(0xCD9E8D57)  # Philox4x32's multipliers (Random123)
_W0, _W1 = U64(0x9E3779B9), U64(0xBB67AE85)  # its Weyl key increments
_LOW, _32 = U64(0xFFFFFFFF), U64(32)
WORD = 1 << 32  # counters and keys are 32-bit words (held in uint64)


# uint32 operations, uint32 results (numba widens integer arithmetic to 64 bits; its overloads of these,
# in fast_noise.py, keep 32: LLVM then computes the table's indexes in 8 lanes of 32 bits)
def shift_right(x, k):
    return x >> k


def bit_and(x, y):
    return x & y


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


QUANTILES = 1 << 16  # equal-probability bins of the standard normal; 16 bits of a Philox word pick one
_LOW16, _16, _15, _7FFF = U32(0xFFFF), U32(16), U32(15), U32(0x7FFF)
_ONE, _TWO = F32(1.0), F32(2.0)


def _bin_means() -> np.ndarray:
    """(QUANTILES / 2,) float32: entry k the mean of a standard normal Z over the k-th quantile bin above its
    median, Phi(Z) in [1/2 + k / n, 1/2 + (k + 1) / n) with n = QUANTILES: n (phi(a) - phi(b)) for its edges
    a and b, written as -n phi(a) expm1(-(b - a)(b + a) / 2) so that the central bins lose no digits to
    cancellation. Computed in float64 by the standard library (statistics.NormalDist's inverse CDF:
    Wichura's AS241, ~1e-16 relative)."""
    n, half = QUANTILES, QUANTILES // 2
    inverse = statistics.NormalDist().inv_cdf
    edges = [0.0, *(inverse(0.5 + k / n) for k in range(1, half)), math.inf]
    means = []
    for a, b in zip(edges, edges[1:], strict=False):
        density = math.exp(-a * a / 2) / math.sqrt(2 * math.pi)
        means.append(n * density if b == math.inf else -n * density * math.expm1(-(b - a) * (b + a) / 2))
    return np.array(means, np.float32)


MAGNITUDES = _bin_means()
MAGNITUDES.flags.writeable = False  # numba compiles it into the kernels as a constant


def normal(w):
    """The standard normal (float32) of 16 random bits w (uint32 below 2^16): MAGNITUDES[w mod 2^15], negative
    where bit 15 is clear, so each of the normal's 2^16 quantile bins has one w. A product with +-1: exact."""
    return MAGNITUDES[bit_and(w, _7FFF)] * (F32(shift_right(w, _15)) * _TWO - _ONE)


def low_normal(w):
    """The standard normal (float32) of a 32-bit word's (uint32) low 16 bits."""
    return normal(bit_and(w, _LOW16))


def high_normal(w):
    """The standard normal (float32) of a 32-bit word's (uint32) high 16 bits."""
    return normal(shift_right(w, _16))


def normal_pair(w):
    """Two independent standard normals from one 32-bit word: of its low and of its high 16 bits."""
    return low_normal(w), high_normal(w)


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
    z = np.concatenate([lane for word in w for lane in normal_pair(word.astype(U32))], axis=2)
    return np.ascontiguousarray(z[:, :, :n])
