"""W450: a spiking population silent on the first batch is named, with its numbers and what to change."""

from __future__ import annotations

import json
import math

import pytest
import torch

import snnc
from snnc.cli import run as cli
from snnc.runtime.emulators.base import emulator_for
from snnc.runtime.silence import silent_populations
from tests.conftest import timed_network
from tests.runtime.conftest import compile_text

QUIET = timed_network("quiet", "20 ms", """\
    input x[1] : latency(t_max = 10 ms)
    pop   h[1] : LIF(tau_mem = 4 ms, tau_syn = 4 ms, v_th = 1.0)
    pop   g[2] : LIF(tau_mem = 4 ms, tau_syn = 4 ms, v_th = 1.0)
    proj x -> h : dense(init = constant(%s))
    proj h -> g : dense(init = constant(1.0))
    output g : spike_count""")


def test_a_silent_population_is_named_with_the_factor_its_weights_need():
    """One spike at t = 0 into equal time constants: V(t) = w t / tau e^(-t / tau) peaks at w / e at
    t = tau = 4 steps, so the weight must grow by e / w to reach v_th = 1."""
    w = 2.0
    emulator = emulator_for(compile_text(QUIET % w))
    [h, g] = silent_populations(emulator, emulator.initial_weights(), torch.ones(3, 1))
    assert h.code == "W450" and h.severity.name == "WARNING"
    assert h.message.startswith("population 'h' emitted no spike on the first batch (3 samples): its membrane "
                                f"peaks at {w / math.e:.2g} ")
    assert f"scale the initial weights of x -> h (mean {w:.2g}, std 0) up by at least {math.e / w:.2g}x" in h.message
    assert h.span.line == 5
    assert "all its sources (h) are silent too: make them fire first" in g.message
    loud = emulator_for(compile_text(QUIET % 3.0))  # 3 / e > 1: h fires, g (weight 1, one spike) stays silent
    [only] = silent_populations(loud, loud.initial_weights(), torch.ones(3, 1))
    assert only.message.startswith("population 'g'")


def test_a_silent_population_behind_a_sparse_projection_gets_the_same_numbers():
    """A one_to_one projection holds its weights as a vector (one per synapse): the check scatters it onto
    the matrix, so the figures are the dense projection's above (peak w / e, factor e / w)."""
    w = 2.0
    emulator = emulator_for(compile_text((QUIET % w).replace("dense(init = constant(2.0))",
                                                             "one_to_one(init = constant(2.0))")))
    assert emulator.initial_weights()["x->h"].shape == (1,)  # the vector form
    [h, g] = silent_populations(emulator, emulator.initial_weights(), torch.ones(3, 1))
    assert h.message.startswith("population 'h' emitted no spike on the first batch (3 samples): its membrane "
                                f"peaks at {w / math.e:.2g} ")
    assert f"scale the initial weights of x -> h (mean {w:.2g}, std 0) up by at least {math.e / w:.2g}x" in h.message
    assert "all its sources (h) are silent too" in g.message


@pytest.mark.parametrize("target", ["reference", "bss2"])
def test_training_a_network_silent_behind_sparse_projections_warns_and_trains(tmp_path, target):
    """snnc.train runs the check on the first batch: with sparse projections (into h, and recurrent) it
    warns as for dense ones instead of failing on the weight vectors (a size mismatch before)."""
    text = ON_DIGITS.replace("dense(init = constant(0.02))", "sparse(p = 0.5, init = constant(0.02))").replace(
        "proj h -> g", "proj h -> h : sparse(p = 0.5, init = constant(0.01))\n    proj h -> g")
    program = compile_text(text, target=target)
    result = snnc.train(program, target=target, epochs=1, train_samples=16, test_samples=8, out=tmp_path / "a")
    assert [d.code for d in result.diagnostics] == ["W450", "W450"]
    assert result.weights["x->h"].shape == (program.ir.edge_attrs("x->h")["weights"].nnz,)


ON_DIGITS = QUIET.replace("input x[1]", "input x[8, 8]").replace("g[2]", "g[10]") % 0.02


def test_the_warning_reaches_metrics_and_the_cli(tmp_path, capsys):
    path = tmp_path / "quiet.snn"
    path.write_text(ON_DIGITS)
    result = snnc.train(path, epochs=1, train_samples=16, test_samples=8, out=tmp_path / "a")
    assert [d.code for d in result.diagnostics] == ["W450", "W450"]
    metrics = json.loads((tmp_path / "a" / "metrics.json").read_text())
    assert [w["message"][:15] for w in metrics["warnings"]] == ["population 'h' ", "population 'g' "]
    assert cli(["train", str(path), "--epochs", "1", "--train-samples", "16", "--test-samples", "8", "-o",
                str(tmp_path / "b")]) == 0
    err = capsys.readouterr().err
    assert f"{path}:5:5: warning[W450]: population 'h' emitted no spike" in err
    assert "pop   h[1] : LIF" in err  # the source line under it


@pytest.mark.parametrize("target", ["reference", "bss2"])
def test_the_check_leaves_the_run_unchanged(tmp_path, target):
    """Run aside (throwaway encoding generator, the noise state restored): a run is the same with it."""
    from snnc.runtime import training

    path = tmp_path / "quiet.snn"
    path.write_text(ON_DIGITS.replace("0.02", "0.3"))
    first = snnc.train(path, target=target, epochs=1, train_samples=16, test_samples=8)
    original = training.Trainer.check_activity
    training.Trainer.check_activity = lambda self: None
    try:
        second = snnc.train(path, target=target, epochs=1, train_samples=16, test_samples=8)
    finally:
        training.Trainer.check_activity = original
    for name, w in first.weights.items():
        assert torch.equal(w, second.weights[name])
