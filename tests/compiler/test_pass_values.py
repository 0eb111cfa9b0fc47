"""Figures of the compiler passes that `make mutate` found unpinned (issue 16): the passes' timings, a
population's model alias, `sparse(p = 1)` as dense, the reference target's edge report, W202 at
v_reset = v_th, E160 for an encoder the target lacks, and the optical photon budgets at the limit and one
past."""

from __future__ import annotations

import time

import pytest

import snnc
from snnc.compiler import driver
from snnc.compiler.ir.connectivity import Dense
from snnc.diagnostics import SnncError
from tests.compiler.test_onn_legalize import compile_error, compile_onn, net
from tests.compiler.test_onn_target import variant
from tests.conftest import MINIMAL, network


def test_each_pass_s_time_is_measured():
    source = driver.Source(path="net.snn", text=network(MINIMAL))
    start = time.perf_counter()
    [result] = driver.run_pipeline(source, target="bss2")
    wall = time.perf_counter() - start
    assert len(result.timings) == len(result.target.family.passes)
    assert all(isinstance(t, float) and 0.0 <= t for t in result.timings.values())
    assert sum(result.timings.values()) <= wall  # each pass's own time, within the compile's


def test_a_population_keeps_the_name_of_its_neuron_definition():
    text = network(MINIMAL.replace("    pop    y[3] : LIF(tau_mem = 5 ms, tau_syn = 5 ms)",
                                   "    neuron fast = LIF(tau_mem = 5 ms, tau_syn = 5 ms)\n    pop    y[3] : fast"))
    program = snnc.compile("net.snn", text=text)
    assert program.ir.decl("y").model_alias == "fast" and program.ir.decl("x").__class__.__name__ == "Input"
    assert snnc.compile("net.snn", text=network(MINIMAL)).ir.decl("y").model_alias is None


def test_sparse_with_p_one_is_dense():
    text = network(MINIMAL.replace("proj x -> y : dense", "proj x -> y : sparse(p = 1.0)"))
    program = snnc.compile("net.snn", text=text)
    assert isinstance(program.ir.edge_attrs("x->y")["decl"].connectivity, Dense)
    assert program.ir.edge_attrs("x->y").get("mask") is None


def test_the_reference_target_reports_every_synapse_exact():
    program = snnc.compile("net.snn", text=network(MINIMAL))
    assert program.ir.edge_attrs("x->y")["report"] == {"synapses": 12, "scale": 1.0, "quant_rmse": 0.0,
                                                       "quant_max": 0.0}


@pytest.mark.parametrize("v_reset, warned", [(0.5, True), (0.49, False)])
def test_w202_when_the_reset_is_at_the_threshold(v_reset, warned):
    text = network(MINIMAL.replace("tau_syn = 5 ms)", f"tau_syn = 5 ms, v_th = 0.5, v_reset = {v_reset})"))
    codes = [d["code"] for d in snnc.compile("net.snn", text=text).diagnostics]
    assert codes == (["W202"] if warned else [])


def test_an_encoder_the_target_lacks_is_e160():
    text = network(MINIMAL.replace("latency(t_max = 10 ms)", "intensity(photons = 100)"))
    with pytest.raises(SnncError) as info:
        snnc.compile("net.snn", text=text, target="bss2")
    assert ("error[E160]: target 'bss2' does not support encoder 'intensity' (it supports latency, rate, spikes, "
            "current)") in info.value.render()


def test_an_input_s_photons_at_the_limit_and_one_past():
    # 32 detectors at 31.25 photons per MAC: each of the input's pixels lights 32 and needs its 1,000 photons
    assert [d["code"] for d in compile_onn(net(ppm=31.25)).diagnostics if d["code"] == "E602"] == []
    assert "the layers it lights need 1,001.6 per pixel" in compile_error(net(ppm=31.3))


def test_the_source_s_optical_power_at_the_limit_and_one_past(tmp_path):
    used = compile_onn(net()).ir.graph.graph["resources"]["optical_power"]["used"]
    assert used == pytest.approx(0.1 * 64 * 32 + 100 * 32 * 10 * 2)
    at = compile_onn(net(), variant(tmp_path, lambda s: s["resources"].update(optical_power=used)))
    assert at.ir.graph.graph["resources"]["optical_power"] == {"used": used, "available": used}
    below = variant(tmp_path, lambda s: s["resources"].update(optical_power=used * (1 - 1e-6)))
    assert "error[E603]: the network needs up to 64,204.8 photons per inference" in compile_error(net(), below)
