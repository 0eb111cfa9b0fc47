"""The BrainScaleS-2 emulator: hardware weights, the chip's fixed pattern, noise and readout."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from snnc.runtime.emulators.base import emulator_for
from snnc.runtime.emulators.bss2 import NEURON_MISMATCH_KEYS
from snnc.runtime.encoders import encode
from tests.conftest import REPO
from tests.runtime.conftest import TINY, TINY_BSS2, compile_text


def tiny_bss2(**options):
    return emulator_for(compile_text(TINY_BSS2, target="bss2"), **options)


def test_the_emulator_is_picked_by_the_target_family():
    assert type(tiny_bss2()).__name__ == "BSS2Emulator"
    assert type(emulator_for(compile_text(TINY))).__name__ == "ReferenceEmulator"


def test_deployed_weights_are_the_compiled_hardware_weights_with_synapse_mismatch():
    emulator = tiny_bss2(chip_seed=1)
    ideal = tiny_bss2(imperfections=False)
    weights = emulator.initial_weights()
    for name, attrs in emulator.ir.edge_attrs_by_name().items():
        legal = attrs["legalization"]
        hw_over_scale = torch.as_tensor(legal.hw_weights / legal.scale, dtype=torch.float32)
        assert torch.equal(ideal.deploy(weights)[name], hw_over_scale)  # no mismatch: exactly hw / scale
        gain = emulator.synapse_gain[name]  # 1 + weight_mismatch (2%) x a normal draw, per synapse and sign
        expected = hw_over_scale * torch.where(hw_over_scale >= 0, gain[0], gain[1])
        assert torch.allclose(emulator.deploy(weights)[name], expected, rtol=1e-6, atol=0)
        assert float((gain - 1).std()) == pytest.approx(0.02, rel=0.5)
        assert torch.equal(emulator.twin_weights(weights)[name], hw_over_scale)  # the twin: no mismatch


def test_weights_deployed_again_are_reused_only_while_their_values_are_the_same():
    """deploy keeps the last weights it deployed per projection: equal values (the same tensor, or a copy)
    give the same deployed tensor, and any change (an optimizer step, a write through .data, which torch's
    version counter does not see) deploys anew, as a fresh emulator of the same chip would."""
    emulator = tiny_bss2(chip_seed=1)
    weights = {k: w.requires_grad_(True) for k, w in emulator.initial_weights().items()}
    name = next(iter(weights))
    first = emulator.deploy(weights)[name]
    assert emulator.deploy(weights)[name] is first
    assert emulator.deploy({k: w.detach().clone() for k, w in weights.items()})[name] is first
    optimizer = torch.optim.Adam(list(weights.values()), lr=0.05)
    sum((w ** 2).sum() for w in weights.values()).backward()
    optimizer.step()
    changes = [lambda: None, lambda: weights[name].data.mul_(-1.5), lambda: weights[name].data[0].zero_()]
    previous = first
    for change in changes:  # the first: the optimizer's step above
        change()
        deployed = emulator.deploy(weights)[name]
        assert not torch.equal(deployed, previous)
        assert torch.equal(deployed, tiny_bss2(chip_seed=1).deploy(weights)[name])
        previous = deployed


def test_one_chip_seed_is_one_chip():
    a, b, other = tiny_bss2(chip_seed=4), tiny_bss2(chip_seed=4), tiny_bss2(chip_seed=5)
    assert torch.equal(a.actual["h"].tau_mem, b.actual["h"].tau_mem)
    assert torch.equal(a.synapse_gain["x->h"], b.synapse_gain["x->h"])
    assert not torch.equal(a.actual["h"].tau_mem, other.actual["h"].tau_mem)


def test_merged_circuits_average_their_mismatch():
    program = compile_text(TINY_BSS2.replace("x[6]", "x[200]"), target="bss2")  # 200 signed inputs: 2 circuits
    emulator = emulator_for(program, chip_seed=2)
    circuits = np.asarray(program.ir.node_attrs("h")["placement"].circuits)
    assert circuits.shape == (5, 2)
    table = emulator.circuit_deviations(0)
    sigma = emulator.noise[NEURON_MISMATCH_KEYS[0]]
    expected = 4e-3 * (1 + sigma * table[circuits, 0].mean(axis=1))
    np.testing.assert_allclose(emulator.actual["h"].tau_mem.numpy(), expected, rtol=1e-6)


def test_weights_are_clipped_to_the_six_bit_range():
    emulator = tiny_bss2()
    weights = {k: w * 100 for k, w in emulator.initial_weights().items()}
    emulator.legalize_(weights)
    for name, w in weights.items():
        assert float(w.abs().max()) <= 63 / emulator.scales[name] * (1 + 1e-6)
        assert int(np.abs(emulator.hw_weights(name, w)).max()) == 63


def test_readout_is_quantized_to_eight_bits_and_noise_is_seeded():
    emulator = tiny_bss2(noise_seed=1)
    x = torch.rand(8, 6, generator=torch.Generator().manual_seed(0))
    stimulus = encode(emulator.ir, x)
    first = emulator.observe(stimulus, emulator.initial_weights())
    v = first.membrane["h"]  # v_th - v_leak = 0.5: the CADC covers (2.5 + 1) * 0.5 in 255 steps (bss2.yaml)
    assert emulator.readout_range == (-1.0, 2.5)
    # one sample every 2 us of chip time = 2 ms of model time at time_scale 1e-3: steps 0, 2, ..., 10 of 12
    assert emulator.cadc.samples == (0, 2, 4, 6, 8, 10)
    codes = (v[0::2] + 1.0 * 0.5) / (3.5 * 0.5 / 255)
    assert torch.allclose(codes, codes.round(), atol=1e-3)
    assert torch.allclose(v[1:10:2], (v[0:9:2] + v[2:11:2]) / 2)  # in between: linear interpolation
    assert torch.equal(v[11], v[10])  # after the last sample: held
    again = tiny_bss2(noise_seed=1).observe(stimulus, emulator.initial_weights())
    assert torch.equal(first.membrane["o"], again.membrane["o"])
    second = emulator.observe(stimulus, emulator.initial_weights())  # the noise moves on
    assert not torch.equal(first.membrane["o"], second.membrane["o"])


def test_an_ideal_chip_differs_from_reference_only_by_quantization():
    program = compile_text(TINY_BSS2, target="bss2")
    ideal = emulator_for(program, imperfections=False, dtype=torch.float64)
    reference = emulator_for(compile_text(TINY_BSS2), dtype=torch.float64)
    stimulus = encode(program.ir, torch.rand(4, 6, generator=torch.Generator().manual_seed(0), dtype=torch.float64))
    quantized = {k: ideal.quantized(k, w) for k, w in ideal.initial_weights().items()}
    on_chip = ideal.observe(stimulus, ideal.initial_weights())
    on_reference = reference.observe(stimulus, quantized)
    assert torch.equal(on_chip.spikes["h"], on_reference.spikes["h"])
    lsb = 3.5 / 255  # output LI: unit 1
    sampled = on_reference.membrane["o"][list(ideal.cadc.samples)].amax(0)  # the chip reads the CADC's samples
    assert float((on_chip.scores - sampled).abs().max()) <= lsb / 2 + 1e-9


def test_every_projection_takes_the_chips_fixed_event_latency(tmp_path):
    # bss2.yaml's 80 ns is 0.08 ms in model time: 0 steps of 1 ms. A chip whose events take 1 us (1 ms in
    # model time) delays every projection by one step: as the reference with `delay 1 ms` on each one.
    assert [e.delay_steps for e in tiny_bss2().plan.edges] == [0, 0, 0]
    slow = tmp_path / "slow.yaml"
    slow.write_text((REPO / "snnc" / "compiler" / "targets" / "bss2.yaml").read_text().replace(
        "event_latency: 8.0e-8", "event_latency: 1.0e-6"))
    program = compile_text(TINY_BSS2, target=str(slow))
    chip = emulator_for(program, imperfections=False, dtype=torch.float64)
    assert [e.delay_steps for e in chip.plan.edges] == [1, 1, 1]
    delayed = "\n".join(line + " delay 1 ms" if line.strip().startswith("proj") else line
                        for line in TINY_BSS2.splitlines())
    reference = emulator_for(compile_text(delayed), dtype=torch.float64)
    stimulus = encode(program.ir, torch.rand(4, 6, generator=torch.Generator().manual_seed(0), dtype=torch.float64))
    quantized = {k: chip.quantized(k, w) for k, w in chip.initial_weights().items()}
    on_chip, on_reference = chip.observe(stimulus, chip.initial_weights()), reference.observe(stimulus, quantized)
    assert on_chip.spikes["h"].sum() > 0
    assert torch.equal(on_chip.spikes["h"], on_reference.spikes["h"])
