"""Recurrent groups on the fast path (fast_kernels' Recurrence, fast_adjoint) against the general core: equal
spikes, membranes to float32 rounding, the twin's adjoint against autograd through the core to 1e-5 of
the largest gradient entry; the causal arrival of a recurrent spike pinned by hand."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

from snnc.runtime.emulators import core, fast_groups, fast_lif, fast_threads
from snnc.runtime.emulators.base import Stimulus, emulator_for
from snnc.runtime.twin import SuperSpike
from tests.conftest import timed_network
from tests.runtime.conftest import TINY, compile_text
from tests.runtime.test_fast_lif import (
    LI_OUT,
    assert_gradients_close,
    assert_same_observation,
    batch,
    grads,
    loss_of,
    pair,
    pair_of_program,
)

# test_fast_lif's feed-forward network (h1, h2 as a, b; an LI readout of both) closed into a two-population
# cycle (a <-> b) with self-projections (two of a -> a, with different delays): sparse and dense weights,
# delays of 0, 1 and 2 steps, refractory periods, inputs into both.
TWO_CYCLE = LI_OUT.replace("network ff", "network cycle").replace("h1", "a").replace("h2", "b").replace(
    "    proj b -> o", """\
    proj b -> a : sparse(p = 0.5, init = normal(0.1, 0.4)) delay 2 ms
    proj a -> a : sparse(p = 0.3, init = normal(0, 0.4))
    proj a -> a : sparse(p = 0.2, init = normal(0.1, 0.3)) delay 1 ms
    proj b -> b : dense(init = normal(0, 0.3)) delay 1 ms
    proj b -> o""")

# The readout population is recurrent itself and counts spikes (the loss reaches a recurrent group's
# spikes directly); h -> h has no delay.
RECURRENT_READOUT = timed_network("readout", "20 ms", """\
    input  x[12] : latency(t_max = 12 ms)
    pop    h[16] : LIF(tau_mem = 5 ms, tau_syn = 3 ms, v_th = 0.5, refractory = 1 ms)
    pop    o[4]  : LIF(tau_mem = 4 ms, tau_syn = 3 ms, v_th = 0.3)
    proj x -> h : dense(init = normal(0.2, 0.3))
    proj h -> h : sparse(p = 0.2, init = normal(0.05, 0.3))
    proj h -> o : dense(init = normal(0.1, 0.4))
    proj o -> o : dense(init = normal(-0.05, 0.2)) delay 2 ms
    output o : spike_count""")

# v_leak = v_th: every neuron of `a` spikes at step 0 with its membrane exactly at the threshold, and again
# whenever it relaxes back to rest; its spikes reach `b` with no delay and `a` itself one step later.
AT_THRESHOLD = timed_network("threshold", "16 ms", """\
    input  x[6] : latency(t_max = 10 ms)
    pop    a[5] : LIF(tau_mem = 4 ms, tau_syn = 3 ms, v_th = 0.0, v_reset = -0.5, refractory = 3 ms)
    pop    b[4] : LIF(tau_mem = 4 ms, tau_syn = 3 ms, v_th = 0.4)
    pop    o[3] : LI(tau_mem = 4 ms, tau_syn = 3 ms)
    proj x -> b : dense(init = normal(0.3, 0.2))
    proj a -> a : dense(init = normal(0.1, 0.2)) delay 1 ms
    proj a -> b : dense(init = normal(0.3, 0.2))
    proj b -> a : dense(init = normal(0, 0.3)) delay 2 ms
    proj b -> o : dense(init = normal(0, 0.5))
    proj a -> o : dense(init = normal(0, 0.5))
    output o : max_membrane""")

NETWORKS = {"two_cycle": TWO_CYCLE, "recurrent_readout": RECURRENT_READOUT, "at_threshold": AT_THRESHOLD,
            "tiny": TINY,  # h -> h 1 ms; the same reaching only the current of the last of its 12 steps, and none
            "last_step": TINY.replace("delay 1 ms", "delay 11 ms"),
            "beyond_the_end": TINY.replace("delay 1 ms", "delay 30 ms")}
NO_GRADIENT = {"last_step": {"h->h"}, "beyond_the_end": {"h->h"}}  # arriving too late to move a membrane


def pair_of(name: str):
    """pair() of NETWORKS[name]; at_threshold's `a` has v_th = v_leak, which the language refuses (E143: it
    fires at rest), so it is compiled with another threshold and the simulator gets v_th = 0 in its IR."""
    if name != "at_threshold":
        return pair(NETWORKS[name])
    program = compile_text(AT_THRESHOLD.replace("v_th = 0.0, v_reset = -0.5", "v_th = 0.3, v_reset = -0.5"))
    decl = program.ir.decl("a")
    program.ir.node_attrs("a")["decl"] = dataclasses.replace(decl, model=dataclasses.replace(decl.model, v_th=0.0))
    return pair_of_program(program)


@pytest.mark.parametrize("name", NETWORKS)
@pytest.mark.parametrize("samples", [1, 40])
def test_recurrent_groups_have_the_spikes_and_membranes_of_the_core(name, samples):
    program, fast, general = pair_of(name)
    assert any(len(g) > 1 or any(e.source in g for e in fast.plan.incoming(g[0])) for g in fast.plan.groups)
    stimulus = batch(program, samples, seed=3)
    a, b = fast.observe(stimulus, fast.initial_weights()), general.observe(stimulus, general.initial_weights())
    recurrent = [g for g in fast.plan.groups if fast_groups.layout(fast.plan, g).recurrent]
    assert sum(float(b.spikes[p].sum()) for g in recurrent for p in g) >= samples  # the recurrence is exercised
    assert_same_observation(a, b)


def test_a_recurrent_spike_at_step_zero_moves_the_membrane_from_the_next_step_on():
    """Hand-computed, without input: `a` spikes at step 0 at its threshold (V_0 = v_leak = v_th) and is held
    at v_reset for its 3 refractory steps. Through a -> b (no delay) its five spikes enter b's current
    I_0, so V_b(1) = k_syn 5 w_ab; through a -> a (1 step) they enter I_a(1) and reach V_a(4) =
    v_reset a_mem + k_syn a_syn^2 5 w_aa, the first step a is free again."""
    program, fast, general = pair_of("at_threshold")
    steps = program.ir.header.steps
    weights = {name: torch.zeros_like(w) for name, w in fast.initial_weights().items()}
    weights["a->a"].fill_(0.2)
    weights["a->b"].fill_(0.1)
    stimulus = Stimulus(1, steps, {"x": torch.zeros(steps, 1, 6)})
    observation = fast.observe(stimulus, weights)
    assert_same_observation(observation, general.observe(stimulus, weights))
    z_a, v_a, v_b = observation.spikes["a"][:, 0], observation.membrane["a"][:, 0], observation.membrane["b"][:, 0]
    assert torch.equal(z_a[0], torch.ones(5)) and float(z_a[1:5].sum()) == 0  # exactly at the threshold: a spike
    assert torch.equal(v_a[:4], torch.full((4, 5), -0.5))  # reset, then held
    a_mem, a_syn = math.exp(-1 / 4), math.exp(-1 / 3)
    k_syn = 3 / (3 - 4) * (a_syn - a_mem)
    assert torch.equal(v_b[0], torch.zeros(4))
    torch.testing.assert_close(v_b[1], torch.full((4,), k_syn * 5 * 0.1), rtol=0, atol=1e-6)
    torch.testing.assert_close(v_a[4], torch.full((5,), -0.5 * a_mem + k_syn * a_syn ** 2 * 5 * 0.2), rtol=0,
                               atol=1e-6)


@pytest.mark.parametrize("name", [n for n in NETWORKS if n != "at_threshold"])  # at_threshold: below
def test_the_recurrent_adjoint_equals_autograd_through_the_core(name):
    program, fast, general = pair(NETWORKS[name])
    stimulus = batch(program, 16, seed=2)
    loss = loss_of(torch.arange(16) % 3)
    assert_gradients_close(grads(fast, stimulus, loss), grads(general, stimulus, loss), NO_GRADIENT.get(name, set()))


def test_the_adjoint_of_recurrent_spikes_at_step_zero_through_no_delay_and_one_step():
    """The twin replays any observed spikes: here `a` spiked at step 0 (its spikes reach b with no delay, a
    one step later). With v_th = v_leak the surrogate's unit v_th - v_leak is 0 (the core's gradient is
    NaN), so the threshold is raised for this check."""
    text = AT_THRESHOLD.replace("v_th = 0.0, v_reset = -0.5", "v_th = 0.3, v_reset = -0.5")
    program, fast, general = pair(text)
    stimulus = batch(program, 12, seed=6)
    weights = {k: w.requires_grad_(True) for k, w in fast.initial_weights().items()}
    observation = fast.observe(stimulus, weights)
    observation.spikes["a"][0, :, :3] = 1.0  # spikes at step 0 the twin replays
    assert float(observation.spikes["a"][1:].sum()) > 0 and float(observation.spikes["b"].sum()) > 0
    labels = torch.arange(12) % 3
    results = []
    for emulator in (fast, general):
        twin = emulator.make_twin()
        assert twin.fast_replay(observation) == emulator.fast
        scores, activity = twin.replay(stimulus, weights, observation)
        loss = loss_of(labels)(scores) + 1e-2 * activity.square().mean()
        results.append(dict(zip(sorted(weights), torch.autograd.grad(loss, [weights[n] for n in sorted(weights)]))))
    assert_gradients_close(*results)


def test_the_adjoint_on_many_threads_with_batch_one_and_more_samples_than_threads():
    program, fast, general = pair(TWO_CYCLE)
    threads = fast_threads.THREADS
    try:
        for samples, count in ((1, 2), (40, 3)):
            fast_threads.set_threads(count)
            stimulus = batch(program, samples, seed=5)
            loss = loss_of(torch.arange(samples) % 3)
            assert_gradients_close(grads(fast, stimulus, loss), grads(general, stimulus, loss))
    finally:
        fast_threads.set_threads(threads)


def test_a_sparse_recurrent_projection_is_held_as_its_synapses():
    program = compile_text(TINY)
    emulator = emulator_for(program)
    weights = emulator.deploy(emulator.initial_weights())
    [group] = [g for g in emulator.plan.groups if g == ("h",)]
    recurrence, rows, size = fast_groups.recurrence(fast_groups.layout(emulator.plan, group), weights)
    synapses = program.ir.edge_attrs("h->h")["weights"]
    assert 0 < synapses.nnz < synapses.pre * synapses.post
    assert weights["h->h"].shape == (synapses.nnz,)  # one weight per synapse: the lists are the synapses
    assert recurrence.val.shape[0] == size == synapses.nnz and rows[0][1:] == (0, synapses.nnz, None)
    dense = np.zeros(synapses.shape, np.float32)  # the CSR lists hold exactly the deployed weights
    for p in range(synapses.pre):
        lo, hi = recurrence.start[p], recurrence.start[p + 1]
        dense[p, recurrence.col[lo:hi]] = recurrence.val[lo:hi]
    assert np.array_equal(dense, synapses.to_dense(weights["h->h"].numpy()))


def test_the_surrogate_may_be_evaluated_on_a_given_membrane():
    """replay(surrogate_membrane=...) is the membrane twin: dz/dV evaluated on the given membrane and the
    reset not differentiated at all, the same gradient as autograd through the core with that membrane
    substituted (core.simulate's `observed`, hxtorch's Unterjubel)."""
    program = compile_text(TWO_CYCLE)
    emulator = emulator_for(program)
    stimulus = batch(program, 8, seed=4)
    weights = {k: w.requires_grad_(True) for k, w in emulator.initial_weights().items()}
    observation = emulator.observe(stimulus, weights)
    plan, params, beta = emulator.plan, emulator.nominal, SuperSpike().beta
    given = {name: observation.membrane[name] + 0.05 * torch.randn_like(observation.membrane[name])
             for name in observation.spikes}

    def spike(population, step, u):  # the observed spike; u is the given membrane's, its gradient the model's
        return SuperSpike(beta)(u / params[population].threshold_unit(), observation.spikes[population][step])

    trace = core.simulate(plan, params, weights, stimulus.events, {}, spike, detach_reset=True, observed=given)
    v, _, _ = fast_lif.replay(plan, params, weights, stimulus.events, observation.spikes, "o", beta,
                              surrogate_membrane=given)
    torch.testing.assert_close(v, trace.membrane["o"], rtol=0, atol=1e-5)
    names = sorted(weights)
    expected = torch.autograd.grad(trace.membrane["o"].amax(0).square().sum(), [weights[n] for n in names])
    got = torch.autograd.grad(v.amax(0).square().sum(), [weights[n] for n in names])
    recomputed_v, _, _ = fast_lif.replay(plan, params, weights, stimulus.events, observation.spikes, "o", beta)
    recomputed = torch.autograd.grad(recomputed_v.amax(0).square().sum(), [weights[n] for n in names])
    for name, e, g, r in zip(names, expected, got, recomputed):
        scale = float(e.abs().max())
        torch.testing.assert_close(g, e, rtol=0, atol=1e-5 * scale)
        if name.split("->")[1] in ("a", "b"):  # into a spiking population: the given membrane changed it
            assert float((g - r).abs().max()) > 1e-3 * scale, name
