"""legalize_transmissions and check_photon_budget: weights as quantized transmissions, the encoding of
signed layers, the quantization error in the report, and the photon budget."""

from __future__ import annotations

import numpy as np
import pytest

import snnc
from snnc.compiler.targets.onn import deployed_weights, quantize_transmissions
from snnc.diagnostics import SnncError
from tests.compiler.test_onn_target import variant

NET = """\
network n {{
    input  img[{inputs}] : intensity(photons = 1000)
    pop    h[{hidden}]   : photon_detector(photons_per_mac = {ppm})
    pop    out[10]  : linear
    proj img -> h : dense(init = uniform(0, {hi})) {sign}
    proj h -> out : dense(init = normal(0, 0.1))
    output out : value
}}
"""


def net(inputs=64, hidden=32, ppm=0.1, hi=0.5, sign="positive") -> str:
    return NET.format(inputs=inputs, hidden=hidden, ppm=ppm, hi=hi, sign=sign)


def compile_onn(text: str, target: str = "onn"):
    return snnc.compile("net.snn", text=text, target=target)


def compile_error(text: str, target: str = "onn") -> str:
    with pytest.raises(SnncError) as info:
        compile_onn(text, target)
    return info.value.render()


@pytest.mark.parametrize("encoding", ["positive", "negative", "differential", "offset"])
def test_quantization_round_trips_within_half_a_level(encoding):
    rng = np.random.default_rng(0)
    w = rng.uniform(-1.0, 1.0, (20, 7)).astype(np.float32)
    if encoding == "positive":
        w = np.abs(w)
    elif encoding == "negative":
        w = -np.abs(w)
    scale, bits = 0.8, 6
    levels = quantize_transmissions(w, scale, bits, encoding)
    assert levels.dtype == np.uint16 and levels.max() <= 63
    assert levels.shape == ((2,) if encoding == "differential" else (1,)) + w.shape
    step = (2.0 if encoding == "offset" else 1.0) / 63 / scale  # an offset weight spans half the levels
    assert np.abs(deployed_weights(levels, scale, bits, encoding) - w).max() <= step / 2 + 1e-6


def test_weights_into_photon_detectors_are_transmissions_with_scale_one():
    program = compile_onn(net())
    attrs = program.ir.edge_attrs("img->h")
    legal = attrs["transmissions"]
    assert legal.encoding == "positive" and legal.scale == 1.0
    np.testing.assert_allclose(legal.levels[0] / 255.0, attrs["weights"], atol=0.5 / 255 + 1e-7)
    report = attrs["report"]
    assert 0.0 < report["quant_rmse"] <= report["quant_max"] <= 0.5 / 255 + 1e-7
    assert (legal.quant_rmse, legal.quant_max) == (report["quant_rmse"], report["quant_max"])


def test_signed_layer_is_differential_when_it_fits_else_offset():
    small = compile_onn(net())
    assert small.ir.edge_attrs("h->out")["report"]["encoding"] == "differential"
    # 64 x 240 single-channel weights leave 1,024 channels: 240 x 10 x 2 differential ones do not fit
    large = compile_onn(net(hidden=240))
    attrs = large.ir.edge_attrs("h->out")
    assert attrs["transmissions"].encoding == "offset" and attrs["transmissions"].levels.shape == (1, 240, 10)
    # an offset weight has half the levels of a differential one: the quantization error doubles
    assert attrs["report"]["quant_max"] > small.ir.edge_attrs("h->out")["report"]["quant_max"]


def test_a_user_target_may_force_the_signed_scheme(tmp_path):
    path = variant(tmp_path, lambda s: s["resources"].update(signed_weights="offset"))
    assert compile_onn(net(), path).ir.edge_attrs("h->out")["transmissions"].encoding == "offset"


def test_signed_light_into_photon_detectors_is_an_error():
    text = compile_error(net(sign=""))
    assert "net.snn:5:5: error[E601]: 'img->h' feeds photon detectors, so its weights are light intensities and " \
           "cannot be negative; mark the projection `positive`" in text


def test_transmissions_above_one_are_clipped_with_a_warning():
    program = compile_onn(net(hi=1.5))
    [warning] = [d for d in program.diagnostics if d["code"] == "W601"]
    assert "a transmission is at most 1, so they are clipped to 1" in warning["message"]
    assert program.ir.edge_attrs("img->h")["transmissions"].levels.max() == 255


def test_the_photon_budget_of_the_input_is_checked():
    # 64 inputs x 32 detectors at 40 photons per MAC: each pixel lights 32 pixels, needs 1,280 > 1,000 at
    # full transmission (the least: dimmer transmissions need a brighter source)
    text = compile_error(net(ppm=40))
    assert "net.snn:2:5: error[E602]: input 'img' emits up to 1,000 photons per pixel and sample (intensity " \
           "photons), but the layers it lights need 1,280 per pixel (photons per MAC x fan-out) at full " \
           "transmission" in text
    # at the limit it compiles; the budget is per inference, so exposures do not multiply it
    exact = net(ppm=1000 / 32).replace("photons_per_mac = 31.25", "photons_per_mac = 31.25, shots = 8")
    report = compile_onn(exact).ir.edge_attrs("img->h")["report"]
    assert report["photons_at_full_transmission"] == pytest.approx(31.25 * 64 * 32)
    assert "need 1,000.03 per pixel" in compile_error(net(ppm=1000.03 / 32))


def test_the_optical_power_of_the_source_is_a_named_resource(tmp_path):
    path = variant(tmp_path, lambda s: s["resources"].update(optical_power=100.0))
    text = compile_error(net(), path)
    assert "(resource 'optical_power') is 100" in text
    resources = compile_onn(net()).ir.graph.graph["resources"]
    # 0.1 x 64 x 32 (detector layer) + 100 x 32 x 10 x 2 (differential linear layer) photons at most
    assert resources["optical_power"]["used"] == pytest.approx(0.1 * 64 * 32 + 100 * 32 * 10 * 2)
