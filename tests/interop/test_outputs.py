"""Single-file outputs (`snnc export`, `snnc import`) replace only files snnc wrote, as output directories do;
links are written through; nothing is written when a write is refused."""

from __future__ import annotations

import os

import numpy as np
import pytest

import snnc
from snnc.cli import run as cli
from snnc.diagnostics import SnncError
from snnc.interop.nir_export import export_nir
from snnc.interop.nir_import import import_nir
from tests.conftest import network

NET = network("""
    timestep 1 ms
    duration 10 ms
    input x[3] : latency(t_max = 5 ms)
    pop h[4] : LIF(tau_mem = 5 ms, tau_syn = 5 ms)
    proj x -> h : dense(init = normal(0, 0.5))
    output h : spike_count""")


@pytest.fixture()
def program(tmp_path):
    return snnc.compile("net.snn", text=NET)


def refused(call) -> str:
    with pytest.raises(SnncError) as info:
        call()
    return info.value.render()


def test_export_replaces_its_own_nir_file_but_not_a_foreign_one(program, tmp_path):
    out = tmp_path / "net.nir"
    export_nir(program, out)
    export_nir(program, out)  # snnc's own: replaced
    (tmp_path / "thesis.nir").write_bytes(b"my thesis, saved with the wrong name")
    message = refused(lambda: export_nir(program, tmp_path / "thesis.nir"))
    assert f"error[E505]: '{tmp_path / 'thesis.nir'}' exists and was not written by snnc" in message
    assert (tmp_path / "thesis.nir").read_bytes() == b"my thesis, saved with the wrong name"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary left


def test_a_nir_file_another_tool_wrote_is_not_replaced(program, tmp_path):
    import nir

    other = tmp_path / "other.nir"
    nir.write(other, nir.NIRGraph(nodes={"i": nir.Input(input_type={"input": np.array([1])}),
                                         "o": nir.Output(output_type={"output": np.array([1])})},
                                  edges=[("i", "o")], type_check=False))
    before = other.read_bytes()
    assert "was not written by snnc" in refused(lambda: export_nir(program, other))
    assert other.read_bytes() == before


def test_import_replaces_its_own_program_and_weights_but_not_foreign_files(program, tmp_path):
    export_nir(program, tmp_path / "net.nir")
    out = tmp_path / "net.snn"
    imported = import_nir(tmp_path / "net.nir", out)
    import_nir(tmp_path / "net.nir", out)  # snnc's own program and the weights it reads: replaced
    [weights] = imported.arrays
    assert snnc.check(out)[0].ir.name == imported.name
    (tmp_path / "mine.snn").write_text("network mine { }\n")
    message = refused(lambda: import_nir(tmp_path / "net.nir", tmp_path / "mine.snn"))
    assert "mine.snn' exists and was not written by snnc" in message
    assert (tmp_path / "mine.snn").read_text() == "network mine { }\n"
    # a .npy of the same name as a weight file, beside a program that does not read it: left alone
    (tmp_path / "fresh.snn").unlink(missing_ok=True)
    foreign = tmp_path / weights.replace("net.", "fresh.", 1)
    np.save(foreign, np.arange(3))
    message = refused(lambda: import_nir(tmp_path / "net.nir", tmp_path / "fresh.snn"))
    assert f"'{foreign}' exists and was not written by snnc" in message
    assert not (tmp_path / "fresh.snn").exists() and np.load(foreign).tolist() == [0, 1, 2]


def test_outputs_are_written_through_links_and_a_dangling_link_is_an_error(program, tmp_path):
    (tmp_path / "real").mkdir()
    export_nir(program, tmp_path / "real" / "net.nir")
    os.symlink(tmp_path / "real" / "net.nir", tmp_path / "link.nir")
    export_nir(program, tmp_path / "link.nir")
    assert (tmp_path / "link.nir").is_symlink()
    os.symlink(tmp_path / "nowhere.nir", tmp_path / "dangling.nir")
    assert "is a symbolic link to nothing" in refused(lambda: export_nir(program, tmp_path / "dangling.nir"))
    (tmp_path / "folder.nir").mkdir()
    assert "it is a directory" in refused(lambda: export_nir(program, tmp_path / "folder.nir"))


def test_the_command_line_refuses_before_converting(program, tmp_path, capsys):
    snnc.compile("net.snn", text=NET, out=tmp_path / "prog")
    (tmp_path / "notes.nir").write_text("notes")
    assert cli(["export", str(tmp_path / "prog"), "--nir", str(tmp_path / "notes.nir")]) == 1
    assert f"error[E505]: '{tmp_path / 'notes.nir'}' exists and was not written by snnc" in capsys.readouterr().err
    assert (tmp_path / "notes.nir").read_text() == "notes"


def test_import_options_are_finite_and_bounded():
    from snnc.interop.options import ImportOptions

    assert ImportOptions(dt=float("inf")).problem() == "dt must be a positive time in seconds, not inf"
    assert ImportOptions(steps=100_001).problem() == "steps must be from 1 to 100,000, not 100001"
    assert ImportOptions(steps=100_000, dt=1e-3).problem() is None
