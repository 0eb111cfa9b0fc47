"""What the membrane in the loop buys: a network trained on the ideal reference and deployed to uncalibrated
BrainScaleS-2 chips without retraining, against the same network trained in the loop on each chip with the
spike-only twin (`--twin spikes`) and with the membrane twin (`--twin membrane`, the CADC's samples in the
backward pass). Prints one markdown row per chip and training seed, then the means (docs/in_the_loop.md).

    .venv/bin/python benchmarks/in_the_loop_twins.py [--network dsl_examples/latency_digits_small.snn]
        [--chips 1 2 3 4 5] [--seeds 0] [--epochs N] [--target dsl_examples/targets/bss2_uncalibrated.yaml]

Accuracy: the 359 test digits on the chip (temporal-noise seed 0 of `snnc run`)."""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import snnc

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
    args = parser.parse_args()
    out = Path(args.out)
    columns = ["reference (no chip)", "reference deployed", *(f"in the loop, {t} twin" for t in TWINS)]
    print(f"| chip | seed | {' | '.join(columns)} | seconds ({', '.join(TWINS)}) |")
    print("|---|---|" + "---|" * (len(columns) + 1))
    results: dict[str, list[float]] = {c: [] for c in columns}
    for seed in args.seeds:
        reference = out / f"reference.{seed}"
        trained = snnc.train(args.network, out=reference, seed=seed, epochs=args.epochs)
        for chip in args.chips:
            row = [trained.metrics["test_accuracy"],
                   snnc.run(reference, target=args.target, chip_seed=chip).accuracy]
            seconds = []
            for twin in TWINS:
                start = time.perf_counter()
                snnc.train(args.network, target=args.target, chip_seed=chip, seed=seed, twin=twin,
                           epochs=args.epochs, out=out / f"{twin}.{chip}.{seed}")
                seconds.append(time.perf_counter() - start)
                row.append(snnc.run(out / f"{twin}.{chip}.{seed}").accuracy)
            for column, value in zip(columns, row):
                results[column].append(value)
            cells = " | ".join(f"{100 * a:.2f}%" for a in row)
            print(f"| {chip} | {seed} | {cells} | {', '.join(f'{s:.0f}' for s in seconds)} |", flush=True)
    means = " | ".join(f"**{100 * statistics.mean(v):.2f}%**" for v in results.values())
    print(f"| mean | | {means} | |")


if __name__ == "__main__":
    main()
