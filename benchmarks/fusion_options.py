"""The ways to fuse the time loop that issue 5 names, measured side by side on the same network and batch:
the plain PyTorch loop (eager), the same loop compiled by TorchScript (`torch.jit.script`), its step
function compiled by `torch.compile` (inductor, C++ on the CPU), and snnc's event-driven numba kernels
(what the emulator uses). Inference only (the forward pass is where the choice of fusion is made; the
training step of each follows it). Outputs are checked equal (hidden spike counts) before timing.

    .venv/bin/python benchmarks/fusion_options.py [--steps 100] [--hidden 246] [--batch 256] [--repeats 5]

The last line is `speedup_numba_vs_best_alternative: X.Yx`."""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

from snnc.runtime import tune_memory

sys.path.insert(0, str(Path(__file__).parent))
from emulator_vs_snntorch import HEADLINE, PlainTorch, Setup, Snnc, timed  # noqa: E402


@torch.jit.script
def scripted_loop(raster: torch.Tensor, w1: torch.Tensor, w2: torch.Tensor, a_mem: float, a_syn: float,
                  k_syn: float) -> tuple[torch.Tensor, torch.Tensor]:
    steps, batch = raster.shape[0], raster.shape[1]
    v1 = raster.new_zeros(batch, w1.shape[1])
    i1 = torch.zeros_like(v1)
    v2 = raster.new_zeros(batch, w2.shape[1])
    i2 = torch.zeros_like(v2)
    best = torch.full_like(v2, -1e30)
    count = raster.new_zeros(batch)
    for t in range(steps):
        v1 = a_mem * v1 + k_syn * i1
        z = (v1 >= 1.0).to(v1.dtype)
        v1 = v1 - z * v1
        v2 = a_mem * v2 + k_syn * i2
        best = torch.maximum(best, v2)
        i1 = a_syn * i1 + raster[t] @ w1
        i2 = a_syn * i2 + z @ w2
        count = count + z.sum(1)
    return best, count


def step(v1, i1, v2, i2, best, count, x, w1, w2, a_mem: float, a_syn: float, k_syn: float):
    v1 = a_mem * v1 + k_syn * i1
    z = (v1 >= 1.0).to(v1.dtype)
    v1 = v1 - z * v1
    v2 = a_mem * v2 + k_syn * i2
    best = torch.maximum(best, v2)
    i1 = a_syn * i1 + x @ w1
    i2 = a_syn * i2 + z @ w2
    return v1, i1, v2, i2, best, count + z.sum(1)


class Variants:
    def __init__(self, s: Setup):
        self.s = s
        self.w1, self.w2 = s.weights["pixels->hidden"], s.weights["hidden->out"]
        self.compiled_step = torch.compile(step, dynamic=False)

    def scripted(self):
        s = self.s
        return scripted_loop(s.raster, self.w1, self.w2, s.a_mem, s.a_syn, s.k_syn)

    @torch.no_grad()
    def compiled(self):
        s, raster = self.s, self.s.raster
        batch = raster.shape[1]
        v1 = raster.new_zeros(batch, s.hidden)
        i1 = torch.zeros_like(v1)
        v2 = raster.new_zeros(batch, self.w2.shape[1])
        i2 = torch.zeros_like(v2)
        best, count = torch.full_like(v2, -1e30), raster.new_zeros(batch)
        for t in range(s.steps):
            v1, i1, v2, i2, best, count = self.compiled_step(v1, i1, v2, i2, best, count, raster[t], self.w1,
                                                             self.w2, s.a_mem, s.a_syn, s.k_syn)
        return best, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=HEADLINE[0])
    parser.add_argument("--hidden", type=int, default=HEADLINE[1])
    parser.add_argument("--batch", type=int, default=HEADLINE[2])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="torch threads; the faster counts")
    args = parser.parse_args()
    tune_memory()  # as `snnc train` and `snnc run` do
    s = Setup(args.steps, args.hidden, args.batch)
    snnc_impl, eager, variants = Snnc(s), PlainTorch(s), Variants(s)
    runs = {"snnc (numba kernels)": snnc_impl.infer, "PyTorch eager": eager.infer,
            "TorchScript": variants.scripted, "torch.compile (inductor)": variants.compiled}
    with torch.no_grad():
        _, reference_counts = snnc_impl.infer()
        start = time.perf_counter()
        for name, fn in runs.items():  # warm-up: TorchScript profiles, inductor compiles
            counts = fn()[1]
            assert torch.equal(counts, reference_counts), f"{name}: hidden spike counts differ from snnc's"
        print(f"warm-up and compilation: {time.perf_counter() - start:.1f} s; hidden spike counts equal")
        rates: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(args.repeats):
            for name, fn in runs.items():
                best = 0.0
                for threads in ([1] if name.startswith("snnc") else args.threads):
                    torch.set_num_threads(threads)
                    best = max(best, s.batch / timed(fn, 0.2))
                rates[name].append(best)
        torch.set_num_threads(1)
    print(f"T={args.steps}, hidden {args.hidden}, batch {args.batch}, inference samples/s (median of "
          f"{args.repeats}; torch variants at the faster of {args.threads} threads):")
    medians = {name: statistics.median(r) for name, r in rates.items()}
    for name, rate in medians.items():
        print(f"  {name:<26} {rate:>10,.0f}")
    best_other = max(rate for name, rate in medians.items() if not name.startswith("snnc"))
    print(f"speedup_numba_vs_best_alternative: {medians['snnc (numba kernels)'] / best_other:.1f}x")


if __name__ == "__main__":
    main()
