"""Data sets: the embedded digits, user .npz files, MNIST idx files, and their errors."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
import torch

from snnc.compiler.ir.encoders import Latency
from snnc.compiler.ir.nodes import Input
from snnc.diagnostics import SnncError
from snnc.runtime.data import load_data


def image_input(*shape: int) -> Input:
    return Input(name="pixels", shape=shape, encoder=Latency(t_max=0.02))


def test_digits_fixed_stratified_split_in_unit_range():
    first = load_data("digits", image_input(8, 8))
    again = load_data("digits", image_input(8, 8))
    assert (len(first.x_train), len(first.x_test)) == (1438, 359)  # 1,797 samples, 20% of each class
    assert torch.equal(first.x_test, again.x_test) and torch.equal(first.y_train, again.y_train)
    assert first.classes == 10 and torch.bincount(first.y_test).min() >= 35
    assert 0.0 <= float(first.x_train.min()) and float(first.x_train.max()) == 1.0


def test_digits_resized_to_a_16x16_input_and_flattened_for_a_1d_input():
    big = load_data("digits", image_input(16, 16))
    assert big.x_train.shape == (1438, 16, 16)
    # bilinear 8 -> 16 (pixel centres, edges held): output k samples input (k + 0.5) / 2 - 0.5, so rows and
    # columns 0 and 15 copy the edge, 2k - 1 and 2k mix inputs k - 1, k as 1/4, 3/4 and 3/4, 1/4
    resize = np.zeros((16, 8))
    for k in range(16):
        x = min(max((k + 0.5) / 2 - 0.5, 0.0), 7.0)
        low = min(int(x), 6)
        resize[k, low], resize[k, low + 1] = 1 - (x - low), x - low
    images = load_data("digits", image_input(64)).x_train.numpy().reshape(-1, 8, 8)
    np.testing.assert_allclose(big.x_train.numpy(), resize @ images @ resize.T, atol=1e-6)
    assert resize[1].tolist()[:2] == [0.75, 0.25] and resize[2].tolist()[:2] == [0.25, 0.75]
    assert big.note == "digits: the 8x8 images resized bilinearly to input 'pixels' 16x16"  # said, not silent
    flat = load_data("digits", image_input(64))
    assert flat.x_test.shape == (359, 64) and flat.note is None
    with pytest.raises(SnncError, match=r"has samples of shape \[8, 8\]; input 'pixels' has shape \[100\]"):
        load_data("digits", image_input(100))


def test_data_that_do_not_fit_the_input_are_an_error_never_resized(tmp_path):
    events = np.zeros((20, 60, 64), np.uint8)  # event data (samples, steps, channels) to a 16x16 latency input
    np.savez(tmp_path / "events.npz", x=events, y=np.arange(20) % 2)
    with pytest.raises(SnncError) as info:
        load_data(str(tmp_path / "events.npz"), image_input(16, 16))
    assert info.value.diagnostics[0].code == "E421"
    assert info.value.diagnostics[0].message == (
        f"data set '{tmp_path / 'events.npz'}' has samples of shape [60, 64]; input 'pixels' has shape [16, 16]: "
        "declare the input with the data's shape, or reshape or resize the data yourself; if they are events "
        "(samples, steps, channels), give the input the `spikes` encoder")
    np.savez(tmp_path / "same_size.npz", x=np.zeros((20, 8, 32)), y=np.arange(20) % 2)  # 256 values, not 16x16
    with pytest.raises(SnncError, match=r"samples of shape \[8, 32\]; input 'pixels' has shape \[16, 16\]"):
        load_data(str(tmp_path / "same_size.npz"), image_input(16, 16))
    flat = load_data(str(tmp_path / "same_size.npz"), image_input(256))  # flat on one side: a reshape
    assert flat.x_train.shape == (16, 256) and flat.note is None


def test_user_npz_split_here_or_given(tmp_path):
    x, y = np.arange(40 * 4, dtype=np.uint8).reshape(40, 4), np.repeat(np.arange(4), 10)
    np.savez(tmp_path / "d.npz", x=x, y=y)
    data = load_data(str(tmp_path / "d.npz"), image_input(4))
    assert (len(data.x_train), len(data.x_test), data.classes) == (32, 8, 4)
    assert float(data.x_train.max()) == 1.0  # bytes scaled by the training peak
    np.savez(tmp_path / "e.npz", x_train=x[:30] / 200, y_train=y[:30], x_test=x[30:] / 200, y_test=y[30:])
    data = load_data("e.npz", image_input(4), base_dir=tmp_path)  # relative to the program's directory
    assert len(data.x_test) == 10


def test_malformed_and_missing_npz_name_the_file(tmp_path):
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(SnncError, match="bad.npz' is not a readable .npz"):
        load_data(str(tmp_path / "bad.npz"), image_input(4))
    np.savez(tmp_path / "keys.npz", a=np.zeros(3))
    with pytest.raises(SnncError, match="keys.npz' must hold arrays 'x' and 'y'.*it has: a"):
        load_data(str(tmp_path / "keys.npz"), image_input(4))
    np.savez(tmp_path / "labels.npz", x=np.zeros((3, 4)), y=np.zeros(4, dtype=np.int64))
    with pytest.raises(SnncError, match="labels.npz': x must be numeric with one sample per label"):
        load_data(str(tmp_path / "labels.npz"), image_input(4))
    with pytest.raises(SnncError, match=r"'nowhere.npz' is neither an embedded one \(digits, sequential_digits\) "
                                        "nor an existing file"):
        load_data("nowhere.npz", image_input(4))


def write_idx(path, array: np.ndarray, compress: bool = False) -> None:
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + b"".join(struct.pack(">I", d) for d in array.shape)
    raw = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(raw) if compress else raw)


def test_mnist_idx_directory_and_single_file(tmp_path):
    rng = np.random.default_rng(0)
    write_idx(tmp_path / "train-images-idx3-ubyte", rng.integers(0, 256, (50, 28, 28)))
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.arange(50) % 10)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", rng.integers(0, 256, (20, 28, 28)), compress=True)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.arange(20) % 10, compress=True)
    data = load_data(str(tmp_path), image_input(28, 28))
    assert data.x_train.shape == (50, 28, 28) and data.x_test.shape == (20, 28, 28)
    assert data.y_test.tolist() == [i % 10 for i in range(20)]
    single = load_data(str(tmp_path / "train-images-idx3-ubyte"), image_input(28, 28))
    assert len(single.x_train) + len(single.x_test) == 50


def test_broken_idx_files_are_named(tmp_path):
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((5, 4, 4)))
    with pytest.raises(SnncError, match="no labels file beside .*train-images-idx3-ubyte"):
        load_data(str(tmp_path / "train-images-idx3-ubyte"), image_input(4, 4))
    raw = (tmp_path / "train-images-idx3-ubyte").read_bytes()
    (tmp_path / "train-images-idx3-ubyte").write_bytes(raw[:-3])
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(5))
    with pytest.raises(SnncError, match="train-images-idx3-ubyte' is truncated"):
        load_data(str(tmp_path / "train-images-idx3-ubyte"), image_input(4, 4))
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"\x01\x02\x03")
    with pytest.raises(SnncError, match="is not an idx file"):
        load_data(str(tmp_path / "train-images-idx3-ubyte"), image_input(4, 4))


def sequence_input(encoder, *shape: int) -> Input:
    return Input(name="rows", shape=shape, encoder=encoder)


def test_sequential_digits_are_the_digits_one_row_per_window():
    from snnc.compiler.ir.encoders import Current, Rate

    rows = load_data("sequential_digits", sequence_input(Current(scale=1.0), 8))
    images = load_data("digits", image_input(8, 8))
    assert rows.x_train.shape == (1438, 8, 8)  # (samples, windows, channels): window k is row k
    assert torch.equal(rows.x_train, images.x_train) and torch.equal(rows.y_test, images.y_test)
    assert load_data("sequential_digits", sequence_input(Rate(max_rate=100.0), 8)).x_test.shape == (359, 8, 8)
    with pytest.raises(SnncError, match=r"'sequential_digits' is a sequence of 8 windows of 8 channels; input 'rows' "
                                        r"\(current, shape \[64\]\) would need 8 channels"):
        load_data("sequential_digits", sequence_input(Current(scale=1.0), 64))
    with pytest.raises(SnncError, match=r"input 'rows' \(latency, shape \[8\]\) would need 8 channels and a rate"):
        load_data("sequential_digits", sequence_input(Latency(t_max=0.02), 8))


def test_a_3d_npz_is_a_sequence_for_rate_and_analog_encoders(tmp_path):
    from snnc.compiler.ir.encoders import Current, Spikes

    x = np.random.default_rng(0).random((40, 5, 3)).astype(np.float32)
    np.savez(tmp_path / "seq.npz", x=x, y=np.arange(40) % 4)
    data = load_data(str(tmp_path / "seq.npz"), sequence_input(Current(scale=1.0), 3))
    assert data.x_train.shape[1:] == (5, 3)
    events = load_data(str(tmp_path / "seq.npz"), sequence_input(Spikes(), 3))  # spike data keep (T, C)
    assert events.x_train.shape[1:] == (5, 3)
    with pytest.raises(SnncError, match=r"has samples of shape \[5, 3\]; input 'rows' has shape \[4\]: declare .*; "
                                        r"a sequence of windows for its current encoder is \(windows, 4\)"):
        load_data(str(tmp_path / "seq.npz"), sequence_input(Current(scale=1.0), 4))
