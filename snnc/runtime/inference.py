"""`snnc run`: inference of a compiled (trained) program on its target's emulator, or deployed without
retraining onto another target (the source is recompiled for it with the trained weights)."""

from __future__ import annotations

import dataclasses
import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from snnc import defaults
from snnc.compiler.backend.artifact import CompiledProgram, load_program
from snnc.compiler.driver import compile_program
from snnc.compiler.families import load_target
from snnc.compiler.ir.graph import NetworkIR
from snnc.compiler.targets import Target
from snnc.diagnostics import SnncError, error
from snnc.runtime import seeds
from snnc.runtime.data import load_data
from snnc.runtime.emulators.base import emulator_for
from snnc.runtime.evaluation import evaluate

SPLITS = ("test", "train", "all")


@dataclass
class RunResult:
    """What `snnc run` reports."""

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

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def deploy(program: CompiledProgram, target: str | Target) -> CompiledProgram:
    """The trained `program` compiled for `target` without retraining: its source goes through the target's
    pipeline with the trained weights in place of the initial ones (then legalized, placed, routed)."""
    source = Path(program.source.get("path", ""))
    try:
        digest = hashlib.sha256(source.read_bytes()).hexdigest()
    except OSError:
        raise SnncError([error("E460", f"cannot deploy '{program.name}' to another target: its source "
                               f"'{source}' is not readable from here")]) from None
    if digest != program.source.get("sha256"):
        raise SnncError([error("E460", f"cannot deploy '{program.name}' to another target: its source "
                               f"'{source}' changed since it was compiled")])
    trained = {key: np.array(attrs["weights"]) for key, attrs in program.ir.edge_attrs_by_name().items()}

    def inject(p, ir: NetworkIR) -> None:  # after each pass (compile_program): p.name names it
        if p.name == "initialize_weights":
            for _, _, key, attrs in ir.edges():
                attrs["weights"] = trained[key].copy()

    deployed = compile_program(source, target=target, network=program.name, seed=program.seed, after_pass=inject)
    deployed.ir.graph.graph["training"] = dict(program.ir.graph.graph.get("training", {}),
                                               deployed_from=program.target.name)
    return deployed


def run(directory: str | Path, *, data: str | None = None, target: str | None = None, chip_seed: int | None = None,
        seed: int = defaults.SEED, split: str = "test", samples: int | None = None) -> RunResult:
    """Accuracy and spikes per sample of a compiled program on a data set split, on its target's emulator
    (or on `target`'s, deployed there without retraining). The chip seed defaults to the one it was
    trained on; `seed` seeds the temporal noise and the stochastic encoders, each its own stream."""
    if split not in SPLITS:
        raise SnncError([error("E461", f"unknown split '{split}'; choose one of {', '.join(SPLITS)}")])
    for name, value in (("seed", seed), ("chip-seed", chip_seed)):
        if value is not None and value < 0:
            raise SnncError([error("E461", f"--{name} must be at least 0, not {value}")])
    program = load_program(directory)
    if target is not None and load_target(target).name != program.target.name:
        program = deploy(program, target)
    if chip_seed is None:
        chip_seed = int(program.ir.graph.graph.get("training", {}).get("chip_seed", defaults.CHIP_SEED))
    emulator = emulator_for(program, chip_seed=chip_seed, noise_seed=seed)
    source_dir = Path(program.source.get("path", ".")).parent
    if data is None:  # the data set the program trains on
        data = program.ir.header.train.data if program.ir.header.train is not None else "digits"
    dataset = load_data(data, program.ir.inputs()[0], source_dir)
    if split == "test":
        x, y = dataset.x_test, dataset.y_test
    elif split == "train":
        x, y = dataset.x_train, dataset.y_train
    else:
        x, y = torch.cat([dataset.x_train, dataset.x_test]), torch.cat([dataset.y_train, dataset.y_test])
    x, y = x[:samples], y[:samples]
    start = time.perf_counter()
    measured = evaluate(emulator, emulator.initial_weights(), x, y, seeds.generator(seed, "encode"))
    return RunResult(network=program.name, target=program.target.name, data=data, split=split, samples=len(x),
                     accuracy=measured["accuracy"], spikes_per_sample=measured["spikes_per_sample"],
                     samples_per_second=measured["samples_per_second"], chip_seed=chip_seed,
                     seconds=time.perf_counter() - start, energy=measured["energy"],
                     chip_estimates=dataclasses.asdict(program.ir.graph.graph["estimates"])
                     if "estimates" in program.ir.graph.graph else {})
