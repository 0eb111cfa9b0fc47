"""The simulation core, the readouts and the twin against values computed here by hand (issue 16): a
spike exactly at threshold, a recurrent spike of step 0, first_spike at the last step, the SuperSpike
surrogate's default sharpness, and the twin's gradients with real (step-function) spikes."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch

from snnc.runtime.emulators import core, fast_lif
from snnc.runtime.emulators.base import emulator_for
from snnc.runtime.encoders import encode
from snnc.runtime.readouts import first_spike, max_membrane, spike_count, value
from snnc.runtime.twin import SuperSpike
from tests.conftest import timed_network
from tests.runtime.conftest import compile_text

ONE = timed_network("one", "10 ms", """\
    input x[1] : latency(t_max = 8 ms)
    pop   h[1] : LIF(tau_mem = 4 ms, tau_syn = 3 ms, v_th = 10.0)
    proj x -> h : dense(init = constant(1.0))
    output h : spike_count""")


def setting(text: str):
    program = compile_text(text)
    plan = core.build_plan(program.ir)
    params = core.nominal_params(program.ir)
    weights = {k: torch.as_tensor(a["weights"]) for k, a in program.ir.edge_attrs_by_name().items()}
    return program, plan, params, weights


@pytest.mark.parametrize("path", ["core", "fast"])
def test_a_membrane_exactly_at_threshold_spikes(path):
    program, plan, params, weights = setting(ONE)
    events = encode(program.ir, torch.ones(1, 1)).events  # one spike at step 0

    def run(p):
        if path == "fast":
            return fast_lif.simulate(plan, {"h": p}, weights, events)
        return core.simulate(plan, {"h": p}, weights, events, {}, core.heaviside)

    v = run(params["h"]).membrane["h"][:, 0, 0]
    peak = int(v.argmax())
    assert 0 < peak < 9 and float(v[peak]) < 10.0
    at_peak = replace(params["h"], v_th=v[peak].reshape(1).clone())  # the threshold is the peak, to the bit
    spikes = run(at_peak).spikes["h"][:, 0, 0]
    assert spikes.tolist() == [1.0 if t == peak else 0.0 for t in range(10)]
    just_above = replace(params["h"], v_th=torch.nextafter(v[peak], torch.tensor(11.0)).reshape(1))
    assert float(run(just_above).spikes["h"].sum()) == 0.0
    assert core.heaviside("h", 0, torch.tensor([0.0, -1e-7, 1e-7])).tolist() == [1.0, 0.0, 1.0]


RECURRENT = timed_network("loop", "6 ms", """\
    input x[1] : latency(t_max = 5 ms)
    pop   h[2] : MODEL
    proj x -> h : dense(init = constant(0.0))
    proj h -> h : dense(init = constant(0.0))
    output h : spike_count""")


@pytest.mark.parametrize("delay", [0, 1, 2])
@pytest.mark.parametrize("model", ["LIF(tau_mem = 4 ms, tau_syn = 3 ms, v_th = 1.0)", "IF(v_th = 1.0)"])
def test_a_recurrent_spike_of_step_0_arrives_after_its_delay(model, delay):
    """Neuron 0 fires at every step from step 0 on (its threshold is below rest); neuron 1 is driven only
    by it, with weight 0.25 over a delay of `delay` steps."""
    program, plan, params, weights = setting(RECURRENT.replace("MODEL", model))
    plan = replace(plan, edges=tuple(replace(e, delay_steps=delay) if e.name == "h->h" else e for e in plan.edges))
    p = replace(params["h"], v_th=torch.tensor([-1.0, 10.0]))
    weights["h->h"] = torch.tensor([[0.0, 0.25], [0.0, 0.0]])
    trace = core.simulate(plan, {"h": p}, weights, encode(program.ir, torch.zeros(1, 1)).events, {}, core.heaviside)
    assert trace.spikes["h"][:, 0, 0].tolist() == [1.0] * 6
    v = trace.membrane["h"][:, 0, 1].tolist()
    if model.startswith("IF"):  # no synaptic current: a spike of step s moves V at step s + max(delay, 1)
        lag = max(delay, 1)
        expected = [0.25 * max(0, t - lag + 1) for t in range(6)]
    else:  # the spike enters the current at step s + delay and the membrane from the step after
        c = core.Coefficients.of(p, 1e-3)
        a_mem, a_syn, k_syn = float(c.a_mem[1]), float(c.a_syn[1]), float(c.k_syn[1])
        expected, volt, current = [], 0.0, 0.0
        for t in range(6):
            volt = a_mem * volt + k_syn * current
            expected.append(volt)
            current = a_syn * current + (0.25 if t >= delay else 0.0)
    assert v == pytest.approx(expected, abs=1e-6)
    assert v[delay + 1] > 0.0


def test_readouts_by_hand():
    v = torch.tensor([[[0.0, 1.0, -2.0]], [[2.0, 0.5, -1.0]], [[1.0, 0.7, -3.0]]])  # (T=3, B=1, N=3)
    z = torch.tensor([[[0.0, 0.0, 0.0]], [[1.0, 0.0, 0.0]], [[1.0, 0.0, 1.0]]])
    assert max_membrane(v, None, 1e-3).tolist() == [[2.0, 1.0, -1.0]]
    assert spike_count(None, z, 1e-3).tolist() == [[2.0, 0.0, 1.0]]
    # in units of the duration (3 steps, whatever dt): first spike at step 1, none (-1), at the last step 2
    assert first_spike(None, z, 1e-3)[0].tolist() == pytest.approx([-1 / 3, -1.0, -2 / 3])
    assert first_spike(None, z, 0.5)[0].tolist() == pytest.approx([-1 / 3, -1.0, -2 / 3])
    last_only = torch.zeros(4, 2, 1)
    last_only[3, 0, 0] = 1.0
    assert first_spike(None, last_only, 1.0)[:, 0].tolist() == [-0.75, -1.0]
    values = torch.tensor([[0.25, -1.0]])
    assert value(values, None, 1e-3) is values


def test_first_spike_passes_gradients_to_each_spike_before_the_first():
    z = torch.tensor([[[0.0]], [[1.0]], [[0.0]], [[1.0]]], requires_grad=True)
    first_spike(None, z, 1.0).sum().backward()
    # score = -(sum_t t z_t prod_{t'<t}(1 - z_t') + T prod_t (1 - z_t)) / T: at z = (0, 1, 0, 1), T = 4,
    # d/dz_0 = z_1 / 4 (an earlier spike moves the first one to step 0), d/dz_1 = (-1 + 3 z_3) / 4 (without
    # it the first spike would be at step 3), and the later ones come after the first spike: 0
    assert z.grad[:, 0, 0].tolist() == pytest.approx([0.25, 0.5, 0.0, 0.0])


def test_superspike_defaults_to_a_sharpness_of_ten():
    u = torch.tensor([0.1, -0.2, 0.0], requires_grad=True)
    z = SuperSpike()(u, None)
    assert z.tolist() == [1.0, 0.0, 1.0]
    z.sum().backward()
    assert u.grad.tolist() == pytest.approx([1 / 4, 1 / 9, 1.0])  # 1 / (1 + 10 |u|)^2
    observed = torch.tensor([0.0, 1.0, 0.0])
    assert SuperSpike()(u.detach(), observed).tolist() == [0.0, 1.0, 0.0]  # the substrate's spikes


GRAD = timed_network("grad", "10 ms", """\
    input x[2] : latency(t_max = 8 ms)
    pop   h[1] : LIF(tau_mem = 4 ms, tau_syn = 2 ms, v_th = 0.3, v_leak = 0.0, v_reset = 0.0)
    pop   o[1] : LI(tau_mem = 5 ms, tau_syn = 3 ms)
    proj x -> h : dense(init = constant(1.0))
    proj h -> o : dense(init = constant(1.0))
    output o : max_membrane""")


def hand_gradients(w_in: list[float], w_out: float, spikes_at: list[int], steps: int = 10):
    """Forward-mode derivatives of the score (max of o's membrane) and the activity (h's spikes) with
    respect to (w_in[0], w_in[1], w_out), through h's real spikes: dz/dV = 1 / (1 + 10 |V - v_th| / 0.3)^2
    / 0.3 (SuperSpike on threshold units), the reset not differentiated."""

    def coefficients(tm, ts):
        a_mem, a_syn = math.exp(-1 / tm), math.exp(-1 / ts)
        return a_mem, a_syn, ts / (ts - tm) * (a_syn - a_mem)

    am, as_, ks = coefficients(4.0, 2.0)
    ao, aso, ko = coefficients(5.0, 3.0)
    v = i = vo = io = 0.0
    dv, di, dvo, dio = [0.0] * 3, [0.0] * 3, [0.0] * 3, [0.0] * 3
    spikes, membrane, d_membrane, d_activity = [], [], [], [0.0] * 3
    for t in range(steps):
        v = am * v + ks * i
        dv = [am * a + ks * b for a, b in zip(dv, di)]
        z = 1.0 if v >= 0.3 else 0.0
        slope = 1 / (1 + 10 * abs(v - 0.3) / 0.3) ** 2 / 0.3
        dz = [slope * a for a in dv]
        d_activity = [a + b for a, b in zip(d_activity, dz)]
        if z:
            v, dv = 0.0, [0.0] * 3  # reset to v_reset, its derivative detached
        x = [1.0 if t == s else 0.0 for s in spikes_at]
        i = as_ * i + x[0] * w_in[0] + x[1] * w_in[1]
        di = [as_ * di[0] + x[0], as_ * di[1] + x[1], as_ * di[2]]
        vo = ao * vo + ko * io
        dvo = [ao * a + ko * b for a, b in zip(dvo, dio)]
        io = aso * io + z * w_out
        dio = [aso * dio[0] + dz[0] * w_out, aso * dio[1] + dz[1] * w_out, aso * dio[2] + z]
        spikes.append(z)
        membrane.append(vo)
        d_membrane.append(dvo)
    peak = max(range(steps), key=lambda t: membrane[t])
    return spikes, d_membrane[peak], d_activity


@pytest.mark.parametrize("fast", [True, False])
def test_twin_gradients_with_real_spikes_equal_the_hand_computed_surrogate_gradients(fast):
    program = compile_text(GRAD)
    emulator = emulator_for(program, dtype=torch.float32)
    emulator.fast = fast
    twin = emulator.make_twin()
    stimulus = encode(program.ir, torch.tensor([[1.0, 0.5]]))  # input spikes at steps 0 and 4
    weights = {"x->h": torch.tensor([[2.0], [1.5]]), "h->o": torch.tensor([[0.8]])}
    observation = emulator.observe(stimulus, weights)
    spikes, d_score, d_activity = hand_gradients([2.0, 1.5], 0.8, [0, 4])
    assert observation.spikes["h"][:, 0, 0].tolist() == spikes and 1 <= sum(spikes) < 10
    assert twin.fast_replay(observation) is fast
    for output, expected in ((0, d_score), (1, d_activity)):
        leaves = {k: w.clone().requires_grad_(True) for k, w in weights.items()}
        replayed = twin.replay(stimulus, leaves, observation)
        replayed[output].sum().backward()
        grads = {k: torch.zeros_like(w) if w.grad is None else w.grad for k, w in leaves.items()}
        got = [float(grads["x->h"][0, 0]), float(grads["x->h"][1, 0]), float(grads["h->o"][0, 0])]
        assert got == pytest.approx(expected, rel=1e-4, abs=1e-7)
        assert any(abs(g) > 1e-3 for g in expected[:2])  # the spikes pass a gradient to the input weights
