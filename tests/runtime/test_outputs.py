"""Honest outputs of training (issue 13, item 6): a trained directory's report shows the final accuracy
and links its plots; the optical picture shows each detector's clicks instead of a raster at t = 0."""

from __future__ import annotations

import json

import numpy as np

import snnc
from snnc.cli import run as cli
from snnc.compiler.ir.neurons import PhotonDetector
from snnc.runtime import plots
from snnc.runtime.data import load_data
from snnc.runtime.emulators.base import emulator_for
from snnc.runtime.evaluation import observe_aside
from tests.conftest import REPO


def test_a_trained_directory_reports_its_accuracy_and_links_its_plots(small_digits_file, tmp_path, capsys):
    out = tmp_path / "trained"
    snnc.train(small_digits_file, out=out, epochs=2, train_samples=64, test_samples=32, chip_seed=1)
    accuracy = json.loads((out / "metrics.json").read_text())["test_accuracy"]
    sentence = (f"Trained in the loop (surrogate, 2 epochs, data digits, chip seed 1, seed 0): final test accuracy "
                f"{100 * accuracy:.2f}% on 32 test samples.")
    markdown = (out / "report.md").read_text()
    assert f"## Training\n\n{sentence}\n\nPlots: [accuracy.png](accuracy.png), [loss.png](loss.png), " \
           "[membrane.png](membrane.png), [raster.png](raster.png)\n" in markdown
    html = (out / "report.html").read_text()
    assert f'<p id="training">{sentence}</p>' in html
    assert all(f'<a href="{name}"><img class="plot" src="{name}"' in html
               for name in ("accuracy.png", "loss.png", "membrane.png", "raster.png"))
    report = json.loads((out / "report.json").read_text())
    assert report["training"]["test_accuracy"] == accuracy and report["training"]["test_samples"] == 32
    assert cli(["report", str(out)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"  {sentence}"


def test_the_optical_picture_shows_each_detectors_clicks(tmp_path):
    out = tmp_path / "onn"
    snnc.train(REPO / "dsl_examples" / "onn_digits.snn", target="onn", out=out, epochs=1, train_samples=64,
               test_samples=16)
    files = {p.name for p in out.iterdir()}
    assert "clicks.png" in files and "raster.png" not in files  # no raster of everything at t = 0
    program = snnc.load(out)
    emulator = emulator_for(program)
    data = load_data("digits", program.ir.inputs()[0])
    _, observation = observe_aside(emulator, emulator.initial_weights(), data.x_test)
    panels = plots.layers_of(program.ir, observation.values)
    assert list(panels) == ["h", "out"]
    clicks, meaning = panels["h"]
    shots = program.ir.decl("h").model.shots
    assert isinstance(program.ir.decl("h").model, PhotonDetector) and meaning == "fraction of 1 shot that clicked"
    assert clicks.shape == (128,) and np.array_equal(clicks * shots, np.round(clicks * shots))  # whole clicks
    assert panels["out"][1] == "linear output" and panels["out"][0].shape == (10,)
    assert plots.clicks(panels, "out", int(data.y_test[0]), "t")[:4] == b"\x89PNG"
