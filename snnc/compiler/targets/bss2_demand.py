"""What the hemispheres of one BrainScaleS-2 chip must receive (the routing's input, bss2_routing.Demand), built
from the placed network: one unit per (projection, source neuron) with synapses in the hemisphere, its
synapses per synapse column, and (`Block`) where each unit's synapses are in the projection's per-synapse
arrays, so the rows the router gives them are written back (`write_rows`).

A dense projection's units are whole blocks of sources x the chunk's columns; a sparse one's come from its
synapses into the chunk's neurons (SparseWeights.into: the transpose, computed once), so the work is that
of the synapses, not of the dense shape."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import chain

import numpy as np

from snnc.compiler.ir.bss2_records import Chunk
from snnc.compiler.ir.counting import distinct
from snnc.compiler.ir.graph import NetworkIR
from snnc.compiler.ir.nodes import Population
from snnc.compiler.ir.synapses import is_sparse
from snnc.compiler.targets.bss2 import Chip
from snnc.compiler.targets.bss2_batch import Pairs
from snnc.compiler.targets.bss2_groups import Demand, Group

SYNAPSES_PER_SOURCE = {"signed": (1, 1), "positive": (1, 0), "negative": (0, 1)}  # (excitatory, inhibitory)


@dataclass(frozen=True)
class Block:
    """Units [start, stop) of a hemisphere's demand, all of projection `key`, and their synapses: the
    demand's pairs [first, last), which sit at `synapse` in the projection's flat per-synapse arrays (a
    dense projection's (pre, post) arrays read row-major)."""

    key: str
    start: int
    stop: int
    first: int
    last: int
    synapse: np.ndarray


@dataclass
class _Parts:
    unit: list = field(default_factory=list)
    column: list = field(default_factory=list)
    exc: list = field(default_factory=list)
    inh: list = field(default_factory=list)
    gid: list = field(default_factory=list)
    event_output: list = field(default_factory=list)
    blocks: list = field(default_factory=list)
    units: int = 0
    pairs: int = 0

    def add(self, key: str, exc: int, inh: int, gid: np.ndarray, event_output: np.ndarray, unit: np.ndarray,
            column: np.ndarray, synapse: np.ndarray) -> None:
        """Units of `gid` sources and their synapses: pairs (unit, relative to these, column) at `synapse`."""
        self.unit.append(unit + self.units)
        self.column.append(column)
        self.exc.append(np.full(len(unit), bool(exc)))
        self.inh.append(np.full(len(unit), bool(inh)))
        self.gid.append(gid)
        self.event_output.append(event_output)
        self.blocks.append(Block(key, self.units, self.units + len(gid), self.pairs, self.pairs + len(unit),
                                 synapse))
        self.units += len(gid)
        self.pairs += len(unit)

    def demand(self, chip: Chip) -> tuple[Demand, list[Block]]:
        def joined(parts: list, dtype) -> np.ndarray:
            return np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype)

        event_output = joined(self.event_output, np.int64)
        return Demand(unit=joined(self.unit, np.int64), column=joined(self.column, np.int64),
                      exc=joined(self.exc, bool), inh=joined(self.inh, bool), columns=chip.columns,
                      gid=joined(self.gid, np.int64), bus=np.where(event_output >= 0, event_output % chip.buses, -1),
                      chunk=np.full(len(event_output), -1, np.int64), label=event_output.copy()), self.blocks


def unit_demands(ir: NetworkIR, chip: Chip, partition: int, chunks: list[Chunk], slots: dict[str, np.ndarray],
                 where: dict, first: dict[str, int]) -> dict[int, tuple[Demand, list[Block]]]:
    """Per hemisphere of the chip holding `chunks` (of partition `partition`): its demand, and where each
    unit's synapses are. A unit's `bus` is that of its source's event output where the source is a neuron
    on this chip (its spikes reach only that bus), -1 for a source from the host; `label` holds the event
    output until the labels are chosen; `gid` is the source's index among all nodes' neurons (`first`)."""
    parts = {h: _Parts() for h in range(chip.hemispheres)}
    for chunk in chunks:
        circuits = ir.node_attrs(chunk.population)["placement"].circuits[chunk.start:chunk.stop].astype(np.int64)
        local = circuits % chip.circuits
        hemisphere, column = local // chip.columns, local % chip.columns  # (neurons, c)
        for source, key, attrs in ir.population_inputs(chunk.population):
            exc, inh = SYNAPSES_PER_SOURCE[attrs["decl"].sign]
            output = np.full(ir.size(source), -1, np.int64)
            if isinstance(ir.decl(source), Population):
                part, on_chip, event_output = where[source]
                here = (part == partition) & (on_chip == chunk.chip)
                output[here] = event_output[here]
            weights = attrs["weights"]
            add = _sparse_units if is_sparse(weights) else _dense_units
            add(parts, key, weights, slots[key], chunk, hemisphere, column, exc, inh, first[source], output, chip)
    return {h: p.demand(chip) for h, p in parts.items()}


def _dense_units(parts: dict, key: str, weights: np.ndarray, slot: np.ndarray, chunk: Chunk, hemisphere: np.ndarray,
                 column: np.ndarray, exc: int, inh: int, first: int, output: np.ndarray, chip: Chip) -> None:
    """Every source of a dense projection is a unit in each hemisphere its slot's circuits take neurons in."""
    post = weights.shape[1]
    for t in range(hemisphere.shape[1]):
        sources = np.flatnonzero(slot == t)
        for h, p in parts.items():
            neurons = np.flatnonzero(hemisphere[:, t] == h)
            if not len(neurons) or not len(sources):
                continue
            unit = np.repeat(np.arange(len(sources)), len(neurons))
            columns = np.tile(column[neurons, t], len(sources))
            synapse = sources[unit] * post + (chunk.start + np.tile(neurons, len(sources)))
            p.add(key, exc, inh, first + sources, output[sources], unit, columns, synapse)


def _sparse_units(parts: dict, key: str, weights, slot: np.ndarray, chunk: Chunk, hemisphere: np.ndarray,
                  column: np.ndarray, exc: int, inh: int, first: int, output: np.ndarray, chip: Chip) -> None:
    """The sources of a sparse projection with synapses into the chunk, one unit per source and hemisphere,
    in the order of their slot, then source (as the dense ones)."""
    synapse = weights.into(chunk.start, chunk.stop)
    if not len(synapse):
        return
    source = weights.sources[synapse].astype(np.int64)
    target = weights.indices[synapse].astype(np.int64) - chunk.start
    t = slot[source]
    on_hemisphere, on_column = hemisphere[target, t], column[target, t]
    for h, p in parts.items():
        mine = np.flatnonzero(on_hemisphere == h)
        if not len(mine):
            continue
        keys, unit = np.unique(t[mine] * weights.pre + source[mine], return_inverse=True)
        sources = keys % weights.pre
        p.add(key, exc, inh, first + sources, output[sources], unit.reshape(-1), on_column[mine], synapse[mine])


def units_in_groups(demand: Demand, groups: list[Group]) -> np.ndarray:
    """The group of every unit (int64, (units,)): that of its source (units of one source share a group)."""
    if not groups:
        return np.zeros(len(demand.gid), np.int64)
    sizes = [len(g.members) for g in groups]
    gids = np.fromiter(chain.from_iterable(g.members for g in groups), np.int64, sum(sizes))
    group = np.repeat(np.arange(len(groups)), sizes)
    order = np.argsort(gids)
    return group[order][np.searchsorted(gids[order], demand.gid)]


def unit_rows(demand: Demand, groups: list[Group], unit_group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(exc_row, inh_row) of every pair of the demand (int16, -1 where it has no such synapse): a group's
    rows are its drivers' rows 2d and 2d + 1, excitatory ones first; within a column the group's units
    take them in order (packed: a column's k-th synapse from the group sits on the group's k-th row)."""
    exc_row = np.full(len(demand.unit), -1, np.int16)
    inh_row = np.full(len(demand.unit), -1, np.int16)
    if not groups or not len(unit_group):
        return exc_row, inh_row
    counts = [len(g.drivers) for g in groups]
    table = np.zeros((len(groups), max(2 * max(counts), 1)), np.int64)  # each group's rows, in the order it fills
    drivers = np.fromiter(chain.from_iterable(g.drivers for g in groups), np.int64, sum(counts))
    owner = np.repeat(np.arange(len(groups)), counts)
    position = np.arange(len(drivers)) - np.repeat(np.cumsum(counts) - counts, counts)
    table[owner, 2 * position], table[owner, 2 * position + 1] = 2 * drivers, 2 * drivers + 1
    group_of = unit_group[demand.unit]
    for flag, out, offset in ((demand.exc, exc_row, np.zeros(len(groups), np.int64)),
                              (demand.inh, inh_row, np.array([g.exc_rows for g in groups], np.int64))):
        pairs = np.flatnonzero(flag)
        if not len(pairs):
            continue
        group = group_of[pairs]
        place = group * demand.columns + demand.column[pairs]  # (group, column)
        order = np.lexsort((demand.unit[pairs], place))  # by group and column, then unit
        place, group = place[order], group[order]
        starts = np.flatnonzero(np.r_[True, place[1:] != place[:-1]])
        rank = np.arange(len(place)) - np.repeat(starts, np.diff(np.r_[starts, len(place)]))
        out[pairs[order]] = table[group, offset[group] + rank]
    return exc_row, inh_row


def write_rows(blocks: list[Block], exc_row: np.ndarray, inh_row: np.ndarray,
               rows: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    """Each synapse's rows (exc_row, inh_row per pair of the demand: unit_rows) into its projection's
    per-synapse arrays `rows[key]` (excitatory, inhibitory)."""
    for block in blocks:
        for per_pair, out in ((exc_row, rows[block.key][0]), (inh_row, rows[block.key][1])):
            out.reshape(-1)[block.synapse] = per_pair[block.first:block.last]


@dataclass(frozen=True)
class HostPairs:
    """A partition's synapses of sparse projections for the batch router (bss2_batch): the Pairs, where each
    lies in its projection's per-synapse arrays (`keys[projection]`, `synapse`), and the hemispheres
    (chip * hemispheres + h) the batch must leave to route_hemisphere: those with an on-chip source or a
    dense projection's synapses."""

    pairs: Pairs
    keys: tuple[str, ...]
    synapse: np.ndarray
    excluded: np.ndarray  # bool per hemisphere


def host_pairs(ir: NetworkIR, chip: Chip, chips: int, partition: int, chunks: list[Chunk],
               slots: dict[str, np.ndarray], where: dict, first: dict[str, int], places: dict) -> HostPairs:
    """The sparse projections' synapses onto this partition's neurons, walked in CSR order (no transpose).
    `places` keeps each population's circuits' hemispheres and columns for the next partition."""
    excluded = np.zeros(chips * chip.hemispheres, bool)
    parts, keys, signs = [], [], []
    for population in dict.fromkeys(c.population for c in chunks):
        circuits = ir.node_attrs(population)["placement"].circuits
        in_partition = where[population][0] == partition
        whole = bool(in_partition.all())
        if population not in places:  # per neuron and merged circuit: its chip's hemisphere, and column
            local = circuits.astype(np.int64) % chip.circuits
            places[population] = ((circuits // chip.circuits * chip.hemispheres + local // chip.columns
                                   ).astype(np.int32), (local % chip.columns).astype(np.int16))
        hemisphere_of, column_of = places[population]
        for source, key, attrs in ir.population_inputs(population):
            weights = attrs["weights"]
            if not is_sparse(weights):  # dense: every chip holding the population's neurons here
                held = distinct(circuits[in_partition].astype(np.int64) // chip.circuits)
                excluded.reshape(chips, -1)[held] = True
                continue
            here = slice(None) if whole else np.flatnonzero(in_partition[weights.indices])
            sources, targets = weights.sources[here], weights.indices[here]
            slot = slots[key]
            at = (targets, 0) if circuits.shape[1] == 1 or not slot.any() else (targets, slot[sources])
            hemisphere = hemisphere_of[at]
            if isinstance(ir.decl(source), Population):  # an on-chip source's bus is fixed: the general router
                part, source_chip, _ = where[source]
                mine = (part[sources] == partition) & (source_chip[sources] == hemisphere // chip.hemispheres)
                excluded[hemisphere[mine]] = True
            synapse = np.arange(weights.nnz, dtype=np.int64) if whole else here
            parts.append((hemisphere, column_of[at], first[source] + sources.astype(np.int64),
                          np.full(len(synapse), len(keys), np.int32), synapse))
            keys.append(key)
            signs.append(SYNAPSES_PER_SOURCE[attrs["decl"].sign])
    joined = [(np.concatenate([p[i] for p in parts]) if len(parts) > 1 else parts[0][i]) if parts
              else np.zeros(0, np.int64) for i in range(5)]
    exc, inh = (np.array([s[i] > 0 for s in signs], bool) for i in range(2))
    return HostPairs(Pairs(*joined[:4], exc, inh), tuple(keys), joined[4], excluded)
