"""What a run may ask for, checked before the work starts: the memory a batch's simulation takes (steps x
neurons x batch, and the graph backpropagation through time keeps), and the counts a user gives
(`--samples`, `--epochs`, ...). A run that cannot fit is an error saying what to make smaller, not a
MemoryError or a machine swapping for minutes."""

from __future__ import annotations

from snnc.compiler.ir.graph import NetworkIR
from snnc.diagnostics import SnncError, error
from snnc.limits import format_bytes, memory_budget

# Bytes per (time step, sample, neuron) of a batch's simulation: the observation's float32 traces and the
# membrane noise, and in training what backpropagation through time keeps of every step. Measured as the
# growth of peak RSS from batch 64 to 256 (100 steps, 666 neurons, general core; docs/runtime.md, "Limits"):
# inference 14.3 (reference) and 17.0 (bss2), training 38.8 (reference); rounded up.
INFERENCE_BYTES = 20
TRAINING_BYTES = 48


def simulation_bytes(ir: NetworkIR, batch: int, training: bool) -> int:
    """About what simulating one batch of `batch` samples takes."""
    neurons = sum(ir.size(name) for name in ir.graph.nodes)
    return ir.header.steps * neurons * batch * (TRAINING_BYTES if training else INFERENCE_BYTES)


def check_simulation_memory(ir: NetworkIR, batch: int, training: bool) -> None:
    """SnncError (E470) if a batch of `batch` samples would take more than the memory budget."""
    needed, budget = simulation_bytes(ir, batch, training), memory_budget()
    if needed > budget:
        neurons = sum(ir.size(name) for name in ir.graph.nodes)
        what = "training (backpropagation through time keeps every step)" if training else "simulating"
        advice = "a smaller --batch, " if training else ""
        raise SnncError([error("E470", f"{what} a batch of {batch:,} samples of {ir.header.steps:,} time steps "
                               f"over {neurons:,} neurons of '{ir.name}' takes about {format_bytes(needed)}; at "
                               f"most {format_bytes(budget)} (half this machine's memory) may be used: use "
                               f"{advice}fewer time steps (duration / timestep) or fewer neurons")])


def check_count(name: str, value: int | None, least: int = 1, most: int | None = None, code: str = "E450") -> None:
    """A count given on the command line (`--samples`): None (not given) or an integer in [least, most]."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < least or (most is not None and value > most):
        bound = f"an integer from {least:,} to {most:,}" if most is not None else f"an integer of at least {least:,}"
        raise SnncError([error(code, f"--{name} must be {bound}, not {value!r}")])
