"""The backward pass: the twin's gradients against finite differences (with a smooth spike function),
gradcheck of the in-the-loop Function, and that the backward is the twin's, never the emulator's."""

from __future__ import annotations

import torch

from snnc.runtime.emulators.base import emulator_for
from snnc.runtime.emulators.bss2 import BSS2Emulator
from snnc.runtime.encoders import encode
from snnc.runtime.in_the_loop import InTheLoop, in_the_loop
from snnc.runtime.twin import SmoothSpike, SpikingTwin, SuperSpike
from tests.runtime.conftest import TINY, TINY_BSS2, compile_text

# The tiny recurrent net without refractoriness (a step count, not a smooth function of the weights).
SMOOTH_TINY = TINY.replace(", refractory = 1 ms", "")


def smooth_setting():
    """Reference emulator and twin in double precision, both with the same smooth spike function."""
    program = compile_text(SMOOTH_TINY)
    emulator = emulator_for(program, dtype=torch.float64)
    smooth = SmoothSpike(beta=4.0)
    emulator.spike_fn = lambda _population, _step, u: smooth.substrate(u / 0.5)  # v_th - v_leak = 0.5
    twin = SpikingTwin(emulator, smooth, detach_reset=False)
    x = torch.rand(3, 6, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    stimulus = encode(program.ir, x)
    names = tuple(emulator.weight_names())
    weights = tuple(emulator.initial_weights()[n].requires_grad_(True) for n in names)
    return emulator, twin, stimulus, names, weights


def test_twin_gradients_match_finite_differences():
    emulator, twin, stimulus, names, weights = smooth_setting()
    assert all(w.dtype == torch.float64 for w in weights)

    def twin_outputs(*ws):
        return twin.replay(stimulus, dict(zip(names, ws)))

    assert torch.autograd.gradcheck(twin_outputs, weights, eps=1e-6, atol=1e-6, rtol=1e-4)


def test_in_the_loop_function_passes_gradcheck():
    emulator, twin, stimulus, names, weights = smooth_setting()

    def function(*ws):
        return InTheLoop.apply(emulator, twin, stimulus, names, *ws)

    assert torch.autograd.gradcheck(function, weights, eps=1e-6, atol=1e-6, rtol=1e-4)


def bss2_setting():
    program = compile_text(TINY_BSS2, target="bss2")
    emulator = emulator_for(program, chip_seed=3, noise_seed=5)
    twin = emulator.make_twin()
    x = torch.rand(4, 6, generator=torch.Generator().manual_seed(2))
    weights = {k: w.requires_grad_(True) for k, w in emulator.initial_weights().items()}
    return emulator, twin, encode(program.ir, x), weights


def test_forward_is_the_substrate_and_backward_is_the_twin():
    emulator, twin, stimulus, weights = bss2_setting()
    state = emulator.generator.get_state()
    observation = emulator.observe(stimulus, weights)
    emulator.generator.set_state(state)  # the same noise again
    scores, activity = in_the_loop(emulator, twin, stimulus, weights)
    assert torch.equal(scores, observation.scores) and torch.equal(activity, observation.activity)
    g_scores, g_activity = torch.randn_like(scores), torch.randn_like(activity)
    torch.autograd.backward((scores, activity), (g_scores, g_activity))
    replayed = twin.replay(stimulus, weights, observation)
    expected = torch.autograd.grad(replayed, list(weights.values()), (g_scores, g_activity))
    for w, g in zip(weights.values(), expected):
        assert torch.equal(w.grad, g)
        assert torch.isfinite(g).all() and g.abs().sum() > 0


def test_twin_takes_spike_values_from_the_substrate_and_its_membrane_from_itself():
    emulator, twin, stimulus, weights = bss2_setting()
    observation = emulator.observe(stimulus, weights)
    trace = twin.trace(stimulus, weights, observation)
    assert torch.equal(trace.spikes["h"], observation.spikes["h"])
    own = twin.trace(stimulus, weights)  # without an observation: the twin's own (ideal) spikes
    assert not torch.equal(trace.membrane["h"], observation.membrane["h"])  # mismatch and noise: not equal
    # its own spikes: the ideal chip's (declared parameters, quantized weights, no noise)
    ideal = BSS2Emulator(emulator.program, imperfections=False)
    assert torch.equal(own.spikes["h"], ideal.observe(stimulus, weights).spikes["h"])
    assert not torch.equal(own.spikes["h"], observation.spikes["h"])


def test_superspike_surrogate_derivative():
    u = torch.linspace(-2, 2, 9, requires_grad=True)
    z = SuperSpike(beta=3.0)(u, None)
    assert torch.equal(z, (u >= 0).float())
    z.sum().backward()
    assert torch.allclose(u.grad, 1 / (1 + 3.0 * u.detach().abs()) ** 2)
