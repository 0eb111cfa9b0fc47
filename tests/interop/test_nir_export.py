"""`snnc export DIR --nir OUT.nir`: what the graph holds, the round trip snnc -> NIR -> snnc, refusals."""

from __future__ import annotations

import nir
import numpy as np
import pytest

import snnc
from snnc.cli import run
from snnc.compiler.ir.synapses import as_dense
from snnc.diagnostics import SnncError
from snnc.interop.nir_export import export_nir
from snnc.interop.nir_import import import_nir
from snnc.interop.nir_neurons import propagator

MIXED = """network mixed {
    timestep 0.5 ms
    duration 20 ms
    input  pixels[8, 8] : latency(t_max = 15 ms)
    pop    hidden[20]   : LIF(tau_mem = 5 ms, tau_syn = 4 ms, v_th = 1.2, v_reset = -0.1)
    pop    fast[6]      : LIF(tau_mem = 3 ms, tau_syn = 0 ms, reset = subtract, v_leak = 0.1)
    pop    counter[5]   : IF(v_th = 2.0)
    pop    out[10]      : LI(tau_mem = 5 ms, tau_syn = 5 ms, arrival = same_step)
    pop    sum[3]       : integrator
    pop    one[1]       : always_on
    proj pixels -> hidden  : sparse(p = 0.5, init = normal(0.05, 0.2))
    proj hidden -> hidden  : dense(init = normal(0, 0.1)) delay 1 ms
    proj hidden -> fast    : dense(init = normal(0.1, 0.3))
    proj fast -> counter   : dense(init = normal(0.5, 0.3))
    proj counter -> sum    : dense(init = normal(0, 0.3))
    proj hidden -> out     : dense(init = normal(0, 0.2))
    proj one -> hidden     : dense(init = normal(0, 0.1))
    proj one -> out        : dense(init = normal(0, 0.1))
    output out : max_membrane
}
"""


def summary(program) -> dict:
    """A program as population and projection records, with names of bias sources made equal."""
    ir = program.ir
    bias = {p.name for p in ir.populations() if p.model.dsl_name == "always_on"}

    def name(n: str) -> str:
        return "BIAS" if n in bias else n

    weights = {(name(s), name(t)): as_dense(a["weights"])[0] for s, t, _, a in ir.edges()}  # NIR: dense
    header = ir.header
    return {"header": (header.timestep, header.duration, [(o.population, o.readout) for o in header.outputs]),
            "inputs": [(i.name, i.shape, i.encoder) for i in ir.inputs()],
            "populations": sorted((name(p.name), p.shape, p.model) for p in ir.populations()),
            "projections": sorted((name(p.source), name(p.target), p.delay, p.sign) for p in ir.projections()),
            "weights": weights}


def test_snnc_to_nir_to_snnc_gives_the_same_program(tmp_path):
    (tmp_path / "mixed.snn").write_text(MIXED)
    program = snnc.compile(tmp_path / "mixed.snn", out=tmp_path / "prog")
    exported = export_nir(tmp_path / "prog", tmp_path / "mixed.nir")
    assert sorted(d.code for d in exported.diagnostics) == ["W511", "W512", "W513"]
    imported = import_nir(tmp_path / "mixed.nir", tmp_path / "back.snn")
    assert imported.diagnostics == []
    back = snnc.compile(tmp_path / "back.snn")
    mine, theirs = summary(program), summary(back)
    assert {k: v for k, v in mine.items() if k != "weights"} == {k: v for k, v in theirs.items() if k != "weights"}
    assert mine["weights"].keys() == theirs["weights"].keys()
    for key, w in mine["weights"].items():
        np.testing.assert_array_equal(theirs["weights"][key], w, err_msg=str(key))


def test_the_graph_holds_the_readers_view(tmp_path):
    """Node types, the NIR weights ((post, pre), times k for a synaptic current), the bias on an Affine,
    the delay as a Delay node, dt and the encoder in the metadata; nir.read loads it."""
    (tmp_path / "mixed.snn").write_text(MIXED)
    program = snnc.compile(tmp_path / "mixed.snn")
    export_nir(program, tmp_path / "mixed.nir")
    g = nir.read(tmp_path / "mixed.nir")
    kinds = {name: type(node).__name__ for name, node in g.nodes.items()}
    assert kinds == {"pixels": "Input", "hidden": "CubaLIF", "fast": "LIF", "counter": "IF", "out": "CubaLI",
                     "sum": "I", "pixels_to_hidden": "Affine", "hidden_to_hidden": "Linear",
                     "hidden_to_hidden_delay": "Delay", "hidden_to_fast": "Linear", "fast_to_counter": "Linear",
                     "counter_to_sum": "Linear", "hidden_to_out": "Affine", "output": "Output",
                     "output_sum": "Output"}  # nir.read adds an Output to every leaf
    weights = {f"{s}->{t}": as_dense(a["weights"])[0].astype(np.float64) for s, t, _, a in program.ir.edges()}
    k = propagator(5e-3, 4e-3, 5e-4)
    np.testing.assert_allclose(g.nodes["pixels_to_hidden"].weight, weights["pixels->hidden"].T * k, rtol=1e-12)
    np.testing.assert_allclose(g.nodes["pixels_to_hidden"].bias, weights["one->hidden"][0] * k, rtol=1e-12)
    np.testing.assert_allclose(g.nodes["hidden_to_fast"].weight, weights["hidden->fast"].T, rtol=0)
    assert np.all(g.nodes["hidden_to_hidden_delay"].delay == pytest.approx(1e-3))
    fast = g.nodes["fast"]  # subtract: v_reset is what the threshold is subtracted towards, as snnTorch writes
    beta = np.exp(-0.5 / 3)
    np.testing.assert_allclose(fast.v_reset, 1.0 - beta * (1.0 - 0.0), rtol=1e-12)
    np.testing.assert_allclose(fast.tau, 5e-4 / (1 - beta), rtol=1e-12)
    assert g.metadata["snnc.timestep"] == 5e-4 and g.metadata["snnc.encoder"] == "latency(t_max = 0.015 s)"


# spikes in, current-based LIF that bss2 takes (also tests/interop/test_nir_source.py's network)
CHIP = """network chip {
    timestep 0.5 ms
    duration 20 ms
    input x[16] : spikes
    pop h[12] : LIF(tau_mem = 5 ms, tau_syn = 5 ms)
    pop o[4]  : LIF(tau_mem = 5 ms, tau_syn = 5 ms)
    proj x -> h : dense(init = normal(0.2, 0.3))
    proj h -> o : dense(init = normal(0, 0.5))
    output o : spike_count
}"""


def test_bss2_exports_the_hardware_weights_over_their_scale(tmp_path):
    (tmp_path / "chip.snn").write_text(CHIP)
    program = snnc.compile(tmp_path / "chip.snn", target="bss2")
    export_nir(program, tmp_path / "chip.nir")
    g = nir.read(tmp_path / "chip.nir")
    k = propagator(5e-3, 5e-3, 5e-4)
    for name, node in (("x->h", "x_to_h"), ("h->o", "h_to_o")):
        legal = program.ir.edge_attrs(name)["legalization"]
        assert np.abs(legal.hw_weights).max() > 10  # the weights use the 6-bit range
        np.testing.assert_allclose(g.nodes[node].weight, (legal.hw_weights / legal.scale).T * k, rtol=1e-6)


@pytest.mark.parametrize("change, code, message", [
    (("LIF(tau_mem = 5 ms, tau_syn = 4 ms, v_th = 1.2, v_reset = -0.1)",
      "AdEx(tau_mem = 5 ms, tau_syn = 4 ms, v_th = 1.2, v_reset = -0.1, v_exp = 1.0, delta_t = 0.1, a = 0, b = 0, "
      "tau_w = 50 ms)"), "E510", "population 'hidden' is AdEx"),
    (("IF(v_th = 2.0)", "IF(v_th = 2.0, refractory = 1 ms)"), "E510", "'counter' has a refractory period"),
    (("latency(t_max = 15 ms)", "current"), "E511", "input 'pixels' is current-coded"),
])
def test_what_nir_cannot_say_is_refused(tmp_path, change, code, message):
    (tmp_path / "net.snn").write_text(MIXED.replace(*change))
    program = snnc.compile(tmp_path / "net.snn")
    with pytest.raises(SnncError) as raised:
        export_nir(program, tmp_path / "net.nir")
    assert raised.value.diagnostics[0].code == code and message in raised.value.diagnostics[0].message
    assert not (tmp_path / "net.nir").exists()


def test_the_cli_round_trip(tmp_path, capsys):
    (tmp_path / "mixed.snn").write_text(MIXED)
    assert run(["compile", str(tmp_path / "mixed.snn"), "-o", str(tmp_path / "prog")]) == 0
    assert run(["export", str(tmp_path / "prog"), "--nir", str(tmp_path / "m.nir")]) == 0
    assert f"wrote {tmp_path / 'm.nir'} (NIR graph of 14 nodes" in capsys.readouterr().out
    assert run(["import", str(tmp_path / "m.nir"), "-o", str(tmp_path / "m.snn")]) == 0
    assert "and 8 weight files beside it" in capsys.readouterr().out
    assert run(["check", str(tmp_path / "m.snn")]) == 0
    assert run(["check", str(tmp_path / "m.nir"), "-t", "reference", "-q"]) == 0  # check takes a .nir too
    assert run(["-q", "compile", str(tmp_path / "m.nir"), "-o", str(tmp_path / "prog2")]) == 0
    assert run(["export", str(tmp_path / "prog2"), "-o", str(tmp_path / "again.nir"), "-q"]) == 0
    assert (tmp_path / "again.nir").is_file()
    assert snnc.load(tmp_path / "prog2").source["path"] == str(tmp_path / "m.nir")
    assert run(["export", str(tmp_path / "nothing"), "--nir", str(tmp_path / "x.nir")]) == 1
    assert run(["import", str(tmp_path / "m.nir"), "--dt", "0"]) == 2
    assert "dt must be a positive time" in capsys.readouterr().err


def test_an_optical_program_is_refused(tmp_path):
    from tests.conftest import REPO

    program = snnc.compile(REPO / "dsl_examples" / "onn_digits_pat.snn", target="onn")
    with pytest.raises(SnncError) as raised:
        export_nir(program, tmp_path / "onn.nir")
    [diagnostic] = raised.value.diagnostics
    assert diagnostic.code == "E510" and "photon_detector, which NIR has no node for" in diagnostic.message
