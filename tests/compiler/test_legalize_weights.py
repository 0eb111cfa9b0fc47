"""bss2 weight legalization: quantize_weights (pure, also used to re-deploy trained weights), the scale,
the recorded quantization error, and the sign split it relies on."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import snnc
from snnc.compiler.targets.bss2 import choose_scale, quantization_error, quantize_weights
from tests.conftest import network

LIF = "LIF(tau_mem = 6 ms, tau_syn = 6 ms, refractory = 1 ms)"


def test_quantize_rounds_clips_and_keeps_the_sign():
    weights = np.array([[0.0, 0.26, -0.26], [1.0, -2.0, 0.49]], np.float32)
    assert quantize_weights(weights, 63.0, 6, "signed").tolist() == [[0, 16, -16], [63, -63, 31]]
    assert quantize_weights(weights, 63.0, 6, "positive").tolist() == [[0, 16, 0], [63, 0, 31]]
    assert quantize_weights(weights, 63.0, 6, "negative").tolist() == [[0, 0, -16], [0, -63, 0]]
    assert quantize_weights(weights, 63.0, 6, "signed").dtype == np.int16
    assert quantize_weights(weights, 7.0, 3, "signed").tolist() == [[0, 2, -2], [7, -7, 3]]


@settings(max_examples=40, deadline=None)
@given(weights=arrays(np.float32, st.tuples(st.integers(1, 6), st.integers(1, 6)),
                      elements=st.floats(-4, 4, width=32)),
       bits=st.integers(1, 8), sign=st.sampled_from(["signed", "positive", "negative"]))
def test_quantized_weights_are_in_range_and_redeploying_is_stable(weights, bits, sign):
    scale = choose_scale(weights, bits)
    hw = quantize_weights(weights, scale, bits, sign)
    assert hw.dtype == np.int16 and np.abs(hw).max() <= (1 << bits) - 1
    assert (sign != "positive" or (hw >= 0).all()) and (sign != "negative" or (hw <= 0).all())
    # The deployed weights hw / scale quantize back to the same integers (re-legalization is stable).
    assert np.array_equal(quantize_weights(hw / scale, scale, bits, sign), hw)
    if sign == "signed":  # nothing clips: the error is at most half a step
        rmse, largest = quantization_error(weights, hw, scale)
        assert largest <= 0.5 / scale + 1e-6 and rmse <= largest


def test_scale_maps_the_largest_existing_weight_onto_the_largest_hardware_weight():
    weights = np.array([[0.5, -2.0], [0.25, 0.0]], np.float32)
    assert choose_scale(weights, 6) == pytest.approx(63 / 2.0)
    assert choose_scale(np.array([0.5, 0.25], np.float32), 6) == pytest.approx(63 / 0.5)  # a sparse one's synapses
    assert choose_scale(np.zeros((2, 2), np.float32), 6) == 63.0
    assert choose_scale(np.zeros(0, np.float32), 6) == 63.0  # a sparse projection without synapses


def test_the_pass_records_scale_hw_weights_and_error_per_projection():
    program = snnc.compile("net.snn", target="bss2", text=network(f"""
    input x[20] : latency(t_max = 10 ms)
    pop y[8] : {LIF}
    pop z[8] : {LIF}
    proj x -> y : sparse(p = 0.5, init = normal(0, 0.3))
    proj y -> z : dense(init = constant(0.2)) negative
    output z : spike_count"""))
    xy, yz = program.ir.edge_attrs("x->y"), program.ir.edge_attrs("y->z")
    assert xy["sign_split"].row_signs == ("exc", "inh") and xy["sign_split"].rows_per_source == 2
    assert yz["sign_split"].row_signs == ("inh",) and yz["sign_split"].rows_per_source == 1
    legal, legal_yz = xy["legalization"], yz["legalization"]
    synapses = xy["weights"]  # sparse: hw_weights is one per synapse, aligned with them
    assert legal.hw_weights.shape == (synapses.nnz,) and 0 < synapses.nnz < 160
    assert np.array_equal(legal.hw_weights, quantize_weights(synapses.values, legal.scale, 6, "signed"))
    assert (legal_yz.hw_weights == -63).all() and legal_yz.scale == pytest.approx(63 / 0.2)
    report = program.ir.edge_attrs("x->y")["report"]
    assert (legal.quant_rmse, legal.quant_max) == (report["quant_rmse"], report["quant_max"])
    deployed = legal.hw_weights / legal.scale
    errors = deployed - synapses.values
    assert report["quant_rmse"] == pytest.approx(float(np.sqrt(np.mean(errors.astype(np.float64) ** 2))), rel=1e-5)
    assert report["quant_max"] == pytest.approx(float(np.abs(errors).max()), rel=1e-5)
    assert report["rows"] == 40 and yz["report"]["rows"] == 8
