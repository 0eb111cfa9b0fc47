"""`snnc run`: inference of a compiled (trained) program on its target's emulator, or deployed without
retraining onto another target or chip count (the source is recompiled for it with the trained weights).

By default a trained program runs as its training's final test evaluation did (the same chip, seed,
data and test samples, the noise and encoding streams started afresh from the seed on both sides), so
it reports the same accuracy; RunResult.differences names whatever makes a run differ from it."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from snnc import defaults
from snnc.compiler.targets import Target
from snnc.diagnostics import SnncError, error
from snnc.runtime import seeds
from snnc.runtime.budget import check_count, check_simulation_memory
from snnc.runtime.data import load_data
from snnc.runtime.deployment import Program, deploy, program_to_run
from snnc.runtime.emulators.base import emulator_for
from snnc.runtime.evaluation import EVAL_BATCH, evaluate
from snnc.runtime.notices import KERNELS, notice_if_slow

__all__ = ["SPLITS", "RunResult", "deploy", "run"]
SPLITS = ("test", "train", "all")


@dataclass
class RunResult:
    """What `snnc run` reports: accuracy and, per sample, the prediction and the output's scores."""

    network: str
    target: str
    data: str
    split: str
    samples: int
    accuracy: float
    spikes_per_sample: float
    samples_per_second: float
    chip_seed: int
    seconds: float
    energy: dict[str, float] = field(default_factory=dict)  # e.g. photons_per_mac.<population> on optics
    chip_estimates: dict[str, float] = field(default_factory=dict)  # bss2: report.json's `estimates`
    predictions: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # (samples,) the argmax
    scores: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))  # (samples, outputs)
    labels: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # (samples,)
    seed: int = defaults.SEED
    trained_accuracy: float | None = None  # the training's final test accuracy, if it was trained
    differences: list[str] = field(default_factory=list)  # why this run is not that evaluation
    notes: list[str] = field(default_factory=list)  # how the data were fitted to the input

    def to_dict(self) -> dict[str, Any]:
        return {key: value.tolist() if isinstance(value, np.ndarray) else value for key, value in self.__dict__.items()}


def _defaults(training: dict[str, Any], data: Any, seed: int | None, chip_seed: int | None) -> tuple:
    """data, seed and chip seed of a run: as given, else as the training evaluated, else the defaults."""
    if data is None:
        data = training.get("data")
        if data is None or str(data).startswith("arrays"):  # in memory then: not ours to reload
            data = None
    return (data, training.get("seed", defaults.SEED) if seed is None else seed,
            int(training.get("chip_seed", defaults.CHIP_SEED)) if chip_seed is None else chip_seed)


def differences(training: dict[str, Any], result: RunResult, chips: int | None) -> list[str]:
    """What differs between this run and the training's final test evaluation (empty: it reproduces it)."""
    found = []
    if training.get("deployed_from"):
        over = f" over {chips} chips" if chips is not None else ""
        found.append(f"deployed onto {result.target}{over} (trained on {training['deployed_from']})")
    for what, mine, theirs in (("chip seed", result.chip_seed, training.get("chip_seed")),
                               ("seed", result.seed, training.get("seed")),
                               ("data", result.data, training.get("data"))):
        if theirs is not None and mine != theirs:
            found.append(f"{what} {mine} (trained with {theirs})")
    if result.split != "test":
        split = "the data as given" if result.split == "given" else f"the {result.split} split"
        found.append(f"{split} (the training evaluated the test split)")
    elif training.get("test_samples") is not None and result.samples != training["test_samples"]:
        found.append(f"{result.samples} test samples (the training evaluated {training['test_samples']})")
    return found


def run(program: Program, *, data: Any = None, target: str | Target | None = None, chips: int | None = None,
        chip_seed: int | None = None, seed: int | None = None, split: str = "test", samples: int | None = None,
        network: str | None = None, notify: Callable[[str], None] | None = None) -> RunResult:
    """Accuracy, per-sample predictions and scores, and spikes per sample of a program on a data set split,
    on its target's emulator (or on `target`'s / over `chips` chips, deployed there without retraining).
    `program`: a CompiledProgram, a program directory, or a .snn source (compiled for `target`, default
    reference). `data`: a name, a path, (x, y) arrays or a torch Dataset (evaluated whole). Data, chip seed,
    seed and test samples default to the training's, so a trained program reproduces its final test
    accuracy (or RunResult.differences says why not). `notify` hears of long waits."""
    if split not in SPLITS:
        raise SnncError([error("E461", f"unknown split '{split}'; choose one of {', '.join(SPLITS)}")])
    for name, value in (("seed", seed), ("chip-seed", chip_seed)):
        if value is not None and value < 0:
            raise SnncError([error("E461", f"--{name} must be at least 0, not {value}")])
    check_count("samples", samples, code="E461")
    compiled = program_to_run(program, target, chips, network)
    training = compiled.ir.graph.graph.get("training", {})
    data, seed, chip_seed = _defaults(training, data, seed, chip_seed)
    check_simulation_memory(compiled.ir, min(EVAL_BATCH, samples or EVAL_BATCH), training=False)
    if data is None:  # the data set the program trains on
        data = compiled.ir.header.train.data if compiled.ir.header.train is not None else "digits"
    in_memory = not isinstance(data, (str, Path))
    emulator = emulator_for(compiled, chip_seed=chip_seed, noise_seed=seed)
    source_dir = Path(compiled.source.get("path", ".")).parent
    dataset = load_data(data, compiled.ir.inputs()[0], source_dir, split_here=not in_memory)
    if split == "test" or in_memory:
        x, y = dataset.x_test, dataset.y_test
    elif split == "train":
        x, y = dataset.x_train, dataset.y_train
    else:
        x, y = torch.cat([dataset.x_train, dataset.x_test]), torch.cat([dataset.y_train, dataset.y_test])
    if samples is None and split == "test" and not in_memory and training.get("data") == dataset.name:
        samples = training.get("test_samples")
    x, y = x[:samples], y[:samples]
    start = time.perf_counter()
    with notice_if_slow(notify, KERNELS):
        measured = evaluate(emulator, emulator.initial_weights(), x, y, seeds.generator(seed, "encode"))
    result = RunResult(network=compiled.name, target=compiled.target.name, data=dataset.name,
                       split="given" if in_memory else split, samples=len(x), accuracy=measured["accuracy"],
                       spikes_per_sample=measured["spikes_per_sample"],
                       samples_per_second=measured["samples_per_second"], chip_seed=chip_seed,
                       seconds=time.perf_counter() - start, energy=measured["energy"],
                       predictions=measured["predictions"].numpy(), scores=measured["scores"].float().numpy(),
                       labels=y.numpy(), seed=seed, trained_accuracy=training.get("test_accuracy"),
                       notes=[dataset.note] if dataset.note else [],
                       chip_estimates=dataclasses.asdict(compiled.ir.graph.graph["estimates"])
                       if "estimates" in compiled.ir.graph.graph else {})
    if result.trained_accuracy is not None:
        result.differences = differences(training, result, chips)
    return result
