"""Pass: sources -> synapse rows, drivers and address labels (edge attr `synapse_rows`; graph attr
`routing`: a RoutingTable per partition)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from snnc.compiler.ir.bss2_records import ChipPartition, DriverPlan, RoutingTable, SynapseRows
from snnc.compiler.ir.graph import NetworkIR
from snnc.compiler.passes.base import Pass, PassContext
from snnc.compiler.targets.bss2 import Chip
from snnc.compiler.targets.bss2_layout import EXC, INH, SIGNED, input_layout, sorted_unique
from snnc.diagnostics import error

_KIND = {"signed": SIGNED, "positive": EXC, "negative": INH}


class RouteSynapses(Pass):
    """Every neuron of a population lays out its inputs alike: input k (a source neuron of one of its
    projections) sits in merged circuit `slot` on an excitatory and/or inhibitory row of that circuit's
    hemisphere (edge attr `synapse_rows`: slot, exc row, inh row per source; -1 for none). The row's
    driver relays the source's spikes; within a driver every source gets its own address label,
    which the synapses of that source's rows match (graph attr `routing`, per partition)."""

    name: ClassVar[str] = "route_synapses"

    def apply(self, ir: NetworkIR, ctx: PassContext) -> NetworkIR:
        chip: Chip = ctx.target.substrate
        plan: DriverPlan = ir.graph.graph["driver_plan"]
        layouts = {}
        for population in ir.populations():
            inputs = ir.population_inputs(population.name)
            kinds = np.concatenate([np.full(ir.size(s), _KIND[a["decl"].sign], np.int64) for s, _, a in inputs]
                                   or [np.zeros(0, np.int64)])
            c = ir.node_attrs(population.name)["merge"].circuits_per_neuron
            slot, exc_row, inh_row = input_layout(plan, c, kinds)
            layouts[population.name] = (slot, exc_row, inh_row)
            offset = 0
            for source, _, attrs in inputs:
                size = ir.size(source)
                part = slice(offset, offset + size)
                attrs["synapse_rows"] = SynapseRows(slot=slot[part].astype(np.int16),
                                                    exc_row=exc_row[part].astype(np.int16),
                                                    inh_row=inh_row[part].astype(np.int16))
                offset += size
        routing = []
        for partition in ir.graph.graph["partitions"]:
            table = self._drivers(ir, chip, partition, layouts)
            self._check_labels(ir, ctx, chip, partition, table)
            routing.append(table)
        ir.graph.graph["routing"] = routing
        return ir

    def _drivers(self, ir: NetworkIR, chip: Chip, partition: ChipPartition, layouts: dict) -> RoutingTable:
        """One row per (chip, hemisphere, driver, source neuron) of the partition, with its label."""
        nodes = list(ir.graph.nodes)
        offsets = np.cumsum([0] + [ir.size(n) for n in nodes])
        first_neuron = dict(zip(nodes, offsets[:-1]))
        total = int(offsets[-1])
        keys = []
        for chunk in partition.chunks:
            name = chunk.population
            slot, exc_row, inh_row = layouts[name]
            if not len(slot):
                continue
            circuits = ir.node_attrs(name)["placement"].circuits[chunk.start:chunk.stop]
            source = np.concatenate([first_neuron[s] + np.arange(ir.size(s))
                                     for s, _, _ in ir.population_inputs(name)])
            driver = np.where(exc_row >= 0, exc_row, inh_row) // 2
            for s in range(circuits.shape[1]):
                here = slot == s
                for hemisphere in sorted_unique((circuits[:, s] % chip.circuits) // chip.columns):
                    where = (chunk.chip * chip.hemispheres + int(hemisphere)) * chip.drivers + driver[here]
                    keys.append(where * total + source[here])
        entries = sorted_unique(np.concatenate(keys)) if keys else np.zeros(0, np.int64)
        group, global_source = entries // total, entries % total
        label = np.arange(len(entries)) - np.searchsorted(group, group, side="left")
        node = np.searchsorted(offsets, global_source, side="right") - 1
        per_chip = chip.hemispheres * chip.drivers
        return RoutingTable(chip=(group // per_chip).astype(np.int32),
                            hemisphere=((group % per_chip) // chip.drivers).astype(np.int8),
                            driver=(group % chip.drivers).astype(np.int16),
                            source=node.astype(np.int32),
                            neuron=(global_source - offsets[node]).astype(np.int32),
                            label=label.astype(np.int16),
                            nodes=tuple(nodes))

    def _check_labels(self, ir: NetworkIR, ctx: PassContext, chip: Chip, partition: ChipPartition,
                      table: RoutingTable) -> None:
        crowded = np.flatnonzero(table.label >= chip.labels)
        if not len(crowded):
            return
        i = crowded[0]
        sources = int(np.sum((table.chip == table.chip[i]) & (table.hemisphere == table.hemisphere[i])
                             & (table.driver == table.driver[i])))
        name = partition.populations[0]
        ctx.diagnostics.add(error(
            "E405", f"partition {partition.index}: synapse driver {table.driver[i]} of chip {table.chip[i]}, "
            f"hemisphere {table.hemisphere[i]} must relay {sources} sources, but a {chip.address_bits}-bit address "
            f"label tells only {chip.labels} apart (too many merged circuits or populations share its rows)",
            ir.decl(name).span))
