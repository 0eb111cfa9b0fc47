"""Pass: split the network into partitions run one after another, each spread over `--chips` chips,
and account the events crossing between chips (graph attr `partitions`: ChipPartition records)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from snnc.compiler.ir.bss2_records import ChipLinks, ChipPartition, Chunk
from snnc.compiler.ir.counting import distinct
from snnc.compiler.ir.graph import NetworkIR
from snnc.compiler.ir.nodes import Population
from snnc.compiler.ir.synapses import is_sparse
from snnc.compiler.passes.base import InternalError, Pass, PassContext
from snnc.compiler.targets.bss2 import Chip
from snnc.compiler.targets.bss2_layout import PackedChunk, pack, population_units
from snnc.compiler.targets.bss2_spread import Spread, spreads
from snnc.diagnostics import warning


def peak_rate(ir: NetworkIR, population: Population, time_scale: float) -> float:
    """The highest firing rate of a neuron on the chip (events/s): one spike per refractory period,
    at most one per timestep of the model's grid."""
    refractory = getattr(population.model, "refractory", 0.0)
    return 1.0 / (max(refractory, ir.header.timestep) * time_scale)


class PartitionNetwork(Pass):
    """Packs populations, in dependency order, onto the chips of a partition; a feed-forward layer that
    does not fit spills into the next partition (its inputs are recorded and replayed), a recurrent
    subnetwork goes into one partition whole. Per partition: its chunks (population, neurons, chip),
    the sources replayed from earlier partitions, and the events crossing between chips."""

    name: ClassVar[str] = "partition_network"

    def apply(self, ir: NetworkIR, ctx: PassContext) -> NetworkIR:
        chip: Chip = ctx.target.substrate
        chips = chip.chips
        order = [p.name for p in ir.populations()]
        found = ir.graph.graph.pop("spreads", None)  # check_bss2_rules' (None where it did not run)
        spread = {name: s for name, s in (spreads(ir, chip) if found is None else found).items()
                  if isinstance(s, Spread)}
        units = [(recurrent, [(n, ir.size(n), ir.node_attrs(n)["merge"].circuits_per_neuron,
                               spread[n].per_chip if n in spread else None) for n in names])
                 for recurrent, names in population_units(ir.graph, order)]
        chunks = pack(units, chip, chips)
        if chunks is None:  # check_bss2_rules reports what does not fit before this pass runs
            raise InternalError("a recurrent subnetwork passed check_bss2_rules but does not fit")
        for name, s in spread.items():
            ir.node_attrs(name)["spread"] = s.per_chip  # neurons per chip (place_neurons spreads them)
            used = {(c.partition, c.chip) for c in chunks if c.population == name}
            runs = len({p for p, _ in used})
            where = f"{len(used):,} chips" + (f" of {runs} partitions" if runs > 1 else "")
            ctx.diagnostics.add(warning(
                "W403", f"population '{name}' is spread over {where}, at most {s.per_chip} of its neurons "
                f"per chip (a chip holds {s.dense}): packed densely one hemisphere would receive "
                f"{s.sources_dense:,} distinct sources and need {s.drivers_dense} synapse drivers, it tells apart "
                f"{chip.sources_per_hemisphere:,} and has {chip.drivers}; spread, {s.sources:,} and "
                f"about {s.drivers}", ir.decl(name).span))
        count = max(c.partition for c in chunks) + 1
        where = {name: (np.full(ir.size(name), -1, np.int64), np.full(ir.size(name), -1, np.int64))
                 for name in order}
        for c in chunks:
            where[c.population][0][c.start:c.stop] = c.partition
            where[c.population][1][c.start:c.stop] = c.chip
        partitions = []
        for index in range(count):
            mine = [c for c in chunks if c.partition == index]
            names = list(dict.fromkeys(c.population for c in mine))
            replayed, links = self._links(ir, mine, where, index, chip)
            partitions.append(ChipPartition(
                index=index, populations=tuple(names), chips=len({c.chip for c in mine}),
                chunks=tuple(Chunk(c.population, c.start, c.stop, c.chip) for c in mine),
                replayed_sources=replayed, chip_links=links))
            if links.peak_events_per_second > links.budget_events_per_second:
                ctx.diagnostics.add(warning(
                    "W401", f"partition {index}: at peak firing one chip sends up to "
                    f"{links.peak_events_per_second:.3g} events/s to other chips, its link "
                    f"carries {links.budget_events_per_second:.3g} events/s; events may be dropped",
                    ir.decl(names[0]).span))
        if count > 1:
            split = [n for n in order if where[n][0].min() != where[n][0].max()]
            detail = f"; split: {', '.join(repr(s) for s in split)}" if split else ""
            ctx.diagnostics.add(warning(
                "W402", f"the network does not fit on {chips} chip{'s' if chips > 1 else ''} at once: it runs as "
                f"{count} partitions one after another, spikes between them recorded and replayed{detail}",
                ir.header.span))
        ir.graph.graph["partitions"] = partitions
        return ir

    def _links(self, ir: NetworkIR, mine: list[PackedChunk], where: dict, index: int, chip: Chip
               ) -> tuple[int, ChipLinks]:
        """Spikes this partition's neurons receive from an earlier partition (replayed sources) or from
        another chip (one copy per source neuron and destination chip, fanned out on the chip)."""
        chips = max((c.chip for c in mine), default=0) + 1
        here: dict[str, np.ndarray] = {}  # population -> chip of each neuron in this partition (-1: elsewhere)
        for chunk in mine:
            if chunk.population not in here:  # (not setdefault: that would allocate for every chunk)
                here[chunk.population] = np.full(ir.size(chunk.population), -1, np.int64)
            here[chunk.population][chunk.start:chunk.stop] = chunk.chip
        reach: dict[str, list[np.ndarray]] = {}  # source population -> (source neuron, destination chip) keys
        for name, chip_of in here.items():
            for source, _, attrs in ir.population_inputs(name):
                if not isinstance(ir.decl(source), Population):
                    continue  # inputs come from the host in every partition
                weights = attrs["weights"]
                if is_sparse(weights):
                    destination = chip_of[weights.indices]
                    keys = weights.sources.astype(np.int64)[destination >= 0] * chips + destination[destination >= 0]
                else:
                    destinations = distinct(chip_of[chip_of >= 0])
                    keys = (np.arange(ir.size(source), dtype=np.int64)[:, None] * chips + destinations).ravel()
                reach.setdefault(source, []).append(keys)
        copies = replayed = crossing_sources = 0
        outgoing = np.zeros(chips)
        for source, keys in reach.items():
            neuron, destination = np.divmod(distinct(np.concatenate(keys)), chips)
            partition, on_chip = where[source][0][neuron], where[source][1][neuron]
            cross = (partition == index) & (on_chip != destination)
            copies += int(cross.sum())
            outgoing += peak_rate(ir, ir.decl(source), chip.time_scale) * np.bincount(
                on_chip[cross], minlength=chips)[:chips]
            replayed += len(distinct(neuron[partition < index]))
            crossing_sources += len(distinct(neuron[cross]))
        return replayed, ChipLinks(crossing_sources=crossing_sources, event_copies=copies,
                                   peak_events_per_second=float(outgoing.max()),
                                   budget_events_per_second=chip.events_per_second_between_chips)
