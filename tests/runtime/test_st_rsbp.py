"""`--method st-rsbp`: S-PSPs from observed trains, the spike-train-level gradient, training in the loop."""

from __future__ import annotations

import math

import pytest
import torch

import snnc
from snnc.diagnostics import SnncError
from snnc.runtime.emulators.base import emulator_for
from snnc.runtime.encoders import encode
from snnc.runtime.methods import twin_for
from snnc.runtime.methods.spsp import Kernel, Source, spsp
from snnc.runtime.methods.st_rsbp import MIN_SELF_FACTOR
from tests.conftest import REPO, timed_network, train_block
from tests.runtime.conftest import compile_text


def brute_force_spsp(pre: torch.Tensor, post: torch.Tensor, kernel: Kernel, delay: int) -> torch.Tensor:
    """The definition, synapse by synapse and step by step (the authors' d_Spiking_accumulate_effect_step
    on the core's update order): q integrates the presynaptic trace, is held at 0 while the post neuron
    is refractory, and is added to e and reset at every post-synaptic spike."""
    steps, batch, n_pre = pre.shape
    e = torch.zeros(batch, n_pre, post.shape[2], dtype=torch.float64)
    for b in range(batch):
        for j in range(n_pre):
            for i in range(post.shape[2]):
                p = q = 0.0
                held = 0
                for s in range(steps):
                    q = kernel.a_mem * q + kernel.k_syn * p
                    if held > 0:
                        q = 0.0
                    if post[s, b, i] > 0:
                        e[b, j, i] += q
                        q = 0.0
                    held = kernel.refractory if post[s, b, i] > 0 else max(held - 1, 0)
                    p = kernel.a_syn * p + float(pre[s - delay, b, j] if s >= delay else 0.0)
    return e


@pytest.mark.parametrize("delay", [0, 3])
def test_spsp_of_observed_trains_equals_the_definition_for_any_chunking(delay):
    generator = torch.Generator().manual_seed(0)
    kernel = Kernel(a_mem=math.exp(-1 / 5), a_syn=math.exp(-1 / 3), k_syn=0.3, refractory=2)
    pre = (torch.rand(90, 2, 3, generator=generator) < 0.15).float()
    post = torch.zeros(90, 2, 4)
    for t, b, i in (torch.rand(90, 2, 4, generator=generator) < 0.08).nonzero().tolist():
        if post[max(t - 2, 0):t, b, i].sum() == 0:  # a refractory neuron cannot fire
            post[t, b, i] = 1
    expected = brute_force_spsp(pre, post, kernel, delay)
    assert float(expected.max()) > 1.0
    for chunk in (1, 7, 64, 1000):  # chunk boundaries carry the traces exactly
        got = spsp(Source(spikes=pre, delay=delay), post, kernel, chunk=chunk)
        torch.testing.assert_close(got.double(), expected, rtol=1e-5, atol=1e-5)


ONE_SYNAPSE = timed_network("one", "30 ms", """\
    input x[1] : latency(t_max = 20 ms)
    pop   o[1] : LIF(tau_mem = 5 ms, tau_syn = 3 ms, v_th = 1.0)
    proj x -> o : dense(init = constant(4.0))
    output o : spike_count""")


def test_gradient_of_one_synapse_is_the_hand_computed_spsp_over_threshold():
    """x spikes at step 0 and o fires once, at step t1. Its S-PSP is the PSP of one spike at t1 (the
    closed form of test_core); with o = 1: S = eta w e / nu, eta = 1 / (1 + tau_m / D), and
    dE/dw = dE/do * e / (nu * max(1 - S, MIN_SELF_FACTOR))."""
    program = compile_text(ONE_SYNAPSE)
    emulator = emulator_for(program, dtype=torch.float32)
    stimulus = encode(program.ir, torch.tensor([[1.0]]))
    weights = {k: w.requires_grad_(True) for k, w in emulator.initial_weights().items()}
    observation = emulator.observe(stimulus, weights)
    [t1] = observation.spikes["o"][:, 0, 0].nonzero().flatten().tolist()
    tau_m, tau_s, w = 5e-3, 3e-3, 4.0
    t = t1 * 1e-3
    e = tau_s / (tau_s - tau_m) * (math.exp(-t / tau_s) - math.exp(-t / tau_m))  # PSP at t1 per unit weight
    assert w * e >= 1.0 > w * tau_s / (tau_s - tau_m) * (math.exp(-(t - 1e-3) / tau_s) - math.exp(-(t - 1e-3) / tau_m))
    eta = 1 / (1 + tau_m / 30e-3)
    factor = max(1 - eta * w * e / 1.0, MIN_SELF_FACTOR)
    counts, _ = twin_for(emulator, "st-rsbp").replay(stimulus, weights, observation)
    assert counts.tolist() == [[1.0]]
    counts.backward(torch.tensor([[-1.0]]))  # the loss wants more spikes
    [[grad]] = weights["x->o"].grad.tolist()
    assert grad == pytest.approx(-e / factor, rel=1e-4)  # descent raises the weight


RECURRENT_PAIR = timed_network("pair", "40 ms", """\
    input x[2] : rate(max_rate = 300 Hz)
    pop   a[2] : LIF(tau_mem = 5 ms, tau_syn = 3 ms, v_th = 1.0, refractory = 1 ms)
    pop   h[2] : LIF(tau_mem = 5 ms, tau_syn = 3 ms, v_th = 1.0, refractory = 1 ms)
    proj x -> a : dense(init = constant(1.5))
    proj a -> h : dense(init = constant(1.5))
    proj h -> h : dense(init = constant(0.4))
    output h : spike_count""")


def test_a_recurrent_group_solves_its_spike_train_level_system():
    """Built by hand from the S-PSPs: h's weights get dE/dw = e_{h|j} dE/do / (nu (1 - S)) (M's diagonal, as
    the authors' code), the layer below gets mu = M^-T dE/do / nu with M = diag(1 - S) - C / nu,
    C_ip = w_pi e_{i|p} / o_p, through de/do_a = e_{h|a} / o_a (R7), which a's weights then carry."""
    from snnc.runtime.methods.st_rsbp import _self_factor

    program = compile_text(RECURRENT_PAIR)
    emulator = emulator_for(program, dtype=torch.float64)
    stimulus = encode(program.ir, torch.ones(1, 2, dtype=torch.float64), torch.Generator().manual_seed(3))
    weights = {k: w.requires_grad_(True) for k, w in emulator.initial_weights().items()}
    observation = emulator.observe(stimulus, weights)
    z_a, z_h = observation.spikes["a"], observation.spikes["h"]
    o_a, o_h = z_a.sum(0), z_h.sum(0)
    assert bool((o_a > 1).all()) and bool((o_h > 1).all())
    twin = twin_for(emulator, "st-rsbp")
    kernel = twin.kernels["h"]
    e_xa = spsp(Source(spikes=stimulus.events["x"]), z_a, kernel)
    e_ah, e_hh = spsp(Source(spikes=z_a), z_h, kernel), spsp(Source(spikes=z_h), z_h, kernel)
    w = {k: v.detach() for k, v in weights.items()}
    edges = list(emulator.plan.edges)
    nu = torch.ones(1, 2, dtype=torch.float64)
    factor_h = _self_factor("h", edges, w, {"a->h": e_ah, "h->h": e_hh}, o_h, nu, emulator.nominal["h"], 40e-3, 1e-3)
    factor_a = _self_factor("a", edges, w, {"x->a": e_xa}, o_a, nu, emulator.nominal["a"], 40e-3, 1e-3)
    grad_out = torch.tensor([[1.0, -2.0]], dtype=torch.float64)
    own = grad_out[0] / factor_h[0]
    m = torch.diag(factor_h[0]) - (w["h->h"] * e_hh[0] / o_h[0][:, None]).T
    mu = torch.linalg.solve(m.T, grad_out[0])
    delta_a = (mu[None, :] * w["a->h"] * e_ah[0] / o_a[0][:, None]).sum(1)
    scores, _ = twin.replay(stimulus, weights, observation)
    scores.backward(grad_out)
    torch.testing.assert_close(weights["a->h"].grad, e_ah[0] * own[None, :])
    torch.testing.assert_close(weights["h->h"].grad, e_hh[0] * own[None, :])
    torch.testing.assert_close(weights["x->a"].grad, e_xa[0] * (delta_a / factor_a[0])[None, :])
    assert not torch.allclose(mu, own)  # the recurrence matters to what the layer below receives


# rate-coded 8x8 digits into populations of one LIF model, four epochs
RATE_INPUT = """\
    neuron lif = LIF(tau_mem = 10 ms, tau_syn = 5 ms, v_th = 1.0, refractory = 2 ms)
    input  pixels[64]  : rate(max_rate = 200 Hz)
"""
FOUR_EPOCHS = train_block("epochs 4", "batch 32", "optimizer adam(lr = 5e-3)")
RATE_CODED = timed_network("rate_rec", "60 ms", RATE_INPUT + """\
    pop    hidden[40]  : lif
    pop    out[10]     : lif
    proj pixels -> hidden : dense(init = normal(0.08, 0.1))
    proj hidden -> hidden : sparse(p = 0.2, init = normal(0, 0.05))
    proj hidden -> out    : dense(init = normal(0.3, 0.15))
    output out : spike_count""") + FOUR_EPOCHS
DEEP_FEED_FORWARD = timed_network("deep_ff", "60 ms", RATE_INPUT + """\
    pop    h1[48]      : lif
    pop    h2[32]      : lif
    pop    out[10]     : lif
    proj pixels -> h1 : dense(init = normal(0.08, 0.1))
    proj h1 -> h2     : dense(init = normal(0.08, 0.15))
    proj h2 -> out    : dense(init = normal(0.25, 0.15))
    output out : spike_count""") + FOUR_EPOCHS


@pytest.mark.parametrize("text, target, loss_ratio, least", [
    (RATE_CODED, "reference", 0.5, 0.45), (RATE_CODED, "bss2", 0.5, 0.45),
    (DEEP_FEED_FORWARD, "reference", 0.7, 0.3), (DEEP_FEED_FORWARD, "bss2", 0.8, 0.25)],
    ids=["recurrent-reference", "recurrent-bss2", "deep-reference", "deep-bss2"])
def test_st_rsbp_lowers_the_loss_in_the_loop(tmp_path, text, target, loss_ratio, least):
    """Recurrent and deep feed-forward networks, forward on the (emulated, on bss2 quantized and
    mismatched) substrate, backward at the spike-train level; chance accuracy is 0.1."""
    path = tmp_path / "net.snn"
    path.write_text(text)
    result = snnc.train(path, target=target, method="st-rsbp", train_samples=480, test_samples=160)
    losses = [row["loss"] for row in result.metrics["epochs"]]
    assert losses[-1] < loss_ratio * losses[0]
    assert result.metrics["test_accuracy"] > least
    assert result.program.ir.graph.graph["training"]["method"] == "st-rsbp"


def test_programs_st_rsbp_cannot_train_are_refused_with_the_reason():
    text = RATE_CODED.replace("pop    out[10]     : lif", "pop    out[10]     : LI(tau_mem = 5 ms, tau_syn = 5 ms)") \
        .replace("output out : spike_count", "output out : max_membrane")
    emulator = emulator_for(compile_text(text))
    with pytest.raises(SnncError) as info:
        twin_for(emulator, "st-rsbp")
    message = info.value.render()
    assert "st-rsbp trains a rate-coded loss on firing counts, but output 'out' is read out by max_membrane" in message
    assert "population 'out' (LI) never spikes, so it has no firing count" in message
    adex = RATE_CODED.replace("pop    hidden[40]  : lif", "pop hidden[40] : AdEx(tau_mem = 10 ms, tau_syn = 5 ms, "
                              "v_th = 1.0, v_reset = 0.0, v_exp = 0.8, delta_t = 0.1, a = 0.0, b = 0.1, tau_w = 50 ms)")
    with pytest.raises(SnncError, match=r"population 'hidden' \(AdEx\) is not a LIF population"):
        twin_for(emulator_for(compile_text(adex)), "st-rsbp")
    subtracting = RATE_CODED.replace("refractory = 2 ms)", "refractory = 2 ms, reset = subtract)")
    with pytest.raises(SnncError, match=r"population 'hidden' \(LIF\) uses reset = subtract, arrival = same_step"):
        twin_for(emulator_for(compile_text(subtracting)), "st-rsbp")
    with pytest.raises(SnncError, match="method 'st-rsbp' is not available on target 'onn'; it trains with: pat"):
        snnc.train(REPO / "dsl_examples" / "onn_digits.snn", target="onn", method="st-rsbp", epochs=1,
                   train_samples=8, test_samples=8)


def test_the_method_is_named_in_the_train_block():
    text = RATE_CODED.replace("train {", 'train {\n    method "st-rsbp"')
    [result] = snnc.check("m.snn", text=text)
    assert result.ir.header.train.method == "st-rsbp"
    with pytest.raises(SnncError, match=r"'method' of train must be one of surrogate, pat, st-rsbp, got 'st_rsbp'"):
        snnc.check("m.snn", text=RATE_CODED.replace("train {", 'train {\n    method "st_rsbp"'))


def test_the_post_count_elasticity_accounts_for_the_refractory_hold():
    """With the total S-PSP at nu o (S = eta): eta = 1 - nR/(D - nR) - n(tau - R)/(D - nR + n tau);
    1 / (1 + n tau / D) without refractoriness; below 0 near the refractory limit, so 1 - S > 1."""
    from snnc.runtime.emulators import core
    from snnc.runtime.emulators.core import Edge
    from snnc.runtime.methods.st_rsbp import _self_factor

    count = torch.tensor([[5.0, 20.0]])
    e = (count / 2.0)[:, None, :].expand(1, 2, 2).clone()  # two inputs of weight 1: total = o = nu o
    weights = {"x->h": torch.ones(2, 2)}
    edges = [Edge("x->h", "x", "h", 0, False)]
    params = core.NeuronParams(kind="lif", tau_mem=torch.full((2,), 10e-3), tau_syn=torch.full((2,), 5e-3),
                               v_leak=torch.zeros(2), v_th=torch.ones(2), v_reset=torch.zeros(2))
    for hold_steps in (0, 4):
        params.refractory_steps = hold_steps
        factor = _self_factor("h", edges, weights, {"x->h": e}, count, torch.ones(1, 2), params, 0.1, 1e-3)
        for k, n in enumerate((5.0, 20.0)):
            r = hold_steps * 1e-3
            eta = 1 - n * r / (0.1 - n * r) - n * (10e-3 - r) / (0.1 - n * r + n * 10e-3)
            assert float(factor[0, k]) == pytest.approx(max(1 - eta, MIN_SELF_FACTOR), rel=1e-5)
        if hold_steps == 0:
            assert float(factor[0, 0]) == pytest.approx(1 - 1 / (1 + 5 * 10e-3 / 0.1), rel=1e-5)
        else:
            assert float(factor[0, 1]) > 1.0  # 20 spikes x 4 ms of hold in 100 ms: near the limit


def test_a_bias_source_is_a_presynaptic_train_of_ones():
    """An always_on population spikes at every step: its S-PSP is that of a train of ones, and its
    projection's gradient is mu_i e_{i|bias} like any other."""
    text = ONE_SYNAPSE.replace("pop   o[1]", "pop   bias[1] : always_on\n    pop   o[1]").replace(
        "proj x -> o : dense(init = constant(4.0))",
        "proj x -> o : dense(init = constant(4.0))\n    proj bias -> o : dense(init = constant(0.05))")
    program = compile_text(text)
    emulator = emulator_for(program)
    stimulus = encode(program.ir, torch.tensor([[1.0]]))
    weights = {k: w.requires_grad_(True) for k, w in emulator.initial_weights().items()}
    observation = emulator.observe(stimulus, weights)
    counts, _ = twin_for(emulator, "st-rsbp").replay(stimulus, weights, observation)
    counts.backward(torch.tensor([[-1.0]]))
    z = observation.spikes["o"]
    kernel = Kernel.of(emulator.nominal["o"], 1e-3)
    ones = torch.ones(z.shape[0], 1, 1)
    e_bias, e_x = spsp(Source(spikes=ones), z, kernel), spsp(Source(spikes=stimulus.events["x"]), z, kernel)
    ratio = weights["bias->o"].grad / weights["x->o"].grad  # the same mu_i: the ratio of the S-PSPs
    torch.testing.assert_close(ratio, e_bias[0] / e_x[0], rtol=1e-5, atol=0.0)
    assert float(weights["bias->o"].grad) < 0


def test_a_singular_group_system_falls_back_to_its_diagonal():
    from snnc.runtime.emulators.core import Edge, Plan
    from snnc.runtime.methods.st_rsbp import _solve_group

    plan = Plan(steps=10, dt=1e-3, inputs=(), groups=(("h",),), edges=(), sizes={"h": 2})
    edge = Edge("h->h", "h", "h", 0, False)
    weights = {"h->h": torch.tensor([[0.0, 1.0], [1.0, 0.0]])}
    ratio = {"h->h": torch.ones(2, 2, 2)}  # sample 0: M = [[1, -1], [-1, 1]], singular; sample 1 regular
    factor = {"h": torch.tensor([[1.0, 1.0], [2.0, 2.0]])}
    nu, delta = {"h": torch.ones(1, 2)}, {"h": torch.tensor([[1.0, -1.0], [1.0, 0.0]])}
    mu = _solve_group(("h",), [edge], weights, ratio, factor, nu, delta, plan)["h"]
    assert mu[0].tolist() == [1.0, -1.0]  # rhs / diag(M)
    torch.testing.assert_close(mu[1], torch.linalg.solve(torch.tensor([[2.0, -1.0], [-1.0, 2.0]]),
                                                         torch.tensor([1.0, 0.0])))
