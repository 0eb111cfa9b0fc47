"""Training's figures against hand-computed values (issue 16): the loss and its spike regularizer, the
accuracy of an evaluation and of an epoch, and weights that stay what the chip holds after every
optimizer step (limit, sign, absent synapses)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import torch

import snnc
from snnc.compiler.ir.synapses import same_synapses, values_of
from snnc.runtime import training
from snnc.runtime.emulators.base import emulator_for
from snnc.runtime.encoders import encode
from snnc.runtime.evaluation import evaluate, evaluate_as_run
from snnc.runtime.in_the_loop import in_the_loop
from tests.conftest import timed_network
from tests.runtime.conftest import compile_text

# A sign-constrained sparse projection (positive) and a signed dense one, 6 -> 5 -> 3.
LEGAL = timed_network("legal", "12 ms", """\
    input  x[6] : latency(t_max = 8 ms)
    pop    h[5] : LIF(tau_mem = 4 ms, tau_syn = 3 ms, v_th = 0.5, refractory = 1 ms)
    pop    o[3] : LI(tau_mem = 4 ms, tau_syn = 3 ms)
    proj x -> h : sparse(p = 0.5, init = uniform(0, 0.3)) positive
    proj h -> o : dense(init = normal(0, 0.5))
    output o : max_membrane""")


def data(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 6, generator=g), torch.randint(0, 3, (n,), generator=g)


def limits(program) -> dict[str, float]:
    """The largest weight each projection's 6-bit synapses hold, in model units: 63 / scale."""
    return {k: 63 / a["legalization"].scale for k, a in program.ir.edge_attrs_by_name().items()}


def test_loss_is_cross_entropy_of_five_times_the_scores_plus_the_spike_penalty_above_the_budget():
    scores = torch.tensor([[0.2, 0.1, -0.3], [0.0, 0.5, 0.1]])
    labels, activity = torch.tensor([0, 2]), torch.tensor([25.0, 10.0])
    config = replace(training.resolve_config(None), spike_budget=None)
    first = -1.0 + math.log(math.exp(1.0) + math.exp(0.5) + math.exp(-1.5))  # logits 5 x scores, label 0
    second = -0.5 + math.log(1.0 + math.exp(2.5) + math.exp(0.5))  # label 2
    cross_entropy = (first + second) / 2
    assert float(training.loss_fn(config, scores, labels, activity)) == pytest.approx(cross_entropy, rel=1e-6)
    # 25 spikes against a budget of 20 costs 0.1 x 5^2, 10 spikes nothing: the mean over the batch is 1.25
    budget = replace(config, spike_budget=(20.0, 0.1))
    assert float(training.loss_fn(budget, scores, labels, activity)) == pytest.approx(cross_entropy + 1.25, rel=1e-6)
    mse = replace(config, loss="mse")
    squares = [(0.2 - 1) ** 2, 0.1 ** 2, 0.3 ** 2, 0.0, 0.5 ** 2, (0.1 - 1) ** 2]
    assert float(training.loss_fn(mse, scores, labels, activity)) == pytest.approx(sum(squares) / 6, rel=1e-6)


def test_the_spike_penalty_pushes_the_activity_down():
    activity = torch.tensor([25.0, 30.0], requires_grad=True)
    config = replace(training.resolve_config(None), loss="mse", spike_budget=(20.0, 0.1))
    training.loss_fn(config, torch.zeros(2, 3), torch.tensor([0, 1]), activity).backward()
    assert activity.grad.tolist() == pytest.approx([0.1 * 2 * 5 / 2, 0.1 * 2 * 10 / 2])  # d/da of 0.1 mean((a-20)^2)


def test_evaluate_counts_correct_predictions_over_all_samples():
    program = compile_text(LEGAL, seed=1)
    emulator = emulator_for(program)
    weights = emulator.initial_weights()
    x, _ = data(10, 0)
    observed = emulator.observe(encode(program.ir, x), weights)
    predictions = observed.scores.argmax(1)
    wrong = (predictions + 1) % 3
    y = torch.cat([predictions[:7], wrong[7:]])  # 7 of 10 right
    result = evaluate(emulator, weights, x, y)
    assert result["accuracy"] == 0.7
    assert torch.equal(result["predictions"], predictions) and torch.equal(result["scores"], observed.scores)
    assert result["spikes_per_sample"] == pytest.approx(float(observed.activity.sum()) / 10, rel=1e-6)
    assert evaluate(emulator, weights, x, wrong)["accuracy"] == 0.0
    assert evaluate_as_run(emulator, weights, x, predictions, seed=0)["accuracy"] == 1.0


def test_an_epoch_s_loss_accuracy_and_spikes_are_those_of_its_batch():
    program = compile_text(LEGAL, seed=2)
    (x, y), (x_test, y_test) = data(24, 1), data(12, 2)
    result = snnc.train(program, data=((x.numpy(), y.numpy()), (x_test.numpy(), y_test.numpy())), epochs=1,
                        batch=24, lr=1e-3)
    [row] = result.metrics["epochs"]
    emulator = emulator_for(program)  # reference: no noise, so the epoch's one batch is reproduced exactly
    observed = emulator.observe(encode(program.ir, x), emulator.initial_weights())
    config = training.resolve_config(program.ir.header.train)
    assert row["loss"] == pytest.approx(float(training.loss_fn(config, observed.scores, y, observed.activity)),
                                        rel=1e-5)
    assert row["train_accuracy"] == int((observed.scores.argmax(1) == y).sum()) / 24
    assert row["spikes_per_sample"] == pytest.approx(float(observed.activity.sum()) / 24, rel=1e-6)
    trained = {k: w.clone() for k, w in result.weights.items()}
    tested = emulator.observe(encode(program.ir, x_test), trained).scores.argmax(1)
    assert row["test_accuracy"] == int((tested == y_test).sum()) / 12


def test_legalize_clips_to_the_limit_keeps_signs_and_zeroes_absent_synapses():
    program = compile_text(LEGAL, target="bss2", seed=3)
    emulator = emulator_for(program)
    limit = limits(program)
    synapses = program.ir.edge_attrs("x->h")["weights"]  # sparse: its weights are one per existing synapse
    assert 0 < synapses.nnz < 6 * 5
    pattern = torch.tensor([3.0, -3.0, 0.5, -0.5, 0.0])
    weights = {name: pattern.repeat(w.numel() // 5 + 1)[:w.numel()].reshape(w.shape) * limit[name]
               for name, w in emulator.initial_weights().items()}
    before = {k: w.clone() for k, w in weights.items()}
    emulator.legalize_(weights)
    assert weights["x->h"].shape == (synapses.nnz,)  # only existing synapses have weights
    # positive: negatives to 0, beyond the limit to the limit
    assert torch.equal(weights["x->h"], before["x->h"].clamp(0, limit["x->h"]))
    dense = emulator.dense("x->h", weights["x->h"])  # what the general core applies: 0 where no synapse exists
    mask = torch.as_tensor(synapses.mask())
    assert not dense[~mask].any() and torch.equal(dense[mask], weights["x->h"])
    assert torch.equal(weights["h->o"], before["h->o"].clamp(-limit["h->o"], limit["h->o"]))


def test_weights_stay_what_the_chip_holds_after_every_step_of_training_on_bss2():
    program = compile_text(LEGAL, target="bss2", seed=4)
    limit = limits(program)
    synapses = program.ir.edge_attrs("x->h")["weights"]
    (x, y), test = data(32, 3), data(8, 4)
    steps = []
    original = training.Trainer.epoch

    def epoch(self, index, progress):
        step = self.optimizer.step

        def step_and_record(*args, **kwargs):  # what the step alone makes of the weights
            out = step(*args, **kwargs)
            steps.append({k: w.detach().clone() for k, w in self.weights.items()})
            return out

        self.optimizer.step = step_and_record
        return original(self, index, progress)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(training.Trainer, "epoch", epoch)
        result = snnc.train(program, target="bss2", data=((x.numpy(), y.numpy()), (test[0].numpy(), test[1].numpy())),
                            epochs=1, batch=8, lr=0.5, chip_seed=1)
    stepped = steps[-1]
    assert max(float(w.abs().max() / limit[k]) for k, w in stepped.items()) > 1.2  # a step leaves the range
    assert float(stepped["x->h"].min()) < 0  # and the sign
    for name, w in result.weights.items():
        assert float(w.abs().max()) <= limit[name] * (1 + 1e-6), name
        assert float(w.abs().max()) == pytest.approx(limit[name], rel=1e-6)  # clipped, not rescaled
    assert float(result.weights["x->h"].min()) == 0.0
    trained = result.program.ir.edge_attrs("x->h")["weights"]  # only the existing synapses, none added
    assert same_synapses(trained, synapses) and result.weights["x->h"].shape == (synapses.nnz,)
    assert np.array_equal(trained.values, result.weights["x->h"].numpy())
    assert result.program.ir.graph.graph["training"] == {
        "method": "surrogate", "epochs": 1, "chip_seed": 1, "seed": 0, "data": result.metrics["config"]["data"],
        "test_samples": 8, "twin": "spikes",
        "test_accuracy": result.metrics["epochs"][0]["test_accuracy"]}
    for name, attrs in result.program.ir.edge_attrs_by_name().items():
        hw = attrs["legalization"].hw_weights
        assert int(np.abs(hw).max()) == 63 and (name != "x->h" or int(hw.min()) == 0), name
        assert hw.shape == np.shape(values_of(attrs["weights"])), name  # one per synapse


WITHOUT = timed_network("fed", "10 ms", """\
    input  x[3] : latency(t_max = 8 ms)
    pop    h[4] : LIF(tau_mem = 4 ms, tau_syn = 3 ms, v_th = 0.3)
    pop    o[2] : LI(tau_mem = 4 ms, tau_syn = 3 ms)
    proj x -> h : dense(init = uniform(0.5, 1.5))
    proj h -> o : dense(init = normal(0, 0.5))
    output o : max_membrane""")
DEAD_END = WITHOUT.replace("    output o", "    pop    d[2] : LI(tau_mem = 4 ms, tau_syn = 3 ms)\n"
                           "    proj x -> d : dense(init = constant(0.5))\n    output o")


@pytest.mark.parametrize("fast", [True, False])
def test_a_projection_that_reaches_no_output_gets_a_zero_gradient_and_changes_no_other(fast):
    """x -> d feeds an LI population that is neither the output nor spiking: neither the scores nor the
    activity depend on it (autograd sees it unused), and the other gradients are those without it."""
    gradients = {}
    for name, text in (("dead_end", DEAD_END), ("without", WITHOUT)):
        program = compile_text(text, seed=5)
        emulator = emulator_for(program)
        emulator.fast = fast
        weights = {k: w.clone().requires_grad_(True) for k, w in emulator.initial_weights().items()}
        stimulus = encode(program.ir, torch.tensor([[1.0, 0.5, 0.8], [0.3, 1.0, 0.6]]))
        scores, activity = in_the_loop(emulator, emulator.make_twin(), stimulus, weights)
        (scores.sum() + activity.sum()).backward()
        gradients[name] = {k: w.grad for k, w in weights.items()}
    assert torch.equal(gradients["dead_end"]["x->d"], torch.zeros(3, 2))
    for name in ("x->h", "h->o"):
        assert bool(gradients["without"][name].abs().sum() > 0), name
        assert torch.allclose(gradients["dead_end"][name], gradients["without"][name], rtol=1e-5, atol=1e-7), name


def test_training_a_sparse_network_on_the_general_core_is_training_it_dense_at_its_synapses():
    """An always_on population sends the network to the general core (dense matrices): one optimizer step
    (one batch) of the sparse program moves each synapse's weight exactly as the same program with its sparse
    projection held as a matrix (zero where no synapse) moves that entry (Adam works per entry)."""
    text = LEGAL.replace("    pop    o[3]", "    pop    b[1] : always_on\n    pop    o[3]").replace(
        "    output o", "    proj b -> o : dense(init = constant(0.05))\n    output o")
    sparse_program = compile_text(text, seed=5)
    dense_program = compile_text(text.replace("sparse(p = 0.5,", "dense("), seed=5)
    assert not emulator_for(sparse_program).fast_path()
    synapses = sparse_program.ir.edge_attrs("x->h")["weights"]
    for program in (sparse_program, dense_program):  # the same starting weights
        for _, _, key, attrs in program.ir.edges():
            value = sparse_program.ir.edge_attrs(key)["weights"]
            attrs["weights"] = value.to_dense() if key == "x->h" and program is dense_program else value
    (x, y), test = data(16, 6), data(8, 7)
    trained = [snnc.train(program, data=((x.numpy(), y.numpy()), (test[0].numpy(), test[1].numpy())), epochs=1,
                          batch=16, lr=0.05).weights for program in (sparse_program, dense_program)]
    of_sparse, of_dense = trained
    assert of_sparse["x->h"].shape == (synapses.nnz,)
    at_synapses = of_dense["x->h"][torch.from_numpy(synapses.sources).long(), torch.from_numpy(synapses.indices).long()]
    moved = float((of_sparse["x->h"] - torch.from_numpy(synapses.values)).abs().max())
    assert moved > 1e-3  # the step changed them
    torch.testing.assert_close(of_sparse["x->h"], at_synapses, rtol=0, atol=1e-6)
    for key in ("h->o", "b->o"):
        torch.testing.assert_close(of_sparse[key], of_dense[key], rtol=0, atol=1e-6)
