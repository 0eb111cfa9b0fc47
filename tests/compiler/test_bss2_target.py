"""The bss2 target YAML: the shipped file loads; a user's variant is validated with key paths (unknown
keys, wrong types, values that make no chip) and its numbers, not built-in ones, drive placement."""

from __future__ import annotations

import pytest

import snnc
from snnc.compiler.families import load_target
from snnc.diagnostics import SnncError
from snnc.runtime.emulators.base import emulator_for
from tests.conftest import REPO, network

BSS2_YAML = (REPO / "snnc" / "compiler" / "targets" / "bss2.yaml").read_text()


def variant(tmp_path, *replacements: tuple[str, str]) -> str:
    text = BSS2_YAML
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "my_chip.yaml"
    path.write_text(text)
    return str(path)


def rendered_errors(path: str) -> str:
    with pytest.raises(SnncError) as info:
        load_target(path)
    return info.value.render()


def test_shipped_bss2_loads_with_the_numbers_the_emulator_reads():
    spec = load_target("bss2").spec
    assert spec["resources"]["weight_bits"] == 6 and spec["resources"]["readout_bits"] == 8
    assert set(spec["noise"]) >= {"tau_mem_mismatch", "weight_mismatch", "membrane_noise"}
    assert spec["time_scale"] == 1e-3


def test_unknown_keys_and_wrong_types_are_reported_with_their_path(tmp_path):
    path = variant(tmp_path, ("  chips: 1", "  chip: 1"), ("weight_bits: 6", "weight_bits: six"),
                   ("  tau_mem_mismatch: 0.02", "  tau_mem_mismatch: [0.02]"))
    text = rendered_errors(path)
    assert "resources.chip: unknown key (did you mean 'chips'?)" in text
    assert "resources.chips: missing" in text
    assert "resources.weight_bits: expected an integer, got 'six'" in text
    assert "noise.tau_mem_mismatch: expected a number, got [0.02]" in text


def test_values_that_make_no_chip_are_reported(tmp_path):
    path = variant(tmp_path, ("columns_per_hemisphere: 256", "columns_per_hemisphere: 0"),
                   ("tau_mem: [5.0e-7, 6.0e-5]", "tau_mem: [6.0e-5, 5.0e-7]"),
                   ("readout_range: [-1.0, 2.5]", "readout_range: [2.5, -1.0]"),
                   ("event_latency: 8.0e-8", "event_latency: -1.0e-9"),
                   ("chip_power: 0.2", "chip_power: 0.0"), ("sample_gap: 1.0e-6", "sample_gap: -1.0e-6"))
    text = rendered_errors(path)
    assert "resources.columns_per_hemisphere: must be >= 1, got 0" in text
    assert "resources.readout_range: must be [low, high] with low < high, got [2.5, -1.0]" in text
    assert "parameter_ranges.tau_mem: expected [low, high] with low <= high" in text
    assert "resources.event_latency: must be >= 0, got -1e-09" in text
    assert "estimates.chip_power: must be > 0, got 0.0" in text
    assert "estimates.sample_gap: must be >= 0, got -1e-06" in text


def test_event_outputs_and_buses_must_divide_columns_and_drivers(tmp_path):
    text = rendered_errors(variant(tmp_path, ("neuron_event_outputs: 8", "neuron_event_outputs: 7")))
    assert "resources.neuron_event_outputs: must divide columns_per_hemisphere (256), got 7" in text
    text = rendered_errors(variant(tmp_path, ("padi_buses_per_hemisphere: 4", "padi_buses_per_hemisphere: 5")))
    assert "resources.padi_buses_per_hemisphere: must divide synapse_drivers_per_hemisphere (128), got 5" in text


def test_two_rows_per_driver_and_every_row_on_a_driver(tmp_path):
    text = rendered_errors(variant(tmp_path, ("rows_per_hemisphere: 256", "rows_per_hemisphere: 255")))
    assert ("resources.rows_per_hemisphere: must be synapse_drivers_per_hemisphere * rows_per_driver = 256, "
            "got 255") in text
    text = rendered_errors(variant(tmp_path, ("rows_per_driver: 2", "rows_per_driver: 4")))
    assert ("resources.rows_per_driver: a BrainScaleS-2 synapse driver relays onto two rows, so it must be 2, "
            "got 4") in text


def test_a_smaller_variant_drives_the_placement(tmp_path):
    path = variant(tmp_path, ("columns_per_hemisphere: 256", "columns_per_hemisphere: 64"),
                   ("rows_per_hemisphere: 256", "rows_per_hemisphere: 64"),
                   ("synapse_drivers_per_hemisphere: 128", "synapse_drivers_per_hemisphere: 32"),
                   ("weight_bits: 6", "weight_bits: 4"), ("readout_range: [-1.0, 2.5]", "readout_range: [-2.0, 2.0]"),
                   ("readout_bits: 8", "readout_bits: 6"))
    program = snnc.compile("net.snn", target=path, text=network("""
    input x[40] : latency(t_max = 10 ms)
    pop y[30] : LIF(tau_mem = 6 ms, tau_syn = 6 ms, refractory = 1 ms)
    proj x -> y : dense
    output y : spike_count"""))
    ir = program.ir
    assert ir.node_attrs("y")["merge"].circuits_per_neuron == 2  # 40 signed inputs, 32 per circuit
    assert ir.graph.graph["resources"]["neuron_circuits"] == {"used": 60, "available": 128}
    assert abs(ir.edge_attrs("x->y")["legalization"].hw_weights).max() == 15
    assert (ir.node_attrs("y")["placement"].circuits < 128).all()
    emulator = emulator_for(program)  # the readout is the variant's too
    assert emulator.readout_range == (-2.0, 2.0) and emulator.readout_bits == 6
