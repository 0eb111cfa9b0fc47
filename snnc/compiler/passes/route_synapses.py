"""Pass: spikes -> PADI buses, label groups, synapse drivers and rows (edge attr `synapse_rows`; graph attr
`routing`: a RoutingTable per partition), with the bus design rules of docs/targets.md ("Event routing")."""

from __future__ import annotations

from collections import Counter
from typing import ClassVar

import numpy as np

from snnc.compiler.ir.bss2_records import BusRoute, ChipPartition, LabelGroup, RoutingTable, SynapseRows
from snnc.compiler.ir.graph import NetworkIR
from snnc.compiler.ir.nodes import Population
from snnc.compiler.passes.base import Pass, PassContext
from snnc.compiler.targets.bss2 import Chip
from snnc.compiler.targets.bss2_layout import Input, assign_slots
from snnc.compiler.targets.bss2_routing import Demand, route_hemisphere, unit_rows
from snnc.diagnostics import Note, error

_SYNAPSES = {"signed": (1, 1), "positive": (1, 0), "negative": (0, 1)}  # (excitatory, inhibitory) per source
_BUS_NOTE = ("a neuron's spikes reach a hemisphere only over the PADI bus of its event output; a bus has "
             "{drivers} synapse drivers, shared by label groups of up to {labels} sources (docs/targets.md)")


class RouteSynapses(Pass):
    """Every neuron of a population reaches input k on the same merged circuit (slot); on-chip sources
    first, bus by bus, so no circuit draws more rows from one PADI bus than the bus's drivers have. Then,
    per partition, chip and hemisphere, the sources are routed onto buses in label groups, drivers are
    allocated and every synapse gets its row, packed per column (bss2_routing)."""

    name: ClassVar[str] = "route_synapses"

    def apply(self, ir: NetworkIR, ctx: PassContext) -> NetworkIR:
        chip: Chip = ctx.target.substrate
        where = self._where(ir, chip)
        slots = {}
        for population in ir.populations():
            slots.update(self._slots(ir, ctx, chip, population.name, where))
        if ctx.diagnostics.has_errors:
            return ir
        rows = {key: (np.full(a["weights"].shape, -1, np.int16), np.full(a["weights"].shape, -1, np.int16))
                for _, _, key, a in ir.edges()}
        routing = [self._route(ir, ctx, chip, partition, slots, where, rows)
                   for partition in ir.graph.graph["partitions"]]
        for _, _, key, attrs in ir.edges():
            attrs["synapse_rows"] = SynapseRows(slot=slots[key].astype(np.int16), exc_row=rows[key][0],
                                                inh_row=rows[key][1])
        ir.graph.graph["routing"] = routing
        return ir

    @staticmethod
    def _where(ir: NetworkIR, chip: Chip) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Per population neuron: its partition, its chip and its event output (that of its first circuit)."""
        where = {}
        for population in ir.populations():
            partition = np.full(population.size, -1, np.int64)
            for p in ir.graph.graph["partitions"]:
                for chunk in p.chunks:
                    if chunk.population == population.name:
                        partition[chunk.start:chunk.stop] = p.index
            first = ir.node_attrs(population.name)["placement"].circuits[:, 0].astype(np.int64)
            column = first % chip.circuits % chip.columns
            where[population.name] = (partition, first // chip.circuits, column // chip.columns_per_event_output)
        return where

    def _slots(self, ir: NetworkIR, ctx: PassContext, chip: Chip, name: str, where: dict) -> dict[str, np.ndarray]:
        """Each input's slot; an error at the projection whose sources overflow a bus's rows."""
        homes = {(p.index, c.chip) for p in ir.graph.graph["partitions"] for c in p.chunks if c.population == name}
        inputs, keys = [], []
        for source, key, attrs in ir.population_inputs(name):
            exc, inh = _SYNAPSES[attrs["decl"].sign]
            event_output = np.full(ir.size(source), -1, np.int64)
            if isinstance(ir.decl(source), Population):
                partition, on_chip, output = where[source]
                on_a_home = np.array([(p, c) in homes for p, c in zip(partition.tolist(), on_chip.tolist())], bool)
                event_output[on_a_home] = output[on_a_home]
            inputs.append(Input(exc=exc, inh=inh, mask=attrs.get("mask"), event_output=event_output))
            keys.append(key)
        c = ir.node_attrs(name)["merge"].circuits_per_neuron
        slots, overflow = assign_slots(chip, c, ir.size(name), inputs)
        if overflow is not None:
            projection = ir.edge_attrs(keys[overflow.input])["decl"]
            if overflow.bus >= 0:
                outputs = " and ".join(str(e) for e in range(overflow.bus, chip.event_outputs, chip.buses))
                message = (f"projection '{projection.name}' oversubscribes PADI bus {overflow.bus}: the spikes of its "
                           f"on-chip sources (event outputs {outputs}) reach '{name}' only over that bus, whose "
                           f"{chip.drivers_per_bus} synapse drivers give a neuron circuit "
                           f"{2 * chip.drivers_per_bus} rows; a neuron of '{name}' ({c} circuit{'s' if c > 1 else ''}) "
                           f"needs {overflow.needed} there")
            else:
                message = (f"projection '{projection.name}': the synapses of '{name}' do not fit its {c} merged "
                           f"circuits per neuron once the on-chip sources take their buses' rows")
            ctx.diagnostics.add(error("E406", message, projection.span, Note(_BUS_NOTE.format(
                drivers=chip.drivers_per_bus, labels=chip.labels))))
        return dict(zip(keys, slots))

    def _route(self, ir: NetworkIR, ctx: PassContext, chip: Chip, partition: ChipPartition, slots: dict,
               where: dict, rows: dict) -> RoutingTable:
        nodes = list(ir.graph.nodes)
        offsets = np.cumsum([0] + [ir.size(n) for n in nodes])
        first = dict(zip(nodes, offsets[:-1].tolist()))
        buses, entries = [], []
        for chip_index in sorted({c.chip for c in partition.chunks}):
            units = {h: self._units(ir, chip, partition, chip_index, h, slots, where, first)
                     for h in range(chip.hemispheres)}
            units = {h: u for h, u in units.items() if len(u[0].gid)}
            outputs = {h: demand.label.copy() for h, (demand, _) in units.items()}  # event output per unit
            best = None
            for spread in (False, True):  # on-chip sources in as few label chunks as possible, or spread
                chunk_of, label_of = self._internal_labels(chip, outputs, units, spread)
                routed = {}
                for h, (demand, _) in units.items():
                    internal = demand.bus >= 0
                    chunk, label = np.full(len(demand.gid), -1, np.int64), np.full(len(demand.gid), -1, np.int64)
                    chunk[internal] = [chunk_of[g] for g in demand.gid[internal].tolist()]
                    label[internal] = [label_of[g] for g in demand.gid[internal].tolist()]
                    demand.chunk, demand.label = chunk, label
                    routed[h] = (chunk, label, *route_hemisphere(demand, chip))
                excess = sum(p.needed - p.available for *_, problems in routed.values() for p in problems)
                if best is None or excess < best[0]:
                    best = (excess, routed)
                if excess == 0:
                    break
            for h, (demand, blocks) in units.items():
                demand.chunk, demand.label, groups, problems = best[1][h]
                edges_of = self._edges_per_group(demand, blocks, groups)
                for problem in problems:
                    self._report(ir, ctx, chip, partition, chip_index, h, problem, groups, edges_of)
                if problems:
                    continue
                exc_row, inh_row = unit_rows(demand, groups)
                self._write_rows(blocks, exc_row, inh_row, rows)
                for bus in range(chip.buses):
                    mine = [(i, g) for i, g in enumerate(groups) if g.bus == bus]
                    if not mine:
                        continue
                    buses.append(BusRoute(chip=chip_index, hemisphere=h, bus=bus, projections=tuple(sorted(
                        {e for i, _ in mine for e in edges_of[i]})), groups=tuple(
                        LabelGroup(drivers=g.drivers, exc_rows=g.exc_rows, inh_rows=g.inh_rows,
                                   sources=len(g.members), internal=g.internal) for _, g in mine)))
                    for index, (_, g) in enumerate(mine):
                        for gid, label in g.members.items():
                            entries.append((chip_index, h, bus, index, gid, label))
        table = np.array(entries, np.int64).reshape(-1, 6)
        node = np.searchsorted(offsets, table[:, 4], side="right") - 1
        return RoutingTable(buses=tuple(buses), chip=table[:, 0].astype(np.int32),
                            hemisphere=table[:, 1].astype(np.int8), bus=table[:, 2].astype(np.int8),
                            group=table[:, 3].astype(np.int16), source=node.astype(np.int32),
                            neuron=(table[:, 4] - offsets[node]).astype(np.int32),
                            label=table[:, 5].astype(np.int16), nodes=tuple(nodes))

    @staticmethod
    def _units(ir: NetworkIR, chip: Chip, partition: ChipPartition, chip_index: int, h: int, slots: dict,
               where: dict, first: dict) -> tuple[Demand, list[tuple]]:
        """The hemisphere's demand: one unit per (projection, source neuron) with synapses here; `blocks`
        say which units are which (projection, source neurons, target neuron of each column)."""
        exc_parts, inh_parts, gids, buses, blocks = [], [], [], [], []
        count = 0
        for chunk in (c for c in partition.chunks if c.chip == chip_index):
            circuits = ir.node_attrs(chunk.population)["placement"].circuits[chunk.start:chunk.stop].astype(np.int64)
            local = circuits % chip.circuits
            hemisphere, column = local // chip.columns, local % chip.columns
            for source, key, attrs in ir.population_inputs(chunk.population):
                exc, inh = _SYNAPSES[attrs["decl"].sign]
                mask = attrs.get("mask")
                internal = None
                if isinstance(ir.decl(source), Population):
                    part, on_chip, output = where[source]
                    internal = (part == partition.index) & (on_chip == chip_index)
                for t in range(circuits.shape[1]):
                    neurons = np.flatnonzero(hemisphere[:, t] == h)
                    sources = np.flatnonzero(slots[key] == t)
                    if not len(neurons) or not len(sources):
                        continue
                    exists = (np.ones((len(sources), len(neurons)), bool) if mask is None
                              else mask[np.ix_(sources, chunk.start + neurons)])
                    keep = exists.any(axis=1)
                    sources, exists = sources[keep], exists[keep]
                    block = np.zeros((len(sources), chip.columns), np.int8)
                    block[:, column[neurons, t]] = exists
                    exc_parts.append(block if exc else np.zeros_like(block))
                    inh_parts.append(block if inh else np.zeros_like(block))
                    gids.append(first[source] + sources)
                    event_output = np.full(len(sources), -1, np.int64)
                    if internal is not None:
                        fixed = internal[sources]
                        event_output[fixed] = output[sources[fixed]]
                    buses.append(event_output)
                    target = np.full(chip.columns, -1, np.int64)
                    target[column[neurons, t]] = chunk.start + neurons
                    blocks.append((key, count, count + len(sources), sources, target))
                    count += len(sources)
        empty = np.zeros((0, chip.columns), np.int8)
        gid = np.concatenate(gids) if gids else np.zeros(0, np.int64)
        event_output = np.concatenate(buses) if buses else np.zeros(0, np.int64)
        bus = np.where(event_output >= 0, event_output % chip.buses, -1)
        return Demand(exc=np.concatenate(exc_parts) if exc_parts else empty,
                      inh=np.concatenate(inh_parts) if inh_parts else empty, gid=gid, bus=bus,
                      chunk=np.full(len(gid), -1, np.int64), label=event_output.copy()), blocks

    @staticmethod
    def _internal_labels(chip: Chip, outputs: dict, units: dict, spread: bool) -> tuple[dict[int, int], dict[int, int]]:
        """Chip-wide label chunks of on-chip sources (a neuron has one address: the same row-select address
        and label on every bus it reaches): a bus's sources, in event-output order, cut into the fewest
        chunks of 2**address_bits, or (`spread`) into as many as the busiest hemisphere's sources need
        label groups on a bus, so host sources find free labels beside them, at most as many as the
        row-select bits an event output leaves free (its neurons' address bits)."""
        output_of = {}
        for h, (demand, _) in units.items():
            for gid, output in zip(demand.gid.tolist(), outputs[h].tolist()):
                if output >= 0:
                    output_of[gid] = output
        busiest = max((len(np.unique(d.gid)) for d, _ in units.values()), default=0)
        wanted = -(-busiest // (chip.buses * chip.labels)) if spread else 1
        most = max(1, chip.label_groups // chip.event_outputs)
        chunk_of, label_of = {}, {}
        chunks = 0
        for bus in range(chip.buses):
            members = sorted((g for g, e in output_of.items() if e % chip.buses == bus),
                             key=lambda g: (output_of[g], g))
            if not members:
                continue
            fewest = -(-len(members) // chip.labels)
            size = -(-len(members) // max(fewest, min(wanted, most)))
            for start in range(0, len(members), size):
                piece = members[start:start + size]
                chunk_of.update(dict.fromkeys(piece, chunks))
                label_of.update({g: i for i, g in enumerate(piece)})
                chunks += 1
        return chunk_of, label_of

    @staticmethod
    def _edges_per_group(demand: Demand, blocks: list[tuple], groups: list) -> list[Counter]:
        """Per group: how many of its units each projection has."""
        group_of = {gid: i for i, g in enumerate(groups) for gid in g.members}
        counts = [Counter() for _ in groups]
        for key, start, stop, _, _ in blocks:
            for gid in demand.gid[start:stop].tolist():
                counts[group_of[gid]][key] += 1
        return counts

    @staticmethod
    def _write_rows(blocks: list[tuple], exc_row: np.ndarray, inh_row: np.ndarray, rows: dict) -> None:
        for key, start, stop, sources, target in blocks:
            for unit_rows_, out in ((exc_row[start:stop], rows[key][0]), (inh_row[start:stop], rows[key][1])):
                u, col = np.nonzero(unit_rows_ >= 0)
                out[sources[u], target[col]] = unit_rows_[u, col]

    @staticmethod
    def _report(ir: NetworkIR, ctx: PassContext, chip: Chip, partition: ChipPartition, chip_index: int, h: int,
                problem, groups: list, edges_of: list[Counter]) -> None:
        """E407 at the projection bringing the most sources onto the bus (the later one on a tie)."""
        on_bus = Counter()
        for i, group in enumerate(groups):
            if group.bus == problem.bus:
                on_bus.update(edges_of[i])
        order = {p.name: i for i, p in enumerate(ir.projections())}
        ranked = sorted(on_bus.items(), key=lambda kv: (-kv[1], -order[kv[0]]))
        key, count = ranked[0]
        what = (f"needs {problem.needed} synapse drivers, it has {problem.available}" if problem.what == "drivers"
                else f"needs {problem.needed} label groups, its {chip.row_select_bits}-bit row-select address "
                     f"tells {problem.available} apart")
        others = ", ".join(f"'{k}' {n:,}" for k, n in ranked[1:])
        ctx.diagnostics.add(error(
            "E407", f"partition {partition.index}, chip {chip_index}: PADI bus {problem.bus} of hemisphere {h} "
            f"carries {problem.sources:,} sources and {what}; projection '{key}' brings the most ({count:,})",
            ir.edge_attrs(key)["decl"].span,
            *([Note(f"sources it carries from the other projections: {others}")] if others else []),
            Note(_BUS_NOTE.format(drivers=chip.drivers_per_bus, labels=chip.labels))))
