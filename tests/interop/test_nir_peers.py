"""snnc and its peers through NIR files: snnTorch (the dev extra installs it) and Norse (`make install`
adds it with --no-deps); each test skips only where its peer cannot be imported."""

from __future__ import annotations

import importlib.util
import logging

import nir
import numpy as np
import pytest
import torch

import snnc
from snnc.cli import run
from snnc.interop.nir_export import export_nir
from snnc.runtime.emulators.base import emulator_for
from snnc.runtime.encoders import encode
from tests.conftest import REPO
from tests.interop.conftest import graph, run_snnc, spike_trains, write


def agreement_module():
    spec = importlib.util.spec_from_file_location("nir_agreement", REPO / "benchmarks" / "nir_agreement.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def snntorch_available():
    pytest.importorskip("snntorch")
    pytest.importorskip("nirtorch")
    return agreement_module()


@pytest.mark.parametrize("kind", ["ff", "rnn"])
def test_snnc_runs_snntorch_exports_spike_for_spike(snntorch_available, kind, tmp_path):
    """An untrained Leaky / RLeaky net (snnTorch's default subtracting reset), 12 rate-coded digits."""
    bench = snntorch_available
    data = bench.spike_data(steps=20)
    net = bench.build(kind, hidden=32, seed=3)
    x = data["x_test"][:12]
    with torch.no_grad():
        theirs = bench.snntorch_counts(net, torch.as_tensor(x))
    bench.export(net, tmp_path / "net.nir")
    ours, text = bench.snnc_counts(tmp_path / "net.nir", x)
    assert theirs.sum() > 50 and "reset = subtract" in text
    assert torch.equal(ours, theirs)


@pytest.mark.slow
def test_trained_snntorch_networks_agree_with_snnc(snntorch_available):
    """The figure of docs/interop.md: trained ff and recurrent nets, all 359 test digits."""
    rows = snntorch_available.main(["--epochs", "8", "--steps", "25"])
    for row in rows:
        assert row["same_prediction"] >= 0.9, row
        assert abs(row["snnc_accuracy"] - row["snntorch_accuracy"]) <= 0.02, row
        assert row["snntorch_accuracy"] > 0.85, row  # trained: the agreement is about a working network


PEER_NETS = {
    "ff": "",
    "syn": "",
    "rec": "proj h -> h : dense(init = normal(0, 0.3))",
}


def snnc_program(kind: str, tmp_path):
    hidden = ("LIF(tau_mem = 1 ms, tau_syn = 0.5 ms, arrival = same_step)" if kind == "syn"
              else "LIF(tau_mem = 1 ms, tau_syn = 0 ms)")
    text = f"""network {kind} {{
        timestep 0.1 ms
        duration 4 ms
        input x[20] : spikes
        pop h[16] : {hidden}
        pop o[6]  : LIF(tau_mem = 0.5 ms, tau_syn = 0 ms)
        pop one[1] : always_on
        proj x -> h : dense(init = normal(0.15, 0.5))
        proj h -> o : dense(init = normal(0.15, 0.5))
        proj one -> h : dense(init = normal(0, 0.1))
        {PEER_NETS[kind]}
        output o : spike_count
    }}"""
    (tmp_path / f"{kind}.snn").write_text(text)
    program = snnc.compile(tmp_path / f"{kind}.snn")
    export_nir(program, tmp_path / f"{kind}.nir")
    x = torch.as_tensor(spike_trains(6, 40, 20), dtype=torch.float32)
    emulator = emulator_for(program)
    return emulator.observe(encode(program.ir, x), emulator.initial_weights()).spikes["o"], x


def step_through(module, x: torch.Tensor) -> torch.Tensor:
    """Output of a nirtorch module over time: x (B, T, C) -> (T, B, N)."""
    out, state = [], None
    with torch.no_grad():
        for t in range(x.shape[1]):
            o, state = module(x[:, t].float(), state) if state is not None else module(x[:, t].float())
            out.append(o)
    return torch.stack(out)


@pytest.mark.parametrize("kind", PEER_NETS)
def test_snntorch_imports_what_snnc_exports(snntorch_available, kind, tmp_path):
    """Feed-forward graphs run spike for spike in snnTorch. A recurrent one is accepted, but nirtorch runs
    the loop its own way: snnTorch's own RLeaky export does not survive its import either (docs/interop.md)."""
    from snntorch.import_nir import import_from_nir

    ours, x = snnc_program(kind, tmp_path)
    module = import_from_nir(nir.read(tmp_path / f"{kind}.nir"))
    theirs = step_through(module, x)
    assert theirs.shape == ours.shape
    if kind != "rec":
        assert ours.sum() > 20 and torch.equal(theirs, ours)


@pytest.fixture()
def norse():
    logging.getLogger().setLevel(logging.ERROR)  # Norse logs a warning per node it reads with r != 1
    return pytest.importorskip("norse.torch")


def test_norse_imports_what_snnc_exports(norse, tmp_path):
    ours, x = snnc_program("syn", tmp_path)
    module = norse.from_nir(nir.read(tmp_path / "syn.nir"), dt=1e-4)
    assert step_through(module, x).shape == ours.shape


def test_snnc_reads_a_norse_graph_as_norse_runs_it(norse, tmp_path):
    """Norse writes LIF nodes with tau in seconds and r = 1 and steps them with its dt (1 ms here): snnc
    imported with --dt 1e-3 gives Norse's own spikes."""
    rng = np.random.default_rng(2)
    n = 10
    lif = nir.LIF(tau=np.full(n, 5e-3), r=np.ones(n), v_leak=np.zeros(n), v_threshold=np.ones(n),
                  v_reset=np.zeros(n))
    g = graph({"input": nir.Input(input_type={"input": np.array([20])}),
               "fc": nir.Affine(weight=rng.normal(2.0, 4.0, (n, 20)), bias=rng.normal(0, 1.0, n)), "lif": lif,
               "output": nir.Output(output_type={"output": np.array([n])})},
              [("input", "fc"), ("fc", "lif"), ("lif", "output")])
    path = write(tmp_path, g)
    x = spike_trains(5, 60, 20)
    observation, _ = run_snnc(path, x, dt=1e-3, reset="to_v_reset")
    theirs = step_through(norse.from_nir(nir.read(path), dt=1e-3), torch.as_tensor(x))
    assert theirs.sum() > 20 and torch.equal(theirs.double(), observation.spikes["lif"])


def test_run_and_train_take_a_nir_file_and_spike_data(snntorch_available, tmp_path, capsys):
    bench = snntorch_available
    data = bench.spike_data(steps=15)
    np.savez(tmp_path / "spikes.npz", **{k: v[:64] for k, v in data.items()})
    bench.export(bench.build("ff", hidden=16, seed=1), tmp_path / "net.nir")
    assert run(["run", str(tmp_path / "net.nir"), "--data", str(tmp_path / "spikes.npz"), "--json"]) == 0
    assert '"samples": 64' in capsys.readouterr().out  # 15 steps: taken from the data
    assert run(["-q", "train", str(tmp_path / "net.nir"), "--data", str(tmp_path / "spikes.npz"), "--epochs", "1",
                "-o", str(tmp_path / "trained")]) == 0
    trained = snnc.load(tmp_path / "trained")
    assert trained.ir.header.steps == 15 and trained.ir.graph.graph["training"]["epochs"] == 1
