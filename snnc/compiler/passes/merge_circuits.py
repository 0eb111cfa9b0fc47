"""Pass: how many neuron circuits each logical neuron merges for its fan-in (node attr `merge`; graph
attr `driver_plan`)."""

from __future__ import annotations

from typing import ClassVar

from snnc.compiler.ir.bss2_records import FanIn, Merge
from snnc.compiler.ir.graph import NetworkIR
from snnc.compiler.passes.base import Pass, PassContext
from snnc.compiler.targets.bss2 import Chip, choose_plan, circuits_for


def fan_in(ir: NetworkIR, population: str) -> FanIn:
    """A population's inputs by kind: signed sources and excitatory- or inhibitory-only ones."""
    counts = {"signed": 0, "positive": 0, "negative": 0}
    for source, _, attrs in ir.graph.in_edges(population, data=True):
        counts[attrs["decl"].sign] += ir.size(source)
    return FanIn(signed=counts["signed"], exc=counts["positive"], inh=counts["negative"])


class MergeCircuits(Pass):
    """Chooses how the synapse drivers' rows are set (signed pairs, or excitatory / inhibitory ones)
    for the fewest circuits, then gives each population c = the fewest merged circuits whose rows
    hold its fan-in: ceil(signed inputs / 128) for signed projections on bss2."""

    name: ClassVar[str] = "merge_circuits"

    def apply(self, ir: NetworkIR, ctx: PassContext) -> NetworkIR:
        chip: Chip = ctx.target.substrate
        counts = {p.name: fan_in(ir, p.name) for p in ir.populations()}
        plan = choose_plan(chip, [(ir.size(name), c.signed, c.exc, c.inh) for name, c in counts.items()])
        ir.graph.graph["driver_plan"] = plan
        for name, c in counts.items():
            ir.node_attrs(name)["merge"] = Merge(fan_in=c, circuits_per_neuron=circuits_for(plan, c))
        return ir
