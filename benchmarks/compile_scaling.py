"""How bss2 compile time grows with the network: 1k, 10k and 100k neurons (multi-chip, partitioned); with
--sparse, 100k, 1M and 10M neurons behind one sparse projection from 1,000 inputs on 4,096 chips.

Each network is made of blocks of 1,000 neurons: an input of 100 rate-coded sources, a hidden layer of
900 LIF neurons (100 signed inputs: 1 circuit each) and a layer of 100 LIF neurons (900 signed inputs:
8 merged circuits each). Blocks are independent, so synapses grow linearly with neurons, and a compiler
that scales should take about 10x longer for 10x the neurons. Prints one line per size, the time per
1k neurons and the growth ratio against the previous size, then the slowest passes of the largest.

    .venv/bin/python benchmarks/compile_scaling.py [--sizes 1000 10000 100000] [--write]

--sparse: 1,000 rate-coded inputs -> N LIF neurons through `sparse(p)` (issue 15's network at N = 1M,
p = 0.01: 10M synapses), each size compiled in a fresh process (so its peak memory is its own: the
process's maximum resident set) with --chips 4096: chips used, partitions, wall and CPU seconds, peak
memory, seconds per million synapses and the growth against the previous size. Sizes: NEURONS:P pairs.

    .venv/bin/python benchmarks/compile_scaling.py --sparse [100000:0.01 1000000:0.01 10000000:0.001] [--write]

--recurrent: a recurrent sparse layer fed by on-chip sources (issue 15's unseen network): 1,000 rate-coded
inputs -> H1 LIF (sparse, 10 per neuron) -> H2 LIF (sparse, ~100 per neuron from H1, ~10 recurrent), each
size in a fresh process with --chips 4096. Packed densely, an H2 hemisphere would hear ~13k distinct sources
of the 8,192 it tells apart, so H2 is spread thinner (bss2_spread, W403): chips used and H2's neurons per
chip are printed with the times. Sizes: H1:H2 pairs.

    .venv/bin/python benchmarks/compile_scaling.py --recurrent [20000:10000 200000:100000] [--write]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from snnc.compiler.backend.artifact import CompiledProgram, save_program
from snnc.compiler.driver import Source, run_pipeline

BLOCK = 1000  # neurons per block
LIF = "LIF(tau_mem = 6 ms, tau_syn = 6 ms, refractory = 1 ms)"


def block_network(neurons: int) -> str:
    lines = ["network scaling {", "    timestep 0.5 ms", "    duration 20 ms"]
    for b in range(max(neurons // BLOCK, 1)):
        lines += [f"    input x{b}[100] : rate(max_rate = 50 Hz)",
                  f"    pop h{b}[900] : {LIF}",
                  f"    pop o{b}[100] : {LIF}",
                  f"    proj x{b} -> h{b} : dense(init = normal(0, 0.1))",
                  f"    proj h{b} -> o{b} : dense(init = normal(0, 0.05))"]
    lines += ["    output o0 : spike_count", "}"]
    return "\n".join(lines) + "\n"


def chips_for(neurons: int) -> int:
    """About a third of the circuits the network needs, so the large networks also run in partitions."""
    circuits = (neurons // BLOCK) * (900 + 100 * 8)
    return max(1, math.ceil(circuits / 512 / 3))


def compile_once(text: str, chips: int):
    """The whole bss2 pipeline on `text`: (result with per-pass timings, seconds)."""
    start = time.perf_counter()
    [result] = run_pipeline(Source("scaling.snn", text), target="bss2", chips=chips)
    return result, time.perf_counter() - start


SPARSE_SIZES = ["100000:0.01", "1000000:0.01", "10000000:0.001"]
SPARSE_CHIPS = 4096


def sparse_network(neurons: int, p: float) -> str:
    return "\n".join(["network sparse {", "    timestep 0.5 ms", "    duration 20 ms",
                      "    input x[1000] : rate(max_rate = 50 Hz)", f"    pop h[{neurons}] : {LIF}",
                      f"    proj x -> h : sparse(p = {p}, init = normal(0, 0.1))", "    output h : spike_count",
                      "}"]) + "\n"


RECURRENT_SIZES = ["20000:10000", "200000:100000"]


def recurrent_network(h1: int, h2: int) -> str:
    """x[1000] -> h1 (10 sources each) -> h2 (100 from h1, 10 from h2 each), sparse and signed."""
    return "\n".join(["network fed {", "    timestep 0.5 ms", "    duration 20 ms",
                      "    input x[1000] : rate(max_rate = 50 Hz)", f"    pop h1[{h1}] : {LIF}",
                      f"    pop h2[{h2}] : {LIF}",
                      "    proj x -> h1 : sparse(p = 0.01, init = normal(0, 0.1))",
                      f"    proj h1 -> h2 : sparse(p = {100 / h1:g}, init = normal(0, 0.1))",
                      f"    proj h2 -> h2 : sparse(p = {10 / h2:g}, init = normal(0, 0.1))",
                      "    output h2 : spike_count", "}"]) + "\n"


def measure_once(text: str, neurons: int, write: bool) -> dict:
    """One compile (and write) of `text` in this process: its figures."""
    wall, cpu = time.perf_counter(), time.process_time()
    [result] = run_pipeline(Source("scaling.snn", text), target="bss2", chips=SPARSE_CHIPS)
    figures = {"compile_s": time.perf_counter() - wall, "compile_cpu_s": time.process_time() - cpu}
    if write:
        program = CompiledProgram(ir=result.ir, target=result.target, seed=0,
                                  source={"path": "scaling.snn", "sha256": result.source.sha256})
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            save_program(program, Path(tmp) / "out")
            figures["write_s"] = time.perf_counter() - start
    ir = result.ir
    resources = ir.graph.graph["resources"]
    assert resources["neuron_circuits"]["used"] <= resources["neuron_circuits"]["available"]
    assert sum(ir.node_attrs(p.name)["report"]["circuits"] // ir.node_attrs(p.name)["merge"].circuits_per_neuron
               for p in ir.populations()) == neurons  # all placed
    figures.update(synapses=sum(attrs["weights"].nnz for *_, attrs in ir.edges()),
                   chips=max(p.chips for p in ir.graph.graph["partitions"]),
                   partitions=len(ir.graph.graph["partitions"]),
                   spread={p.name: ir.node_attrs(p.name)["spread"] for p in ir.populations()
                           if "spread" in ir.node_attrs(p.name)},
                   peak_gb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
                   slowest=sorted(result.timings.items(), key=lambda kv: -kv[1])[:3])
    return figures


def fresh_processes(flag: str, sizes: list[str], write: bool) -> None:
    """Each size compiled by `--FLAG-one` in a fresh process; one line of figures each."""
    print(f"load average {os.getloadavg()[0]:.1f} (2 cores); --chips {SPARSE_CHIPS}; each size in a fresh process")
    print(f"{'size':>15} {'synapses':>11} {'used':>6} {'parts':>5} {'compile s':>9} {'cpu s':>6} "
          f"{'peak GB':>7} {'s/M syn':>7} {'growth':>6}" + (f" {'write s':>7}" if write else ""))
    previous = None
    for size in sizes:
        out = subprocess.run([sys.executable, __file__, f"--{flag}-one", *size.split(":")]
                             + (["--write"] if write else []), capture_output=True, text=True)
        if out.returncode:
            raise SystemExit(f"{size}: {out.stderr}")
        f = json.loads(out.stdout.splitlines()[-1])
        growth = f"{f['compile_s'] / previous:6.2f}" if previous else f"{'-':>6}"
        spread = "".join(f"   '{name}' {per_chip} per chip" for name, per_chip in f["spread"].items())
        print(f"{size:>15} {f['synapses']:>11,} {f['chips']:>6,} {f['partitions']:>5} "
              f"{f['compile_s']:>9.2f} {f['compile_cpu_s']:>6.2f} {f['peak_gb']:>7.2f} "
              f"{f['compile_s'] / f['synapses'] * 1e6:>7.2f} {growth}" + (f" {f['write_s']:>7.2f}" if write else "")
              + spread + "   slowest: " + ", ".join(f"{name} {t:.2f}" for name, t in f["slowest"]), flush=True)
        previous = f["compile_s"]
    print(f"load average {os.getloadavg()[0]:.1f} after")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--write", action="store_true", help="also time writing the program directory")
    parser.add_argument("--sparse", nargs="*", metavar="NEURONS:P",
                        help=f"the sparse networks (default {' '.join(SPARSE_SIZES)})")
    parser.add_argument("--sparse-one", nargs=2, help=argparse.SUPPRESS)  # one size, in this process: JSON
    parser.add_argument("--recurrent", nargs="*", metavar="H1:H2",
                        help=f"the recurrent networks fed on chip (default {' '.join(RECURRENT_SIZES)})")
    parser.add_argument("--recurrent-one", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    one = args.sparse_one or args.recurrent_one
    if one:
        compile_once(block_network(BLOCK), 1)  # warm-up: imports, the parser's tables, numba's kernels
        text = sparse_network(int(one[0]), float(one[1])) if args.sparse_one else recurrent_network(*map(int, one))
        neurons = int(one[0]) if args.sparse_one else int(one[0]) + int(one[1])
        print(json.dumps(measure_once(text, neurons, args.write)))
        return
    if args.sparse is not None:
        fresh_processes("sparse", args.sparse or SPARSE_SIZES, args.write)
        return
    if args.recurrent is not None:
        fresh_processes("recurrent", args.recurrent or RECURRENT_SIZES, args.write)
        return
    compile_once(block_network(BLOCK), 1)  # warm-up: imports, the parser's tables
    print(f"{'neurons':>8} {'pops':>5} {'synapses':>11} {'chips':>5} {'parts':>5} {'circuits':>9} "
          f"{'compile s':>9} {'s/1k':>7} {'growth':>7}" + (f" {'write s':>8}" if args.write else ""))
    previous, result = None, None
    for neurons in args.sizes:
        text, chips = block_network(neurons), chips_for(neurons)
        result, seconds = compile_once(text, chips)
        ir = result.ir
        resources = ir.graph.graph["resources"]
        circuits = sum(ir.node_attrs(p.name)["report"]["circuits"] for p in ir.populations())
        synapses = sum(attrs["report"]["synapses"] for *_, attrs in ir.edges())
        growth = f"{seconds / previous:7.2f}" if previous else f"{'-':>7}"
        line = (f"{neurons:>8,} {len(ir.populations()):>5} {synapses:>11,} {chips:>5} "
                f"{len(ir.graph.graph['partitions']):>5} {circuits:>9,} {seconds:>9.2f} "
                f"{seconds / neurons * 1000:>7.3f} {growth}")
        if args.write:
            program = CompiledProgram(ir=ir, target=result.target, seed=0,
                                      source={"path": "scaling.snn", "sha256": result.source.sha256})
            with tempfile.TemporaryDirectory() as tmp:
                start = time.perf_counter()
                save_program(program, Path(tmp) / "out")
                line += f" {time.perf_counter() - start:>8.2f}"
        print(line, flush=True)
        assert resources["neuron_circuits"]["used"] <= resources["neuron_circuits"]["available"]
        previous = seconds
    print("slowest passes of the largest network (s): " + ", ".join(
        f"{name} {t:.2f}" for name, t in sorted(result.timings.items(), key=lambda kv: -kv[1])[:5]))


if __name__ == "__main__":
    main()
