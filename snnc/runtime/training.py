"""`snnc train`: training in the loop. Each batch runs forward on the target's emulator and backward
through its digital twin (snnc.runtime.in_the_loop); after each optimizer step the weights are
re-legalized for the target and re-deployed without re-placing. After each epoch DIR/checkpoint/ is
rewritten atomically (weights, optimizer and generator states, metrics): `resume` continues from it
bit-exactly. At the end DIR becomes, atomically, the trained program with metrics, plots and the
final checkpoint. It refuses to write over a finished run unless told to continue it (`resume`) or to
replace it (`force`). With `workers` (or under torchrun) it trains data-parallel (distributed.py): the
hooks are `group.step` (a shard of each batch, the gradients all-reduced), `group.reseed`,
`group.from_writer` and `group.writes`."""

from __future__ import annotations

import csv
import io
import json
import math
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import torch

from snnc import defaults
from snnc.compiler.backend.artifact import CompiledProgram, output_directory, save_program, write_directory_atomically
from snnc.compiler.backend.output_dir import claim_output_directory
from snnc.compiler.driver import compile_program
from snnc.compiler.ir.training import MAX_BATCH, MAX_EPOCHS, SGD, SpikeBudget, TrainSpec
from snnc.diagnostics import Diagnostic, SnncError, error
from snnc.runtime import checkpoint, deployment, distributed, plots, seeds
from snnc.runtime.budget import check_count, check_simulation_memory
from snnc.runtime.data import DataSet, describe, load_data
from snnc.runtime.emulators.base import emulator_for
from snnc.runtime.encoders import encode
from snnc.runtime.evaluation import evaluate_as_run, observe_aside
from snnc.runtime.in_the_loop import in_the_loop, warm_up
from snnc.runtime.launch import data_parallel
from snnc.runtime.methods import twin_for
from snnc.runtime.notices import KERNELS, notice_if_slow
from snnc.runtime.silence import silent_populations

# Readouts such as the maximum membrane span about one threshold unit between classes; cross-entropy
# needs logits spanning several units to express confidence, so scores are multiplied by this.
LOGIT_SCALE = 5.0


@dataclass(frozen=True)
class TrainConfig:
    """The settings of a run: the `train` block's defaults with the caller's overrides applied."""

    data: str
    loss: str
    optimizer: str
    lr: float
    momentum_or_betas: tuple[float, ...]
    epochs: int
    batch: int
    seed: int
    chip_seed: int
    method: str | None  # None: the first of the emulator's methods
    spike_budget: tuple[float, float] | None  # (per_sample, strength)
    twin: str | None = None  # None: the first of the emulator's twins (if it offers any)
    train_samples: int | None = None
    test_samples: int | None = None

    def same_run(self, other: dict[str, Any]) -> list[str]:
        """Settings that differ from a checkpoint's (epochs may grow: the run continues)."""
        mine = json.loads(json.dumps(asdict(self)))
        return [k for k in mine if k != "epochs" and mine[k] != other.get(k)]


@dataclass
class TrainResult:
    """The trained program, per-epoch metrics and where it was written."""

    program: CompiledProgram
    metrics: dict[str, Any]
    output: Path | None = None
    weights: dict[str, torch.Tensor] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # how the data were fitted to the input, when not as given
    rank: int = 0  # of the data-parallel worker that returns it; only rank 0 writes
    diagnostics: list[Diagnostic] = field(default_factory=list)  # warnings of the run (W450: a silent population)


def resolve_config(spec: TrainSpec | None, **overrides: Any) -> TrainConfig:
    spec = spec or TrainSpec()
    opt = spec.optimizer
    budget: SpikeBudget | None = spec.regularize
    values = dict(data=spec.data, loss=spec.loss, optimizer=opt.dsl_name, lr=opt.lr,
                  momentum_or_betas=(opt.momentum,) if isinstance(opt, SGD) else (opt.beta1, opt.beta2),
                  epochs=spec.epochs, batch=spec.batch, seed=spec.seed, chip_seed=defaults.CHIP_SEED,
                  method=spec.method, spike_budget=None if budget is None else (budget.per_sample, budget.strength),
                  twin=spec.twin)
    values.update({k: v for k, v in overrides.items() if v is not None})
    for key, least, most in (("epochs", 1, MAX_EPOCHS), ("batch", 1, MAX_BATCH), ("seed", 0, None),
                             ("chip_seed", 0, None), ("train_samples", 1, None), ("test_samples", 1, None)):
        check_count(key.replace("_", "-"), values.get(key), least, most)
    if not 0 < float(values["lr"]) < math.inf:
        raise SnncError([error("E450", f"--lr must be a positive number, not {values['lr']}")])
    return TrainConfig(**values)


def make_optimizer(config: TrainConfig, params: list[torch.Tensor]) -> torch.optim.Optimizer:
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=config.lr, momentum=config.momentum_or_betas[0])
    return torch.optim.Adam(params, lr=config.lr, betas=tuple(config.momentum_or_betas))


def loss_fn(config: TrainConfig, scores: torch.Tensor, labels: torch.Tensor, activity: torch.Tensor) -> torch.Tensor:
    if config.loss == "mse":
        target = torch.nn.functional.one_hot(labels, scores.shape[1]).to(scores.dtype)
        loss = torch.nn.functional.mse_loss(scores, target)
    else:
        loss = torch.nn.functional.cross_entropy(LOGIT_SCALE * scores, labels)
    if config.spike_budget is not None:
        per_sample, strength = config.spike_budget
        loss = loss + strength * torch.relu(activity - per_sample).square().mean()
    return loss


class Trainer:
    """One training run: its emulator, twin, weights, optimizer and generators."""

    def __init__(self, program: CompiledProgram, config: TrainConfig, dataset: DataSet, *, dtype=torch.float32,
                 group: distributed.Group = distributed.SINGLE):
        self.program, self.config, self.dataset, self.group = program, config, dataset, group
        self.emulator = emulator_for(program, chip_seed=config.chip_seed, noise_seed=config.seed, dtype=dtype)
        methods = self.emulator.methods
        if config.method is None:  # no --method and no `method` in the train block: the substrate's own
            self.config = config = replace(config, method=methods[0])
        if config.method not in methods:
            raise SnncError([error("E451", f"method '{config.method}' is not available on target "
                                   f"'{program.target.name}'; it trains with: {', '.join(methods)}")])
        twins = self.emulator.twins
        if config.twin is None and twins:
            self.config = config = replace(config, twin=twins[0])
        if config.twin is not None and config.twin not in twins:
            offered = f"it trains with: {', '.join(twins)}" if twins else "its twin has no variants"
            raise SnncError([error("E453", f"twin '{config.twin}' is not available on target "
                                   f"'{program.target.name}'; {offered}")])
        self.twin = twin_for(self.emulator, config.method, config.twin)
        outputs = program.ir.size(self.emulator.output.population)
        if dataset.classes > outputs:
            raise SnncError([error("E452", f"data set '{dataset.name}' has {dataset.classes} classes but output "
                                   f"'{self.emulator.output.population}' has only {outputs} neurons")])
        self.weights = self.emulator.initial_weights()
        self.emulator.legalize_(self.weights)
        for w in self.weights.values():
            w.requires_grad_(True)
        self.optimizer = make_optimizer(config, list(self.weights.values()))
        self.generators = {"shuffle": seeds.generator(config.seed, "shuffle"),
                           "encode": seeds.generator(config.seed, "encode"),
                           "noise": self.emulator.generator}  # the emulator's (bss2: a seeds.Counter)
        self.rows: list[dict[str, Any]] = []
        self.diagnostics: list[Diagnostic] = []

    def check_activity(self) -> None:
        """W450 for each spiking population silent on the first training batch (run aside)."""
        self.diagnostics = silent_populations(self.emulator, self.weights, self.dataset.x_train[:self.config.batch])

    def epoch(self, index: int, progress: bool) -> dict[str, Any]:
        from tqdm import tqdm

        config, data = self.config, self.dataset
        self.group.reseed(self.generators, config.seed, index)
        order = torch.randperm(len(data.x_train), generator=self.generators["shuffle"])
        batches = range(0, len(order), config.batch)
        totals = {"loss": 0.0, "correct": 0, "events": 0.0, "samples": 0}
        start = time.perf_counter()
        # a bar on a terminal only: elsewhere (a log, a pipe) its carriage returns are junk; the epoch's line stays
        with tqdm(batches, desc=f"epoch {index + 1}/{config.epochs}", disable=not (progress and sys.stderr.isatty()),
                  file=sys.stderr,
                  unit="batch", leave=False, dynamic_ncols=True) as bar:
            for i in bar:
                figures = self.group.step(self.backward, order[i:i + config.batch], self.weights, tuple(totals))
                self.optimizer.step()
                self.emulator.legalize_(self.weights)
                for key, value in figures.items():
                    totals[key] += value
                n = totals["samples"]
                bar.set_postfix(loss=f"{totals['loss'] / n:.3f}", acc=f"{100 * totals['correct'] / n:.1f}%",
                                spikes=f"{totals['events'] / n:.1f}", refresh=False)
        seconds = time.perf_counter() - start
        # on rank 0 alone: sharded, a noisy target's test accuracy would no longer be what `snnc run` gets
        test = self.group.from_writer(evaluate_as_run, self.emulator, self.weights, data.x_test, data.y_test,
                                      config.seed)
        n = totals["samples"]
        row = {"epoch": index + 1, "loss": totals["loss"] / n, "train_accuracy": totals["correct"] / n,
               "test_accuracy": test["accuracy"], "spikes_per_sample": totals["events"] / n,
               "test_spikes_per_sample": test["spikes_per_sample"], "train_seconds": seconds,
               "train_samples_per_second": n / seconds, "test_samples_per_second": test["samples_per_second"],
               **test["energy"]}
        if progress:  # one line per epoch
            print(f"epoch {index + 1}/{config.epochs}: loss {row['loss']:.4f}, train accuracy "
                  f"{100 * row['train_accuracy']:.2f}%, test accuracy {100 * row['test_accuracy']:.2f}%, "
                  f"{row['spikes_per_sample']:.1f} spikes/sample, {seconds:.1f} s", file=sys.stderr)
        self.rows.append(row)
        return row

    def backward(self, idx: torch.Tensor) -> dict[str, float]:
        """Forward on the substrate and backward through the twin for the samples `idx`, the gradients left
        in the weights' .grad; the loss, correct answers, events and samples summed over them."""
        data = self.dataset
        stimulus = encode(self.program.ir, data.x_train[idx], self.generators["encode"])
        scores, activity = in_the_loop(self.emulator, self.twin, stimulus, self.weights)
        loss = loss_fn(self.config, scores, data.y_train[idx], activity)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        return {"loss": float(loss.detach()) * len(idx), "correct": int((scores.argmax(1) == data.y_train[idx]).sum()),
                "events": float(activity.detach().sum()), "samples": len(idx)}

    def metrics(self) -> dict[str, Any]:
        last = self.rows[-1] if self.rows else {}
        return {"network": self.program.name, "target": self.program.target.name, "config": asdict(self.config),
                "epochs": self.rows, "test_accuracy": last.get("test_accuracy"),
                "spikes_per_sample": last.get("test_spikes_per_sample"),
                "train_seconds": sum(r["train_seconds"] for r in self.rows), "workers": self.group.size,
                "warnings": [d.to_dict() for d in self.diagnostics]}

    def checkpoint_files(self) -> dict[str, bytes]:
        """The checkpoint directory's files: the state and the metrics so far."""
        meta = {"epoch": len(self.rows), "config": json.loads(json.dumps(asdict(self.config))),
                "source": self.program.source, "target": self.program.target.name, "rows": self.rows}
        return {**checkpoint.dump(meta, self.weights, self.optimizer, self.generators),
                "metrics.json": json.dumps(self.metrics(), indent=1).encode()}

    def files(self) -> dict[str, bytes]:
        """Beside the trained program: metrics.json, metrics.csv, the plots and the checkpoint."""
        table = io.StringIO()
        if self.rows:
            writer = csv.DictWriter(table, fieldnames=list(self.rows[0]))
            writer.writeheader()
            writer.writerows(self.rows)
        files = {"metrics.json": json.dumps(self.metrics(), indent=1).encode(),
                 "metrics.csv": table.getvalue().encode(),
                 **{f"{checkpoint.DIRECTORY}/{k}": v for k, v in self.checkpoint_files().items()}}
        if self.rows:
            files.update(self.plots())
        return files

    def plots(self) -> dict[str, bytes]:
        title = f"{self.program.name} on {self.program.target.name}"
        files = plots.curves(self.rows, title)
        data, dt = self.dataset, self.emulator.ir.header.timestep
        sample, observation = observe_aside(self.emulator, self.weights, data.x_test)  # plotting moves no state
        if observation.values:  # no time axis (optics): each population's clicks or values, not a raster at t = 0
            files["clicks.png"] = plots.clicks(plots.layers_of(self.program.ir, observation.values),
                                               self.emulator.output.population, int(data.y_test[0]),
                                               f"{title}: test sample 0 (label {int(data.y_test[0])})")
            return files
        spikes = {k: z[:, 0].numpy() for k, z in {**sample.events, **observation.spikes}.items()}
        files["raster.png"] = plots.raster(spikes, dt, f"{title}: spikes of test sample 0 "
                                           f"(label {int(data.y_test[0])})")
        out = self.emulator.output.population
        if out in observation.membrane:
            files["membrane.png"] = plots.membrane(observation.membrane[out][:, 0].numpy(), dt,
                                                   int(data.y_test[0]), f"{title}: readout '{out}', test sample 0")
        return files

    def export(self) -> CompiledProgram:
        return self.emulator.export(self.weights, training={
            "method": self.config.method, "twin": self.config.twin, "epochs": len(self.rows),
            "chip_seed": self.config.chip_seed, "seed": self.config.seed, "data": self.config.data,
            "test_samples": len(self.dataset.x_test),
            "test_accuracy": self.rows[-1]["test_accuracy"] if self.rows else None})

    def resume_from(self, directory: Path) -> None:
        meta, arrays = self.group.from_writer(checkpoint.read, directory)  # rank 0 has the files
        differs = self.config.same_run(meta.get("config", {}))
        if meta.get("source", {}).get("sha256") != self.program.source.get("sha256"):
            differs.insert(0, "the program source")
        if differs:
            raise SnncError([error("E442", f"cannot resume from '{directory}': {', '.join(differs)} differ from "
                                   "the checkpointed run")])
        checkpoint.restore(meta, arrays, self.weights, self.optimizer, self.generators)
        self.rows = list(meta["rows"])


@data_parallel  # takes `workers` (N processes) and passes `group`
def train(source: deployment.Program, *, target: str | None = None, network: str | None = None,
          out: str | Path | None = None, data: Any = None, epochs: int | None = None, batch: int | None = None,
          lr: float | None = None, seed: int | None = None, chip_seed: int | None = None, method: str | None = None,
          twin: str | None = None, chips: int | None = None, resume: bool = False, force: bool = False,
          train_samples: int | None = None, test_samples: int | None = None, progress: bool = False,
          on_epoch: Callable[[dict[str, Any]], None] | None = None,
          notify: Callable[[str], None] | None = None, group: distributed.Group = distributed.SINGLE) -> TrainResult:
    """Train a program in the loop on `target`'s emulator (over `chips` chips): a .snn source (compiled
    with the run's seed), a CompiledProgram or a program directory (its weights are the start; deployed
    onto `target` first if that differs). `data`: a name, a path, (x, y) arrays or a torch Dataset (split
    as an .npz's x, y), or ((x_train, y_train), (x_test, y_test)). With `out` (`{network}` and `{target}`
    are replaced), write the trained program, metrics, plots and a per-epoch checkpoint there: `resume`
    continues the run checkpointed in `out`, `force` replaces one. `notify` hears of long waits. `workers=N`
    trains data-parallel in N processes (spawned: call it under `if __name__ == "__main__":`)."""
    with group.agreement():  # a worker that fails to set up stops all of them, reported once
        if resume and force:
            raise SnncError([error("E440", "--resume continues the run in the output directory and --force replaces "
                                   "it: give one of them")])
        if resume and out is None:
            raise SnncError([error("E440", "--resume needs the output directory (-o DIR) of the run to continue")])
        if deployment.is_source(source):  # parsed and checked once: the train block's defaults, then the target
            checked = deployment.check_source(source, network)
            spec, base = checked.ir.header.train, Path(source).parent
        else:
            program = deployment.program_to_run(source, target, chips)
            spec, base = program.ir.header.train, Path(program.source.get("path", ".")).parent
        config = resolve_config(spec, data=None if data is None else describe(data), epochs=epochs, batch=batch, lr=lr,
                                seed=seed, chip_seed=chip_seed, method=method, twin=twin,
                                train_samples=train_samples,
                                test_samples=test_samples)
        if deployment.is_source(source):
            program = compile_program(checked, target=target or defaults.TARGET, seed=config.seed, chips=chips)
        check_simulation_memory(program.ir, config.batch, training=True)
        out = None if out is None else output_directory(out, program)
        if group.writes:
            checkpoint.check_output(out, resume=resume, force=force)
        dataset = load_data(config.data if data is None else data, program.ir.inputs()[0], base)
        dataset = dataset.subset(train_samples, test_samples)
        config = replace(config, data=dataset.name)  # in-memory data: named with their digest
        trainer = Trainer(program, config, dataset, group=group)
        if resume:
            trainer.resume_from(out)
            checkpoint.check_work_left(out, len(trainer.rows), config.epochs)
        elif out is not None and group.writes:
            claim_output_directory(out)  # refused now, not after training, if it is not snnc's to replace
            if force:
                checkpoint.discard(out)
    group.broadcast_(trainer.weights)  # every worker starts from rank 0's weights, as DDP does
    writes = out is not None and group.writes
    def warm() -> None:
        warm_up(trainer.emulator, trainer.twin, encode(program.ir, dataset.x_train[:1], torch.Generator()),
                trainer.weights)

    with notice_if_slow(notify if group.writes else None, KERNELS):
        # rank 0 first: on a cold numba cache the other workers then load the kernels it compiled rather
        # than all compiling and writing the same cache files at once (a worker aborted once doing so)
        group.from_writer(warm)
        if not group.writes:
            warm()
    trainer.check_activity()
    for index in range(len(trainer.rows), config.epochs):
        row = trainer.epoch(index, progress and group.writes)
        if writes and index + 1 < config.epochs:  # the last epoch's state goes with the program
            write_directory_atomically(out / checkpoint.DIRECTORY, trainer.checkpoint_files())
        if on_epoch is not None and group.writes:
            on_epoch(row)
    trained = trainer.export()
    if writes:
        save_program(trained, out, trainer.files())
    return TrainResult(program=trained, metrics=trainer.metrics(), output=out if writes else None, rank=group.rank,
                       notes=[dataset.note] if dataset.note else [],
                       weights={k: w.detach().clone() for k, w in trainer.weights.items()},
                       diagnostics=trainer.diagnostics)
