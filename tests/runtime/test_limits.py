"""Limits checked before the work starts: a simulation's memory (steps x neurons x batch, BPTT), the counts
given on the command line and in `train` blocks, and data files that lie or are too large."""

from __future__ import annotations

import gzip
import struct
import time
import zipfile

import numpy as np
import pytest

import snnc
from snnc.cli import run as cli
from snnc.compiler.ir.encoders import Latency
from snnc.compiler.ir.nodes import Input
from snnc.diagnostics import SnncError
from snnc.runtime import budget
from snnc.runtime.data import load_data
from tests.conftest import network


def flat_input(size: int = 4) -> Input:
    return Input(name="pixels", shape=(size,), encoder=Latency(t_max=0.02))


@pytest.fixture()
def compiled(small_digits_file, tmp_path):
    out = tmp_path / "program"
    snnc.compile(small_digits_file, target="reference", out=out)
    return out


def test_simulation_memory_is_steps_times_neurons_times_batch():
    [result] = snnc.check("n.snn", text=network(
        "timestep 1 ms\nduration 20 ms\ninput x[64] : latency(t_max = 10 ms)\npop h[20] : LIF(5 ms, 5 ms)\n"
        "proj x -> h : dense\noutput h : spike_count"))
    assert budget.simulation_bytes(result.ir, 32, training=False) == 20 * 84 * 32 * budget.INFERENCE_BYTES
    assert budget.simulation_bytes(result.ir, 32, training=True) == 20 * 84 * 32 * budget.TRAINING_BYTES


def test_a_run_that_needs_more_memory_than_the_budget_is_refused_before_it_starts(compiled, monkeypatch):
    # small_digits: 20 steps x 94 neurons; run batches are of min(256, samples) samples
    needed = 20 * 94 * 10 * budget.INFERENCE_BYTES
    monkeypatch.setattr(budget, "memory_budget", lambda: needed)
    assert snnc.run(compiled, samples=10).samples == 10  # exactly at the budget
    with pytest.raises(SnncError, match=r"simulating a batch of 11 samples of 20 time steps over 94 neurons "
                                        r"of 'small_digits' takes about 403.9 KiB; at most 367.2 KiB"):
        snnc.run(compiled, samples=11)


def test_training_checks_the_memory_of_backpropagation_through_time_before_the_first_epoch(
        small_digits_file, tmp_path, monkeypatch):
    monkeypatch.setattr(budget, "memory_budget", lambda: 20 * 94 * 31 * budget.TRAINING_BYTES)
    start = time.perf_counter()
    with pytest.raises(SnncError, match=r"training \(backpropagation through time keeps every step\) a batch of 32"):
        snnc.train(small_digits_file, out=tmp_path / "out", batch=32)
    assert time.perf_counter() - start < 60 and not (tmp_path / "out").exists()


@pytest.mark.parametrize("option,value,message", [
    ("epochs", 0, "--epochs must be an integer from 1 to 100,000, not 0"),
    ("epochs", 10**9, "--epochs must be an integer from 1 to 100,000, not 1000000000"),
    ("batch", 2**21, "--batch must be an integer from 1 to 1,048,576, not 2097152"),
    ("train_samples", 0, "--train-samples must be an integer of at least 1, not 0"),
    ("test_samples", -5, "--test-samples must be an integer of at least 1, not -5"),
    ("lr", float("nan"), "--lr must be a positive number, not nan"),
    ("lr", float("inf"), "--lr must be a positive number, not inf"),
])
def test_training_counts_out_of_range_are_refused(small_digits_file, tmp_path, option, value, message):
    with pytest.raises(SnncError, match=message.replace("(", r"\(")):
        snnc.train(small_digits_file, out=tmp_path / "out", **{option: value})


def test_huge_train_block_values_are_language_errors():
    with pytest.raises(SnncError, match=r"epochs.*must be <= 100000"):
        snnc.check("n.snn", text=network("input x[2] : current\npop y[2] : linear\nproj x -> y : dense\n"
                                         "output y : value") + "train {\n  epochs 1000000\n}\n")


@pytest.mark.parametrize("samples", ["0", "-1"])
def test_run_samples_must_be_positive(compiled, samples, capsys):
    assert cli(["run", str(compiled), "--samples", samples]) == 1
    assert f"--samples must be an integer of at least 1, not {samples}" in capsys.readouterr().err


def test_npz_data_of_wrong_dtype_shape_or_values_is_refused(tmp_path):
    y = np.arange(10) % 2
    cases = {"complex": (np.zeros((10, 4), complex), y, "x must be numeric"),
             "strings": (np.full((10, 4), "a"), y, "x must be numeric"),
             "scalar": (np.float32(3), y, "x must be numeric"),
             "labels": (np.zeros((10, 4)), y[:9], "one sample per label"),
             "float_labels": (np.zeros((10, 4)), y.astype(float), "a 1-D integer array"),
             "nan": (np.where(np.eye(10, 4) > 0, np.nan, 0.5), y, "holds samples that are not finite")}
    for name, (x, labels, message) in cases.items():
        np.savez(tmp_path / f"{name}.npz", x=x, y=labels)
        with pytest.raises(SnncError, match=message):
            load_data(str(tmp_path / f"{name}.npz"), flat_input())


def test_a_huge_x_is_refused_from_its_header_and_by_the_memory_it_would_take(tmp_path, monkeypatch):
    header = b"{'descr': '<f4', 'fortran_order': False, 'shape': (100000000000, 4), }"
    with zipfile.ZipFile(tmp_path / "huge.npz", "w") as archive:
        archive.writestr("x.npy", b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + b"\n")
        archive.writestr("y.npy", b"")  # (never reached: the first array is too large already)
    with pytest.raises(SnncError, match=r"huge.npz' is not a readable .npz: its arrays take 1.5 TiB or more"):
        load_data(str(tmp_path / "huge.npz"), flat_input())
    np.savez(tmp_path / "big.npz", x=np.zeros((1000, 4), np.uint8), y=np.arange(1000) % 2)
    monkeypatch.setattr("snnc.runtime.data.memory_budget", lambda: 20_000)
    with pytest.raises(SnncError, match=r"big.npz' takes 31.2 KiB as float32 samples for input 'pixels'"):
        load_data(str(tmp_path / "big.npz"), flat_input())


def idx(dims: tuple[int, ...], payload: bytes) -> bytes:
    return struct.pack(">BBBB", 0, 0, 0x08, len(dims)) + b"".join(struct.pack(">I", d) for d in dims) + payload


def test_an_idx_file_that_lies_about_its_size_is_refused(tmp_path):
    (tmp_path / "train-images-idx3-ubyte").write_bytes(idx((60000, 28, 28), bytes(100)))
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx((60000,), bytes(60000)))
    with pytest.raises(SnncError, match=r"truncated or too long: header says \[60000, 28, 28\], 100 bytes"):
        load_data(str(tmp_path), flat_input())


def test_a_gzipped_idx_file_that_unpacks_beyond_the_budget_is_refused(tmp_path, monkeypatch):
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx((1000, 28, 28), bytes(784_000))))
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx((1000,), bytes(1000))))
    monkeypatch.setattr("snnc.runtime.data.memory_budget", lambda: 100_000)
    with pytest.raises(SnncError, match=r"train-images-idx3-ubyte.gz': it unpacks to more than 97.7 KiB"):
        load_data(str(tmp_path), flat_input())


def test_a_corrupt_checkpoint_is_an_error_not_a_crash(small_digits_file, tmp_path):
    import io
    import json

    quick = dict(train_samples=32, test_samples=16, batch=16)
    snnc.train(small_digits_file, out=tmp_path / "out", epochs=1, **quick)
    state = tmp_path / "out" / "checkpoint" / "state.npz"
    with np.load(state, allow_pickle=False) as archive:
        arrays = {k: archive[k] for k in archive.files if not k.startswith("weights/")}
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    state.write_bytes(buffer.getvalue())
    with pytest.raises(SnncError, match=r"cannot resume: the checkpoint does not fit this run \(KeyError"):
        snnc.train(small_digits_file, out=tmp_path / "out", epochs=2, resume=True, **quick)
    meta = tmp_path / "out" / "checkpoint" / "state.json"
    meta.write_text(json.dumps({"format": "snnc-checkpoint", "x": [[[[[1]]]]]}) [:-3])
    with pytest.raises(SnncError, match="the checkpoint in .* is corrupt"):
        snnc.train(small_digits_file, out=tmp_path / "out", epochs=2, resume=True, **quick)
