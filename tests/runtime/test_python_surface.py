"""The Python surface (issue 13, item 4): snnc.to_torch, and snnc.run / snnc.train taking a CompiledProgram
or a path and data as a name, a path, (x, y) arrays (numpy or torch) or a torch Dataset; per-sample
predictions and scores."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import snnc
from snnc.diagnostics import SnncError
from snnc.runtime.data import load_data
from snnc.runtime.emulators.base import emulator_for
from snnc.runtime.emulators.reference import ReferenceEmulator
from snnc.runtime.encoders import encode
from tests.conftest import REPO


@pytest.fixture()
def program(small_digits_file):
    return snnc.compile(small_digits_file)


@pytest.fixture()
def digits(program):
    return load_data("digits", program.ir.inputs()[0])


def test_to_torch_has_a_torch_conventional_state_dict(program):
    module = snnc.to_torch(program)
    assert isinstance(module, torch.nn.Module)
    state = module.state_dict()
    assert {k: tuple(v.shape) for k, v in state.items()} == {"hidden->out.weight": (10, 20),
                                                             "pixels->hidden.weight": (20, 64)}
    for name, attrs in program.ir.edge_attrs_by_name().items():  # snnc keeps (pre, post)
        assert torch.equal(state[f"{name}.weight"], torch.from_numpy(np.asarray(attrs["weights"])).T)


def test_to_torch_runs_the_reference_dynamics_on_data_or_spikes(program, digits):
    module = snnc.to_torch(program)
    x = digits.x_test[:16]
    stimulus = encode(program.ir, x)
    emulator = ReferenceEmulator(program)
    observed = emulator.observe(stimulus, emulator.initial_weights())
    scores = module(x)
    assert torch.allclose(scores, observed.scores, atol=1e-5, rtol=0)
    assert torch.equal(scores.argmax(1), observed.scores.argmax(1))
    assert torch.equal(module(stimulus.events["pixels"]), scores)  # spikes (T, B, N), as encoded
    with pytest.raises(SnncError, match=r"spikes for input 'pixels' have shape \(T=20, B, N=64\); got \(3, 2, 64\)"):
        module(torch.zeros(3, 2, 64), spikes=True)


def test_to_torch_trains_like_a_torch_module_and_goes_back_to_a_program(program, digits):
    module = snnc.to_torch(program)
    loss = torch.nn.functional.cross_entropy(5 * module(digits.x_train[:32]), digits.y_train[:32])
    loss.backward()
    for parameter in module.parameters():
        assert parameter.grad.shape == parameter.shape and parameter.grad.abs().sum() > 0
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.mul_(0.5)
    halved = module.to_program()
    for name, attrs in halved.ir.edge_attrs_by_name().items():
        assert np.array_equal(attrs["weights"], 0.5 * np.asarray(program.ir.edge_attrs(name)["weights"]))
    assert snnc.run(halved, samples=8).samples == 8


def test_to_torch_twin_of_bss2_sees_the_quantized_weights(small_digits_file, digits):
    chip = snnc.compile(small_digits_file, target="bss2")
    twin = snnc.to_torch(chip, twin=True)
    bss2 = emulator_for(chip)
    quantized = {name: bss2.quantized(name, w) for name, w in bss2.initial_weights().items()}
    ideal = ReferenceEmulator(chip)  # the declared parameters, no mismatch, no noise
    x = digits.x_test[:8]
    observed = ideal.observe(encode(chip.ir, x), quantized)
    sampled = observed.membrane["out"][list(bss2.cadc.samples)].amax(0)  # the twin reads the CADC's samples too
    assert torch.allclose(twin(x), sampled, atol=1e-5, rtol=0)
    assert not torch.allclose(snnc.to_torch(chip)(x), twin(x), atol=1e-5, rtol=0)  # float weights differ


def test_to_torch_of_an_optical_program(digits):
    optical = snnc.compile(REPO / "dsl_examples" / "onn_digits.snn", target="onn")
    with pytest.raises(SnncError, match="the spiking emulator does not simulate 'photon_detector'"):
        snnc.to_torch(optical)
    twin = snnc.to_torch(optical, twin=True)  # the optics' expected activations
    scores = twin(digits.x_test[:4])
    assert scores.shape == (4, 10) and scores.requires_grad


def test_run_takes_a_program_and_returns_predictions_and_scores(program, small_digits_file, tmp_path):
    result = snnc.run(program, samples=40)  # a CompiledProgram (TypeError before)
    assert result.predictions.shape == (40,) and result.scores.shape == (40, 10) and result.labels.shape == (40,)
    assert np.array_equal(result.predictions, result.scores.argmax(1))
    assert result.accuracy == float(np.mean(result.predictions == result.labels))
    snnc.compile(small_digits_file, out=tmp_path / "p")
    for same in (snnc.run(tmp_path / "p", samples=40), snnc.run(small_digits_file, samples=40)):
        assert np.array_equal(same.predictions, result.predictions) and np.array_equal(same.scores, result.scores)


def test_data_in_memory_as_arrays_tensors_or_a_dataset(program, digits):
    x, y = digits.x_test[:40], digits.y_test[:40]
    results = [snnc.run(program, data=(x.numpy(), y.numpy())), snnc.run(program, data=(x, y)),
               snnc.run(program, data=torch.utils.data.TensorDataset(x, y)),
               snnc.run(program, data=(x.tolist(), y.tolist()))]  # lists are (x, y), not two pairs
    by_name = snnc.run(program, samples=40)
    for result in results:
        assert result.samples == 40 and result.split == "given"
        assert result.data == results[0].data and result.data.startswith("arrays sha256:")
        assert np.array_equal(result.predictions, by_name.predictions)  # the same samples as digits' first 40
    trained = snnc.train(program, data=(digits.x_train[:64].numpy(), digits.y_train[:64].numpy()), epochs=1,
                         batch=16)
    assert trained.metrics["config"]["data"].startswith("arrays sha256:")
    split = snnc.train(program, data=((digits.x_train[:48], digits.y_train[:48]), (x, y)), epochs=1, batch=16)
    assert split.program.ir.graph.graph["training"]["test_samples"] == 40
    with pytest.raises(SnncError, match="data set 'arrays': 40 samples but 39 labels"):
        snnc.run(program, data=(x, y[:-1]))
    with pytest.raises(SnncError, match="data of type object is neither a name, a path, .x, y. arrays nor a torch "
                                        "Dataset"):
        snnc.run(program, data=object())


def test_train_takes_a_compiled_program_and_deploys_it_first(program):
    result = snnc.train(program, target="bss2", epochs=1, train_samples=32, test_samples=16, batch=16)
    assert result.program.target.name == "bss2" and result.program.name == "small_digits"
    assert result.metrics["target"] == "bss2" and result.program.ir.graph.graph["training"]["epochs"] == 1
