"""Pass: what the network uses, for targets without hard limits (graph attrs `resources`, `partitions`;
node and edge attr `report`)."""

from __future__ import annotations

from typing import ClassVar

from snnc.compiler.ir.graph import NetworkIR
from snnc.compiler.ir.records import Partition
from snnc.compiler.ir.synapses import synapse_count
from snnc.compiler.passes.base import Pass, PassContext


class AccountResources(Pass):
    """Neurons and synapses used, one partition holding everything, float weights (no quantization)."""

    name: ClassVar[str] = "account_resources"

    def apply(self, ir: NetworkIR, ctx: PassContext) -> NetworkIR:
        limits = ctx.target.spec.get("resources", {})
        neurons = sum(p.size for p in ir.populations())
        synapses = 0
        for population in ir.populations():
            ir.node_attrs(population.name)["report"] = {
                "neurons": population.size, "model": population.model.dsl_name}
        for _, _, _, attrs in ir.edges():
            count = synapse_count(attrs["weights"])
            synapses += count
            attrs["report"] = {"synapses": count, "scale": 1.0, "quant_rmse": 0.0, "quant_max": 0.0}
        ir.graph.graph["resources"] = {
            "neurons": {"used": neurons, "available": limits.get("neurons")},
            "synapses": {"used": synapses, "available": limits.get("synapses")},
        }
        ir.graph.graph["partitions"] = [Partition(index=0, populations=tuple(p.name for p in ir.populations()))]
        return ir
