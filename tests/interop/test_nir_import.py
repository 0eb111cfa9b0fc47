"""`snnc import`: NIR graphs built here, imported, simulated by snnc and compared step by step with an
independent Euler reference of the exporters' reading (conftest.Euler); the text it writes; its errors."""

from __future__ import annotations

import math

import nir
import numpy as np
import pytest

import snnc
from snnc.diagnostics import SnncError
from snnc.interop.nir_import import import_nir
from snnc.interop.options import ImportOptions
from tests.interop.conftest import DT, Euler, graph, run_snnc, spike_trains, write

RNG = np.random.default_rng(7)


def ones(n: int, value: float = 1.0) -> np.ndarray:
    return np.full(n, value)


def affine(n_out: int, n_in: int, scale: float, bias: bool = True):
    w = RNG.normal(0.2, scale, (n_out, n_in))
    return nir.Affine(weight=w, bias=RNG.normal(0, 0.05, n_out)) if bias else nir.Linear(weight=w)


def chain(first, second, n_in: int = 12, n_hidden: int = 9, n_out: int = 4, **metadata):
    """Input -> Affine -> first -> Linear -> second -> Output."""
    return graph({"input": nir.Input(input_type={"input": np.array([n_in])}), "fc1": affine(n_hidden, n_in, 0.6),
                  "a": first, "fc2": affine(n_out, n_hidden, 0.8, bias=False), "b": second,
                  "output": nir.Output(output_type={"output": np.array([n_out])})},
                 [("input", "fc1"), ("fc1", "a"), ("a", "fc2"), ("fc2", "b"), ("b", "output")], **metadata)


def reference(g: nir.NIRGraph, x: np.ndarray, reset: str = "to_v_reset"):
    """Spikes and membranes of `chain` graphs under the Euler reading."""
    fc1, fc2 = g.nodes["fc1"], g.nodes["fc2"]
    a, b = Euler(g.nodes["a"], len(x), reset=reset), Euler(g.nodes["b"], len(x), reset=reset)
    out_a, out_b, mem_b = [], [], []
    for t in range(x.shape[1]):
        za, _ = a.step(x[:, t] @ fc1.weight.T + fc1.bias)
        zb, vb = b.step(za @ fc2.weight.T)
        out_a.append(za)
        out_b.append(zb)
        mem_b.append(vb)
    return np.stack(out_a), np.stack(out_b), np.stack(mem_b)


def lif(n, tau=1e-3, r=None, v_th=1.0, v_leak=0.0, v_reset=0.0):
    return nir.LIF(tau=ones(n, tau), r=ones(n, tau / DT) if r is None else ones(n, r), v_leak=ones(n, v_leak),
                   v_threshold=np.broadcast_to(v_th, (n,)).astype(float), v_reset=ones(n, v_reset))


def cuba_lif(n, tau_syn=5e-4, tau_mem=1e-3, r=2.0, w_in=3.0, v_th=1.0, v_leak=0.0, v_reset=0.0):
    return nir.CubaLIF(tau_syn=ones(n, tau_syn), tau_mem=ones(n, tau_mem), r=ones(n, r), v_leak=ones(n, v_leak),
                       v_threshold=ones(n, v_th), v_reset=ones(n, v_reset), w_in=ones(n, w_in))


CASES = {
    "LIF -> LI": (lif(9, v_leak=0.1, v_reset=-0.2), nir.LI(tau=ones(4, 2e-3), r=ones(4, 3.0), v_leak=ones(4, 0.05))),
    "per-neuron thresholds": (lif(9, v_th=np.linspace(0.6, 1.4, 9)), lif(4, tau=5e-4, r=4.0)),
    "CubaLIF -> CubaLI": (cuba_lif(9), nir.CubaLI(tau_syn=ones(4, 4e-4), tau_mem=ones(4, 8e-4), r=ones(4, 5.0),
                                                  v_leak=ones(4), w_in=ones(4, 2.0))),
    "synapse of one step": (cuba_lif(9, tau_syn=DT, r=10.0, w_in=1.0), lif(4)),
    "IF -> Integrator": (nir.IF(r=ones(9, 0.5), v_threshold=ones(9, 1.0), v_reset=ones(9, -0.1)),
                         nir.I(r=ones(4, 0.25))),
}


@pytest.mark.parametrize("case", CASES)
def test_snnc_runs_an_imported_graph_as_the_exporters_euler_steps(case, tmp_path):
    first, second = CASES[case]
    g = chain(first, second)
    x = spike_trains(6, 40, 12)
    observation, program = run_snnc(write(tmp_path, g), x, reset="to_v_reset")
    spikes_a, out_b, membrane_b = reference(g, x)
    assert spikes_a.sum() > 20  # the hidden layer is active: the comparison means something
    np.testing.assert_array_equal(observation.spikes["a"].numpy(), spikes_a)
    if hasattr(second, "v_threshold"):
        np.testing.assert_array_equal(observation.spikes["b"].numpy(), out_b)
    if "per-neuron" not in case:  # there snnc keeps each membrane in its own threshold unit
        np.testing.assert_allclose(observation.membrane["b"].numpy(), membrane_b, rtol=1e-5, atol=1e-6)


def test_snntorch_subtract_reset_is_exact_in_spikes(tmp_path):
    g = chain(lif(9, tau=2e-3), cuba_lif(4, r=10.0, w_in=5.0))
    x = spike_trains(6, 40, 12, p=0.5)
    observation, _ = run_snnc(write(tmp_path, g), x, reset="subtract")
    spikes_a, spikes_b, _ = reference(g, x, reset="subtract")
    assert spikes_a.sum() > 50
    np.testing.assert_array_equal(observation.spikes["a"].numpy(), spikes_a)
    np.testing.assert_array_equal(observation.spikes["b"].numpy(), spikes_b)


def test_a_nested_recurrent_subgraph_becomes_a_recurrent_projection(tmp_path):
    """snnTorch's RLeaky: a subgraph with Input -> LIF <-> w_rec, LIF -> Output; a spike acts on the
    membrane in the next step (U_t = beta U_{t-1} + x_t + W_rec s_{t-1} + b_rec)."""
    n = 8
    w_rec = nir.Affine(weight=RNG.normal(0, 0.4, (n, n)), bias=RNG.normal(0, 0.05, n))
    sub = graph({"input": nir.Input(input_type={"input": np.array([n])}), "lif": lif(n),
                 "w_rec": w_rec, "output": nir.Output(output_type={"output": np.array([n])})},
                [("input", "lif"), ("lif", "w_rec"), ("w_rec", "lif"), ("lif", "output")])
    g = graph({"input": nir.Input(input_type={"input": np.array([12])}), "fc1": affine(n, 12, 0.6), "rnn": sub,
               "output": nir.Output(output_type={"output": np.array([n])})},
              [("input", "fc1"), ("fc1", "rnn"), ("rnn", "output")])
    x = spike_trains(5, 50, 12)
    observation, program = run_snnc(write(tmp_path, g), x, reset="to_v_reset")
    assert {p.name for p in program.ir.projections()} >= {"input->rnn_lif", "rnn_lif->rnn_lif"}
    fc1, cell, z = g.nodes["fc1"], Euler(sub.nodes["lif"], 5), np.zeros((5, n))
    expected = []
    for t in range(50):
        z, _ = cell.step(x[:, t] @ fc1.weight.T + fc1.bias + z @ w_rec.weight.T + w_rec.bias)
        expected.append(z)
    assert np.sum(expected) > 20
    np.testing.assert_array_equal(observation.spikes["rnn_lif"].numpy(), np.stack(expected))


def test_flatten_scale_and_delay_nodes(tmp_path):
    """Input (3, 4) -> Flatten -> Linear -> Scale -> Delay(3 dt) -> LIF: the input is delayed by 3 steps."""
    w, s = RNG.normal(0.3, 0.5, (5, 12)), RNG.uniform(0.5, 2.0, 5)
    g = graph({"input": nir.Input(input_type={"input": np.array([3, 4])}),
               "flat": nir.Flatten(input_type={"input": np.array([3, 4])}, start_dim=0),
               "w": nir.Linear(weight=w), "s": nir.Scale(scale=s), "d": nir.Delay(delay=ones(5, 3 * DT)),
               "a": lif(5), "output": nir.Output(output_type={"output": np.array([5])})},
              [("input", "flat"), ("flat", "w"), ("w", "s"), ("s", "d"), ("d", "a"), ("a", "output")])
    x = spike_trains(4, 30, 12, p=0.4)
    observation, program = run_snnc(write(tmp_path, g), x, reset="to_v_reset")
    [projection] = program.ir.projections()
    assert projection.delay == pytest.approx(3 * DT)
    cell, expected = Euler(g.nodes["a"], 4), []
    for t in range(30):
        drive = x[:, t - 3] @ (w.T * s) if t >= 3 else np.zeros((4, 5))
        expected.append(cell.step(drive)[0])
    assert np.sum(expected) > 10
    np.testing.assert_array_equal(observation.spikes["a"].numpy(), np.stack(expected))


def test_the_program_text_states_the_mapping_exactly(tmp_path):
    """tau = 1 ms at dt = 0.1 ms: beta = 0.9, tau_mem = -dt / ln 0.9; r dt / tau = 2 scales the weights."""
    g = chain(lif(9, r=20.0), nir.LI(tau=ones(4, 1e-3), r=ones(4, 10.0), v_leak=ones(4, 0.0)))
    path = write(tmp_path, g)
    imported = import_nir(path, tmp_path / "net.snn", ImportOptions(steps=25, reset="to_v_reset"))
    text = (tmp_path / "net.snn").read_text()
    assert f"pop a[9] : LIF(tau_mem = {-DT / math.log(1 - DT / 1e-3)!r} s, tau_syn = 0.0 s)" in text
    assert "timestep 0.0001 s" in text and "duration 0.0025 s" in text
    assert 'proj input -> a : from_file("net.input.a.npy")' in text and "output b : max_membrane" in text
    assert "pop bias[1] : always_on" in text and 'proj bias -> a : from_file("net.bias.a.npy")' in text
    w = np.load(tmp_path / "net.input.a.npy")
    np.testing.assert_allclose(w, (g.nodes["fc1"].weight * 2.0).T.astype(np.float32), rtol=1e-6)
    np.testing.assert_allclose(np.load(tmp_path / "net.bias.a.npy")[0], g.nodes["fc1"].bias * 2.0, rtol=1e-6)
    assert imported.diagnostics == [] and snnc.check(tmp_path / "net.snn")[0].ir.name == "net"


def test_readouts_and_the_snntorch_reset_default(tmp_path):
    path = write(tmp_path, chain(lif(9), lif(4)))
    imported = import_nir(path, tmp_path / "a.snn")  # written the way snnTorch writes: subtract, with a warning
    assert "reset = subtract" in imported.text and "output b : spike_count" in imported.text
    assert [d.code for d in imported.diagnostics] == ["W501"]
    imported = import_nir(path, tmp_path / "b.snn", ImportOptions(reset="to_v_reset", readout="max_membrane"))
    assert "reset = subtract" not in imported.text and "output b : max_membrane" in imported.text
    assert imported.diagnostics == []


@pytest.mark.parametrize("change, code, message", [
    (lambda g: g.nodes.update(a=nir.Conv2d(input_shape=(3, 3), weight=np.ones((1, 1, 2, 2)), stride=1, padding=0,
                                          dilation=1, groups=1, bias=np.zeros(1))),
     "E501", "node 'a' (Conv2d) has no equivalent in snnc"),
    (lambda g: g.nodes.update(a=lif(9, tau=np.linspace(1e-3, 2e-3, 9))), "E502", "has tau from 0.001 to 0.002"),
    (lambda g: g.nodes.update(a=lif(9, tau=DT)), "E502", "not longer than the time step"),
    (lambda g: g.edges.remove(("b", "output")) or g.edges.append(("fc2", "output")), "E503",
     "the Output node 'output' is fed by node 'fc2' (Linear)"),
    (lambda g: g.nodes.update(fc2=nir.Linear(weight=np.ones((4, 5)))), "E503", "expects 5 values but 9 arrive"),
])
def test_what_snnc_cannot_take_is_an_error_naming_the_node(tmp_path, change, code, message):
    g = chain(lif(9), lif(4))
    change(g)
    with pytest.raises(SnncError) as raised:
        import_nir(write(tmp_path, g), tmp_path / "x.snn")
    [diagnostic] = raised.value.diagnostics
    assert diagnostic.code == code and message in diagnostic.message and "model.nir" in diagnostic.message
    assert not (tmp_path / "x.snn").exists()


def test_unreadable_files(tmp_path):
    with pytest.raises(SnncError, match="does not exist"):
        import_nir(tmp_path / "none.nir")
    (tmp_path / "junk.nir").write_bytes(b"not hdf5")
    with pytest.raises(SnncError, match="cannot read .* as a NIR graph"):
        import_nir(tmp_path / "junk.nir")
