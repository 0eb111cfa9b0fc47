"""The optical encodings against hand-computed levels and weights (issue 16): the offset encoding's sign
(t = (1 + w s) / 2, its offset sum_j x_j subtracted electronically), differential and one-sided channels."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from snnc.compiler.targets.onn import Optics, channels_per_weight, deployed_weights, quantize_transmissions
from snnc.runtime import seeds
from snnc.runtime.emulators.base import emulator_for
from snnc.runtime.emulators.onn import combine
from tests.runtime.conftest import compile_text
from tests.runtime.test_onn_emulator import READOUT


def test_offset_levels_put_positive_weights_above_half_transmission():
    levels = quantize_transmissions(np.array([[0.5, -0.5, 1.0, -1.0, 0.0, 3.0]]), 1.0, 6, "offset")
    # (1 + w) / 2 x 63: 47.25 -> 47, 15.75 -> 16, 63, 0, 31.5 -> 32 (half to even), clipped to 63
    assert levels.tolist() == [[[47, 16, 63, 0, 32, 63]]] and channels_per_weight("offset") == 1
    realized = deployed_weights(levels, 1.0, 6, "offset")[0]
    assert realized.tolist() == pytest.approx([2 * 47 / 63 - 1, 2 * 16 / 63 - 1, 1.0, -1.0, 2 * 32 / 63 - 1, 1.0])
    assert deployed_weights(quantize_transmissions(np.array([[0.25]]), 2.0, 6, "offset"), 2.0, 6,
                            "offset").ravel().tolist() == pytest.approx([(2 * 47 / 63 - 1) / 2])  # (1 + 0.5) / 2


def test_one_sided_and_differential_levels():
    w = np.array([[0.5, -0.25]])
    assert quantize_transmissions(w, 1.0, 6, "differential").tolist() == [[[32, 0]], [[0, 16]]]
    assert quantize_transmissions(np.abs(w), 2.0, 6, "positive").tolist() == [[[63, 32]]]
    assert quantize_transmissions(-np.abs(w), 1.0, 6, "negative").tolist() == [[[32, 16]]]
    assert deployed_weights(np.array([[[32, 0]], [[0, 16]]]), 1.0, 6, "differential")[0].tolist() == pytest.approx(
        [32 / 63, -16 / 63])
    assert deployed_weights(np.array([[[32, 16]]]), 1.0, 6, "negative")[0].tolist() == pytest.approx(
        [-32 / 63, -16 / 63])


def test_the_detectors_recover_the_signed_dot_product():
    x = torch.tensor([[1.0, 0.5]])
    t = torch.tensor([[0.75], [0.25]])  # offset transmissions of w = 0.5 and -0.5
    assert combine("offset", [x @ t], x)[0].tolist() == pytest.approx([0.25])  # 0.5 x 1 - 0.5 x 0.5
    pos, neg = torch.tensor([[0.5], [0.0]]), torch.tensor([[0.0], [0.5]])
    assert combine("differential", [x @ pos, x @ neg], x)[0].tolist() == pytest.approx([0.25])
    assert combine("negative", [x @ pos], x)[0].tolist() == pytest.approx([-0.5])
    assert combine("positive", [x @ pos], x)[0].tolist() == pytest.approx([0.5])


def test_a_device_s_transmission_errors_and_levels_in_the_emulator_s_dtype():
    program = compile_text(READOUT, target="onn")
    emulator = emulator_for(program, chip_seed=5, dtype=torch.float64)
    optics = Optics.from_spec(program.target.spec)
    levels = program.ir.edge_attrs("img->out")["transmissions"].levels
    # one normal draw per level from the device's own stream: chip seed 5, "transmissions", the projection
    expected = seeds.rng(5, "chip", "transmissions", "img->out").normal(0.0, optics.transmission_mismatch,
                                                                        levels.shape)
    pattern = emulator.fixed_pattern["img->out"]
    assert pattern.dtype == torch.float64 and np.array_equal(pattern.numpy(), expected)
    encoding = program.ir.edge_attrs("img->out")["transmissions"].encoding
    assert optics.transmission_mismatch > 0 and encoding == "differential" and pattern.shape == (2, 16, 5)
    w = emulator.initial_weights()["img->out"]
    deployed = emulator.deploy("img->out", w)
    assert deployed.transmission.dtype == torch.float64
    wanted = quantize_transmissions(w.numpy(), deployed.scale, optics.modulator_bits, encoding)
    assert np.array_equal(deployed.transmission.numpy(), wanted.astype(np.float32) / optics.levels)
