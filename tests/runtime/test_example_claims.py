"""What the examples' comments say about their own dynamics, checked against the emulator."""

from __future__ import annotations

import pytest
import torch

from snnc.runtime.emulators.base import emulator_for
from snnc.runtime.encoders import encode
from tests.conftest import REPO
from tests.runtime.conftest import compile_text

TRACE_PROBE = """network trace {{
    timestep 1 ms
    duration 40 ms
    input x[1] : current(scale = 1.0)
    pop   n[1] : LI(tau_mem = {tau_mem} ms, tau_syn = {tau_syn} ms)
    proj x -> n : dense(init = constant(1.0))
    output n : max_membrane
}}"""


def test_sequential_digits_hidden_trace_of_a_row_one_and_two_rows_later():
    """The comment of sequential_digits.snn (and docs/recurrent.md's table): a row's trace in a hidden
    membrane is 66% one row after the row ends and 22% two rows later."""
    example = emulator_for(compile_text((REPO / "dsl_examples" / "sequential_digits.snn").read_text()))
    hidden = example.nominal["hidden"]
    tau_mem, tau_syn = float(hidden.tau_mem[0]) * 1e3, float(hidden.tau_syn[0]) * 1e3
    assert (tau_mem, tau_syn) == pytest.approx((4.0, 2.0))
    program = compile_text(TRACE_PROBE.format(tau_mem=tau_mem, tau_syn=tau_syn))
    emulator = emulator_for(program, dtype=torch.float64)
    row = torch.zeros(1, 8, 1, dtype=torch.float64)
    row[0, 0, 0] = 1.0  # the first of 8 windows (rows) of 5 ms, the others dark
    v = emulator.observe(encode(program.ir, row), emulator.initial_weights()).membrane["n"][:, 0, 0]
    end = float(v[4])  # the membrane at the end of step t, (t + 1) ms: 5 ms, when the row ends
    assert end == pytest.approx(0.5091, abs=1e-4)  # the continuous solution's V(5 ms) for a unit drive
    assert round(100 * float(v[9]) / end) == 66
    assert round(100 * float(v[14]) / end) == 22


def test_deep_recurrent_fires_in_both_layers_from_the_first_batch():
    """The comment of deep_recurrent.snn: about 0.6 and 2 spikes per neuron and sample at initialization
    (it was silent in both layers before, and never learned)."""
    from snnc.runtime.data import load_data

    program = compile_text((REPO / "dsl_examples" / "deep_recurrent.snn").read_text())
    emulator = emulator_for(program)
    x = load_data("digits", program.ir.inputs()[0]).x_train[:64]
    spikes = emulator.observe(encode(program.ir, x, torch.Generator().manual_seed(0)),
                              emulator.initial_weights()).spikes
    per_neuron = {name: float(spikes[name].sum(0).mean()) for name in ("layer1", "layer2")}
    assert round(per_neuron["layer1"], 1) == 0.6 and round(per_neuron["layer2"]) == 2
