"""How bss2 compile time grows with the network: 1k, 10k and 100k neurons (multi-chip, partitioned).

Each network is made of blocks of 1,000 neurons: an input of 100 rate-coded sources, a hidden layer of
900 LIF neurons (100 signed inputs: 1 circuit each) and a layer of 100 LIF neurons (900 signed inputs:
8 merged circuits each). Blocks are independent, so synapses grow linearly with neurons, and a compiler
that scales should take about 10x longer for 10x the neurons. Prints one line per size, the time per
1k neurons and the growth ratio against the previous size, then the slowest passes of the largest.

    .venv/bin/python benchmarks/compile_scaling.py [--sizes 1000 10000 100000] [--write]
"""

from __future__ import annotations

import argparse
import math
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--write", action="store_true", help="also time writing the program directory")
    args = parser.parse_args()
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
