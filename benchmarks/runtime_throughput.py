"""Throughput of the runtime on the 256-246-10 latency network (dsl_examples/latency_digits_ff.snn):
emulator inference (samples/s) and training in the loop (samples/s, forward on the emulator plus the
twin's backward), on the reference and the bss2 emulators, with a fixed number of CPU threads.
Issue 5 compares these against snnTorch; this script prints our side.

    .venv/bin/python benchmarks/runtime_throughput.py [--threads 1] [--batch 64] [--batches 10]
"""

from __future__ import annotations

import argparse
import time

import torch

import snnc
from snnc.runtime import tune_memory
from snnc.runtime.emulators.base import emulator_for
from snnc.runtime.encoders import encode
from snnc.runtime.in_the_loop import in_the_loop
from snnc.runtime.training import loss_fn, resolve_config

NETWORK = "dsl_examples/latency_digits_ff.snn"


def measure(target: str, batch: int, batches: int) -> tuple[float, float]:
    program = snnc.compile(NETWORK, target=target)
    emulator = emulator_for(program, chip_seed=1)
    twin = emulator.make_twin()
    weights = {k: w.requires_grad_(True) for k, w in emulator.initial_weights().items()}
    x = torch.rand(batch, 16, 16, generator=torch.Generator().manual_seed(0))
    y = torch.randint(0, 10, (batch,), generator=torch.Generator().manual_seed(1))
    config = resolve_config(program.ir.header.train)
    stimulus = encode(program.ir, x)
    emulator.observe(stimulus, weights)  # warm-up
    start = time.perf_counter()
    for _ in range(batches):
        emulator.observe(encode(program.ir, x), weights, membranes="output")  # as `snnc run` does
    inference = batch * batches / (time.perf_counter() - start)

    def step() -> None:
        scores, activity = in_the_loop(emulator, twin, encode(program.ir, x), weights)
        loss_fn(config, scores, y, activity).backward()

    step()  # warm-up (the first call of a kernel signature compiles it)
    start = time.perf_counter()
    for _ in range(batches):
        step()
    training = batch * batches / (time.perf_counter() - start)
    return inference, training


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--batches", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    tune_memory()  # as `snnc train` and `snnc run` do
    print(f"{NETWORK}, batch {args.batch}, {args.threads} threads")
    print(f"{'target':<10} {'inference samples/s':>20} {'training samples/s':>20}")
    for target in ("reference", "bss2"):
        inference, training = measure(target, args.batch, args.batches)
        print(f"{target:<10} {inference:>20.0f} {training:>20.0f}")


if __name__ == "__main__":
    main()
