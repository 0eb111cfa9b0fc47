"""The language extensions that NIR import needs, in the simulation core: synapse-free neurons
(tau_syn = 0, IF, integrator), `arrival = same_step`, `reset = subtract` and always_on bias sources.
Expected values are worked out by hand in the docstrings."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from snnc.diagnostics import SnncError
from snnc.runtime.emulators import fast_lif
from snnc.runtime.emulators.base import emulator_for
from snnc.runtime.encoders import encode
from tests.runtime.conftest import compile_text

HALF_LIFE = f"{1 / math.log(2)!r} ms"  # tau_mem with a_mem = exp(-1 ms / tau_mem) = 1/2 at a 1 ms step


def net(model: str, readout: str = "spike_count", extra: str = "", weight: float = 0.6, steps: int = 8) -> str:
    return f"""network ext {{
        timestep 1 ms
        duration {steps} ms
        input x[1] : spikes
        pop   n[1] : {model}
        proj x -> n : dense(init = constant({weight}))
        {extra}
        output n : {readout}
    }}"""


def run(text: str, spikes: list[float]):
    program = compile_text(text)
    emulator = emulator_for(program, dtype=torch.float64)
    x = torch.tensor(spikes, dtype=torch.float64).reshape(1, -1, 1)
    observation = emulator.observe(encode(program.ir, x), emulator.initial_weights())
    return observation, emulator


INPUT = [1, 1, 0, 1, 1, 1, 0, 0]


def test_a_synapse_free_lif_moves_its_membrane_by_the_weight_in_the_step_the_spike_arrives():
    """a_mem = 1/2, w = 0.6: V = 0.6, 0.9, 0.45, 0.825, 1.0125 -> spike and reset to 0, 0.6, 0.3, 0.15."""
    observation, emulator = run(net(f"LIF(tau_mem = {HALF_LIFE}, tau_syn = 0 ms)"), INPUT)
    v, z = observation.membrane["n"][:, 0, 0].numpy(), observation.spikes["n"][:, 0, 0].numpy()
    w = float(np.float32(0.6))
    expected = [w, 1.5 * w, 0.75 * w, 1.375 * w, 0.0, w, 0.5 * w, 0.25 * w]
    np.testing.assert_allclose(v, expected, rtol=1e-12, atol=1e-12)
    assert z.tolist() == [0, 0, 0, 0, 1, 0, 0, 0]
    assert "tau_syn = 0" in fast_lif.unsupported(emulator.plan, emulator.nominal, torch.float32)


def test_subtract_reset_removes_the_threshold_distance_and_keeps_the_rest():
    """As above, but the spike at step 4 leaves 1.0125 - (1 - 0) = 0.0125, then 0.60625, 0.303125, ..."""
    observation, _ = run(net(f"LIF(tau_mem = {HALF_LIFE}, tau_syn = 0 ms, reset = subtract)"), INPUT)
    w = float(np.float32(0.6))
    v4 = 1.6875 * w - 1.0
    expected = [w, 1.5 * w, 0.75 * w, 1.375 * w, v4, v4 / 2 + w, v4 / 4 + w / 2, v4 / 8 + w / 4]
    np.testing.assert_allclose(observation.membrane["n"][:, 0, 0].numpy(), expected, rtol=1e-12, atol=1e-12)


def test_same_step_arrival_drives_the_membrane_one_step_earlier_than_next_step():
    """One input spike at step 0: with same_step the PSP V_t is the next_step PSP's V_{t+1}."""
    spikes = [1, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    late, _ = run(net("LI(tau_mem = 4 ms, tau_syn = 3 ms)", "max_membrane", steps=10), spikes)
    early, _ = run(net("LI(tau_mem = 4 ms, tau_syn = 3 ms, arrival = same_step)", "max_membrane", steps=10),
                   spikes)
    late_v, early_v = late.membrane["n"][:, 0, 0], early.membrane["n"][:, 0, 0]
    assert late_v[0] == 0 and early_v[0] > 0
    torch.testing.assert_close(early_v[:-1], late_v[1:], rtol=1e-12, atol=1e-15)


def test_if_and_integrator_sum_their_inputs_without_leak():
    """IF: 0.6, 1.2 -> spike, reset to -0.1; -0.1, 0.5, 1.1 -> spike, -0.1, -0.1, -0.1. Integrator: the
    running sum 0.6, 1.2, 1.2, 1.8, 2.4, 3.0, 3.0, 3.0."""
    observation, emulator = run(net("IF(v_th = 1.0, v_reset = -0.1)"), INPUT)
    w = float(np.float32(0.6))
    np.testing.assert_allclose(observation.membrane["n"][:, 0, 0].numpy(),
                               [w, -0.1, -0.1, w - 0.1, -0.1, w - 0.1, w - 0.1, w - 0.1], rtol=1e-12)
    assert observation.spikes["n"][:, 0, 0].tolist() == [0, 1, 0, 0, 1, 0, 0, 0]
    observation, _ = run(net("integrator", "max_membrane"), INPUT)
    np.testing.assert_allclose(observation.membrane["n"][:, 0, 0].numpy(),
                               w * np.cumsum(INPUT), rtol=1e-12)


def test_an_always_on_population_is_a_bias_added_at_every_step():
    """No input spikes, a bias of 0.25 into a synapse-free LI with a_mem = 1/2: V_t = 0.5 (1 - 2^-(t+1));
    the bias source's spikes are not activity."""
    extra = "pop one[1] : always_on\n proj one -> n : dense(init = constant(0.25))"
    observation, _ = run(net(f"LI(tau_mem = {HALF_LIFE}, tau_syn = 0 ms)", "max_membrane", extra), [0] * 8)
    t = np.arange(8)
    np.testing.assert_allclose(observation.membrane["n"][:, 0, 0].numpy(), 0.5 * (1 - 0.5 ** (t + 1)), rtol=1e-12)
    assert "one" not in observation.spikes and float(observation.activity.sum()) == 0.0


def test_a_zero_delay_recurrent_spike_reaches_a_synapse_free_neuron_in_the_next_step():
    """Input 1.0 at step 0 fires n at once (reset to 0); its self-projection of 0.3 arrives at step 1."""
    extra = "proj n -> n : dense(init = constant(0.3))"
    observation, _ = run(net(f"LIF(tau_mem = {HALF_LIFE}, tau_syn = 0 ms)", extra=extra, weight=1.0, steps=4),
                         [1, 0, 0, 0])
    np.testing.assert_allclose(observation.membrane["n"][:, 0, 0].numpy(), [0.0, 0.3, 0.15, 0.075], rtol=1e-6)
    assert observation.spikes["n"][:, 0, 0].tolist() == [1, 0, 0, 0]


@pytest.mark.parametrize("model, code", [
    ("LIF(tau_mem = 5 ms, tau_syn = 5 ms, reset = subtract)", "E401"),
    ("LIF(tau_mem = 5 ms, tau_syn = 5 ms, arrival = same_step)", "E401"),
    ("LIF(tau_mem = 5 ms, tau_syn = 0 ms)", "E401"),
    ("IF", "E160"),
])
def test_bss2_refuses_what_its_circuits_cannot_do(model, code):
    with pytest.raises(SnncError) as raised:
        compile_text(net(model), target="bss2")
    assert code in {d.code for d in raised.value.diagnostics}


def test_an_always_on_population_needs_no_input_but_gives_no_readout():
    extra = "pop one[1] : always_on\n proj one -> n : dense(init = constant(0.25))"
    compile_text(net("LI(tau_mem = 5 ms, tau_syn = 0 ms)", "max_membrane", extra))  # reachable: no E133
    with pytest.raises(SnncError, match="gives only nothing to read"):
        compile_text(net("LI(tau_mem = 5 ms, tau_syn = 0 ms)", "max_membrane", extra).replace(
            "output n : max_membrane", "output one : spike_count"))


def test_spike_data_with_the_wrong_channel_count_is_an_error_naming_both():
    program = compile_text(net("LIF(tau_mem = 5 ms, tau_syn = 0 ms)"))
    with pytest.raises(SnncError, match=r"3 channels.*'x' has 1"):
        encode(program.ir, torch.zeros(2, 8, 3))


def test_spike_counts_are_events_not_values_to_rescale(tmp_path):
    """A count of 2 in a step is one spike (clipped), and a 1 stays 1: the data are not divided by their peak."""
    from snnc.runtime.data import load_data

    program = compile_text(net("LIF(tau_mem = 5 ms, tau_syn = 0 ms)"))
    x = np.zeros((10, 8, 1), dtype=np.float32)
    x[:, 0], x[:, 3] = 2.0, 1.0
    np.savez(tmp_path / "events.npz", x=x, y=np.arange(10) % 2)
    data = load_data(str(tmp_path / "events.npz"), program.ir.inputs()[0])
    raster = encode(program.ir, data.x_train).events["x"]
    assert raster[:, 0, 0].tolist() == [1, 0, 0, 1, 0, 0, 0, 0]
