"""`snnc train` and `snnc run`: outputs, checkpoints, resume, the CLI and its errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

import snnc
from snnc.cli import run as cli
from snnc.diagnostics import SnncError

QUICK = dict(train_samples=96, test_samples=48, epochs=3)
TIMING = ("train_seconds", "train_samples_per_second", "test_samples_per_second")


class Stop(Exception):
    pass


def rows_without_timing(metrics):
    return [{k: v for k, v in r.items() if k not in TIMING} for r in metrics["epochs"]]


def test_outputs_of_a_training_run(small_digits_file, tmp_path):
    result = snnc.train(small_digits_file, target="bss2", out=tmp_path / "out", **QUICK)
    files = {p.name for p in (tmp_path / "out").iterdir()}
    assert {"program.json", "weights.npz", "report.json", "metrics.json", "metrics.csv", "loss.png",
            "accuracy.png", "raster.png", "membrane.png", "checkpoint"} <= files
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert len(metrics["epochs"]) == 3 and metrics["test_accuracy"] == metrics["epochs"][-1]["test_accuracy"]
    assert (tmp_path / "out" / "metrics.csv").read_text().splitlines()[0].startswith("epoch,loss,train_accuracy")
    assert (tmp_path / "out" / "loss.png").read_bytes()[:4] == b"\x89PNG"
    trained = snnc.load(tmp_path / "out")
    for name, attrs in trained.ir.edge_attrs_by_name().items():  # re-legalized: hw weights follow the weights
        legal = attrs["legalization"]
        expected = np.clip(np.rint(attrs["weights"].astype(np.float64) * legal.scale), -63, 63)
        assert np.array_equal(legal.hw_weights, expected.astype(np.int16))
        assert np.array_equal(attrs["weights"], result.weights[name].numpy())
        error = np.sqrt(np.mean((legal.hw_weights / legal.scale - attrs["weights"]) ** 2))
        assert legal.quant_rmse == pytest.approx(error, rel=1e-4)
        assert attrs["report"]["quant_rmse"] == pytest.approx(error, rel=1e-4)  # the report describes them
    assert trained.ir.graph.graph["training"]["epochs"] == 3
    ran = snnc.run(tmp_path / "out", samples=48)
    assert ran.target == "bss2" and ran.samples == 48
    assert ran.accuracy == metrics["test_accuracy"]  # the training's test set, streams and chip: the same figure
    assert ran.accuracy == int((ran.predictions == ran.labels).sum()) / 48


def test_stopped_after_an_epoch_and_resumed_equals_uninterrupted(small_digits_file, tmp_path):
    whole = snnc.train(small_digits_file, target="bss2", chip_seed=2, out=tmp_path / "whole", **QUICK)

    def stop_after_first(row):
        if row["epoch"] == 1:
            raise Stop

    with pytest.raises(Stop):
        snnc.train(small_digits_file, target="bss2", chip_seed=2, out=tmp_path / "cut", on_epoch=stop_after_first,
                   **QUICK)
    assert json.loads((tmp_path / "cut" / "checkpoint" / "metrics.json").read_text())["epochs"][-1]["epoch"] == 1
    assert not (tmp_path / "cut" / "program.json").exists()  # the trained program comes at the end
    resumed = snnc.train(small_digits_file, target="bss2", chip_seed=2, out=tmp_path / "cut", resume=True, **QUICK)
    for name, w in whole.weights.items():
        assert torch.equal(w, resumed.weights[name])  # bit-exact
    assert rows_without_timing(resumed.metrics) == rows_without_timing(whole.metrics)


def test_killed_process_resumes_bit_exactly(small_digits_file, tmp_path):
    args = [str(small_digits_file), "--target", "bss2", "--train-samples", "96", "--test-samples", "48",
            "--epochs", "4", "--quiet", "--threads", "1"]
    whole = tmp_path / "whole"
    assert cli(["train", *args, "-o", str(whole)]) == 0
    cut = tmp_path / "cut"
    process = subprocess.Popen([sys.executable, "-m", "snnc", "train", *args, "-o", str(cut)])
    try:
        while process.poll() is None and not (cut / "checkpoint" / "state.json").exists():
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait()
    assert cli(["train", *args, "-o", str(cut), "--resume"]) == 0
    a, b = np.load(whole / "checkpoint" / "state.npz"), np.load(cut / "checkpoint" / "state.npz")
    assert sorted(a.files) == sorted(b.files)
    for key in a.files:
        assert np.array_equal(a[key], b[key]), key


def test_cli_train_and_run_json(small_digits_file, tmp_path, capsys):
    out = tmp_path / "trained"
    assert cli(["train", str(small_digits_file), "--epochs", "1", "--train-samples", "64", "--test-samples", "32",
                "--lr", "0.01", "--batch", "16", "--seed", "3", "-o", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["config"]["lr"] == 0.01 and report["config"]["batch"] == 16 and report["config"]["seed"] == 3
    assert report["config"]["spike_budget"] == [20.0, 1e-3]  # from the train block
    assert cli(["run", str(out), "--data", "digits", "--samples", "32", "--json"]) == 0
    ran = json.loads(capsys.readouterr().out)
    assert ran["samples"] == 32 and ran["target"] == "reference"
    assert cli(["run", str(out), "--data", "digits", "--samples", "32"]) == 0
    printed = capsys.readouterr().out  # the same run as text: its figures as the JSON gave them
    assert (f"32 samples: accuracy {100 * ran['accuracy']:.2f}%, {ran['spikes_per_sample']:.1f} spikes/sample, "
            in printed)


def test_quiet_training_prints_nothing(small_digits_file, tmp_path, capsys):
    assert cli(["train", str(small_digits_file), "--epochs", "1", "--train-samples", "32", "--test-samples", "16",
                "-o", str(tmp_path / "q"), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_reference_trained_program_deploys_to_bss2(small_digits_file, tmp_path):
    snnc.train(small_digits_file, out=tmp_path / "ref", train_samples=64, test_samples=32, epochs=1)
    deployed = snnc.run(tmp_path / "ref", target="bss2", chip_seed=1, samples=32)
    assert deployed.target == "bss2" and deployed.chip_seed == 1


def test_training_parses_the_source_once(small_digits_file, monkeypatch):
    from snnc.compiler import driver

    parsed = []
    parse = driver.parse
    monkeypatch.setattr(driver, "parse", lambda *args: parsed.append(args) or parse(*args))
    snnc.train(small_digits_file, target="bss2", epochs=1, train_samples=16, test_samples=8)
    assert len(parsed) == 1


def test_training_errors(small_digits_file, tmp_path, capsys):
    assert cli(["train", str(small_digits_file), "-o", str(tmp_path / "none"), "--resume"]) == 1
    assert "cannot resume: " in capsys.readouterr().err
    with pytest.raises(SnncError, match="--epochs must be an integer from 1 to 100,000, not 0"):
        snnc.train(small_digits_file, epochs=0)
    with pytest.raises(SnncError, match="--chip-seed must be an integer of at least 0, not -1"):
        snnc.train(small_digits_file, chip_seed=-1)
    with pytest.raises(SnncError, match="method 'pat' is not available on target 'reference'"):
        snnc.train(small_digits_file, method="pat", epochs=1, train_samples=8, test_samples=8)
    np.savez(tmp_path / "many.npz", x=np.zeros((100, 64)), y=np.arange(100) % 20)
    with pytest.raises(SnncError, match="has 20 classes but output 'out' has only 10 neurons"):
        snnc.train(small_digits_file, data=str(tmp_path / "many.npz"), epochs=1)
    snnc.train(small_digits_file, out=tmp_path / "a", epochs=1, train_samples=32, test_samples=16)
    with pytest.raises(SnncError, match="cannot resume from .*: lr differ"):
        snnc.train(small_digits_file, out=tmp_path / "a", epochs=2, lr=0.5, train_samples=32, test_samples=16,
                   resume=True)
    assert cli(["run", str(tmp_path / "nothing")]) == 1
    assert "is not a compiled program directory" in capsys.readouterr().err


SPIKING_EXAMPLES = [("feedforward_latency.snn", None), ("latency_digits.snn", None), ("rate_coded.snn", None),
                    ("deep_recurrent.snn", None), ("adex_adaptation.snn", None), ("two_networks.snn", "relay"),
                    ("two_networks.snn", "first_spike_classifier")]


@pytest.mark.parametrize("example, network", SPIKING_EXAMPLES)
def test_every_spiking_example_takes_training_steps(example, network):
    from tests.conftest import REPO

    result = snnc.train(REPO / "dsl_examples" / example, network=network, epochs=1, batch=8, train_samples=16,
                        test_samples=8)
    [row] = result.metrics["epochs"]
    assert np.isfinite(row["loss"]) and row["test_accuracy"] * 8 == round(row["test_accuracy"] * 8)  # k of 8
    initial = snnc.compile(REPO / "dsl_examples" / example, network=network)
    moved = [not np.array_equal(attrs["weights"], initial.ir.edge_attrs(key)["weights"])
             for key, attrs in result.program.ir.edge_attrs_by_name().items()]
    assert any(moved)  # the optimizer stepped


def test_a_network_with_two_outputs_cannot_run(tmp_path):
    """The emulators answer with one readout: a second `output` statement is E481 when it runs."""
    source = tmp_path / "two.snn"
    source.write_text("network two {\n    input x[4] : latency(t_max = 10 ms)\n"
                      "    pop y[3] : LIF(tau_mem = 5 ms, tau_syn = 5 ms)\n"
                      "    pop z[2] : LIF(tau_mem = 5 ms, tau_syn = 5 ms)\n"
                      "    proj x -> y : dense\n    proj x -> z : dense\n    output y : spike_count\n"
                      "    output z : spike_count\n}\n")
    program = snnc.compile(source)
    with pytest.raises(SnncError) as info:
        snnc.run(program, data=(np.zeros((2, 4), np.float32), np.zeros(2, np.int64)))
    assert "error[E481]: network 'two' has 2 outputs; running and training need exactly one `output` statement" \
        in info.value.render()
