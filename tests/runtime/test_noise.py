"""The bss2 membrane noise, counter-based (philox.py, fast_noise.py): Philox4x32-10 against Random123's known
answers, the same values from numpy and from numba, Gaussian with the YAML's standard deviation, and the
same whatever the threads, the chunks of a batch or the batch it is part of."""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pytest
import torch

from snnc.diagnostics import SnncError
from snnc.runtime import checkpoint, seeds
from snnc.runtime.emulators import core, fast_kernels, fast_lif, fast_noise, fast_threads, philox
from snnc.runtime.emulators.base import emulator_for
from snnc.runtime.encoders import encode
from tests.conftest import timed_network
from tests.runtime.conftest import compile_text
from tests.runtime.test_fast_lif import BSS2_NET, BSS2_RECURRENT

# A recurrent cycle of two populations whose sizes are not multiples of 4: one kernel group, two segments.
CYCLE = timed_network("cycle", "20 ms", """\
    input  x[16] : latency(t_max = 12 ms)
    pop    a[7] : LIF(tau_mem = 5 ms, tau_syn = 5 ms, v_th = 0.5, refractory = 1 ms)
    pop    b[5] : LIF(tau_mem = 4 ms, tau_syn = 5 ms, v_th = 0.4)
    pop    o[3] : LI(tau_mem = 5 ms, tau_syn = 5 ms)
    proj x -> a : dense(init = normal(0.2, 0.3))
    proj a -> b : dense(init = normal(0.2, 0.4))
    proj b -> a : sparse(p = 0.5, init = normal(0.05, 0.3))
    proj b -> o : dense(init = normal(0, 0.5))
    output o : max_membrane""")

# Random123's kat_vectors (philox4x32 10): counter, key, result.
KNOWN_ANSWERS = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]


@pytest.mark.parametrize("counter, key, expected", KNOWN_ANSWERS)
def test_philox_gives_random123s_known_answers(counter, key, expected):
    words = philox.philox4x32(*(np.uint64(c) for c in counter), *(np.uint64(k) for k in key))
    assert tuple(int(w) for w in words) == expected


@pytest.mark.parametrize("n", [1, 5, 8, 9, 12, 246, 257])
def test_numba_draws_the_values_numpy_draws_in_any_split_of_the_batch(n):
    expected = philox.normals((123, 4567), 9, 7, 33, n)
    whole, split = np.empty((7, 33, n + philox.PAD), np.float32), np.full((7, 33, n + philox.PAD), np.nan, np.float32)
    fast_noise.fill(whole, 123, 4567, 9, 0, 33)
    fast_noise.fill(split, 123, 4567, 9, 0, 17)
    fast_noise.fill(split, 123, 4567, 9, 17, 33)
    assert np.array_equal(whole[:, :, :n], expected) and np.array_equal(split[:, :, :n], expected)
    # counters (block q, sample, step, call): block q gives neurons q + l Q, l = 0 .. 7 (word l // 2, low, high)
    q = philox.blocks(n)
    assert q == -(-n // 8)
    words = philox.philox4x32(np.uint64(0), np.uint64(5), np.uint64(3), np.uint64(9), np.uint64(123),
                              np.uint64(4567))
    lanes = [z for word in words for z in philox.normal_pair(np.uint32(word))]
    for lane, z in enumerate(lanes):
        if lane * q < n:
            assert expected[3, 5, lane * q] == z


def drawn_values() -> np.ndarray:
    """The 2^16 values a 16-bit half of a word can give, each with probability 2^-16, in increasing order."""
    return np.sort(philox.normal(np.arange(philox.QUANTILES, dtype=np.uint32)).astype(np.float64))


def test_the_transform_is_the_normals_mean_over_each_of_65536_quantile_bins():
    """Value h (in increasing order) is E[Z | Phi(Z) in [h, h + 1) / 2^16], checked against float64 from torch
    (ndtri for the edges, the difference of densities for the mean); 15 bits of a half pick the magnitude,
    the 16th its sign, and each half of a word gives one normal."""
    table, n = drawn_values(), philox.QUANTILES
    assert n == 65536 and philox.MAGNITUDES.shape == (n // 2,) and philox.MAGNITUDES.dtype == np.float32
    edges = torch.special.ndtri(torch.arange(1, n, dtype=torch.float64) / n).numpy()
    lower, upper = np.concatenate([[-np.inf], edges]), np.concatenate([edges, [np.inf]])
    density = np.exp(-lower ** 2 / 2) - np.exp(-upper ** 2 / 2)
    expected = n * density / math.sqrt(2 * math.pi)
    assert np.all(np.abs(table - expected) < 2e-7 * np.maximum(np.abs(expected), 1.0))
    assert np.all(table[:-1] < edges) and np.all(edges < table[1:])  # one value inside each bin
    assert np.array_equal(table, -table[::-1]) and table.sum() == 0.0  # symmetric
    # pinned: the central bins, the upper quartile's and the outermost (the largest normal drawn, 4.39 sigma)
    assert philox.normal(np.uint32(0x8000)) == np.float32(1.912405605253298e-05) == -philox.normal(np.uint32(0))
    assert philox.normal(np.uint32(0x8000 + 0x4000)) == np.float32(0.6745137572288513)
    assert philox.normal(np.uint32(0xFFFF)) == np.float32(4.387511253356934) == -philox.normal(np.uint32(0x7FFF))
    w = np.array([0x0001FFFF, 0x80000000, 0xFFFF0000], np.uint32)
    low, high = philox.normal_pair(w)
    assert np.array_equal(low, philox.normal(np.array([0xFFFF, 0, 0], np.uint32)))
    assert np.array_equal(high, philox.normal(np.array([1, 0x8000, 0xFFFF], np.uint32)))


def test_the_transforms_distribution_is_normal_to_its_resolution():
    """The exact moments and CDF of the drawn distribution, as docs/runtime.md states them: mean 0, std
    1 - 7.4e-7, kurtosis 3 - 1.7e-4, the CDF within 0.63 of a bin (9.5e-6) of the normal's everywhere, the
    worst at the outermost bins."""
    table, n = drawn_values(), philox.QUANTILES
    second, fourth = (table ** 2).mean(), (table ** 4).mean()
    assert 1 - math.sqrt(second) == pytest.approx(7.40e-7, abs=0.01e-7)
    assert fourth / second ** 2 - 3 == pytest.approx(-1.677e-4, abs=0.005e-4)
    cdf = 0.5 * (1 + torch.erf(torch.from_numpy(table) / math.sqrt(2))).numpy()
    h = np.arange(n)
    error = np.maximum(cdf - h / n, (h + 1) / n - cdf)  # just below and just above each atom
    assert error.max() == pytest.approx(9.526e-6, rel=1e-3) and error.argmax() in (0, n - 1)


def test_the_noise_is_gaussian_with_the_yamls_standard_deviation():
    emulator = emulator_for(compile_text(BSS2_NET, target="bss2"), noise_seed=11)
    sigma = emulator.noise["membrane_noise"]
    assert sigma == 0.005  # bss2.yaml: per step, in units of v_th - v_leak (0.5 here)
    noise = emulator.membrane_noise(1024)
    assert noise.scales["h"] == pytest.approx(np.full(12, 0.0025))  # sigma x (v_th - v_leak) of each population
    assert noise.scales["o"] == pytest.approx(np.full(4, 0.005))
    z = (noise["h"] / 0.0025).double().flatten()  # 20 steps x 1024 samples x 12 neurons
    n = z.numel()
    centred = z - z.mean()
    assert abs(float(z.mean())) < 4 / math.sqrt(n)
    assert abs(float(centred.std()) - 1) < 4 / math.sqrt(2 * n)
    assert abs(float((centred ** 3).mean() / centred.std() ** 3)) < 4 * math.sqrt(6 / n)
    assert abs(float((centred ** 4).mean() / centred.var() ** 2) - 3) < 4 * math.sqrt(24 / n)
    ordered = z.sort().values
    cdf = 0.5 * (1 + torch.erf(ordered / math.sqrt(2)))
    steps = torch.arange(1, n + 1, dtype=torch.float64) / n
    ks = float(torch.maximum(steps - cdf, cdf - (steps - 1 / n)).max())
    assert ks < 1.63 / math.sqrt(n)  # Kolmogorov-Smirnov at the 1% level
    # neurons, samples and steps uncorrelated
    lanes = noise["h"].double()
    for a, b in ((lanes[:, :, :-1], lanes[:, :, 1:]), (lanes[:, :-1], lanes[:, 1:]), (lanes[:-1], lanes[1:])):
        assert abs(float(torch.corrcoef(torch.stack([a.flatten(), b.flatten()]))[0, 1])) < 4 / math.sqrt(a.numel())


def observe(text: str, x: torch.Tensor, threads: int, **options):
    emulator = emulator_for(compile_text(text, target="bss2"), chip_seed=2, noise_seed=7, **options)
    old = fast_threads.THREADS
    fast_threads.set_threads(threads)
    try:
        first = emulator.observe(encode(emulator.ir, x), emulator.initial_weights())
        second = emulator.observe(encode(emulator.ir, x), emulator.initial_weights())  # the next call
    finally:
        fast_threads.set_threads(old)
    return first, second


@pytest.mark.parametrize("text", [BSS2_NET, BSS2_RECURRENT, CYCLE])
def test_the_noise_is_the_same_on_any_number_of_threads_and_in_any_batch(text):
    x = torch.rand(37, 16, generator=torch.Generator().manual_seed(3))
    results = [observe(text, x, threads) for threads in (1, 2, 3)]
    for first, second in results[1:]:
        for a, b in ((first, results[0][0]), (second, results[0][1])):
            assert torch.equal(a.scores, b.scores)
            for name in b.spikes:
                assert torch.equal(a.spikes[name], b.spikes[name])
            for name in b.membrane:
                assert torch.equal(a.membrane[name], b.membrane[name])
    assert not torch.equal(results[0][0].membrane["o"], results[0][1].membrane["o"])  # each call its own noise
    part, _ = observe(text, x[:20], 2)  # a sample's noise does not depend on the batch around it
    for name in part.membrane:
        assert torch.equal(part.membrane[name], results[0][0].membrane[name][:, :20])


def test_the_kernels_add_the_noise_the_core_adds():
    """Unstimulated, every neuron's membrane is the leak's recursion plus its noise, step by step: the kernels'
    draws (a block of steps at a time, fast_kernels.STEPS_DRAWN; 20 steps are 8 + 8 + 4) are the core's
    noise tensors bit for bit, in a group of two populations and in a population of its own."""
    assert fast_kernels.STEPS_DRAWN == 8
    emulator = emulator_for(compile_text(CYCLE, target="bss2"), noise_seed=3)
    x = torch.zeros(9, 16)
    noise = emulator.membrane_noise(9)
    trace = fast_lif.simulate(emulator.plan, emulator.neuron_params(), emulator.deploy(emulator.initial_weights()),
                              encode(emulator.ir, x).events, noise=noise)
    assert emulator.plan.steps == 20
    for name in ("a", "b", "o"):
        p = emulator.neuron_params()[name]
        a_mem = core.Coefficients.of(p, emulator.plan.dt).a_mem
        v = p.v_leak.expand(9, -1)
        for t in range(20):
            v = p.v_leak + a_mem * (v - p.v_leak) + noise[name][t]
            assert torch.equal(trace.membrane[name][t], v), (name, t)
        assert float(noise[name].abs().min()) > 0


def test_the_stream_state_restores_and_refuses_a_torch_generators():
    stream = seeds.Counter(5, "noise")
    assert [stream.next_call() for _ in range(3)] == [0, 1, 2]
    state = stream.get_state()
    fresh = seeds.Counter(5, "noise")
    fresh.set_state(state)
    assert fresh.next_call() == 3 and fresh.philox_key("h") == stream.philox_key("h")
    assert seeds.Counter(6, "noise").philox_key("h") != stream.philox_key("h") != stream.philox_key("o")
    with pytest.raises(ValueError, match="not a counter stream's state"):
        fresh.set_state(torch.Generator().get_state())
    with pytest.raises(ValueError, match="not a counter stream's state"):
        fresh.set_state(torch.tensor([1 << 33, 0, 0]))


def test_a_checkpoint_keeps_the_counter_stream_and_refuses_a_torch_generators_state():
    w = {"x->h": torch.zeros(2, 3, requires_grad=True)}
    optimizer = torch.optim.SGD(list(w.values()), lr=0.1)
    stream = seeds.Counter(4, "noise")
    for _ in range(5):
        stream.next_call()
    files = checkpoint.dump({}, w, optimizer, {"noise": stream})
    arrays = dict(np.load(io.BytesIO(files[checkpoint.STATE_NPZ])))
    meta = json.loads(files[checkpoint.STATE_JSON])
    resumed = seeds.Counter(4, "noise")
    checkpoint.restore(meta, arrays, w, optimizer, {"noise": resumed})
    assert resumed.next_call() == 5 and resumed.key == stream.key
    arrays["generator/noise"] = seeds.generator(4, "noise").get_state().numpy()  # written before the counter
    with pytest.raises(SnncError, match="not a counter stream's state") as refused:
        checkpoint.restore(meta, arrays, w, optimizer, {"noise": seeds.Counter(4, "noise")})
    assert [d.code for d in refused.value.diagnostics] == ["E441"]
