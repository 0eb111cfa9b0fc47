"""The fast path (event-driven kernels, fast_lif) against the general core: same spikes, membranes to float32
rounding, the twin's adjoint against autograd through the core; and when the fast path steps aside."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from snnc.runtime.emulators import fast_buffers, fast_events, fast_lif, fast_threads
from snnc.runtime.emulators.base import emulator_for
from snnc.runtime.encoders import encode
from snnc.runtime.in_the_loop import in_the_loop
from snnc.runtime.twin import SmoothSpike, SpikingTwin
from tests.conftest import timed_network
from tests.runtime.conftest import TINY, compile_text

# Feed-forward with what the kernels handle: refractory periods, delays, a population with two inputs.
FEED_FORWARD = timed_network("ff", "25 ms", """\
    input  x[12] : latency(t_max = 15 ms)
    pop    h1[10] : LIF(tau_mem = 5 ms, tau_syn = 3 ms, v_th = 0.6, v_reset = -0.1, refractory = 2 ms)
    pop    h2[8]  : LIF(tau_mem = 4 ms, tau_syn = 4 ms, v_th = 0.5, v_leak = 0.05)
    pop    o[%d]  : %s
    proj x -> h1  : dense(init = normal(0.25, 0.3))
    proj x -> h2  : dense(init = normal(0.1, 0.3)) delay 2 ms
    proj h1 -> h2 : dense(init = normal(0.2, 0.4))
    proj h2 -> o  : dense(init = normal(0.1, 0.5))
    proj h1 -> o  : dense(init = normal(0, 0.5)) delay 1 ms
    output o : %s""")
LI_OUT = FEED_FORWARD % (3, "LI(tau_mem = 4 ms, tau_syn = 3 ms)", "max_membrane")
SPIKING_OUT = FEED_FORWARD % (4, "LIF(tau_mem = 4 ms, tau_syn = 3 ms, v_th = 0.3)", "spike_count")

# bss2 has no programmable delays (its fixed event latency is 0 steps at this timestep).
BSS2_NET = timed_network("small", "20 ms", """\
    input  x[16] : latency(t_max = 12 ms)
    pop    h[12] : LIF(tau_mem = 5 ms, tau_syn = 5 ms, v_th = 0.5, refractory = 1 ms)
    pop    o[4]  : LI(tau_mem = 5 ms, tau_syn = 5 ms)
    proj x -> h : dense(init = normal(0.2, 0.3))
    proj h -> o : dense(init = normal(0, 0.5))
    output o : max_membrane""")
# ... with a sparse recurrent projection (the fast path's recurrence: test_fast_recurrent.py)
BSS2_RECURRENT = BSS2_NET.replace(
    "    proj h -> o", "    proj h -> h : sparse(p = 0.3, init = normal(0.05, 0.3))\n    proj h -> o")


def pair(text: str, target: str = "reference", **options):
    """The same program on two emulators: the fast path and the general core."""
    return pair_of_program(compile_text(text, target=target), **options)


def pair_of_program(program, **options):
    """(program, its fast path, its general core)."""
    fast, general = emulator_for(program, **options), emulator_for(program, **options)
    general.fast = False
    assert fast.fast_path() and not general.fast_path()
    return program, fast, general


def assert_same_observation(a, b):
    """The fast path's observation `a` is the core's `b`: the same spikes and activity, membranes and scores
    to float32 rounding (a step's input rows are summed in another order than the core's matmuls)."""
    assert a.spikes.keys() == b.spikes.keys() and a.membrane.keys() == b.membrane.keys()
    for name in b.spikes:
        assert torch.equal(a.spikes[name], b.spikes[name]), name
    for name in b.membrane:
        torch.testing.assert_close(a.membrane[name], b.membrane[name], rtol=0, atol=1e-5)
    torch.testing.assert_close(a.scores, b.scores, rtol=0, atol=1e-5)
    assert torch.equal(a.activity, b.activity)


def assert_gradients_close(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor], zero: set[str] = frozenset()):
    """The fast adjoint's gradients `a` equal autograd's through the core `b` to 1e-5 of b's largest entry;
    those named in `zero` are zero in both, the others are not."""
    assert a.keys() == b.keys()
    for projection in b:
        scale = float(b[projection].abs().max())
        assert (scale == 0) == (projection in zero), projection
        torch.testing.assert_close(a[projection], b[projection], rtol=0, atol=1e-5 * scale)


def loss_of(labels):
    """A loss of the scores that reaches every output (cross entropy, and their squares)."""
    def loss(scores):
        return torch.nn.functional.cross_entropy(5 * scores, labels) + scores.square().mean()
    return loss


def batch(program, n: int = 24, seed: int = 0):
    x = torch.rand(n, program.ir.size(program.ir.inputs()[0].name), generator=torch.Generator().manual_seed(seed))
    return encode(program.ir, x)


@pytest.mark.parametrize("text", [LI_OUT, SPIKING_OUT])
def test_reference_fast_path_has_the_spikes_of_the_core(text):
    program, fast, general = pair(text)
    stimulus = batch(program)
    a, b = fast.observe(stimulus, fast.initial_weights()), general.observe(stimulus, general.initial_weights())
    assert sum(float(z.sum()) for z in b.spikes.values()) > 20  # the comparison is about spiking networks
    assert_same_observation(a, b)


@pytest.mark.parametrize("text", [BSS2_NET, BSS2_RECURRENT])
def test_bss2_fast_path_agrees_with_the_core_on_the_same_chip_and_noise(text):
    program, fast, general = pair(text, target="bss2", chip_seed=3, noise_seed=5)
    assert fast.noise["membrane_noise"] > 0 and fast.noise["weight_mismatch"] > 0
    stimulus = batch(program, 32)
    weights = fast.initial_weights()
    a, b = fast.observe(stimulus, weights), general.observe(stimulus, weights)  # equal generators: equal noise
    assert torch.equal(fast.generator.get_state(), general.generator.get_state())
    assert float(b.activity.sum()) > 20
    for name in b.spikes:
        assert torch.equal(a.spikes[name], b.spikes[name]), name
    for name, v in b.membrane.items():  # CADC codes: one LSB apart where float32 rounding crosses a code edge
        p = fast.nominal[name]
        lsb = float((3.5 * p.threshold_unit() / 255).max())
        assert float((a.membrane[name] - v).abs().max()) <= lsb * 1.001
        assert float((a.membrane[name] != v).float().mean()) < 1e-3


def grads(emulator, stimulus, loss_of) -> dict[str, torch.Tensor]:
    weights = {k: w.requires_grad_(True) for k, w in emulator.initial_weights().items()}
    scores, activity = in_the_loop(emulator, emulator.make_twin(), stimulus, weights)
    loss = loss_of(scores) + 1e-2 * torch.relu(activity - 2.0).square().mean()  # the spike budget's gradient
    names = sorted(weights)
    return dict(zip(names, torch.autograd.grad(loss, [weights[n] for n in names])))


@pytest.mark.parametrize("text, target", [(LI_OUT, "reference"), (SPIKING_OUT, "reference"), (BSS2_NET, "bss2"),
                                          (BSS2_RECURRENT, "bss2")])
def test_the_adjoint_equals_autograd_through_the_core(text, target):
    """Hand-written backpropagation through time against autograd of the twin on the core: equal to
    float32 rounding (1e-5 of the largest gradient entry)."""
    program, fast, general = pair(text, target=target, chip_seed=1)
    stimulus = batch(program, 16, seed=2)
    loss = loss_of(torch.arange(16) % 3)
    assert_gradients_close(grads(fast, stimulus, loss), grads(general, stimulus, loss))


def test_the_general_core_runs_what_the_fast_path_does_not():
    adex = emulator_for(compile_text(TINY.replace(
        "LIF(tau_mem = 4 ms, tau_syn = 3 ms, v_th = 0.5, refractory = 1 ms)",
        "AdEx(tau_mem = 4 ms, tau_syn = 3 ms, v_th = 0.5, v_reset = 0.0, v_exp = 0.4, delta_t = 0.05, a = 0.1, "
        "b = 0.1, tau_w = 20 ms)")))
    assert fast_lif.unsupported(adex.plan, adex.nominal, torch.float32) == "population 'h' is adex"
    assert not adex.fast_path()
    analog = emulator_for(compile_text(TINY.replace("latency(t_max = 8 ms)", "current(scale = 1.0)")))
    assert "analog" in fast_lif.unsupported(analog.plan, analog.nominal, torch.float32)
    assert emulator_for(compile_text(TINY)).fast_path()  # recurrent
    for extension in ("reset = subtract", "arrival = same_step"):  # recurrent with what only the core runs
        core_only = emulator_for(compile_text(TINY.replace("refractory = 1 ms)", f"refractory = 1 ms, {extension})")))
        assert "subtract" in fast_lif.unsupported(core_only.plan, core_only.nominal, torch.float32)
        assert not core_only.fast_path()
    double = emulator_for(compile_text(LI_OUT), dtype=torch.float64)
    assert not double.fast_path()
    reference = emulator_for(compile_text(LI_OUT))
    assert reference.fast_path()
    stimulus = batch(reference.program, 4)
    observation = reference.observe(stimulus, reference.initial_weights())
    assert SpikingTwin(reference).fast_replay(observation)
    assert not SpikingTwin(reference, SmoothSpike()).fast_replay(observation)
    assert not SpikingTwin(reference, detach_reset=False).fast_replay(observation)
    assert not SpikingTwin(reference).fast_replay(None)


def test_without_numba_the_emulator_warns_and_runs_the_core(monkeypatch):
    monkeypatch.setattr(fast_lif, "fast_kernels", None)
    monkeypatch.setattr(fast_lif, "NUMBA_MISSING", "No module named 'numba'")
    monkeypatch.setattr(fast_lif, "_warned", False)
    program = compile_text(LI_OUT)
    emulator = emulator_for(program)
    with pytest.warns(RuntimeWarning, match="numba"):
        assert not emulator.fast_path()
    observation = emulator.observe(batch(program, 4), emulator.initial_weights())
    assert observation.scores.shape == (4, 3)


def test_chunks_on_threads_give_the_result_of_one_thread():
    program = compile_text(LI_OUT)
    emulator = emulator_for(program)
    stimulus = batch(program, 40)
    threads = fast_threads.THREADS
    try:
        fast_threads.set_threads(1)
        assert fast_threads.THREADS == 1 and fast_threads.chunks(40, 1) == [(0, 40)]
        one = emulator.observe(stimulus, emulator.initial_weights())
        fast_threads.set_threads(3)
        # one chunk per thread, none under `least` items: 40 in thirds, 5 of at least 2 in two
        assert fast_threads.chunks(40, 1) == [(0, 13), (13, 26), (26, 40)]
        assert fast_threads.chunks(5, 2) == [(0, 2), (2, 5)] and fast_threads.chunks(1, 2) == [(0, 1)]
        three = emulator.observe(stimulus, emulator.initial_weights())
        fast_threads.set_threads(0)
        assert fast_threads.THREADS == 1  # at least one
    finally:
        fast_threads.set_threads(threads)
    for name in one.membrane:
        assert torch.equal(one.membrane[name], three.membrane[name])


def test_output_buffers_are_reused_only_once_nothing_refers_to_them():
    program = compile_text(LI_OUT)
    emulator = emulator_for(program)
    weights = emulator.initial_weights()
    first = emulator.observe(batch(program, 16, seed=1), weights)
    kept = {name: v.clone() for name, v in first.membrane.items()}
    hidden_spikes = first.spikes["h1"][3]  # a view keeps its buffer too
    expected = hidden_spikes.clone()
    del first
    for seed in (2, 3):  # later batches must not write into buffers still in use
        emulator.observe(batch(program, 16, seed=seed), weights)
    assert torch.equal(hidden_spikes, expected)
    again = emulator.observe(batch(program, 16, seed=1), weights)
    for name, v in kept.items():
        assert torch.equal(again.membrane[name], v)


def test_a_released_output_buffer_is_reused():
    program = compile_text(LI_OUT)
    emulator = emulator_for(program)
    weights = emulator.initial_weights()
    first = emulator.observe(batch(program, 16, seed=1), weights)
    address = first.membrane["h2"].data_ptr()
    second = emulator.observe(batch(program, 16, seed=2), weights)
    assert second.membrane["h2"].data_ptr() != address  # still in use
    del first
    third = emulator.observe(batch(program, 16, seed=3), weights)
    assert third.membrane["h2"].data_ptr() == address


def test_buffers_of_other_shapes_make_room_in_a_full_pool(monkeypatch):
    program = compile_text(LI_OUT)
    emulator = emulator_for(program)
    weights = emulator.initial_weights()
    pool = fast_buffers.BufferPool(25 * 16 * 10 * 4 * 3)  # three (T, 16, 10) arrays
    monkeypatch.setattr(fast_buffers, "POOL", pool)
    first = emulator.observe(batch(program, 16, seed=1), weights).membrane["h1"].clone()
    held_16 = sum(len(xs) for shape, xs in pool.arrays.items() if shape[1] == 16)
    emulator.observe(batch(program, 12, seed=2), weights)  # another shape: idle 16-sample buffers make room
    assert sum(len(xs) for shape, xs in pool.arrays.items() if shape[1] == 16) < held_16
    assert sum(len(xs) for shape, xs in pool.arrays.items() if shape[1] == 12) > 0
    assert pool.held() <= pool.limit
    again = emulator.observe(batch(program, 16, seed=1), weights).membrane["h1"]
    assert torch.equal(again, first)


def test_spike_buffers_indexed_for_the_next_population_are_reused_after_a_training_step(monkeypatch):
    # The event index of a raster is cached for the twin's backward; it must not keep the raster's pooled
    # buffer alive, or every batch writes its spikes to fresh (page-faulting) memory.
    program = compile_text(BSS2_NET)  # h's spikes are o's only input: indexed as they are
    emulator = emulator_for(program)
    twin = emulator.make_twin()
    weights = {k: w.requires_grad_(True) for k, w in emulator.initial_weights().items()}
    pool = fast_buffers.BufferPool(fast_buffers.POOL.limit)
    monkeypatch.setattr(fast_buffers, "POOL", pool)
    for seed in range(6):
        scores, _ = in_the_loop(emulator, twin, batch(program, 16, seed=seed), weights)
        scores.sum().backward()
        del scores
    h_spikes = (program.ir.header.steps, 16, 12)
    assert len(pool.arrays[h_spikes]) <= 2  # not one per step


def test_observe_records_only_the_readout_membrane_when_asked():
    program = compile_text(LI_OUT)
    fast, general = emulator_for(program), emulator_for(program)
    general.fast = False
    stimulus = batch(program, 8)
    for emulator in (fast, general):
        every = emulator.observe(stimulus, emulator.initial_weights())
        output = emulator.observe(stimulus, emulator.initial_weights(), membranes="output")
        assert set(every.membrane) == {"h1", "h2", "o"} and set(output.membrane) == {"o"}
        assert torch.equal(every.membrane["o"], output.membrane["o"])
        assert torch.equal(every.scores, output.scores)
        assert all(torch.equal(every.spikes[k], output.spikes[k]) for k in every.spikes)
    with pytest.raises(ValueError, match="membranes"):
        fast.observe(stimulus, fast.initial_weights(), membranes="hidden")


def test_a_raster_s_event_index_is_cached_until_it_changes():
    raster = torch.zeros(3, 2, 4)
    raster[0, 1, 2] = raster[2, 0, 0] = raster[2, 0, 3] = 1.0
    src, start, index = fast_events.index(raster)
    # row r = t * B + b lists the sources that spiked: (0, 1) -> 2, (2, 0) -> 0 and 3
    assert start.tolist() == [0, 0, 1, 1, 1, 3, 3] and index.tolist() == [2, 0, 3]
    assert src.dtype == np.float32 and np.array_equal(src, raster.numpy())
    hit = fast_events.cached(raster)
    assert hit is not None and hit[0] is start and hit[1] is index  # the same arrays, not recomputed
    assert fast_events.cached(torch.zeros(3, 2, 4)) is None  # another tensor
    raster[1, 0, 1] = 1.0  # changed in place: its index is stale
    assert fast_events.cached(raster) is None
    assert fast_events.index(raster)[2].tolist() == [2, 1, 0, 3]
