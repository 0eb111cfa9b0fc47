"""Pass: how many neuron circuits each logical neuron merges for its fan-in (node attr `merge`)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from snnc.compiler.ir.bss2_records import FanIn, Merge
from snnc.compiler.ir.graph import NetworkIR
from snnc.compiler.ir.synapses import per_target
from snnc.compiler.passes.base import Pass, PassContext
from snnc.compiler.targets.bss2 import Chip


def fan_in(ir: NetworkIR, population: str) -> FanIn:
    """A population's inputs by kind, and the synapses (rows) its busiest neuron takes: two per signed
    source, one per sign-constrained one, only where a sparse projection has a synapse."""
    counts = {"signed": 0, "positive": 0, "negative": 0}
    per_neuron = np.zeros(ir.size(population), np.int64)
    for source, _, attrs in ir.graph.in_edges(population, data=True):
        sign = attrs["decl"].sign
        counts[sign] += ir.size(source)
        per_neuron += (2 if sign == "signed" else 1) * per_target(attrs["weights"])
    return FanIn(signed=counts["signed"], exc=counts["positive"], inh=counts["negative"],
                 rows=int(per_neuron.max(initial=0)))


class MergeCircuits(Pass):
    """Gives each population c = the fewest merged circuits whose synapse columns hold its busiest
    neuron's synapses: a circuit's column has one synapse per row of its hemisphere (256), and a sparse
    projection's synapses are packed by column, so only existing synapses count (docs/targets.md)."""

    name: ClassVar[str] = "merge_circuits"

    def apply(self, ir: NetworkIR, ctx: PassContext) -> NetworkIR:
        chip: Chip = ctx.target.substrate
        for population in ir.populations():
            counts = fan_in(ir, population.name)
            ir.node_attrs(population.name)["merge"] = Merge(fan_in=counts,
                                                            circuits_per_neuron=chip.circuits_for_rows(counts.rows))
        return ir
