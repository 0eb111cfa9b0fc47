"""The membrane in the loop: the CADC's sampling of the bss2 emulator, the core's measured-membrane
substitution (hxtorch's Unterjubel), the membrane twin and the `twin` training option."""

from __future__ import annotations

import math

import pytest
import torch

import snnc
from snnc.cli import run as cli
from snnc.diagnostics import SnncError
from snnc.runtime.emulators import core
from snnc.runtime.emulators.base import emulator_for
from snnc.runtime.emulators.cadc import Sampling
from snnc.runtime.encoders import encode
from snnc.runtime.in_the_loop import in_the_loop
from snnc.runtime.twin import SuperSpike
from tests.runtime.conftest import TINY_BSS2, compile_text
from tests.runtime.test_fast_lif import BSS2_RECURRENT, batch
from tests.runtime.test_fast_recurrent import RECURRENT_READOUT, TWO_CYCLE

ONE_LIF = """\
network one {
    timestep 1 ms
    duration 8 ms
    input  x[1] : spikes
    pop    h[1] : LIF(tau_mem = 4 ms, tau_syn = 3 ms, v_th = 1.0)
    pop    o[1] : LI(tau_mem = 4 ms, tau_syn = 3 ms)
    proj x -> h : dense(init = constant(0.7))
    proj h -> o : dense(init = constant(0.5))
    output o : max_membrane
}
"""


def test_cadc_samples_and_interpolates_as_hand_computed():
    sampling = Sampling.of(steps=7, dt=1.0, interval=2.5)  # samples at floor(k * 2.5): steps 0, 2, 5
    assert sampling.samples == (0, 2, 5)
    v = torch.tensor([0.0, 5.0, 2.0, 9.0, 1.0, 3.0, 7.0])
    expected = torch.tensor([0.0, 1.0, 2.0, 2 + 1 / 3, 2 + 2 / 3, 3.0, 3.0])  # linear between, held after
    assert torch.allclose(sampling.resample(v), expected)
    assert Sampling.of(steps=5, dt=1.0, interval=1.0).samples == (0, 1, 2, 3, 4)  # every step: the identity
    assert torch.equal(Sampling.of(steps=5, dt=1.0, interval=0.3).resample(v[:5]), v[:5])
    # the 256-246-10 network: dt 0.5 ms, 2 us of chip time = 2 ms of model time -> every 4th of 60 steps
    program = snnc.compile("dsl_examples/latency_digits_ff.snn", target="bss2")
    assert emulator_for(program).cadc.samples == tuple(range(0, 60, 4))


def test_the_core_takes_a_measured_membrane_value_and_passes_its_gradient_to_the_model():
    program = compile_text(ONE_LIF)
    emulator = emulator_for(program, dtype=torch.float64)
    plan, params = emulator.plan, emulator.nominal
    events = {"x": torch.tensor([1.0, 0, 1, 0, 0, 1, 0, 0], dtype=torch.float64).reshape(8, 1, 1)}
    measured_h = torch.tensor([0.3, 1.2, 0.9, 0.1, 0.0, 0.6, 1.1, 0.4], dtype=torch.float64).reshape(8, 1, 1)
    measured_z = torch.tensor([0.0, 1, 0, 0, 0, 0, 1, 0], dtype=torch.float64).reshape(8, 1, 1)
    w = torch.tensor([[0.7]], dtype=torch.float64, requires_grad=True)
    beta = 10.0
    surrogate = SuperSpike(beta)

    def spike(population, step, u):
        return surrogate(u, measured_z[step] if population == "h" else None)

    trace = core.simulate(plan, params, {"x->h": w, "h->o": torch.tensor([[0.5]], dtype=torch.float64)},
                          events, {}, spike, detach_reset=True, observed={"h": measured_h})
    assert torch.equal(trace.membrane["h"], measured_h)  # the forward value is the measurement
    assert torch.equal(trace.spikes["h"], measured_z)
    (grad,) = torch.autograd.grad(trace.spikes["h"].sum(), w)
    # by hand: dV_t/dw follows the model (a_mem, k_syn, no reset: the measurement shows it), the surrogate
    # is evaluated on the measured V: sum_t dV_t/dw / (1 + beta |V_t - v_th|)^2 (unit v_th - v_leak = 1)
    a_mem, a_syn = math.exp(-1 / 4), math.exp(-1 / 3)
    k_syn = 3 / (3 - 4) * (a_syn - a_mem)
    d_v = d_i = expected = 0.0
    for t in range(8):
        d_v = a_mem * d_v + k_syn * d_i
        expected += d_v / (1 + beta * abs(float(measured_h[t]) - 1.0)) ** 2
        d_i = a_syn * d_i + float(events["x"][t])
    assert float(grad) == pytest.approx(expected, rel=1e-12)


def membrane_setting(kind: str):
    program = compile_text(TINY_BSS2, target="bss2")
    emulator = emulator_for(program, chip_seed=3, noise_seed=5)
    stimulus = encode(program.ir, torch.rand(4, 6, generator=torch.Generator().manual_seed(2)))
    weights = {k: w.requires_grad_(True) for k, w in emulator.initial_weights().items()}
    return emulator, emulator.make_twin(kind), stimulus, weights


def test_the_membrane_twin_replays_the_chips_membrane_and_readout():
    emulator, twin, stimulus, weights = membrane_setting("membrane")
    assert twin.membranes == "all"
    assert not twin.fast_replay(emulator.observe(stimulus, weights, membranes="output"))  # needs every membrane
    observation = emulator.observe(stimulus, weights, membranes=twin.membranes)
    assert twin.fast_replay(observation)
    assert set(observation.membrane) == {"h", "o"}
    trace = twin.trace(stimulus, weights, observation)
    assert torch.equal(trace.membrane["h"], observation.membrane["h"])
    scores, activity = twin.replay(stimulus, weights, observation)
    assert torch.equal(scores, observation.scores)  # the readout's value is the chip's, its gradient the model's
    grads = torch.autograd.grad(scores.sum() + activity.sum(), list(weights.values()))
    _, spikes_twin, _, _ = membrane_setting("spikes")
    own, own_activity = spikes_twin.replay(stimulus, weights, observation)
    assert not torch.equal(own, observation.scores)  # the spike-only twin computes its own membrane
    own_grads = torch.autograd.grad(own.sum() + own_activity.sum(), list(weights.values()))
    for name, g, o in zip(weights, grads, own_grads):
        assert torch.isfinite(g).all() and g.abs().sum() > 0
        # into the hidden layer the surrogate is evaluated on the chip's membrane, not the twin's (the LI
        # readout's gradient differs only where the chip's maximum is at another sample than the twin's)
        if name != "h->o":
            assert not torch.allclose(g, o), name


@pytest.mark.parametrize("text, target", [(TINY_BSS2, "bss2"), (BSS2_RECURRENT, "bss2"), (TWO_CYCLE, "reference"),
                                          (RECURRENT_READOUT, "reference")])
def test_the_membrane_twin_on_the_fast_path_has_the_cores_gradient(text, target):
    """The fast kernels' adjoint with the measured membranes (fast_lif.replay's surrogate_membrane, the
    reset not differentiated) against autograd through core.simulate(observed=...): the same scores, the
    gradients within 1e-5 of the largest entry. TWO_CYCLE's b and RECURRENT_READOUT's o have no refractory
    period, so a spike's step passes the gradient on (it is held otherwise)."""
    program = compile_text(text, target=target)
    emulator = emulator_for(program, chip_seed=3, noise_seed=5)
    twin = emulator.make_twin("membrane")
    stimulus = batch(program, 8, seed=4)
    weights = {k: w.requires_grad_(True) for k, w in emulator.initial_weights().items()}
    observation = emulator.observe(stimulus, weights, membranes=twin.membranes)
    if target == "reference":  # a measurement that is not the twin's own trajectory, as on a chip
        noise = torch.Generator().manual_seed(6)
        observation.membrane = {k: v + 0.05 * torch.randn(v.shape, generator=noise)
                                for k, v in observation.membrane.items()}
    assert sum(float(z.sum()) for z in observation.spikes.values()) > 10
    names = sorted(weights)
    mix = torch.randn(observation.scores.shape, generator=torch.Generator().manual_seed(7))

    def replayed():
        scores, activity = twin.replay(stimulus, weights, observation)
        loss = (scores * mix).sum() + 0.1 * activity.sum()
        return scores, torch.autograd.grad(loss, [weights[n] for n in names])

    assert twin.fast_replay(observation)
    fast_scores, fast = replayed()
    emulator.fast = False
    assert not twin.fast_replay(observation)
    core_scores, general = replayed()
    assert torch.equal(fast_scores, core_scores)
    for name, f, g in zip(names, fast, general):
        scale = float(g.abs().max())
        assert scale > 0, name
        torch.testing.assert_close(f, g, rtol=0, atol=1e-5 * scale)


def test_in_the_loop_records_every_membrane_for_the_membrane_twin():
    emulator, twin, stimulus, weights = membrane_setting("membrane")
    recorded = []
    observe = emulator.observe
    emulator.observe = lambda *a, **k: recorded.append(k["membranes"]) or observe(*a, **k)
    scores, activity = in_the_loop(emulator, twin, stimulus, weights)
    (scores.sum() + activity.sum()).backward()
    assert recorded == ["all"] and all(w.grad.abs().sum() > 0 for w in weights.values())


def test_the_twin_option(small_digits_file, tmp_path, capsys):
    quick = dict(epochs=1, train_samples=32, test_samples=16)
    on_chip = snnc.train(small_digits_file, target="bss2", **quick)
    assert on_chip.metrics["config"]["twin"] == "spikes"  # bss2's default (docs/in_the_loop.md)
    membrane = snnc.train(small_digits_file, target="bss2", twin="membrane", **quick)
    assert membrane.program.ir.graph.graph["training"]["twin"] == "membrane"
    assert membrane.weights["hidden->out"].ne(on_chip.weights["hidden->out"]).any()
    block = small_digits_file.read_text().replace("epochs 2", "epochs 2\n    twin membrane")
    (tmp_path / "block.snn").write_text(block)
    assert snnc.train(tmp_path / "block.snn", target="bss2", **quick).metrics["config"]["twin"] == "membrane"
    with pytest.raises(SnncError, match="twin 'membrane' is not available on target 'onn'; its twin has no"):
        snnc.train("dsl_examples/onn_digits.snn", target="onn", twin="membrane", **quick)
    (tmp_path / "bad.snn").write_text(block.replace("twin membrane", "twin voltage"))
    assert cli(["check", str(tmp_path / "bad.snn")]) == 1
    assert "voltage" in capsys.readouterr().err
    assert cli(["train", str(small_digits_file), "--twin", "voltage"]) == 2
