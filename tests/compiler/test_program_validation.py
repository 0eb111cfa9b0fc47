"""A compiled program is re-validated when it is loaded: each corruption below is an error naming the file
and the field (key path), exit 1, never a traceback and never a program that loads and runs wrongly."""

from __future__ import annotations

import io
import json
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import snnc
from snnc.cli import run as cli
from snnc.compiler.backend import program_check
from snnc.compiler.backend.artifact import save_program
from snnc.diagnostics import SnncError
from tests.conftest import REPO

SMALL = REPO / "dsl_examples" / "latency_digits_small.snn"
ONN = REPO / "dsl_examples" / "onn_digits.snn"


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """One compiled program per family, copied afresh by `program`."""
    root = tmp_path_factory.mktemp("compiled")
    for target, source in (("reference", SMALL), ("bss2", SMALL), ("onn", ONN)):
        snnc.compile(source, target=target, out=root / target, seed=1)
    return root


@pytest.fixture()
def program(compiled, tmp_path):
    copies = iter(range(100))

    def copy(target: str):
        out = tmp_path / f"{target}{next(copies)}"
        shutil.copytree(compiled / target, out)
        return out
    return copy


def edit_json(directory, change) -> None:
    path = directory / "program.json"
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))


def node(document, name):
    return next(n for n in document["ir"]["nodes"] if n["name"] == name)


def edge(document, key):
    return next(e for e in document["ir"]["edges"] if e["key"] == key)


def edit_array(directory, key, change) -> None:
    path = directory / "weights.npz"
    with np.load(path, allow_pickle=False) as archive:
        arrays = {k: archive[k] for k in archive.files}
    arrays[key] = change(arrays[key])
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    path.write_bytes(buffer.getvalue())


def load_error(directory) -> str:
    with pytest.raises(SnncError) as info:
        snnc.load(directory)
    return info.value.render()


def test_valid_programs_of_every_family_load(compiled):
    for target in ("reference", "bss2", "onn"):
        assert snnc.load(compiled / target).target.name == target


def test_program_json_nested_100000_deep_is_an_error(program):
    out = program("reference")
    (out / "program.json").write_text('{"format": "snnc-program", "schema_version": 2, "x": '
                                      + "[" * 100_000 + "]" * 100_000 + "}")
    message = load_error(out)
    assert "program.json' is corrupt" in message and "nested deeper than 32 levels" in message


def test_program_json_nested_just_below_the_interpreter_limit_is_an_error(program):
    out = program("reference")
    edit_json(out, lambda d: d["ir"]["attrs"].update(deep=json.loads("[" * 500 + "]" * 500)))
    assert "ir.attrs.deep" in load_error(out) and "nested deeper than 32 levels" in load_error(out)


def test_program_json_being_a_directory_is_an_error(program):
    out = program("reference")
    (out / "program.json").unlink()
    (out / "program.json").mkdir()
    assert "program.json' is corrupt: it is a directory, not a file" in load_error(out)


def test_string_dtype_weights_are_an_error(program):
    out = program("reference")
    edit_array(out, "pixels->hidden.weights", lambda w: w.astype(str))
    message = load_error(out)
    assert "weights.npz' is corrupt: array 'pixels->hidden.weights' (ir.edges[pixels->hidden].weights)" in message
    assert "expected float32 values, got <U" in message


def test_nan_weights_are_an_error(program):
    out = program("reference")
    edit_array(out, "hidden->out.weights", lambda w: np.where(np.arange(w.size).reshape(w.shape) < 3, np.nan, w))
    assert "array 'hidden->out.weights' (ir.edges[hidden->out].weights): 3 values are not finite" in load_error(out)


def test_wrong_shape_weights_are_an_error(program):
    out = program("reference")
    edit_array(out, "hidden->out.weights", lambda w: w[:, :-1])
    assert "array 'hidden->out.weights' (ir.edges[hidden->out].weights): expected shape [40, 10], got [40, 9]" \
        in load_error(out)


def test_wrong_shape_circuits_are_an_error(program):
    out = program("bss2")
    edit_array(out, "hidden.placement.circuits", lambda c: c.reshape(-1))
    message = load_error(out)
    assert "array 'hidden.placement.circuits' (ir.nodes[hidden].placement.circuits): expected shape [40, 1], " \
           "got [40]" in message


def test_circuits_out_of_range_and_repeated_are_errors(program):
    out = program("bss2")
    edit_array(out, "hidden.placement.circuits", lambda c: np.full_like(c, 600))
    assert "ir.nodes[hidden].placement.circuits): values from 600 to 600; they must lie in [0, 511]" in load_error(out)
    out = program("bss2")
    edit_array(out, "hidden.placement.circuits", lambda c: np.zeros_like(c))
    assert "ir.attrs.partitions[0].chunks: 39 entries repeat a neuron circuit" in load_error(out)


def test_a_target_spec_without_resources_is_an_error(program):
    out = program("bss2")
    edit_json(out, lambda d: d["target"]["spec"].pop("resources"))
    assert "program.json' is corrupt: target.spec.resources: missing" in load_error(out)


def test_nan_in_v_th_is_an_error(program):
    out = program("reference")
    edit_json(out, lambda d: node(d, "hidden")["decl"]["model"].update(v_th=float("nan")))
    assert "program.json' is corrupt: ir.nodes[hidden].decl.model.v_th: must be finite, got nan" in load_error(out)


def test_negative_tau_mem_is_an_error(program):
    out = program("bss2")
    edit_json(out, lambda d: node(d, "hidden")["decl"]["model"].update(tau_mem=-0.005))
    assert "program.json' is corrupt: ir.nodes[hidden].decl.model.tau_mem: must be > 0, got -0.005" in load_error(out)


@pytest.mark.parametrize("value,phrase", [(-0.001, "timestep: must be > 0, got -0.001"),
                                          (0, "timestep: must be > 0, got 0"),
                                          ("1 ms", "timestep: expected a number, got '1 ms'")])
def test_bad_timesteps_are_errors(program, value, phrase):
    out = program("reference")
    edit_json(out, lambda d: d["ir"]["header"].update(timestep=value))
    assert f"program.json' is corrupt: ir.header.{phrase}" in load_error(out)


def test_a_duration_of_more_steps_than_the_language_allows_is_an_error(program):
    out = program("reference")
    edit_json(out, lambda d: d["ir"]["header"].update(duration=1e4))
    assert "ir.header.duration: 10,000,000 time steps; at most 100,000 are supported" in load_error(out)
    out = program("reference")
    edit_json(out, lambda d: d["ir"]["header"].update(duration=100.0))  # exactly 100,000 steps at 1 ms
    assert snnc.load(out).ir.header.steps == 100_000


def test_hw_weights_beyond_the_synapses_bits_are_an_error(program):
    out = program("bss2")
    edit_array(out, "pixels->hidden.legalization.hw_weights", lambda w: np.where(w == w.max(), 30000, w))
    message = load_error(out)
    assert "array 'pixels->hidden.legalization.hw_weights' (ir.edges[pixels->hidden].legalization.hw_weights): " \
           "values from " in message and "to 30000; they must lie in [-63, 63] (6-bit synapses, signed)" in message
    out = program("bss2")
    edit_array(out, "pixels->hidden.legalization.hw_weights", lambda w: np.where(w == w.max(), 63, w))
    snnc.load(out)  # the largest weight 6 bits hold


def first_group(document) -> dict:
    return document["ir"]["attrs"]["routing"][0]["buses"][0]["groups"][0]


@pytest.mark.parametrize("group,phrase", [
    ({"exc_rows": -3}, "ir.attrs.routing[0].buses[0].groups[0].exc_rows: must be >= 0, got -3"),
    ({"exc_rows": "all"}, "ir.attrs.routing[0].buses[0].groups[0].exc_rows: expected an integer, got 'all'"),
    ({"exc_rows": 10**6}, "ir.attrs.routing[0].buses[0].groups[0].exc_rows: exc_rows + inh_rows must be at most"),
    ({"drivers": [1, 1]}, "ir.attrs.routing[0].buses[0].groups[0].drivers: must be distinct drivers d < 128 with "
                          "d % 4 =="),
])
def test_garbage_row_modes_are_errors(program, group, phrase):
    out = program("bss2")
    edit_json(out, lambda d: first_group(d).update(group))
    assert phrase in load_error(out)


def test_rows_whose_drivers_are_in_the_other_mode_are_an_error(program):
    out = program("bss2")  # the first group's drivers carry no excitatory rows any more
    edit_json(out, lambda d: first_group(d).update(exc_rows=0))
    assert "synapse_rows.exc_row): rows of chip 0, hemisphere" in load_error(out)
    assert "whose drivers are not excitatory (routing table 0)" in load_error(out)


def test_synapse_rows_must_fit_the_synapses(program):
    out = program("bss2")
    edit_array(out, "pixels->hidden.synapse_rows.exc_row", lambda rows: np.where(rows >= 0, rows + 300, rows))
    assert "(ir.edges[pixels->hidden].synapse_rows.exc_row): values from 300 to 423; they must lie in [-1, " \
           "255] (-1 or one of the 256 rows of a hemisphere)" in load_error(out)
    out = program("bss2")
    edit_array(out, "pixels->hidden.synapse_rows.inh_row", lambda rows: np.full_like(rows, -1))
    assert "synapse_rows.inh_row): -1 for 2,560 synapses that exist" in load_error(out)


def test_routing_tables_must_be_consistent(program):
    out = program("bss2")
    edit_array(out, "graph.routing.0.label", lambda label: np.full_like(label, 64))
    assert "(ir.attrs.routing[0].label): values from 64 to 64; they must lie in [0, 63]" in load_error(out)
    out = program("bss2")
    edit_array(out, "graph.routing.0.label", np.zeros_like)
    assert "ir.attrs.routing[0].label" in load_error(out) and \
        "entries repeat a (chip, hemisphere, bus, group, label)" in load_error(out)
    out = program("bss2")
    edit_array(out, "graph.routing.0.group", lambda group: group + 100)
    assert "(ir.attrs.routing[0].group): values from 100 to 100; they must lie in [0, 31]" in load_error(out)
    out = program("bss2")
    edit_array(out, "graph.routing.0.group", lambda group: group + 1)  # within the bus's 32, but not routed
    assert "ir.attrs.routing[0].group" in load_error(out) and "no such label group" in load_error(out)


def test_transmission_levels_and_tiles_must_fit_the_device(program):
    out = program("onn")
    edit_array(out, "img->h.transmissions.levels", lambda levels: levels + 300)
    assert "they must lie in [0, 255] (8-bit modulator)" in load_error(out)
    out = program("onn")
    edit_json(out, lambda d: edge(d, "img->h")["tiles"][0].update(channels=[0, 99999]))
    assert "ir.edges[img->h].tiles[0].channels: must be [start, stop) with 0 <= start < stop <= 16384" \
        in load_error(out)


def test_report_entries_and_diagnostics_are_checked(program):
    out = program("reference")
    edit_json(out, lambda d: d["ir"]["attrs"]["resources"]["neurons"].update(used="many"))
    assert "ir.attrs.resources.neurons.used" in load_error(out)
    out = program("reference")
    edit_json(out, lambda d: d["diagnostics"].append({"code": "W1"}))
    assert "diagnostics[0].severity: missing" in load_error(out)
    out = program("reference")
    edit_json(out, lambda d: d["ir"]["attrs"].update(training={"chip_seed": "x"}))
    assert "ir.attrs.training.chip_seed: expected an integer, got 'x'" in load_error(out)


def test_records_a_family_needs_must_be_there(program):
    out = program("onn")
    edit_json(out, lambda d: edge(d, "img->h").pop("tiles"))
    assert "ir.edges[img->h].tiles: missing (every onn program has it)" in load_error(out)


def test_truncated_and_oversized_weights_are_errors(program, monkeypatch):
    out = program("reference")
    data = (out / "weights.npz").read_bytes()
    (out / "weights.npz").write_bytes(data[: len(data) // 2])
    assert "weights.npz' is corrupt" in load_error(out)
    out = program("reference")
    monkeypatch.setattr("snnc.compiler.backend.artifact.memory_budget", lambda: 1000)
    assert "may be read" in load_error(out)


def test_an_npy_header_claiming_a_huge_array_is_refused_before_reading(program):
    out = program("reference")
    header = b"{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000000,), }"
    member = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + b"\n"
    with zipfile.ZipFile(out / "weights.npz", "w") as archive:
        archive.writestr("pixels->hidden.weights.npy", member)
    assert "its arrays take 3.6 PiB or more" in load_error(out)


def test_the_command_line_exits_1_on_a_corrupt_program(program, capsys):
    out = program("bss2")
    edit_json(out, lambda d: node(d, "hidden")["decl"]["model"].update(tau_mem=-1))
    for command in (["report", str(out)], ["run", str(out), "--samples", "2"]):
        assert cli(command) == 1
        assert "ir.nodes[hidden].decl.model.tau_mem: must be > 0" in capsys.readouterr().err


def test_more_than_twenty_problems_are_counted(program):
    out = program("reference")
    edit_json(out, lambda d: [n["decl"].update(shape=[-1]) for n in d["ir"]["nodes"]] and None)
    edit_json(out, lambda d: d["ir"]["attrs"].update(junk=[float("inf")] * 30))
    message = load_error(out)
    assert message.count("must be finite") == program_check.MAX_SHOWN
    assert "... and 10 more problems" in message


def test_multi_partition_and_multi_chip_programs_load(tmp_path):
    from tests.compiler.test_bss2_placement import three_layers

    for name, text, chips in (("partitions", three_layers(300, 400), None), ("chips", three_layers(300, 400), 2)):
        program = snnc.compile("net.snn", text=text, target="bss2", chips=chips, out=tmp_path / name)
        assert len(program.ir.graph.graph["partitions"]) > 1 or program.target.substrate.chips == 2
        assert snnc.load(tmp_path / name).ir == program.ir


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sizes=st.lists(st.integers(1, 700), min_size=2, max_size=4),
       signs=st.lists(st.sampled_from(["signed", "positive", "negative"]), min_size=3, max_size=3),
       recurrent=st.booleans(), chips=st.integers(1, 3), sparse=st.booleans())
def test_every_placed_bss2_program_loads_back(sizes, signs, recurrent, chips, sparse):
    """No valid program is refused: varied layers, signs, recurrence, sparsity and chips."""
    from tests.compiler.test_bss2_placement import _layered_network

    text = _layered_network(sizes, signs, recurrent)
    if sparse:
        text = text.replace(": dense(", ": sparse(p = 0.3, ")
    try:
        program = snnc.compile("net.snn", text=text, target="bss2", chips=chips)
    except SnncError:
        return  # (does not fit: test_bss2_placement says why)
    with tempfile.TemporaryDirectory() as folder:
        save_program(program, Path(folder) / "p")
        assert snnc.load(Path(folder) / "p").ir == program.ir
