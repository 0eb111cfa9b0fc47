"""How long `snnc check` takes on sources just under the size limit (docs/language.md, Limits).

Each case fills 1 MiB with one kind of statement, the worst kinds for the compiler's per-statement work;
the baseline is copies of an ordinary example. Prints seconds and the ratio to the baseline, measured
in one run. Usage: python benchmarks/source_limits.py [CASE ...]"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import snnc
from snnc.compiler.frontend.limits import MAX_SOURCE_BYTES
from snnc.diagnostics import SnncError

EXAMPLE = (Path(__file__).resolve().parents[1] / "dsl_examples" / "latency_digits.snn").read_text()
TAIL = "  input x[4] : current\n  pop y[4] : linear\n  proj x -> y : dense\n  output y : value\n}\n"


def fill(statement, head: str = "network n {\n", tail: str = TAIL) -> str:
    """`head`, as many `statement(i)` as fit under the limit, `tail`."""
    parts, size, index = [head], len(head) + len(tail), 0
    while size + len(statement(index)) <= MAX_SOURCE_BYTES - 16:
        parts.append(statement(index))
        size += len(parts[-1])
        index += 1
    return "".join(parts) + tail


CASES = {
    "copies of latency_digits.snn (baseline)": lambda: fill(
        lambda i: EXAMPLE.replace("latency_digits", f"net{i}").replace("train {", f"train net{i} {{"), "", ""),
    "param lines, each never used": lambda: fill(lambda i: f"  param p{i} = {i}.5\n"),
    "empty networks": lambda: fill(lambda i: f"network a{i} {{}}\n", "", ""),
    "duplicate pops": lambda: fill(lambda i: "  pop y[4] : linear\n"),
    "train blocks": lambda: fill(lambda i: "train { epochs 1 }\n", "network n {\n" + TAIL, ""),
    "chained populations": lambda: fill(
        lambda i: f"  pop p{i}[1] : linear\n  proj {'x' if i == 0 else f'p{i - 1}'} -> p{i} : dense\n"),
    "projections from unknown names": lambda: fill(lambda i: f"  pop p{i}[1] : linear\n  proj q{i} -> p{i} : dense\n"),
    "outputs of unknown populations": lambda: fill(lambda i: f"  pop p{i}[1] : linear\n  output q{i} : value\n"),
}


def seconds_to_check(text: str) -> float:
    start = time.perf_counter()
    try:
        snnc.check("big.snn", text=text)
    except SnncError as exc:
        exc.render()
    return time.perf_counter() - start


def main(names: list[str]) -> None:
    baseline = None
    for name, make in CASES.items():
        if names and name not in names and baseline is not None:
            continue
        text = make()
        seconds = seconds_to_check(text)
        baseline = baseline or seconds
        print(f"{name:<42} {len(text.encode()):>9,} bytes {seconds:6.2f} s  x{seconds / baseline:.2f}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
