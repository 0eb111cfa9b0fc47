"""The simulation core against closed-form solutions and the semantics of DSL.md."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from snnc.diagnostics import SnncError
from snnc.runtime.emulators import analog, core
from snnc.runtime.emulators.base import emulator_for
from snnc.runtime.encoders import encode
from tests.conftest import REPO, timed_network
from tests.runtime.conftest import compile_text


def observe(text: str, x: list[list[float]], dtype=torch.float64):
    program = compile_text(text)
    emulator = emulator_for(program, dtype=dtype)
    stimulus = encode(program.ir, torch.tensor(x, dtype=dtype))
    return emulator.observe(stimulus, emulator.initial_weights()), emulator


def psp_net(tau_mem: str, tau_syn: str) -> str:
    return f"""network psp {{
        timestep 0.5 ms
        duration 20 ms
        input x[1] : latency(t_max = 10 ms)
        pop   o[1] : LI(tau_mem = {tau_mem}, tau_syn = {tau_syn})
        proj x -> o : dense(init = constant(0.8))
        output o : max_membrane
    }}"""


@pytest.mark.parametrize("tau_mem, tau_syn", [(4e-3, 3e-3), (6e-3, 6e-3), (2e-3, 8e-3)])
def test_li_membrane_is_the_exact_psp(tau_mem, tau_syn):
    """One input spike at t = 0: V(t) = w tau_s / (tau_s - tau_m) (e^-t/tau_s - e^-t/tau_m) (or its
    limit w t / tau e^-t/tau for equal constants), sampled exactly at every step."""
    observation, _ = observe(psp_net(f"{tau_mem * 1e3} ms", f"{tau_syn * 1e3} ms"), [[1.0]])
    v = observation.membrane["o"][:, 0, 0].numpy()
    t = np.arange(len(v)) * 0.5e-3  # V_t has integrated the current that arrived at step 0 for t steps
    w = float(np.float32(0.8))  # weights are float32
    if tau_mem == tau_syn:
        expected = w * t / tau_mem * np.exp(-t / tau_mem)
    else:
        expected = w * tau_syn / (tau_syn - tau_mem) * (np.exp(-t / tau_syn) - np.exp(-t / tau_mem))
    np.testing.assert_allclose(v, expected, rtol=1e-9, atol=1e-12)


def test_a_silent_input_leaves_the_membrane_at_rest():
    observation, _ = observe(psp_net("4 ms", "3 ms"), [[0.0]])
    assert torch.all(observation.membrane["o"] == 0)


CURRENT_DRIVEN = timed_network("drive", "40 ms", """\
    input x[1] : current(scale = 1.0)
    pop   n[1] : %s
    proj x -> n : dense(init = constant(3.0))
    output n : %s""", timestep="0.5 ms")


def test_lif_fires_resets_and_holds_for_the_refractory_period():
    model = "LIF(tau_mem = 5 ms, tau_syn = 1 ms, v_th = 1.0, v_reset = -0.2, refractory = 2 ms)"
    observation, _ = observe(CURRENT_DRIVEN % (model, "spike_count"), [[1.0]])
    z, v = observation.spikes["n"][:, 0, 0], observation.membrane["n"][:, 0, 0]
    times = torch.nonzero(z).flatten().tolist()
    assert len(times) >= 3
    for t in times:
        assert v[t] == pytest.approx(-0.2)  # reset on the step of the spike
        assert torch.all(v[t + 1:t + 5] == -0.2)  # held for 2 ms = 4 steps
    assert min(b - a for a, b in zip(times, times[1:])) > 4
    assert torch.all(v[z == 0] < 1.0)  # below threshold except where it fired


def test_adex_adapts_interspike_intervals_grow():
    model = ("AdEx(tau_mem = 5 ms, tau_syn = 1 ms, v_th = 1.5, v_reset = 0.0, v_exp = 1.0, delta_t = 0.1, "
             "a = 0.1, b = 0.5, tau_w = 50 ms)")
    observation, _ = observe(CURRENT_DRIVEN % (model, "spike_count"), [[1.0]])
    times = torch.nonzero(observation.spikes["n"][:, 0, 0]).flatten().tolist()
    intervals = [b - a for a, b in zip(times, times[1:])]
    assert len(intervals) >= 2 and intervals[-1] > intervals[0]


def test_constant_current_settles_the_synaptic_current_at_x_times_w():
    observation, _ = observe(CURRENT_DRIVEN % ("LI(tau_mem = 2 ms, tau_syn = 1 ms)", "max_membrane"), [[0.5]])
    assert float(observation.membrane["n"][-1, 0, 0]) == pytest.approx(1.5, rel=1e-6)  # V -> I -> x w


RELAY = timed_network("relay", "15 ms", """\
    input x[1] : latency(t_max = 4 ms)
    pop   a[1] : LIF(tau_mem = 2 ms, tau_syn = 1 ms, v_th = 0.1)
    pop   b[1] : LI(tau_mem = 2 ms, tau_syn = 1 ms)
    proj x -> a : dense(init = constant(5.0))
    proj a -> b : dense(init = constant(1.0)) delay %s
    output b : max_membrane""")


@pytest.mark.parametrize("delay", [0, 3])
def test_a_delay_shifts_the_target_response_by_its_steps(delay):
    observation, _ = observe(RELAY % f"{delay} ms", [[1.0]])  # x spikes at step 0
    spike_a = int(torch.nonzero(observation.spikes["a"][:, 0, 0])[0])
    v_b = observation.membrane["b"][:, 0, 0]
    first = int(torch.nonzero(v_b)[0])
    assert first == spike_a + delay + 1  # current at spike + delay, membrane from the next step on


def test_zero_delay_recurrence_is_causal_and_grouped():
    text = timed_network("loop", "10 ms", """\
    input x[1] : latency(t_max = 2 ms)
    pop   a[1] : LIF(tau_mem = 2 ms, tau_syn = 1 ms, v_th = 0.1)
    pop   b[1] : LIF(tau_mem = 2 ms, tau_syn = 1 ms, v_th = 0.1)
    pop   o[1] : LI(tau_mem = 2 ms, tau_syn = 1 ms)
    proj x -> a : dense(init = constant(5.0))
    proj a -> b : dense(init = constant(5.0))
    proj b -> a : dense(init = constant(5.0))
    proj b -> o : dense(init = constant(1.0))
    output o : max_membrane""")
    observation, emulator = observe(text, [[1.0]])
    assert emulator.plan.groups == (("a", "b"), ("o",))
    a = torch.nonzero(observation.spikes["a"][:, 0, 0]).flatten().tolist()
    b = torch.nonzero(observation.spikes["b"][:, 0, 0]).flatten().tolist()
    assert a[0] == 1  # x spikes at step 0, a's membrane crosses on the next step
    assert b[0] == a[0] + 1  # b sees a's spike one step later: never within the same step


def test_coefficients_are_exact_exponentials():
    p = core.NeuronParams(kind="li", tau_mem=torch.tensor([4e-3], dtype=torch.float64),
                          tau_syn=torch.tensor([4e-3], dtype=torch.float64), v_leak=torch.zeros(1, dtype=torch.float64))
    c = core.Coefficients.of(p, 1e-3)
    assert float(c.a_mem) == pytest.approx(math.exp(-0.25))
    assert float(c.k_syn) == pytest.approx(0.25 * math.exp(-0.25))


def test_models_without_spiking_dynamics_are_refused_with_their_statement(tmp_path):
    text = """network optical {
        input img[4] : intensity(photons = 10)
        pop   h[3]   : photon_detector(photons_per_mac = 0.1)
        pop   out[2] : linear
        proj img -> h : dense(init = uniform(0, 0.1)) positive
        proj h -> out : dense
        output out : value
    }"""
    with pytest.raises(SnncError) as info:  # at compile time: the reference target lists what its core runs
        compile_text(text)
    assert [(d.code, str(d.span)) for d in info.value.diagnostics] == [("E160", "net.snn:3:9"), ("E160", "net.snn:4:9")]
    everything = tmp_path / "everything.yaml"  # a variant that claims every model: the emulator still refuses
    everything.write_text((REPO / "snnc/compiler/targets/reference.yaml").read_text().replace(
        "neuron_models: [LIF, LI, AdEx, IF, integrator, always_on]", "neuron_models: all"))
    with pytest.raises(SnncError) as info:
        emulator_for(compile_text(text, target=str(everything)))
    assert [str(d.span) for d in info.value.diagnostics] == ["net.snn:3:9", "net.snn:4:9"]
    assert "population 'h': the spiking emulator does not simulate 'photon_detector'" in info.value.render()


WINDOWED = timed_network("windows", "10 ms", """\
    input x[2] : current(scale = 1.0)
    pop   n[1] : LI(tau_mem = 3 ms, tau_syn = 2 ms)
    proj x -> n : dense(init = constant(1.5))
    output n : max_membrane""", timestep="%s")


def test_windows_are_integrated_exactly_where_a_boundary_cuts_a_step():
    """Three windows over 10 ms: boundaries at 3.33 and 6.67 ms fall inside 1 ms steps. The coarse run
    (each cut step split exactly, window_gains) equals a run on a 1/3 ms grid, where every boundary is a
    step edge, at the times both sample."""
    x = [[[1.0, 0.0], [0.0, 2.0], [0.5, 0.5]]]  # (B, W, C)
    coarse, _ = observe(WINDOWED % "1 ms", x)
    fine, _ = observe(WINDOWED % "0.333333333333333 ms", x)
    v_coarse = coarse.membrane["n"][:, 0, 0]
    v_fine = fine.membrane["n"][2::3, 0, 0]  # fine step 3t + 2 ends at (t + 1) ms
    assert len(v_coarse) == 10 and len(fine.membrane["n"]) == 30
    torch.testing.assert_close(v_coarse, v_fine, rtol=1e-9, atol=1e-12)
    assert float(v_coarse[3]) != pytest.approx(float(v_coarse[2]))  # the drive changed inside step 3


def test_one_window_is_the_constant_drive():
    static, _ = observe(WINDOWED % "1 ms", [[0.25, 0.75]])
    windowed, _ = observe(WINDOWED % "1 ms", [[[0.25, 0.75]]])
    torch.testing.assert_close(static.membrane["n"], windowed.membrane["n"], rtol=1e-12, atol=0.0)


def test_window_gains_are_exact_shares_of_a_step():
    p = core.NeuronParams(kind="li", tau_mem=torch.tensor([3e-3], dtype=torch.float64),
                          tau_syn=torch.tensor([2e-3], dtype=torch.float64), v_leak=torch.zeros(1, dtype=torch.float64))
    gain_i, gain_v = analog.window_gains(p.tau_mem, p.tau_syn, False, steps=4, dt=1e-3, windows=3)  # cuts: 1.33, 2.67
    c = core.Coefficients.of(p, 1e-3)
    whole = torch.cat([1 - c.a_syn, 1 - c.a_mem - c.k_syn])
    torch.testing.assert_close(torch.stack([gain_i.sum(1)[:, 0], gain_v.sum(1)[:, 0]], 1), whole.expand(4, 2))
    # step 1 ([1, 2] ms): window 0 covers its first third: I = e^(-2/3 ms / tau_s) - e^(-1 ms / tau_s)
    assert float(gain_i[1, 0, 0]) == pytest.approx(math.exp(-2 / 3 / 2) - math.exp(-1 / 2), rel=1e-12)
    assert float(gain_i[0, 1, 0]) == 0.0 and float(gain_i[3, 0, 0]) == 0.0
