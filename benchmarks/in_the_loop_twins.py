"""What the membrane in the loop buys: a network trained on the ideal reference and deployed to uncalibrated
BrainScaleS-2 chips without retraining, against the same network trained in the loop on each chip with the
spike-only twin (`--twin spikes`) and with the membrane twin (`--twin membrane`, the CADC's samples in the
backward pass). Prints one markdown row per chip and training seed, then the means (docs/in_the_loop.md).

    .venv/bin/python benchmarks/in_the_loop_twins.py [--network dsl_examples/latency_digits_small.snn]
        [--chips 1 2 3 4 5] [--seeds 0] [--epochs N] [--target dsl_examples/targets/bss2_uncalibrated.yaml]
    .venv/bin/python benchmarks/in_the_loop_twins.py --cost [--network ...] [--batch 256] [--rounds 7]

Accuracy: the 359 test digits on the chip (temporal-noise seed 0 of `snnc run`). `--cost` instead times
one training step (the chip's forward, the twin's replay and backward; CPU seconds, 1 thread) of the
spike-only twin, the membrane twin on the fast adjoint and the membrane twin on the general core, in
turn round by round, and prints the medians and their ratios to the spike-only twin."""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import torch

import snnc
from snnc.runtime.emulators import fast_threads
from snnc.runtime.emulators.base import emulator_for
from snnc.runtime.encoders import encode
from snnc.runtime.in_the_loop import in_the_loop
from snnc.runtime.training import loss_fn, resolve_config

ROOT = Path(__file__).resolve().parent.parent
TWINS = ("spikes", "membrane")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--network", default=str(ROOT / "dsl_examples" / "latency_digits_small.snn"))
    parser.add_argument("--target", default=str(ROOT / "dsl_examples" / "targets" / "bss2_uncalibrated.yaml"))
    parser.add_argument("--chips", nargs="+", type=int, default=[1, 2, 3, 4, 5])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--epochs", type=int, help="default: the train block's")
    parser.add_argument("--out", default="build/twins")
    parser.add_argument("--cost", action="store_true", help="time a training step of each twin instead")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    if args.cost:
        cost(args.network, args.target, args.batch, args.rounds)
        return
    torch.set_num_threads(1)  # as `snnc train` and `snnc run` (cli/commands.py): OpenMP threads on busy cores crawl
    out = Path(args.out)
    columns = ["reference (no chip)", "reference deployed", *(f"in the loop, {t} twin" for t in TWINS)]
    print(f"| chip | seed | {' | '.join(columns)} | seconds ({', '.join(TWINS)}) |")
    print("|---|---|" + "---|" * (len(columns) + 1))
    results: dict[str, list[float]] = {c: [] for c in columns}
    for seed in args.seeds:
        reference = out / f"reference.{seed}"
        trained = snnc.train(args.network, out=reference, seed=seed, epochs=args.epochs, force=True)
        for chip in args.chips:
            row = [trained.metrics["test_accuracy"],
                   snnc.run(reference, target=args.target, chip_seed=chip).accuracy]
            seconds = []
            for twin in TWINS:
                start = time.perf_counter()
                snnc.train(args.network, target=args.target, chip_seed=chip, seed=seed, twin=twin,
                           epochs=args.epochs, out=out / f"{twin}.{chip}.{seed}", force=True)
                seconds.append(time.perf_counter() - start)
                row.append(snnc.run(out / f"{twin}.{chip}.{seed}").accuracy)
            for column, value in zip(columns, row):
                results[column].append(value)
            cells = " | ".join(f"{100 * a:.2f}%" for a in row)
            print(f"| {chip} | {seed} | {cells} | {', '.join(f'{s:.0f}' for s in seconds)} |", flush=True)
    means = " | ".join(f"**{100 * statistics.mean(v):.2f}%**" for v in results.values())
    print(f"| mean | | {means} | |")


def cost(network: str, target: str, batch: int, rounds: int) -> None:
    torch.set_num_threads(1)
    fast_threads.set_threads(1)
    program = snnc.compile(network, target=target)
    emulator = emulator_for(program, chip_seed=1)
    weights = {k: w.requires_grad_(True) for k, w in emulator.initial_weights().items()}
    x = torch.rand(batch, program.ir.size(program.ir.inputs()[0].name), generator=torch.Generator().manual_seed(0))
    y = torch.randint(0, 10, (batch,), generator=torch.Generator().manual_seed(1))
    config = resolve_config(program.ir.header.train)
    on_core = emulator.make_twin("membrane")
    on_core.fast_replay = lambda observation: False  # autograd through core.simulate(observed=...)
    twins = {"spike-only": emulator.make_twin("spikes"), "membrane, fast": emulator.make_twin("membrane"),
             "membrane, core": on_core}

    def step(twin) -> float:
        start = time.process_time()
        scores, activity = in_the_loop(emulator, twin, encode(program.ir, x), weights)
        loss_fn(config, scores, y, activity).backward()
        return time.process_time() - start

    for twin in twins.values():
        step(twin)  # warm-up: the kernels compile on their first call
    seconds: dict[str, list[float]] = {name: [] for name in twins}
    for _ in range(rounds):
        for name, twin in twins.items():
            seconds[name].append(step(twin))
    base = statistics.median(seconds["spike-only"])
    print(f"{Path(network).name} on {Path(target).name}, batch {batch}, 1 thread, {rounds} rounds, "
          f"load {os.getloadavg()[0]:.1f}")
    for name, values in seconds.items():
        median = statistics.median(values)
        print(f"{name:<16} {1000 * median:8.1f} ms per step (CPU)  {median / base:5.2f}x")


if __name__ == "__main__":
    main()
