"""Pass: what the placed network uses of the chips (graph attr `resources`, each partition's `resources`;
node and edge attr `report`) and what it would deliver on them (graph attr `estimates`)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np

from snnc.compiler.ir.bss2_records import ChipPartition, RoutingTable, Usage
from snnc.compiler.ir.graph import NetworkIR
from snnc.compiler.ir.synapses import per_target, synapse_count
from snnc.compiler.passes.base import Pass, PassContext
from snnc.compiler.targets.bss2 import Chip
from snnc.compiler.targets.bss2_estimates import estimate

RESOURCES = tuple(f.name for f in dataclasses.fields(Usage))


def partition_usage(ir: NetworkIR, partition: ChipPartition, routing: RoutingTable,
                    into: dict[str, np.ndarray]) -> Usage:
    """Circuits, rows, drivers and synapses one partition uses on its chips: rows and drivers are those
    of its label groups (rows_per_driver per driver, the group's used rows counted). `into[projection]`:
    the synapses into its first n target neurons (cumulative, (post + 1,))."""
    circuits = synapses = 0
    for chunk in partition.chunks:
        start, stop = chunk.start, chunk.stop
        circuits += ir.node_attrs(chunk.population)["placement"].circuits[start:stop].size
        for _, key, attrs in ir.population_inputs(chunk.population):
            synapses += int(into[key][stop] - into[key][start]) * attrs["sign_split"].rows_per_source
    groups = [g for bus in routing.buses for g in bus.groups]
    return Usage(neuron_circuits=circuits, synapse_rows=sum(g.exc_rows + g.inh_rows for g in groups),
                 synapse_drivers=sum(len(g.drivers) for g in groups), synapses=synapses)


class AccountBss2Resources(Pass):
    """Per partition its usage; overall the peak over partitions against what the chips offer; per
    population its circuits, per projection its rows, scale and quantization error."""

    name: ClassVar[str] = "account_bss2_resources"

    def apply(self, ir: NetworkIR, ctx: PassContext) -> NetworkIR:
        chip: Chip = ctx.target.substrate
        chips = chip.chips
        available = Usage(neuron_circuits=chips * chip.circuits, synapse_rows=chips * chip.hemispheres * chip.rows,
                          synapse_drivers=chips * chip.hemispheres * chip.drivers, synapses=chips * chip.synapses)
        peak = dict.fromkeys(RESOURCES, 0)
        in_partitions: dict[str, list[int]] = {}
        partitions = []
        into = {key: np.concatenate([[0], np.cumsum(per_target(attrs["weights"]))]) for _, _, key, attrs in ir.edges()}
        for partition, routing in zip(ir.graph.graph["partitions"], ir.graph.graph["routing"]):
            usage = partition_usage(ir, partition, routing, into)
            partitions.append(dataclasses.replace(partition, resources=usage))
            peak = {k: max(peak[k], getattr(usage, k)) for k in RESOURCES}
            for name in partition.populations:
                in_partitions.setdefault(name, []).append(partition.index)
        ir.graph.graph["partitions"] = partitions
        ir.graph.graph["estimates"] = estimate(ir, partitions, ctx.target.spec)
        ir.graph.graph["resources"] = {k: {"used": peak[k], "available": getattr(available, k)} for k in RESOURCES}
        ir.graph.graph["chips"] = chips
        for population in ir.populations():
            attrs = ir.node_attrs(population.name)
            merge = attrs["merge"]
            c = merge.circuits_per_neuron
            attrs["report"] = {"neurons": population.size, "model": population.model.dsl_name,
                               "circuits_per_neuron": c, "circuits": population.size * c,
                               "fan_in": merge.fan_in.describe(),
                               "partitions": in_partitions.get(population.name, [])}
            if "spread" in attrs:  # placed thinner so its hemispheres' sources fit (W403)
                attrs["report"]["neurons_per_chip"] = attrs["spread"]
        for _, _, _, attrs in ir.edges():
            connections = synapse_count(attrs["weights"])
            rows_per_source, legal = attrs["sign_split"].rows_per_source, attrs["legalization"]
            attrs["report"] = {"sign": attrs["decl"].sign,
                               "rows": int(attrs["weights"].shape[0]) * rows_per_source,
                               "synapses": connections * rows_per_source,
                               "scale": legal.scale, "quant_rmse": legal.quant_rmse, "quant_max": legal.quant_max}
        return ir
