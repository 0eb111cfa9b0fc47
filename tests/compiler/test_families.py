"""Substrate families: one record each, the substrate model built once at load with `--chips` applied,
and the target record of program.json restoring both."""

from __future__ import annotations

import json

import pytest

import snnc
from snnc.compiler.families import BSS2, DIGITAL, FAMILIES, FRONTEND, ONN, all_pass_names, load_target
from snnc.compiler.targets.bss2 import Chip
from snnc.compiler.targets.onn import Optics
from snnc.diagnostics import SnncError, UsageError
from tests.conftest import MINIMAL, network

# bss2 calibrates refractory periods from 40 ns (40 us in model time): the chip always has one.
MINIMAL_BSS2 = MINIMAL.replace("tau_syn = 5 ms)", "tau_syn = 5 ms, refractory = 1 ms)")


def test_every_shipped_target_names_a_family_and_gets_its_substrate_model():
    assert FAMILIES == {"digital": DIGITAL, "bss2": BSS2, "onn": ONN}
    reference, bss2, onn = load_target("reference"), load_target("bss2"), load_target("onn")
    assert (reference.family, bss2.family, onn.family) == (DIGITAL, BSS2, ONN)
    assert reference.substrate is None
    assert bss2.substrate == Chip.from_spec(bss2.spec) and bss2.substrate.chips == 1  # resources.chips
    assert (bss2.substrate.circuits, bss2.substrate.weight_bits) == (512, 6)
    assert onn.substrate == Optics.from_spec(onn.spec) and onn.substrate.channels == 16384


def test_every_pipeline_starts_with_the_frontend_and_every_pass_name_is_known():
    for family in FAMILIES.values():
        assert family.passes[:len(FRONTEND)] == FRONTEND
    assert BSS2.pass_names[len(FRONTEND):] == [
        "check_target_support", "initialize_weights", "split_signs", "legalize_weights", "merge_circuits",
        "check_bss2_rules", "partition_network", "place_neurons", "route_synapses", "account_bss2_resources"]
    assert set(all_pass_names()) == {n for f in FAMILIES.values() for n in f.pass_names}


def test_chips_are_applied_once_when_the_target_is_loaded():
    target = load_target("bss2", chips=3)
    assert (target.chips, target.substrate.chips) == (3, 3)
    assert load_target(target) is target  # a loaded target passes through
    assert load_target("bss2", chips=16384).substrate.chips == 16384  # the most chips
    again = load_target(target, chips=2)
    assert (again.chips, again.substrate.chips, target.substrate.chips) == (2, 2, 3)


@pytest.mark.parametrize("chips", [0, -1, True, 1.5, "2", 16385, 10**12])
def test_a_bad_chip_count_is_one_usage_error_at_load(chips):
    with pytest.raises(UsageError) as info:
        load_target("bss2", chips=chips)
    assert str(info.value) == f"--chips must be an integer from 1 to 16,384, got {chips!r}"
    with pytest.raises(UsageError):  # before the program is read: a usage error comes first
        snnc.check("missing.snn", text="network {", target="bss2", chips=chips)


def test_program_json_records_the_family_and_chips_and_loading_rebuilds_the_substrate(tmp_path):
    program = snnc.compile("n.snn", text=network(MINIMAL_BSS2), target="bss2", chips=2, out=tmp_path / "p")
    record = json.loads((tmp_path / "p" / "program.json").read_text())["target"]
    assert (record["name"], record["family"], record["chips"]) == ("bss2", "bss2", 2)
    loaded = snnc.load(tmp_path / "p")
    assert loaded.target.family is BSS2 and loaded.target.substrate == program.target.substrate
    assert loaded.target.substrate.chips == 2


def test_a_program_of_an_unknown_family_is_reported_as_corrupt(tmp_path):
    snnc.compile("n.snn", text=network(MINIMAL), out=tmp_path / "p")
    path = tmp_path / "p" / "program.json"
    document = json.loads(path.read_text())
    document["target"]["family"] = "quantum"
    path.write_text(json.dumps(document))
    with pytest.raises(SnncError, match="target.family: expected one of 'digital', 'bss2', 'onn', got 'quantum'"):
        snnc.load(tmp_path / "p")
