"""What a compiled program would deliver on the chip (report.json `estimates`): each figure computed by
hand from bss2.yaml's `estimates` section and the program's duration, partitions and input events."""

from __future__ import annotations

import pytest
import yaml

import snnc
from snnc.cli import run
from tests.conftest import REPO, network

SPEC = yaml.safe_load((REPO / "snnc" / "compiler" / "targets" / "bss2.yaml").read_text())
FIGURES, TIME_SCALE = SPEC["estimates"], SPEC["time_scale"]
LIF = "LIF(tau_mem = 6 ms, tau_syn = 6 ms, refractory = 1 ms)"


def estimates_of(timestep: str, statements: str):
    """The estimates of a 20 ms network at `timestep` with these statements."""
    text = network(f"    timestep {timestep}\n    duration 20 ms\n{statements}")
    return snnc.compile("net.snn", target="bss2", text=text).ir.graph.graph["estimates"]


def test_256_246_10_runs_for_its_duration_on_the_chip():
    estimates = snnc.compile(REPO / "dsl_examples" / "latency_digits_ff.snn", target="bss2").ir.graph.graph["estimates"]
    seconds = 30e-3 * TIME_SCALE + FIGURES["sample_gap"]  # 30 ms of model time: 30 us, then the gap
    assert estimates.input_events == 256  # one spike per latency-coded pixel at most
    assert estimates.io_seconds == pytest.approx(256 / FIGURES["input_events_per_second"])
    assert estimates.seconds_per_sample == pytest.approx(seconds)  # the pixels stream in during the run
    assert estimates.samples_per_second == pytest.approx(1 / seconds)  # 32,258 samples/s
    assert estimates.energy_per_sample_j == pytest.approx(FIGURES["chip_power"] * seconds)  # 6.2 uJ
    assert (estimates.partitions, estimates.reconfiguration_seconds) == (1, 0.0)


def test_input_events_beyond_the_run_make_the_sample_io_bound():
    # 1,000 rate-coded inputs at 1 kHz for 20 ms: 20,000 events, 160 us to play, longer than the 21 us run.
    estimates = estimates_of("1 ms", f"""
    input x[1000] : rate(max_rate = 1000 Hz)
    pop y[10] : {LIF}
    proj x -> y : dense
    output y : spike_count""")
    assert estimates.input_events == 20_000
    io = 20_000 / FIGURES["input_events_per_second"]
    assert io > 20e-3 * TIME_SCALE + FIGURES["sample_gap"]
    assert estimates.seconds_per_sample == pytest.approx(io)
    assert estimates.energy_per_sample_j == pytest.approx(FIGURES["chip_power"] * io)


def test_partitions_run_one_after_another_and_reload_the_chip():
    # 300 -> 400 -> 10 takes 4 partitions; the last replays 384 hidden neurons, each at most one spike per
    # 1 ms refractory period over 20 ms.
    estimates = estimates_of("0.5 ms", f"""
    input x[300] : latency(t_max = 10 ms)
    pop h[400] : {LIF}
    pop o[10] : LI(tau_mem = 6 ms, tau_syn = 6 ms)
    proj x -> h : dense
    proj h -> o : dense
    output o : max_membrane""")
    assert estimates.partitions == 4
    run_one = 20e-3 * TIME_SCALE + FIGURES["sample_gap"]
    reconfiguration = 4 * FIGURES["reconfiguration_time"] / FIGURES["samples_per_configuration"]
    assert estimates.reconfiguration_seconds == pytest.approx(reconfiguration)
    assert estimates.input_events == 4 * 300 + 384 * 20
    replay = (300 + 384 * 20) / FIGURES["input_events_per_second"]
    assert estimates.seconds_per_sample == pytest.approx(3 * run_one + max(run_one, replay) + reconfiguration)


def test_snnc_run_prints_the_estimates_on_bss2(tmp_path, capsys):
    out = tmp_path / "small"
    assert run(["compile", str(REPO / "dsl_examples" / "latency_digits_small.snn"), "--target", "bss2",
                "-o", str(out)]) == 0
    capsys.readouterr()
    assert run(["run", str(out), "--samples", "8"]) == 0
    seconds = 20e-3 * TIME_SCALE + FIGURES["sample_gap"]
    line = capsys.readouterr().out.splitlines()[-1]
    assert line == (f"on the chip (estimated, docs/targets.md): {1 / seconds:,.0f} samples/s, "
                    f"{1e6 * FIGURES['chip_power'] * seconds:.3g} uJ/sample")
