"""The compiled program directory: contents, round trip, atomic writes, corrupt files."""

from __future__ import annotations

import json

import numpy as np
import pytest

import snnc
from snnc.compiler.backend.artifact import load_program
from snnc.diagnostics import SnncError
from tests.conftest import EXAMPLES, MINIMAL, REPO, home_target, network

LATENCY = REPO / "dsl_examples" / "latency_digits.snn"


@pytest.fixture()
def compiled(tmp_path):
    out = tmp_path / "net.reference"
    program = snnc.compile(LATENCY, target="reference", out=out, seed=3)
    return program, out


def test_program_directory_has_the_promised_files(compiled):
    _, out = compiled
    assert sorted(p.name for p in out.iterdir()) == [".snnc-output", "program.json", "report.html", "report.json",
                                                      "report.md", "weights.npz"]
    assert json.loads((out / ".snnc-output").read_text()) == {
        "format": "snnc-output", "entries": ["program.json", "report.html", "report.json", "report.md",
                                             "weights.npz"]}
    document = json.loads((out / "program.json").read_text())
    assert document["format"] == "snnc-program" and document["schema_version"] == 2
    assert document["target"]["name"] == "reference" and document["target"]["family"] == "digital"
    assert document["seed"] == 3
    assert len(document["source"]["sha256"]) == 64
    with np.load(out / "weights.npz", allow_pickle=False) as archive:
        assert "pixels->hidden.weights" in archive.files


def test_loading_back_gives_an_equal_ir(compiled):
    program, out = compiled
    loaded = snnc.load(out)
    assert loaded.ir == program.ir
    assert loaded.target.name == "reference" and loaded.seed == 3


def test_report_json_has_stable_keys(compiled):
    _, out = compiled
    report = json.loads((out / "report.json").read_text())
    for key in ("target", "resources", "populations", "projections", "partitions", "diagnostics"):
        assert key in report
    assert report["populations"]["hidden"]["neurons"] == 246
    assert report["resources"]["neurons"]["used"] == 256
    assert "| hidden | 246 | LIF |" in (out / "report.md").read_text()


def test_failed_compile_leaves_no_output_and_keeps_an_old_one(tmp_path):
    out = tmp_path / "build" / "x"
    with pytest.raises(SnncError):
        snnc.compile("net.snn", text=network(MINIMAL.replace("dense", "dens")), out=out)
    assert not out.exists()
    assert not (tmp_path / "build").exists() or list((tmp_path / "build").iterdir()) == []
    snnc.compile("net.snn", text=network(MINIMAL), out=out)
    before = (out / "program.json").read_bytes()
    with pytest.raises(SnncError):
        snnc.compile("net.snn", text=network(MINIMAL.replace("dense", "dens")), out=out)
    assert (out / "program.json").read_bytes() == before


@pytest.mark.parametrize("damage,message", [
    (lambda d: (d / "program.json").write_text("{not json"), "program.json' is corrupt"),
    (lambda d: (d / "program.json").unlink(), "program.json' is missing"),
    (lambda d: (d / "weights.npz").write_bytes(b"garbage"), "weights.npz' is corrupt"),
    (lambda d: (d / "weights.npz").unlink(), "weights.npz' is missing"),
    (lambda d: (d / "program.json").write_text('{"format": "other"}'), "is not an snnc program"),
    (lambda d: (d / "program.json").write_text(
        (d / "program.json").read_text().replace('"Input"', '"Inptu"')), "unknown IR type 'Inptu'"),
])
def test_corrupt_program_directories_give_clear_errors(compiled, damage, message):
    _, out = compiled
    damage(out)
    with pytest.raises(SnncError) as info:
        load_program(out)
    assert message in info.value.render()


def test_every_example_compiles_for_its_target(tmp_path):
    for path in EXAMPLES:
        for result in snnc.check(path, target=home_target(path)):
            out = tmp_path / f"{result.ir.name}"
            snnc.compile(path, network=result.ir.name, out=out, target=home_target(path))
            assert snnc.load(out).ir == result.ir


def test_the_reference_target_refuses_optical_models_at_compile_time():
    # its emulator (the spiking core) cannot run them: train and run would refuse them later
    with pytest.raises(SnncError) as info:
        snnc.compile(EXAMPLES[0].parent / "onn_digits.snn", target="reference")
    assert [(d.code, d.span.line) for d in info.value.diagnostics] == [("E160", 7), ("E160", 8)]
    assert info.value.diagnostics[0].message == (
        "target 'reference' does not support neuron model 'photon_detector' (it supports LIF, LI, AdEx, IF, "
        "integrator, always_on)")
