"""st-rsbp against surrogate-gradient BPTT on the same network (dsl_examples/st_rsbp_digits.snn, a
rate-coded recurrent 64-128-10 network on digits): memory and time of one training step at several
numbers of time steps, and, with --train, a whole training run of each (test accuracy, seconds and
peak memory per epoch).

Memory is the resident set of the process, measured in a fresh subprocess per configuration (the
training step of torch on CPU allocates through malloc, which no allocator statistic of torch sees),
with glibc told to map every block of a page or more on its own and return it when freed (ALLOCATOR),
so that the resident set follows the live tensors: the kernel's peak (VmHWM) is reset through
/proc/self/clear_refs before each phase and read after it.
  step:     VmHWM over one training step (forward + backward) minus VmRSS before it
  backward: VmHWM over loss.backward() minus VmRSS after the forward (what the forward left held:
            the observed spike trains, and for BPTT nothing else, since the twin replays in backward)
The network keeps dt = 1 ms; T steps means a duration of T ms (rates, time constants unchanged).

    .venv/bin/python benchmarks/st_rsbp_vs_bptt.py [--steps 100 1000] [--batch 64] [--train --epochs 20 --seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

NETWORK = Path(__file__).resolve().parents[1] / "dsl_examples" / "st_rsbp_digits.snn"
METHODS = ("surrogate", "st-rsbp")


def _memory(field: str) -> int:
    """bytes of VmHWM or VmRSS of this process"""
    match = re.search(rf"^{field}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.MULTILINE)
    return int(match.group(1)) * 1024


def _reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")


def _program(steps: int):
    import snnc

    text = NETWORK.read_text().replace("duration 100 ms", f"duration {steps} ms")
    return snnc.compile(str(NETWORK), text=text, target="reference")


def step_worker(method: str, steps: int, batch: int) -> dict:
    """One configuration, in its own process: warm up on 2 samples, then measure a step on `batch`."""
    import torch

    from snnc.runtime.data import load_data
    from snnc.runtime.emulators.base import emulator_for
    from snnc.runtime.encoders import encode
    from snnc.runtime.in_the_loop import in_the_loop
    from snnc.runtime.methods import twin_for
    from snnc.runtime.training import loss_fn, resolve_config

    torch.set_num_threads(1)
    program = _program(steps)
    emulator = emulator_for(program)
    twin = twin_for(emulator, method)
    config = resolve_config(program.ir.header.train)
    data = load_data("digits", program.ir.inputs()[0])
    weights = {k: w.requires_grad_(True) for k, w in emulator.initial_weights().items()}
    generator = torch.Generator().manual_seed(0)

    def forward(n: int):
        stimulus = encode(program.ir, data.x_train[:n], generator)
        scores, activity = in_the_loop(emulator, twin, stimulus, weights)
        return loss_fn(config, scores, data.y_train[:n], activity)

    forward(2).backward()  # lazy initialization of torch and the runtime, on a tiny batch
    for w in weights.values():
        w.grad = None
    _reset_peak()
    before = _memory("VmRSS")
    start = time.perf_counter()
    loss = forward(batch)
    forward_seconds = time.perf_counter() - start
    forward_peak, held = _memory("VmHWM"), _memory("VmRSS")
    _reset_peak()
    start = time.perf_counter()
    loss.backward()
    backward_seconds = time.perf_counter() - start
    backward_peak = _memory("VmHWM")
    return {"method": method, "steps": steps, "batch": batch,
            "step_mib": (max(forward_peak, backward_peak) - before) / 2**20,
            "forward_mib": (forward_peak - before) / 2**20, "backward_mib": (backward_peak - held) / 2**20,
            "forward_s": forward_seconds, "backward_s": backward_seconds}


def train_worker(method: str, epochs: int, seed: int) -> dict:
    """A whole training run (the train block's settings, `seed` for the weights, data order and encoding)
    with the peak memory of each epoch."""
    import torch

    import snnc
    from snnc.runtime import training

    torch.set_num_threads(1)
    peaks, base = [], _memory("VmRSS")
    original = training.Trainer.epoch

    def measured(self, index, progress):
        nonlocal base
        base = _memory("VmRSS")
        _reset_peak()
        row = original(self, index, progress)
        peaks.append((_memory("VmHWM") - base) / 2**20)
        return row

    training.Trainer.epoch = measured
    result = snnc.train(NETWORK, method=method, epochs=epochs, seed=seed)
    rows = result.metrics["epochs"]
    last = [r["test_accuracy"] for r in rows[-LAST_EPOCHS:]]
    return {"method": method, "epochs": epochs, "seed": seed, "test_accuracy": result.metrics["test_accuracy"],
            "mean_of_last_epochs": sum(last) / len(last),
            "best_test_accuracy": max(r["test_accuracy"] for r in rows),
            "seconds_per_epoch": sum(r["train_seconds"] for r in rows) / len(rows),
            "epoch_peak_mib": max(peaks), "accuracy_by_epoch": [r["test_accuracy"] for r in rows]}


# glibc maps every block of a page or more on its own and returns it to the system when it is freed, so
# the resident set follows the live tensors (a (64, 128) float32 step tensor is 32 KiB); with its
# defaults a phase reuses heap memory an earlier one freed without growing the resident set, and the
# figures moved by a factor of two between runs. Mapping each tensor costs time: the step times of
# this table are not those of training (the --train runs use the same setting; compare them only
# with each other).
LAST_EPOCHS = 5  # the test accuracy moves by 2-3 points from epoch to epoch: compare the mean of the last 5
ALLOCATOR = {"MALLOC_MMAP_THRESHOLD_": "4096", "MALLOC_TRIM_THRESHOLD_": "0"}


def _spawn(*args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--worker", *args], check=True, capture_output=True, text=True,
                         env={**os.environ, **ALLOCATOR})
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--train", action="store_true", help="also train each method for --epochs")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="one training run per method and seed")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        kind, method, *rest = args.worker
        result = step_worker(method, int(rest[0]), int(rest[1])) if kind == "step" else \
            train_worker(method, int(rest[0]), int(rest[1]))
        print(json.dumps(result))
        return
    results = {"steps": [], "train": []}
    print(f"one training step, batch {args.batch} (MiB above the resident set before it; seconds)")
    print(f"{'method':<10} {'T':>5} {'step MiB':>9} {'fwd MiB':>8} {'bwd MiB':>8} {'fwd s':>7} {'bwd s':>7}")
    for steps in args.steps:
        for method in METHODS:
            r = _spawn("step", method, str(steps), str(args.batch))
            results["steps"].append(r)
            print(f"{method:<10} {steps:>5} {r['step_mib']:>9.1f} {r['forward_mib']:>8.1f} {r['backward_mib']:>8.1f} "
                  f"{r['forward_s']:>7.2f} {r['backward_s']:>7.2f}", flush=True)
    if args.train:
        print(f"\ntraining, {args.epochs} epochs of the train block's settings")
        for seed in args.seeds:
            for method in METHODS:
                r = _spawn("train", method, str(args.epochs), str(seed))
                results["train"].append(r)
                print(f"{method:<10} seed {seed}: test {100 * r['test_accuracy']:.1f}%, mean of the last "
                      f"{LAST_EPOCHS} epochs {100 * r['mean_of_last_epochs']:.1f}% (best "
                      f"{100 * r['best_test_accuracy']:.1f}%), {r['seconds_per_epoch']:.1f} s/epoch, epoch peak "
                      f"{r['epoch_peak_mib']:.0f} MiB", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
