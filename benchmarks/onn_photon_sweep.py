"""Accuracy against optical energy on the `onn` target: dsl_examples/onn_digits_pat.snn trained with
physics-aware training at several photon budgets, each then run on the stochastic optics with several
noise seeds. Prints one row per budget: the budget (photons per MAC and inference), exposures, the
measured photons per MAC reaching the hidden detectors (all exposures), and test accuracy (mean and
range over seeds).

    .venv/bin/python benchmarks/onn_photon_sweep.py [--budgets 0.01x1 0.02x1 0.04x1 ...] [--epochs 80]

A budget PxS means photons_per_mac = P, shots = S: the source holds P photons per MAC and inference at
the hidden detectors, P / S per exposure (docs/onn.md)."""

from __future__ import annotations

import argparse
import re
import statistics
from pathlib import Path

import snnc

EXAMPLE = Path(__file__).resolve().parent.parent / "dsl_examples" / "onn_digits_pat.snn"
SEEDS = (0, 1, 2, 3, 4)


def variant(ppm: float, shots: int, directory: Path) -> Path:
    text = EXAMPLE.read_text()
    text = re.sub(r"photons_per_mac = [0-9.e-]+, shots = \d+", f"photons_per_mac = {ppm:g}, shots = {shots}", text)
    # enough source light for every budget (the source would be capped below it, docs/onn.md); the emulator
    # normalizes intensities by it
    text = text.replace("intensity(photons = 1000)", "intensity(photons = 100000)")
    path = directory / f"onn_digits_{ppm:g}x{shots}.snn"
    path.write_text(text)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budgets", nargs="+",
                        default=["0.01x1", "0.02x1", "0.04x1", "0.04x2", "0.08x4", "0.16x4", "0.16x8"])
    parser.add_argument("--epochs", type=int, default=80)
    parser.add_argument("--out", default="build/onn_sweep")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print("photons/MAC (budget)  exposures  measured photons/MAC  test accuracy (mean [min, max] over seeds)")
    for budget in args.budgets:
        ppm, shots = float(budget.split("x")[0]), int(budget.split("x")[1])
        source = variant(ppm, shots, out)
        trained = out / source.stem
        snnc.train(source, target="onn", out=trained, epochs=args.epochs, progress=False, force=True)
        runs = [snnc.run(trained, seed=seed) for seed in SEEDS]
        accuracy = [r.accuracy for r in runs]
        photons = statistics.mean(r.energy["photons_per_mac.h"] for r in runs)
        print(f"{ppm:>20g}  {shots:>9d}  {photons:>20.4f}  {100 * statistics.mean(accuracy):.1f}% "
              f"[{100 * min(accuracy):.1f}, {100 * max(accuracy):.1f}]", flush=True)


if __name__ == "__main__":
    main()
