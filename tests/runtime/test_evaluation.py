"""Evaluation (snnc.runtime.evaluation): accuracy on a data set, its warm-up, and the random streams of
`snnc run`."""

from __future__ import annotations

import pytest
import torch

import snnc
from snnc.diagnostics import SnncError
from snnc.runtime import evaluation, seeds
from snnc.runtime.emulators.base import emulator_for


def test_evaluation_warms_the_kernels_up_without_touching_the_run_s_random_state(small_digits_file, monkeypatch):
    program = snnc.compile(small_digits_file, target="bss2")
    x = torch.rand(40, *program.ir.inputs()[0].shape, generator=torch.Generator().manual_seed(3))
    y = torch.randint(0, 10, (40,), generator=torch.Generator().manual_seed(4))

    def evaluated(warm_up: bool):
        emulator = emulator_for(program, chip_seed=1, noise_seed=5)
        calls = []
        if not warm_up:
            monkeypatch.setattr(evaluation, "_load_kernels", lambda *args: calls.append(args))
        result = evaluation.evaluate(emulator, emulator.initial_weights(), x, y, torch.Generator().manual_seed(6))
        monkeypatch.undo()
        return result, emulator.generator.get_state(), calls

    (warm, warm_state, _), (cold, cold_state, skipped) = evaluated(True), evaluated(False)
    assert skipped  # the comparison ran without the warm-up
    assert warm["accuracy"] == cold["accuracy"] and warm["spikes_per_sample"] == cold["spikes_per_sample"]
    assert torch.equal(warm_state, cold_state)


def test_run_draws_noise_and_encoding_from_different_streams(small_digits_file, tmp_path, monkeypatch):
    from snnc.runtime import inference

    snnc.compile(small_digits_file, target="bss2", out=tmp_path / "program")
    states = {}
    evaluate = inference.evaluate

    def evaluate_and_record(emulator, weights, x, y, generator):
        states["noise"], states["encode"] = emulator.generator.get_state(), generator.get_state()
        return evaluate(emulator, weights, x, y, generator)

    monkeypatch.setattr(inference, "evaluate", evaluate_and_record)
    snnc.run(tmp_path / "program", seed=9, samples=8)
    assert not torch.equal(states["noise"], states["encode"])  # one seed, two streams
    assert torch.equal(states["noise"], seeds.Counter(9, "noise").get_state())  # bss2: a counter stream
    assert torch.equal(states["encode"], seeds.generator(9, "encode").get_state())
    with pytest.raises(SnncError, match="--seed must be at least 0, not -2"):
        snnc.run(tmp_path / "program", seed=-2)
