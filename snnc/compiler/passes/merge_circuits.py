"""Pass: how many neuron circuits each logical neuron merges for its fan-in (node attrs `fan_in`,
`circuits_per_neuron`; graph attr `driver_plan`)."""

from __future__ import annotations

from typing import ClassVar

from snnc.compiler.ir.graph import NetworkIR
from snnc.compiler.passes.base import Pass, PassContext
from snnc.compiler.targets.bss2 import Chip, choose_plan


def fan_in(ir: NetworkIR, population: str) -> dict[str, int]:
    """A population's inputs by kind: signed sources and excitatory- or inhibitory-only ones."""
    counts = {"signed": 0, "exc": 0, "inh": 0}
    for source, _, attrs in ir.graph.in_edges(population, data=True):
        kind = {"signed": "signed", "positive": "exc", "negative": "inh"}[attrs["decl"].sign]
        counts[kind] += ir.size(source)
    return counts


class MergeCircuits(Pass):
    """Chooses how the synapse drivers' rows are set (signed pairs, or excitatory / inhibitory ones)
    for the fewest circuits, then gives each population c = the fewest merged circuits whose rows
    hold its fan-in: ceil(signed inputs / 128) for signed projections on bss2."""

    name: ClassVar[str] = "merge_circuits"

    def apply(self, ir: NetworkIR, ctx: PassContext) -> NetworkIR:
        chip: Chip = ctx.target.substrate
        counts = {p.name: fan_in(ir, p.name) for p in ir.populations()}
        plan = choose_plan(chip, [(ir.size(name), c["signed"], c["exc"], c["inh"]) for name, c in counts.items()])
        ir.graph.graph["driver_plan"] = plan.to_dict()
        for name, c in counts.items():
            attrs = ir.node_attrs(name)
            attrs["fan_in"] = c
            attrs["circuits_per_neuron"] = plan.circuits_for(c["signed"], c["exc"], c["inh"])
        return ir
