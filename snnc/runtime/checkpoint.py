"""Training state as files without pickle: tensors in an .npz (weights, optimizer moments, generator
states), everything else in JSON. Restoring it continues a run bit-exactly."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from snnc.compiler.backend.arrays import read_npz
from snnc.compiler.backend.output_dir import recover_interrupted_swap
from snnc.diagnostics import SnncError, error
from snnc.limits import memory_budget

DIRECTORY = "checkpoint"  # inside a training run's output directory
STATE_NPZ, STATE_JSON = "state.npz", "state.json"
FORMAT = "snnc-checkpoint"


def dump(meta: dict[str, Any], weights: dict[str, torch.Tensor], optimizer: torch.optim.Optimizer,
         generators: dict[str, torch.Generator]) -> dict[str, bytes]:
    """The checkpoint's files (name -> bytes), to be written together into one directory."""
    arrays: dict[str, np.ndarray] = {f"weights/{k}": w.detach().cpu().numpy() for k, w in weights.items()}
    state = optimizer.state_dict()
    tensor_keys: dict[str, list[str]] = {}
    for index, slots in state["state"].items():
        tensor_keys[str(index)] = sorted(slots)
        for key, value in slots.items():
            arrays[f"optimizer/{index}/{key}"] = torch.as_tensor(value).cpu().numpy()
    for name, generator in generators.items():
        arrays[f"generator/{name}"] = generator.get_state().numpy()
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    document = {"format": FORMAT, **meta, "weight_names": list(weights), "optimizer_slots": tensor_keys,
                "param_groups": state["param_groups"]}
    return {STATE_NPZ: buffer.getvalue(), STATE_JSON: json.dumps(document, indent=1).encode("utf-8")}


def read(directory: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The JSON document and the arrays of the checkpoint of the run in `directory`; SnncError naming
    the file."""
    meta_file, npz_file = directory / DIRECTORY / STATE_JSON, directory / DIRECTORY / STATE_NPZ
    try:
        recover_interrupted_swap(directory / DIRECTORY)  # a checkpoint write killed between its renames
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        arrays = read_npz(npz_file, memory_budget())  # sizes checked from the headers before reading
    except FileNotFoundError as exc:
        raise SnncError([error("E440", f"cannot resume: '{exc.filename}' is missing (no checkpoint in "
                               f"'{directory}')")]) from None
    except (OSError, ValueError, RecursionError) as exc:  # (JSON, UTF-8 and archive errors are ValueErrors)
        raise SnncError([error("E441", f"cannot resume: the checkpoint in '{directory}' is corrupt: {exc}")]) from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise SnncError([error("E441", f"cannot resume: '{meta_file}' is not an snnc checkpoint")])
    return meta, arrays


def restore(meta: dict[str, Any], arrays: dict[str, np.ndarray], weights: dict[str, torch.Tensor],
            optimizer: torch.optim.Optimizer, generators: dict[str, torch.Generator]) -> None:
    """Load a checkpoint into live objects (weights in place); SnncError (E441) if it does not fit them."""
    try:
        _restore(meta, arrays, weights, optimizer, generators)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, RuntimeError) as exc:
        raise SnncError([error("E441", f"cannot resume: the checkpoint does not fit this run ({type(exc).__name__}: "
                               f"{exc})")]) from None


def _restore(meta: dict[str, Any], arrays: dict[str, np.ndarray], weights: dict[str, torch.Tensor],
             optimizer: torch.optim.Optimizer, generators: dict[str, torch.Generator]) -> None:
    with torch.no_grad():
        for name, w in weights.items():
            w.copy_(torch.from_numpy(arrays[f"weights/{name}"]))
    state = {"state": {int(index): {key: torch.from_numpy(arrays[f"optimizer/{index}/{key}"].copy())
                                    for key in keys}
                       for index, keys in meta["optimizer_slots"].items()},
             "param_groups": meta["param_groups"]}
    optimizer.load_state_dict(state)
    for name, generator in generators.items():
        generator.set_state(torch.from_numpy(arrays[f"generator/{name}"].copy()))


def finished_run(directory: Path) -> str | None:
    """What training run `directory` holds ('a finished run of 3 epochs, test accuracy 96.38%', 'an
    unfinished run'), or None when it holds none."""
    metrics = directory / "metrics.json"
    if metrics.is_file():
        try:
            document = json.loads(metrics.read_text(encoding="utf-8"))
            accuracy = document.get("test_accuracy")
            return (f"a finished run of {len(document['epochs'])} epochs" +
                    (f", test accuracy {100 * accuracy:.2f}%" if accuracy is not None else ""))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return "a finished run"
    return "an unfinished run" if (directory / DIRECTORY).is_dir() else None


def check_output(directory: Path | None, *, resume: bool, force: bool) -> None:
    """SnncError (E443) when `directory` holds a training run and the caller neither continues it nor
    replaces it: training never writes over a run silently."""
    if directory is None or resume or force:
        return
    held = finished_run(directory)
    if held is not None:
        raise SnncError([error("E443", f"'{directory}' holds {held}; --resume continues it (with more "
                               "--epochs), --force replaces it, or choose another -o DIR")])


def check_work_left(directory: Path, done: int, epochs: int) -> None:
    """SnncError (E444) when the resumed run has already trained `epochs` epochs: nothing to do."""
    if done >= epochs:
        raise SnncError([error("E444", f"nothing to resume: the run in '{directory}' has trained {done} epoch"
                               f"{'s' if done != 1 else ''} and --epochs asks for {epochs}; give --epochs "
                               f"{done + 1} or more to train on")])


def discard(directory: Path | None) -> None:
    """Empty the run that --force replaces, before the new run writes its first checkpoint there: replaced
    atomically by an empty output directory (which refuses, like any output, what snnc did not write)."""
    if directory is not None and directory.is_dir():
        from snnc.compiler.backend.artifact import write_directory_atomically

        write_directory_atomically(directory, {})
