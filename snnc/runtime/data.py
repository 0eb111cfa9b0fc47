"""Data sets for training and running: the embedded digits (also row by row: `sequential_digits`), a
user's .npz, MNIST idx files, arrays in memory (numpy or torch) and torch Datasets.

Every set comes back as float32 samples in [0, 1] with int64 labels, split into train and test. Samples
must fit the input: the same shape, or the same size where one of the two is flat (reshaped); or a
sequence (W, C) of W windows of the input's C channels for a rate or analog encoder; or (T, C) events
for `spikes` (encoders.sample_layout). The one exception is the embedded `digits`, which is defined as
the 8x8 images resized bilinearly to a 2-D input (the DataSet's `note` says so); any other mismatch is
an error (E421), never a silent resize."""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from snnc.compiler.backend.arrays import ArchiveError
from snnc.compiler.backend.arrays import read_npz as arrays_of
from snnc.compiler.ir.encoders import Spikes
from snnc.compiler.ir.nodes import Input
from snnc.diagnostics import SnncError, error
from snnc.limits import format_bytes, memory_budget
from snnc.runtime.encoders import WINDOW_ENCODERS

SPLIT_SEED = 20240  # the digits train/test split is fixed: results are comparable across runs
TEST_FRACTION = 0.2


@dataclass
class DataSet:
    """Train and test samples and labels, ready for the network's input."""

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    classes: int
    note: str | None = None  # what was done to fit the input, when more than a reshape (digits: resized)

    def subset(self, train: int | None = None, test: int | None = None) -> DataSet:
        """The first `train` / `test` samples of each split (tests and quick runs)."""
        return DataSet(self.name, self.x_train[:train], self.y_train[:train], self.x_test[:test],
                       self.y_test[:test], self.classes, self.note)


def _fail(message: str) -> SnncError:
    return SnncError([error("E420", message)])


def split(x: np.ndarray, y: np.ndarray, seed: int = SPLIT_SEED) -> tuple[np.ndarray, ...]:
    """A fixed stratified split: TEST_FRACTION of each class to test, chosen with `seed`."""
    rng = np.random.default_rng(seed)
    test = np.zeros(len(y), dtype=bool)
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        test[rng.choice(members, size=int(round(len(members) * TEST_FRACTION)), replace=False)] = True
    train_index, test_index = rng.permutation(np.flatnonzero(~test)), rng.permutation(np.flatnonzero(test))
    return x[train_index], y[train_index], x[test_index], y[test_index]


def digits() -> tuple[np.ndarray, ...]:
    """scikit-learn's 1,797 8x8 handwritten digits (shipped in its wheel), values scaled to [0, 1]."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return split(bunch.images.astype(np.float32) / 16.0, bunch.target.astype(np.int64))


def read_npz(path: Path) -> tuple[np.ndarray, ...]:
    """`x`, `y` (split here), or `x_train`, `y_train`, `x_test`, `y_test`."""
    try:
        arrays = arrays_of(path, memory_budget())  # sizes checked from the headers before anything is read
    except (OSError, ArchiveError) as exc:
        raise _fail(f"data file '{path}' is not a readable .npz: {exc}") from None
    if {"x_train", "y_train", "x_test", "y_test"} <= arrays.keys():
        pairs = [("x_train", "y_train"), ("x_test", "y_test")]
    elif {"x", "y"} <= arrays.keys():
        pairs = [("x", "y")]
    else:
        raise _fail(f"data file '{path}' must hold arrays 'x' and 'y' (or x_train, y_train, x_test, y_test); "
                    f"it has: {', '.join(sorted(arrays)) or 'none'}")
    for xk, yk in pairs:
        xs, ys = arrays[xk], arrays[yk]
        if (xs.dtype.kind not in "fiub" or xs.ndim < 1 or ys.dtype.kind not in "iu" or ys.ndim != 1
                or len(xs) != len(ys)):
            raise _fail(f"data file '{path}': {xk} must be numeric with one sample per label, {yk} a 1-D "
                        f"integer array; got {xk} {xs.dtype}{xs.shape}, {yk} {ys.dtype}{ys.shape}")
    if len(pairs) == 1:
        return split(arrays["x"], arrays["y"])
    return tuple(arrays[k] for k in ("x_train", "y_train", "x_test", "y_test"))


IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: Path) -> np.ndarray:
    """An MNIST idx file (optionally gzipped)."""
    try:
        raw = _read_bounded(path, memory_budget())
    except FileNotFoundError:
        raise _fail(f"data file '{path}' does not exist") from None
    except (OSError, EOFError, zlib.error) as exc:
        raise _fail(f"cannot read data file '{path}': {exc}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in IDX_TYPES or raw[3] == 0:
        raise _fail(f"data file '{path}' is not an idx file (bad magic number)")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    dtype = np.dtype(IDX_TYPES[raw[2]])
    start = 4 + 4 * ndim
    if len(raw) != start + math.prod(dims) * dtype.itemsize:
        raise _fail(f"data file '{path}' is truncated or too long: header says {dims}, "
                    f"{len(raw) - start} bytes of data follow")
    return np.frombuffer(raw, dtype=dtype, offset=start).reshape(dims)


def _read_bounded(path: Path, budget: int) -> bytes:
    """A file's bytes, gunzipped if it is gzipped; OSError if they take more than `budget` bytes (a small
    .gz may unpack to terabytes)."""
    if path.stat().st_size > budget:
        raise OSError(f"{format_bytes(path.stat().st_size)}; at most {format_bytes(budget)} (half this machine's "
                      "memory) may be read")
    raw = path.read_bytes()
    if raw[:2] != b"\x1f\x8b":
        return raw
    unpacked = zlib.decompressobj(wbits=31).decompress(raw, budget + 1)
    if len(unpacked) > budget:
        raise OSError(f"it unpacks to more than {format_bytes(budget)} (half this machine's memory)")
    return unpacked


def _idx_pair(images: Path) -> tuple[np.ndarray, np.ndarray]:
    labels = images.with_name(images.name.replace("images-idx3", "labels-idx1"))
    if labels == images or not labels.exists():
        raise _fail(f"no labels file beside '{images}' (expected '{labels.name}')")
    x, y = read_idx(images), read_idx(labels)
    if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
        raise _fail(f"MNIST files '{images}' and '{labels}' disagree: images {x.shape}, labels {y.shape}")
    return x, y.astype(np.int64)


def read_mnist(path: Path) -> tuple[np.ndarray, ...]:
    """A directory with train-/t10k- image and label files, or one images file (split here)."""
    if path.is_dir():
        found = {kind: sorted(path.glob(f"{kind}-images-idx3-ubyte*")) for kind in ("train", "t10k")}
        if not found["train"]:
            raise _fail(f"directory '{path}' holds no MNIST 'train-images-idx3-ubyte' file")
        x_train, y_train = _idx_pair(found["train"][0])
        if not found["t10k"]:
            return split(x_train, y_train)
        x_test, y_test = _idx_pair(found["t10k"][0])
        return x_train, y_train, x_test, y_test
    return split(*_idx_pair(path))


def _normalize(x: np.ndarray, peak: float) -> np.ndarray:
    """Values in [0, 1]: divided by the training set's peak when that exceeds 1 (bytes, counts)."""
    x = x.astype(np.float32)
    return x / peak if peak > 1.0 else x


def _fit(x: np.ndarray, inp: Input, name: str, resize: bool = False, sequence: bool = False) -> torch.Tensor:
    """Samples shaped like the input: the same shape, or the same size reshaped where one side is flat, or
    sequences (W, C) with C the input's size; with `resize` (the embedded digits only), 2-D images resized
    bilinearly to a 2-D input shape. `sequence`: the data are windows and must stay windows."""
    t = torch.from_numpy(np.ascontiguousarray(x))
    if isinstance(inp.encoder, Spikes):
        return t  # (samples, steps, channels): the encoder checks steps and channels
    sample = tuple(t.shape[1:])
    if sequence and not (len(sample) == 2 and sample[1] == inp.size and isinstance(inp.encoder, WINDOW_ENCODERS)):
        raise SnncError([error("E421", f"data set '{name}' is a sequence of {sample[0]} windows of {sample[1]} "
                               f"channels; input '{inp.name}' ({inp.encoder.dsl_name}, shape {list(inp.shape)}) would "
                               f"need {sample[1]} channels and a rate, current or intensity encoder", inp.span)])
    if len(sample) == 2 and sample[1] == inp.size and isinstance(inp.encoder, WINDOW_ENCODERS) and \
            sample != tuple(inp.shape):
        return t  # windows
    if sample == tuple(inp.shape) or math.prod(sample) == inp.size and 1 in (len(sample), len(inp.shape)):
        return t.reshape(len(t), *inp.shape)
    if resize and len(sample) == 2 and len(inp.shape) == 2:
        resized = torch.nn.functional.interpolate(t.unsqueeze(1), size=tuple(inp.shape), mode="bilinear",
                                                  align_corners=False)
        return resized.squeeze(1).clamp_(0.0, 1.0)
    hint = ("; if they are events (samples, steps, channels), give the input the `spikes` encoder"
            if len(sample) == 2 else "")
    if isinstance(inp.encoder, WINDOW_ENCODERS):
        hint += f"; a sequence of windows for its {inp.encoder.dsl_name} encoder is (windows, {inp.size})"
    raise SnncError([error("E421", f"data set '{name}' has samples of shape {list(sample)}; input '{inp.name}' "
                           f"has shape {list(inp.shape)}: declare the input with the data's shape, or reshape or "
                           f"resize the data yourself{hint}", inp.span)])


def _labels(y, name: str) -> np.ndarray:
    y = np.asarray(y.detach().cpu() if isinstance(y, torch.Tensor) else y)
    if y.ndim != 1 or y.dtype.kind not in "iu" and not (y.dtype.kind == "f" and np.all(y == np.round(y))):
        raise _fail(f"data set '{name}': labels must be a 1-D array of integers, got {y.dtype}{list(y.shape)}")
    return y.astype(np.int64)


def _samples(x, name: str) -> np.ndarray:
    x = np.asarray(x.detach().cpu() if isinstance(x, torch.Tensor) else x)
    if x.dtype.kind not in "fiub" or x.ndim < 2:
        raise _fail(f"data set '{name}': samples must be a numeric array (samples, ...), got {x.dtype}"
                    f"{list(x.shape)}")
    return x


def _pair(data, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) from a pair of arrays or a torch Dataset of (sample, label) items."""
    if _is_pair(data):
        x, y = _samples(data[0], name), _labels(data[1], name)
    else:  # a torch Dataset (or any sequence of (sample, label))
        try:
            items = [data[i] for i in range(len(data))]
            x = _samples(np.stack([np.asarray(item[0]) for item in items]), name)
            y = _labels(np.asarray([int(item[1]) for item in items]), name)
        except (TypeError, IndexError, ValueError) as exc:
            raise _fail(f"data of type {type(data).__name__} is neither a name, a path, (x, y) arrays nor a "
                        f"torch Dataset of (sample, label) items: {exc}") from None
    if len(x) != len(y):
        raise _fail(f"data set '{name}': {len(x)} samples but {len(y)} labels")
    return x, y


def _is_pair(data) -> bool:
    return isinstance(data, (tuple, list)) and len(data) == 2


def in_memory(data, split_here: bool) -> tuple[np.ndarray, ...]:
    """(x_train, y_train, x_test, y_test) of data given in memory: (x, y) arrays (numpy or torch) or a torch
    Dataset, split here as an .npz's x and y are (`split_here`) or used whole for both splits; or
    ((x_train, y_train), (x_test, y_test))."""
    if _is_pair(data) and all(_is_pair(d) and np.ndim(d[1]) == 1 for d in data):  # labels, not one label
        return (*_pair(data[0], "arrays"), *_pair(data[1], "arrays"))
    x, y = _pair(data, "arrays")
    return split(x, y) if split_here else (x, y, x, y)


def describe(data) -> str:
    """How a data argument is named before it is loaded (load_data names data in memory by their digest)."""
    return str(data) if isinstance(data, (str, Path)) else "arrays"


def _digest(parts: tuple[np.ndarray, ...]) -> str:
    """'arrays sha256:...' of data given in memory: a checkpoint and a run can tell whether they are the same."""
    import hashlib

    digest = hashlib.sha256()
    for i, part in enumerate(parts):  # of the values as snnc takes them: samples float32, labels int64
        part = np.ascontiguousarray(part, dtype=np.float32 if i % 2 == 0 else np.int64)
        digest.update(str(part.shape).encode())
        digest.update(part.tobytes())
    return f"arrays sha256:{digest.hexdigest()[:16]}"


def load_data(spec, inp: Input, base_dir: Path | None = None, *, split_here: bool = True) -> DataSet:
    """`digits`, a .npz file, an MNIST idx file or a directory of them, or data in memory (`in_memory`),
    fitted to input `inp`."""
    if not isinstance(spec, (str, Path)):
        parts = in_memory(spec, split_here)
    elif spec in ("digits", "sequential_digits"):
        parts = digits()
    else:
        path = Path(spec)
        if not path.is_absolute() and base_dir is not None and not path.exists():
            path = base_dir / path
        if not path.exists():
            raise _fail(f"data set '{spec}' is neither an embedded one (digits, sequential_digits) nor an existing "
                        "file or directory")
        parts = read_npz(path) if path.suffix == ".npz" else read_mnist(path)
    name = describe(spec) if isinstance(spec, (str, Path)) else _digest(parts)
    x_train, y_train, x_test, y_test = parts
    if len(x_train) == 0 or len(x_test) == 0:
        raise _fail(f"data set '{name}' has an empty train or test split")
    classes = int(max(y_train.max(), y_test.max())) + 1
    if min(y_train.min(), y_test.min()) < 0:
        raise _fail(f"data set '{name}' has negative labels")
    if any(x.dtype.kind == "f" and not np.isfinite(x).all() for x in (x_train, x_test)):
        raise _fail(f"data set '{name}' holds samples that are not finite (NaN or infinity)")
    # float32 samples, as read and as resized for the input: checked before either is made
    needed = 4 * (len(x_train) + len(x_test)) * (math.prod(x_train.shape[1:]) + inp.size)
    if needed > memory_budget():
        raise _fail(f"data set '{name}' takes {format_bytes(needed)} as float32 samples for input '{inp.name}'; "
                    f"at most {format_bytes(memory_budget())} (half this machine's memory) may be used")
    peak = 1.0 if isinstance(inp.encoder, Spikes) else float(x_train.max())  # events stay events
    resize, sequence = spec == "digits", spec == "sequential_digits"
    fitted = [_fit(_normalize(x, peak), inp, name, resize, sequence) for x in (x_train, x_test)]
    note = None
    if resize and tuple(x_train.shape[1:]) != tuple(fitted[0].shape[1:]) and fitted[0].dim() == 3:
        note = (f"digits: the 8x8 images resized bilinearly to input '{inp.name}' "
                f"{'x'.join(map(str, inp.shape))}")
    return DataSet(name, fitted[0], torch.from_numpy(y_train.astype(np.int64)), fitted[1],
                   torch.from_numpy(y_test.astype(np.int64)), classes, note)
