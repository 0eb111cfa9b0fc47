"""The bss2 emulator's figures against the target YAML (issue 16): each neuron mismatch from its own column
and figure, the excitatory and inhibitory synapses' own gains, the membrane noise's scale, the CADC
readout's codes and the fixed event latency, each pinned to a value computed here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

import snnc
from snnc.compiler.targets import bss2 as bss2_target
from snnc.runtime import seeds
from snnc.runtime.emulators.base import emulator_for
from snnc.runtime.emulators.bss2 import BSS2Emulator
from snnc.runtime.encoders import encode
from tests.conftest import timed_network
from tests.runtime.conftest import TINY_BSS2

# Every figure different, so that one read in place of another shows.
FIGURES = {"tau_mem_mismatch": 0.01, "tau_syn_mismatch": 0.02, "threshold_mismatch": 0.03, "leak_mismatch": 0.04,
           "weight_mismatch": 0.06, "membrane_noise": 0.05}

WIDE = timed_network("wide", "6 ms", """\
    input  x[4] : latency(t_max = 5 ms)
    pop    h[600] : LIF(tau_mem = 4 ms, tau_syn = 3 ms, v_th = 0.7, v_leak = 0.1, v_reset = 0.0, refractory = 1 ms)
    pop    o[3] : LI(tau_mem = 4 ms, tau_syn = 3 ms, v_leak = 0.2)
    proj x -> h : dense(init = normal(0, 0.5))
    proj h -> o : dense(init = normal(0, 0.5))
    output o : max_membrane""")


SHIPPED = Path(bss2_target.__file__).with_suffix(".yaml")


@pytest.fixture(scope="module")
def chip_file(tmp_path_factory):
    spec = yaml.safe_load(SHIPPED.read_text())
    spec["noise"] = dict(FIGURES)
    path = tmp_path_factory.mktemp("chip") / "my_bss2.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def wide(chip_file):
    """600 neurons over two chips (512 circuits each) on the chip file with distinct figures."""
    return snnc.compile("wide.snn", text=WIDE, target=str(chip_file), chips=2)


def deviations(chip_seed: int, chips: int) -> np.ndarray:
    """The chip's standard-normal draws: (circuits of all chips, [tau_mem, tau_syn, threshold, leak])."""
    return np.concatenate([seeds.rng(chip_seed, "chip", "neurons", chip).standard_normal((512, 4))
                           for chip in range(chips)])


def test_each_neuron_parameter_takes_its_own_column_and_figure(wide):
    emulator = emulator_for(wide, chip_seed=7)
    circuits = np.asarray(wide.ir.node_attrs("h")["placement"].circuits)
    assert circuits.max() >= 512  # the second chip's circuits look up the second chip's draws
    d = deviations(7, 2)[circuits].mean(axis=1)
    h = emulator.actual["h"]
    unit = 0.7 - 0.1
    np.testing.assert_allclose(h.tau_mem.numpy(), 4e-3 * (1 + 0.01 * d[:, 0]), rtol=1e-6)
    np.testing.assert_allclose(h.tau_syn.numpy(), 3e-3 * (1 + 0.02 * d[:, 1]), rtol=1e-6)
    np.testing.assert_allclose(h.v_th.numpy(), 0.7 + 0.03 * unit * d[:, 2], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(h.v_leak.numpy(), 0.1 + 0.04 * unit * d[:, 3], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(h.v_reset.numpy(), 0.0)  # the reset has no mismatch
    o = emulator.actual["o"]  # no threshold: voltages in units of 1
    d_o = deviations(7, 2)[np.asarray(wide.ir.node_attrs("o")["placement"].circuits)].mean(axis=1)
    np.testing.assert_allclose(o.v_leak.numpy(), 0.2 + 0.04 * d_o[:, 3], rtol=1e-6, atol=1e-7)
    # over 600 neurons each relative spread is the YAML's figure
    for column, key in enumerate(("tau_mem_mismatch", "tau_syn_mismatch")):
        values = (h.tau_mem if column == 0 else h.tau_syn).numpy() / (4e-3 if column == 0 else 3e-3) - 1
        assert np.std(values) == pytest.approx(FIGURES[key], rel=0.1)


def test_an_ideal_chip_has_the_declared_parameters(wide):
    ideal = BSS2Emulator(wide, chip_seed=7, imperfections=False)
    for name, nominal in ideal.nominal.items():
        assert torch.equal(ideal.actual[name].tau_mem, nominal.tau_mem)
        assert torch.equal(ideal.actual[name].v_leak, nominal.v_leak)
    assert ideal.membrane_noise(2) is None


def test_excitatory_and_inhibitory_synapses_have_their_own_gains(wide):
    emulator = emulator_for(wide, chip_seed=3)
    weights = emulator.initial_weights()
    deployed = emulator.deploy(weights)
    for name in ("x->h", "h->o"):
        pre, post = weights[name].shape
        gains = 1 + 0.06 * seeds.rng(3, "chip", "synapses", name).standard_normal((2, pre, post))
        q = emulator.quantized(name, weights[name]).numpy()
        expected = q * np.where(q >= 0, gains[0], gains[1])
        np.testing.assert_allclose(deployed[name].numpy(), expected, rtol=1e-6, atol=1e-9)
        assert (q > 0).any() and (q < 0).any()
    gains = emulator.synapse_gain["x->h"].numpy()
    assert np.std(gains - 1) == pytest.approx(0.06, rel=0.1)  # 4,800 synapses of each kind
    assert not np.allclose(gains[0], gains[1])


def test_membrane_noise_is_the_yaml_figure_in_each_population_s_threshold_units(wide):
    emulator = emulator_for(wide, noise_seed=4)
    drawn = emulator.membrane_noise(3)
    # h: 0.05 x (v_th - v_leak) = 0.03; o has no threshold: its unit is 1
    assert drawn.scales["h"].tolist() == pytest.approx([0.05 * 0.6] * 600)
    assert drawn.scales["o"].tolist() == pytest.approx([0.05] * 3)
    assert drawn["h"].shape == (6, 3, 600) and float(drawn["h"].std()) == pytest.approx(0.05 * 0.6, rel=0.05)
    again = emulator_for(wide, noise_seed=4).membrane_noise(3)  # the seed's stream: the same draw
    assert torch.equal(again["h"], drawn["h"]) and torch.equal(again["o"], drawn["o"])
    assert not torch.equal(emulator_for(wide, noise_seed=5).membrane_noise(3)["h"], drawn["h"])


def test_shipped_chip_figures_reach_the_emulator():
    program = snnc.compile("wide.snn", text=WIDE, target="bss2", chips=2)
    emulator = emulator_for(program, chip_seed=1)
    shipped = yaml.safe_load(SHIPPED.read_text())["noise"]
    assert emulator.noise == {k: float(v) for k, v in shipped.items()}
    noise = emulator.membrane_noise(50)["h"]
    assert float(noise.std()) == pytest.approx(shipped["membrane_noise"] * 0.6, rel=0.05)  # v_th - v_leak = 0.6
    relative = emulator.actual["h"].tau_mem.numpy() / 4e-3 - 1
    assert np.std(relative) == pytest.approx(shipped["tau_mem_mismatch"], rel=0.15)


def test_the_cadc_reads_the_membrane_in_codes_over_the_readout_range(wide):
    emulator = emulator_for(wide)
    # h: unit 0.6 around v_leak 0.1, range [-1, 2.5] units over 255 codes
    low, lsb = 0.1 - 0.6, 3.5 * 0.6 / 255
    v = torch.tensor([0.1, -5.0, 9.0, low + 10.4 * lsb, low + 10.6 * lsb]).unsqueeze(1)
    read = emulator.quantize_membrane("h", v)[:, 0]  # neuron 0's codes
    expected = [low + 73 * lsb, low, low + 255 * lsb, low + 10 * lsb, low + 11 * lsb]  # 0.6 / lsb = 72.86
    assert read.tolist() == pytest.approx(expected, abs=1e-6)
    low_o, lsb_o = 0.2 - 1.0, 3.5 / 255
    read_o = emulator.quantize_membrane("o", torch.tensor([0.2]))
    assert read_o.tolist() == pytest.approx([low_o + 73 * lsb_o] * 3, abs=1e-6)


@pytest.mark.parametrize("fast", [True, False])
def test_observed_membrane_is_the_noisy_trajectory_read_by_the_cadc(fast):
    text = timed_network("quiet", "8 ms", """\
    input x[2] : latency(t_max = 5 ms)
    pop   o[2] : LI(tau_mem = 4 ms, tau_syn = 3 ms, v_leak = 0.3)
    proj x -> o : dense(init = constant(0.0))
    output o : max_membrane""")
    program = snnc.compile("quiet.snn", text=text, target="bss2")
    emulator = emulator_for(program, noise_seed=2)
    emulator.fast = fast
    assert emulator.fast_path() is fast
    observed = emulator.observe(encode(program.ir, torch.zeros(1, 2)), emulator.initial_weights())
    noise = emulator_for(program, noise_seed=2).membrane_noise(1)["o"][:, 0]
    a = float(np.exp(-1 / 4))
    v, trajectory = emulator.actual["o"].v_leak, []
    for t in range(8):  # no input: the membrane relaxes to its (mismatched) leak, plus each step's noise
        v = emulator.actual["o"].v_leak + a * (v - emulator.actual["o"].v_leak) + noise[t]
        trajectory.append(v)
    expected = emulator.read_membrane("o", torch.stack(trajectory))
    assert torch.allclose(observed.membrane["o"][:, 0], expected, atol=1e-6)
    assert observed.scores[0].tolist() == pytest.approx(expected.amax(0).tolist(), abs=1e-6)


def test_every_projection_takes_the_chip_s_event_latency_on_the_time_grid():
    coarse = snnc.compile("tiny.snn", text=TINY_BSS2, target="bss2")
    assert [e.delay_steps for e in emulator_for(coarse).plan.edges] == [0, 0, 0]  # 80 ns x 1000 < 0.5 ms
    fine_text = TINY_BSS2.replace("timestep 1 ms", "timestep 0.01 ms").replace("duration 12 ms", "duration 0.5 ms")
    fine_text = fine_text.replace("t_max = 8 ms", "t_max = 0.3 ms").replace("refractory = 1 ms", "refractory = 0.05 ms")
    fine = snnc.compile("fine.snn", text=fine_text, target="bss2")
    assert [e.delay_steps for e in emulator_for(fine).plan.edges] == [8, 8, 8]  # 0.08 ms of model time


def test_hardware_weights_zero_absent_synapses_and_the_twin_sees_them_straight_through():
    program = snnc.compile("tiny.snn", text=TINY_BSS2, target="bss2")
    emulator = emulator_for(program)
    w = emulator.initial_weights()["h->h"] + 0.01  # sparse: one weight per existing synapse
    synapses = program.ir.edge_attrs("h->h")["weights"]
    scale = emulator.scales["h->h"]
    hw = emulator.hw_weights("h->h", w)
    expected = np.clip(np.rint(w.numpy().astype(np.float64) * scale), -63, 63)
    assert np.array_equal(hw, expected.astype(np.int16)) and hw.shape == (synapses.nnz,)
    mask = synapses.mask()  # the synapse matrix: the hardware weights where synapses exist, 0 elsewhere
    assert (~mask).any() and np.array_equal(synapses.to_dense(hw)[mask], hw) and not synapses.to_dense(hw)[~mask].any()
    exported = emulator.export({**emulator.initial_weights(), "h->h": w}).ir.edge_attrs("h->h")
    assert np.array_equal(exported["legalization"].hw_weights, hw)
    assert emulator.limit("h->h") == pytest.approx(63 / scale)
    w.requires_grad_(True)
    twin = emulator.twin_weights({"h->h": w})["h->h"]
    assert torch.equal(twin.detach(), torch.as_tensor(hw / scale, dtype=torch.float32))
    twin.sum().backward()
    assert torch.equal(w.grad, torch.ones_like(w))
