"""Pass: spikes -> PADI buses, label groups, synapse drivers and rows (edge attr `synapse_rows`; graph attr
`routing`: a RoutingTable per partition), with the bus design rules of docs/targets.md ("Event routing")."""

from __future__ import annotations

from collections import Counter
from itertools import chain
from typing import ClassVar

import numpy as np

from snnc.compiler.ir.bss2_records import BusRoute, ChipPartition, Chunk, LabelGroup, RoutingTable, SynapseRows
from snnc.compiler.ir.counting import distinct
from snnc.compiler.ir.graph import NetworkIR
from snnc.compiler.ir.nodes import Population
from snnc.compiler.ir.synapses import is_sparse
from snnc.compiler.passes.base import Pass, PassContext
from snnc.compiler.targets.bss2 import Chip
from snnc.compiler.targets.bss2_batch import Pairs, available, route_batch
from snnc.compiler.targets.bss2_demand import (
    SYNAPSES_PER_SOURCE,
    Block,
    host_pairs,
    unit_demands,
    unit_rows,
    units_in_groups,
    write_rows,
)
from snnc.compiler.targets.bss2_layout import Input, assign_slots
from snnc.compiler.targets.bss2_routing import route_hemisphere
from snnc.diagnostics import Note, error

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
        chunks_of: dict[str, list[tuple[int, Chunk]]] = {}
        for p in ir.graph.graph["partitions"]:
            for chunk in p.chunks:
                chunks_of.setdefault(chunk.population, []).append((p.index, chunk))
        where = self._where(ir, chip, chunks_of)
        slots = {}
        for population in ir.populations():
            slots.update(self._slots(ir, ctx, chip, population.name, where, chunks_of))
        if ctx.diagnostics.has_errors:
            return ir
        rows = {}
        for _, _, key, a in ir.edges():
            shape = a["weights"].indices.shape if is_sparse(a["weights"]) else a["weights"].shape
            rows[key] = (np.full(shape, -1, np.int16), np.full(shape, -1, np.int16))
        places: dict = {}  # the batch router's per-population circuit places, shared by the partitions
        routing = [self._route(ir, ctx, chip, partition, slots, where, rows, places)
                   for partition in ir.graph.graph["partitions"]]
        for _, _, key, attrs in ir.edges():
            attrs["synapse_rows"] = SynapseRows(slot=slots[key].astype(np.int16), exc_row=rows[key][0],
                                                inh_row=rows[key][1])
        ir.graph.graph["routing"] = routing
        return ir

    @staticmethod
    def _where(ir: NetworkIR, chip: Chip, chunks_of: dict) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Per population neuron: its partition, its chip and its event output (that of its first circuit)."""
        where = {}
        for population in ir.populations():
            partition = np.full(population.size, -1, np.int64)
            for index, chunk in chunks_of.get(population.name, ()):
                partition[chunk.start:chunk.stop] = index
            first = ir.node_attrs(population.name)["placement"].circuits[:, 0].astype(np.int64)
            column = first % chip.circuits % chip.columns
            where[population.name] = (partition, first // chip.circuits, column // chip.columns_per_event_output)
        return where

    def _slots(self, ir: NetworkIR, ctx: PassContext, chip: Chip, name: str, where: dict, chunks_of: dict
               ) -> dict[str, np.ndarray]:
        """Each input's slot; an error at the projection whose sources overflow a bus's rows."""
        homes = np.array(sorted({index * chip.chips + c.chip for index, c in chunks_of.get(name, ())}), np.int64)
        inputs, keys = [], []
        for source, key, attrs in ir.population_inputs(name):
            exc, inh = SYNAPSES_PER_SOURCE[attrs["decl"].sign]
            event_output, home = np.full(ir.size(source), -1, np.int64), np.full(ir.size(source), -1, np.int64)
            if isinstance(ir.decl(source), Population):
                partition, on_chip, output = where[source]
                on_a_home = np.isin(partition * chip.chips + on_chip, homes)
                event_output[on_a_home] = output[on_a_home]
                home[on_a_home] = (partition * chip.chips + on_chip)[on_a_home]
            weights = attrs["weights"]
            inputs.append(Input(exc=exc, inh=inh, synapses=weights if is_sparse(weights) else None,
                                event_output=event_output, home=home))
            keys.append(key)
        c = ir.node_attrs(name)["merge"].circuits_per_neuron
        partition, on_chip, _ = where[name]
        slots, overflow = assign_slots(chip, c, ir.size(name), inputs, partition * chip.chips + on_chip)
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
               where: dict, rows: dict, places: dict) -> RoutingTable:
        nodes = list(ir.graph.nodes)
        offsets = np.cumsum([0] + [ir.size(n) for n in nodes])
        first = dict(zip(nodes, offsets[:-1].tolist()))
        on_chip: dict[int, list[Chunk]] = {}
        for chunk in partition.chunks:
            on_chip.setdefault(chunk.chip, []).append(chunk)
        buses, entries, batched = self._route_batch(ir, chip, partition, slots, where, first, rows, places)
        for chip_index, chunks in sorted(on_chip.items()):
            if batched[chip_index].all():
                continue
            units = {h: u for h, u in unit_demands(ir, chip, partition.index, chunks, slots, where, first).items()
                     if len(u[0].gid) and not batched[chip_index, h]}
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
                unit_group = units_in_groups(demand, groups)
                edges_of = self._edges_per_group(blocks, unit_group, len(groups))
                for problem in problems:
                    self._report(ir, ctx, chip, partition, chip_index, h, problem, groups, edges_of)
                if problems:
                    continue
                exc_row, inh_row = unit_rows(demand, groups, unit_group)
                write_rows(blocks, exc_row, inh_row, rows)
                index_on_bus, seen = [], [0] * chip.buses  # each group's index among its bus's groups
                for g in groups:
                    index_on_bus.append(seen[g.bus])
                    seen[g.bus] += 1
                for bus in range(chip.buses):
                    mine = [(i, g) for i, g in enumerate(groups) if g.bus == bus]
                    if not mine:
                        continue
                    buses.append(BusRoute(chip=chip_index, hemisphere=h, bus=bus, projections=tuple(sorted(
                        {e for i, _ in mine for e in edges_of[i]})), groups=tuple(
                        LabelGroup(drivers=g.drivers, exc_rows=g.exc_rows, inh_rows=g.inh_rows,
                                   sources=len(g.members), internal=g.internal) for _, g in mine)))
                sizes = [len(g.members) for g in groups]
                members = np.fromiter(chain.from_iterable(g.members.items() for g in groups),
                                      np.dtype((np.int64, 2)), sum(sizes)).reshape(-1, 2)
                entries.append(np.column_stack([np.full((len(members), 2), (chip_index, h)),
                                                np.repeat([g.bus for g in groups], sizes),
                                                np.repeat(index_on_bus, sizes), members]))
        table = np.concatenate(entries) if entries else np.zeros((0, 6), np.int64)
        node = np.searchsorted(offsets, table[:, 4], side="right") - 1
        buses.sort(key=lambda r: (r.chip, r.hemisphere, r.bus))
        return RoutingTable(buses=tuple(buses), chip=table[:, 0].astype(np.int32),
                            hemisphere=table[:, 1].astype(np.int8), bus=table[:, 2].astype(np.int8),
                            group=table[:, 3].astype(np.int16), source=node.astype(np.int32),
                            neuron=(table[:, 4] - offsets[node]).astype(np.int32),
                            label=table[:, 5].astype(np.int16), nodes=tuple(nodes))

    @staticmethod
    def _route_batch(ir: NetworkIR, chip: Chip, partition: ChipPartition, slots: dict, where: dict, first: dict,
                     rows: dict, places: dict) -> tuple[list[BusRoute], list[np.ndarray], np.ndarray]:
        """The hemispheres of only host sources over sparse projections, all at once (bss2_batch): their bus
        routes, routing entries, and which hemispheres they are ((chips, hemispheres) bool; the batch
        leaves the others, and where numba is missing all, to route_hemisphere)."""
        chips = max((c.chip for c in partition.chunks), default=0) + 1
        routed = np.zeros((chips, chip.hemispheres), bool)
        if not available():
            return [], [], routed
        found = host_pairs(ir, chip, chips, partition.index, partition.chunks, slots, where, first, places)
        if not len(found.synapse):
            return [], [], routed
        p, synapse = found.pairs, found.synapse
        if found.excluded.any():
            keep = ~found.excluded[p.hemisphere]
            p = Pairs(p.hemisphere[keep], p.column[keep], p.gid[keep], p.projection[keep], p.exc, p.inh)
            synapse = synapse[keep]
        batch = route_batch(p, chips * chip.hemispheres, sum(ir.size(n) for n in ir.graph.nodes), chip)
        routed.reshape(-1)[:] = batch.routed
        for index, key in enumerate(found.keys):
            mine = np.flatnonzero(p.projection == index) if len(found.keys) > 1 else slice(None)
            rows[key][0].reshape(-1)[synapse[mine]] = batch.exc_row[mine]
            rows[key][1].reshape(-1)[synapse[mine]] = batch.inh_row[mine]
        buses, carried = [], {}
        exc_rows, inh_rows, sources, position = (a.tolist() for a in (batch.exc_rows, batch.inh_rows, batch.sources,
                                                                       batch.position))
        first_group = batch.first_group.tolist()
        for h in np.flatnonzero(batch.routed).tolist():
            g0, g1 = first_group[h], first_group[h + 1]
            for bus in range(min(chip.buses, g1 - g0)):
                groups = tuple(LabelGroup(drivers=tuple(range(position[g] * chip.buses + bus, (position[g] + -(
                    -(exc_rows[g] + inh_rows[g]) // 2)) * chip.buses + bus, chip.buses)), exc_rows=exc_rows[g],
                    inh_rows=inh_rows[g], sources=sources[g], internal=0) for g in range(g0 + bus, g1, chip.buses))
                flags = batch.carries[h, bus].tobytes()
                if flags not in carried:
                    carried[flags] = tuple(sorted(found.keys[i] for i in np.flatnonzero(batch.carries[h, bus])))
                buses.append(BusRoute(chip=h // chip.hemispheres, hemisphere=h % chip.hemispheres, bus=bus,
                                      projections=carried[flags], groups=groups))
        table = np.empty((len(batch.host_gid), 6), np.int64)  # (chip, hemisphere, bus, group, gid, label)
        table[:, 0], table[:, 1] = np.divmod(batch.host_hemisphere, chip.hemispheres)
        table[:, 3], table[:, 2] = np.divmod(batch.host_group, chip.buses)
        table[:, 4], table[:, 5] = batch.host_gid, batch.host_label
        entries = [table]
        return buses, entries, routed

    @staticmethod
    def _internal_labels(chip: Chip, outputs: dict, units: dict, spread: bool) -> tuple[dict[int, int], dict[int, int]]:
        """Chip-wide label chunks of on-chip sources (a neuron has one address: the same row-select address
        and label on every bus it reaches): a bus's sources, in event-output order, cut into the fewest
        chunks of 2**address_bits, or (`spread`) into as many as the busiest hemisphere's sources need
        label groups on a bus, so host sources find free labels beside them, at most as many as the
        row-select bits an event output leaves free (its neurons' address bits)."""
        output_of = {}
        for h, (demand, _) in units.items():
            internal = outputs[h] >= 0
            output_of.update(zip(demand.gid[internal].tolist(), outputs[h][internal].tolist()))
        busiest = max((len(distinct(d.gid)) for d, _ in units.values()), default=0)
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
    def _edges_per_group(blocks: list[Block], unit_group: np.ndarray, groups: int) -> list[Counter]:
        """Per group: how many of its units each projection has."""
        counts = [Counter() for _ in range(groups)]
        for block in blocks:
            for group, count in enumerate(np.bincount(unit_group[block.start:block.stop], minlength=groups).tolist()):
                if count:
                    counts[group][block.key] += count
        return counts

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
