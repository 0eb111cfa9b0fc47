"""Every shipped example learns: a couple of epochs on a subset of its data set reach an accuracy well
above chance, and no spiking population is silent, neither at the start (no W450) nor after training."""

from __future__ import annotations

import pytest
import torch

import snnc
from snnc.runtime.data import load_data
from snnc.runtime.emulators.base import emulator_for
from snnc.runtime.silence import silent_populations
from tests.conftest import REPO

# (file, network, target, epochs, least test accuracy): chance is 10%; the optical examples train fast but
# their single-photon detectors are noisy by design (onn_digits: ~2.6 photons per detector and inference),
# so they get more epochs and a lower bar.
EXAMPLES = [
    ("adex_adaptation.snn", None, "reference", 2, 0.35),
    ("deep_recurrent.snn", None, "reference", 2, 0.35),
    ("feedforward_latency.snn", None, "reference", 6, 0.35),
    ("latency_digits.snn", None, "reference", 2, 0.35),
    ("latency_digits_ff.snn", None, "reference", 2, 0.35),
    ("latency_digits_small.snn", None, "reference", 3, 0.35),
    ("onn_digits.snn", None, "onn", 20, 0.2),
    ("onn_digits_pat.snn", None, "onn", 10, 0.35),
    ("rate_coded.snn", None, "reference", 2, 0.35),
    ("sequential_digits.snn", None, "reference", 3, 0.35),
    ("st_rsbp_digits.snn", None, "reference", 2, 0.35),
    ("two_networks.snn", "relay", "reference", 2, 0.35),
    ("two_networks.snn", "first_spike_classifier", "reference", 2, 0.35),
]


def test_the_list_covers_every_example():
    networks = {(path.name, r.ir.name) for path in REPO.glob("dsl_examples/*.snn") for r in snnc.check(path)}
    listed = {(f, n or snnc.check(REPO / "dsl_examples" / f)[0].ir.name) for f, n, *_ in EXAMPLES}
    assert networks == listed


@pytest.mark.slow
@pytest.mark.parametrize("example, network, target, epochs, least", EXAMPLES)
def test_every_example_learns(example, network, target, epochs, least):
    path = REPO / "dsl_examples" / example
    result = snnc.train(path, network=network, target=target, epochs=epochs, train_samples=640, test_samples=240,
                        seed=0)
    assert result.diagnostics == []  # no population silent at the start (W450)
    assert result.metrics["test_accuracy"] >= least
    assert result.metrics["spikes_per_sample"] > 0
    emulator = emulator_for(result.program)
    x = load_data(result.metrics["config"]["data"], result.program.ir.inputs()[0], path.parent).x_test[:64]
    assert silent_populations(emulator, {k: torch.as_tensor(v) for k, v in result.weights.items()}, x) == []
