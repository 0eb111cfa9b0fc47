"""Training throughput of `snnc train --workers N` against one process, side by side: the 256-246-10
latency network (dsl_examples/latency_digits_ff.snn) on digits, global batch 64 (its train block).
Each run is a fresh `snnc train` process; the runs of each worker count alternate, in random order per
round. A run's figure is the training loop's samples/s (metrics.json `train_samples_per_second`: steps
only, not evaluation or start-up), the median over its epochs after the first (which loads the kernels
in every process at once); the table gives the median over rounds.

Threads: torch 1 per process (the CLI default); the fast kernels' threads are the machine's cores
divided by the workers (launch.py), so 1 worker uses 2 threads on a 2-core machine and 2 workers 1 each.

    .venv/bin/python benchmarks/data_parallel.py [--target reference] [--workers 1 2] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NETWORK = ROOT / "dsl_examples" / "latency_digits_ff.snn"


def run(target: str, workers: int, epochs: int, folder: Path) -> float:
    out = folder / f"w{workers}"
    command = [sys.executable, "-m", "snnc", "train", str(NETWORK), "--target", target, "--epochs", str(epochs),
               "--workers", str(workers), "--json", "--quiet", "-o", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    if done.returncode != 0:
        raise SystemExit(f"snnc train --workers {workers} failed:\n{done.stderr}")
    shutil.rmtree(out)
    return statistics.median(row["train_samples_per_second"] for row in json.loads(done.stdout)["epochs"][1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="reference")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=4, help="per run; all but the first are measured")
    args = parser.parse_args()
    figures: dict[int, list[float]] = {w: [] for w in args.workers}
    with tempfile.TemporaryDirectory(prefix="snnc-dp-") as folder:
        for round_ in range(args.rounds):
            order = random.sample(args.workers, len(args.workers))
            for workers in order:
                figures[workers].append(run(args.target, workers, args.epochs, Path(folder)))
            print(f"round {round_ + 1}: " + ", ".join(f"{w} worker{'s' * (w > 1)} {figures[w][-1]:,.0f}/s"
                                                     for w in args.workers), flush=True)
    load = os.getloadavg()
    first = figures[args.workers[0]]
    print(f"\n{NETWORK.name} on {args.target}, global batch 64, {os.cpu_count()} cores, load average "
          f"{load[0]:.1f} {load[1]:.1f} {load[2]:.1f} (after the runs)")
    print(f"workers  train samples/s (median; min .. max)  ratio to {args.workers[0]} (medians; per round, median)")
    for workers in args.workers:
        values = figures[workers]
        paired = statistics.median(v / b for v, b in zip(values, first))  # the same round's conditions
        print(f"{workers:>7}  {statistics.median(values):>15,.0f} ({min(values):,.0f} .. {max(values):,.0f})"
              f"  {statistics.median(values) / statistics.median(first):>10.2f}; {paired:.2f}")
    print(f"all-reduce of one step's {gradients():,} gradients and 5 figures (float64) between 2 processes: "
          f"{1e3 * all_reduce_seconds(gradients() + 5):.2f} ms (median of 200)")


def gradients() -> int:
    """The trainable weights of the network: what each step all-reduces."""
    import snnc

    return sum(int(attrs["weights"].size) for attrs in snnc.compile(NETWORK).ir.edge_attrs_by_name().values())


def _reduce_often(rank: int, store, size: int) -> list[float]:
    """220 all-reduces of `size` float64 as rank `rank` of 2; their times."""
    import torch
    import torch.distributed as dist

    dist.init_process_group("gloo", store=store, rank=rank, world_size=2)
    buffer, times = torch.zeros(size, dtype=torch.float64), []
    for _ in range(220):
        start = time.perf_counter()
        dist.all_reduce(buffer)
        times.append(time.perf_counter() - start)
    dist.destroy_process_group()
    return times


def _other_rank(port: int, size: int) -> None:
    import torch.distributed as dist

    _reduce_often(1, dist.TCPStore("127.0.0.1", port, 2, is_master=False), size)


def all_reduce_seconds(size: int) -> float:
    """The median time of one all-reduce of `size` float64 between 2 gloo processes on localhost (after 20
    warm-up rounds): the collective each step adds."""
    import torch.distributed as dist
    import torch.multiprocessing as mp

    store = dist.TCPStore("127.0.0.1", 0, 2, is_master=True, wait_for_workers=False)
    other = mp.get_context("spawn").Process(target=_other_rank, args=(store.port, size))
    other.start()
    times = _reduce_often(0, store, size)
    other.join()
    return statistics.median(times[20:])


if __name__ == "__main__":
    main()
