"""BrainScaleS-2 layout arithmetic shared by the passes: which merged circuit of a neuron each input reaches,
how many neurons a chip still takes, and how populations are packed into partitions.

Pure functions of counts; the passes turn their results into IR attributes and diagnostics."""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from snnc.compiler.ir.synapses import SparseWeights, per_target
from snnc.compiler.targets.bss2 import Chip


@dataclass(frozen=True)
class Input:
    """A projection into a population as slot assignment sees it: synapses per source (`exc`, `inh`: 0 or
    1), `synapses` (a SparseWeights record: which targets each source reaches) or None for dense, and the
    event output of each source neuron that is on a chip with some of the population's neurons (-1 for a
    source whose spikes come from the host)."""

    exc: int
    inh: int
    synapses: SparseWeights | None
    event_output: np.ndarray
    home: np.ndarray | None = None  # each source's chip (partition * chips + chip; -1: the host), if known


@dataclass(frozen=True)
class SlotOverflow:
    """Sources of input `input` that no merged circuit can take: on `bus` (-1: any bus) the circuits'
    rows are full."""

    input: int
    bus: int
    needed: int


COST_ENTRIES = 1 << 24  # (sources x neurons) of sparse costs held at once while dealing


def assign_slots(chip: Chip, circuits_per_neuron: int, size: int, inputs: list[Input],
                 home: np.ndarray | None = None) -> tuple[list[np.ndarray], SlotOverflow | None]:
    """Which merged circuit (slot) of every neuron each source reaches, alike for all neurons of the
    population. A circuit's column holds `rows` synapses, and at most 2 * drivers_per_bus of them from one
    PADI bus; an on-chip source's bus is that of its event output, so those are placed first, bus by bus
    (an event output's sources together), each slot filled before the next; host sources then fill what
    is left. Dense inputs go before sparse ones, which count their existing synapses per neuron (packed
    rows). A neuron of one circuit has no choice to make: its inputs only need to fit."""
    c = circuits_per_neuron
    if c == 1 and _fits_one_circuit(chip, size, inputs):
        return [np.zeros(len(i.event_output), np.int64) for i in inputs], None
    slots = [np.full(len(i.event_output), -1, np.int64) for i in inputs]
    total = np.zeros((c, size), np.int64)
    per_bus = np.zeros((c, chip.buses, size), np.int64)
    # Dense inputs first (each pays full rows in every column), then sparse ones, whose packed rows can
    # share label groups with the dense inputs of other columns; on-chip sources before host ones.
    runs = []
    for sparse in (False, True):
        mine = [k for k, inp in enumerate(inputs) if (inp.synapses is not None) == sparse]
        fixed = sorted((int(e) % chip.buses, int(e), k, i) for k in mine
                       for i, e in enumerate(inputs[k].event_output.tolist()) if e >= 0)
        runs += [(bus, [(k, i) for b, _, k, i in fixed if b == bus]) for bus in range(chip.buses)]
        runs.append((-1, [(k, i) for k in mine for i in np.flatnonzero(inputs[k].event_output < 0).tolist()]))
    # An on-chip bus's sources are dealt round-robin over the slots (hemisphere by hemisphere): every
    # column then hears a few sources of each label group and one group's rows serve them all, and a
    # group keeps free labels in each hemisphere for host sources. Host sources fill slot after slot.
    dealt = [sorted(range(c), key=lambda t: (t % chip.hemispheres, t))]
    window = max(1, COST_ENTRIES // size)  # sources whose costs are held at once
    if (quick := _dealt_at_once(chip, c, size, inputs, runs, dealt[0], window, home)) is not None:
        return quick, None
    for bus, run in runs:
        start = 0
        for candidates in (dealt if bus >= 0 else [list(range(c))]):
            active = list(candidates)
            while start < len(run) and active:
                cost = _costs(inputs, run[start:start + window], size)
                placed = _deal(cost, active, total, per_bus, bus, chip)
                if placed == 0:
                    active = active[1:]  # the first slot is full on this bus: deal over the others
                    continue
                for j, (k, i) in enumerate(run[start:start + placed]):
                    t = active[j % len(active)]
                    slots[k][i] = t
                    total[t] += cost[j]
                    if bus >= 0:
                        per_bus[t, bus] += cost[j]
                start += placed
        if start < len(run):
            k = run[start][0]
            needed = int((per_bus[:, bus] if bus >= 0 else total).sum(axis=0).max()
                         + _load(inputs, run[start:], size).max())
            return slots, SlotOverflow(input=k, bus=bus, needed=needed)
    return slots, None


def _dealt_at_once(chip: Chip, c: int, size: int, inputs: list[Input], runs: list, dealt: list[int], window: int,
                   home: np.ndarray | None) -> list[np.ndarray] | None:
    """The slots assign_slots deals when no slot fills up (each run round-robin over its slots, `window`
    sources at a time), all at once; None where a slot's rows (or a bus's) would overflow, which the
    source-by-source dealing handles. Checked on the final loads: they bound every earlier one. With the
    chips known (`home`: each neuron's, and each input's sources'), a bus's rows count only the synapses of
    sources on the neuron's own chip: from any other chip a spike arrives from the host, on any bus."""
    slots = [np.full(len(i.event_output), -1, np.int64) for i in inputs]
    for bus, run in runs:
        if not run:
            continue
        active = np.asarray(dealt if bus >= 0 else range(c), np.int64)
        k, i = np.asarray(run, np.int64).reshape(-1, 2).T
        t = active[np.arange(len(run)) % window % len(active)]
        for input_index in np.unique(k).tolist():
            mine = k == input_index
            slots[input_index][i[mine]] = t[mine]
    total, per_bus = np.zeros((c, size), np.int64), np.zeros((c, chip.buses, size), np.int64)
    for inp, slot in zip(inputs, slots):
        synapses = inp.exc + inp.inh
        bus = np.where(inp.event_output >= 0, inp.event_output % chip.buses, -1)
        if inp.synapses is None:
            total += synapses * np.bincount(slot, minlength=c)[:, None]
            fixed = bus >= 0
            per_bus += synapses * np.bincount(slot[fixed] * chip.buses + bus[fixed],
                                              minlength=c * chip.buses).reshape(c, chip.buses, 1)
            continue
        source, target = inp.synapses.sources, inp.synapses.indices.astype(np.int64)
        t = slot[source]
        total += synapses * np.bincount(t * size + target, minlength=c * size).reshape(c, size)
        b = bus[source]
        fixed = b >= 0
        if home is not None and inp.home is not None:
            fixed &= inp.home[source] == home[target]
        per_bus += synapses * np.bincount((t[fixed] * chip.buses + b[fixed]) * size + target[fixed],
                                          minlength=c * chip.buses * size).reshape(c, chip.buses, size)
    if total.max(initial=0) > chip.rows or per_bus.max(initial=0) > 2 * chip.drivers_per_bus:
        return None
    return slots


def _fits_one_circuit(chip: Chip, size: int, inputs: list[Input]) -> bool:
    """Whether every neuron's synapses fit one circuit's column, and those of each bus's on-chip sources
    that bus's drivers' rows."""
    total, per_bus = np.zeros(size, np.int64), np.zeros((chip.buses, size), np.int64)
    for inp in inputs:
        synapses = inp.exc + inp.inh
        bus = np.where(inp.event_output >= 0, inp.event_output % chip.buses, -1)
        if inp.synapses is None:
            total += synapses * len(bus)
            per_bus += synapses * np.bincount(bus[bus >= 0], minlength=chip.buses)[:, None]
            continue
        total += synapses * per_target(inp.synapses)
        on_bus = bus[inp.synapses.sources]
        fixed = on_bus >= 0
        if fixed.any():
            per_bus += synapses * np.bincount(on_bus[fixed] * size + inp.synapses.indices[fixed],
                                              minlength=chip.buses * size).reshape(chip.buses, size)
    return total.max(initial=0) <= chip.rows and per_bus.max(initial=0) <= 2 * chip.drivers_per_bus


def _deal(cost: np.ndarray, active: list[int], total: np.ndarray, per_bus: np.ndarray, bus: int, chip: Chip) -> int:
    """How many of the next sources (rows `cost`; one column: alike for every neuron) fit when dealt
    round-robin over the `active` slots."""
    m = len(active)
    limit = len(cost)
    for q, t in enumerate(active):
        cumulative = np.cumsum(cost[q::m], axis=0)
        fits = _peak(total[t], cumulative) <= chip.rows
        if bus >= 0:
            fits &= _peak(per_bus[t, bus], cumulative) <= 2 * chip.drivers_per_bus
        leading = len(fits) if fits.all() else int(np.argmin(fits))
        if leading < len(fits):
            limit = min(limit, leading * m + q)
    return limit


def _peak(load: np.ndarray, cumulative: np.ndarray) -> np.ndarray:
    """The busiest neuron's synapses after each of the cumulative costs."""
    if cumulative.shape[1] == 1:  # the same for every neuron
        return load.max(initial=0) + cumulative[:, 0]
    return (load + cumulative).max(axis=1)


def _costs(inputs: list[Input], run: list[tuple[int, int]], size: int) -> np.ndarray:
    """Synapses each source of `run` puts on every neuron of the population: (len(run), size), or
    (len(run), 1) when every source of `run` is dense (alike for every neuron)."""
    if all(inputs[k].synapses is None for k, _ in run):
        return np.array([[inputs[k].exc + inputs[k].inh] for k, _ in run], np.int64).reshape(len(run), 1)
    cost = np.zeros((len(run), size), np.int64)
    for row, (k, i) in enumerate(run):
        inp = inputs[k]
        if inp.synapses is None:
            cost[row] = inp.exc + inp.inh
        else:
            cost[row, inp.synapses.indices[inp.synapses.indptr[i]:inp.synapses.indptr[i + 1]]] = inp.exc + inp.inh
    return cost


def _load(inputs: list[Input], run: list[tuple[int, int]], size: int) -> np.ndarray:
    """Synapses the sources of `run` put on each neuron together (size,), without a (sources, size) matrix."""
    load = np.zeros(size, np.int64)
    by_input: dict[int, list[int]] = {}
    for k, i in run:
        by_input.setdefault(k, []).append(i)
    for k, sources in by_input.items():
        inp = inputs[k]
        if inp.synapses is None:
            load += (inp.exc + inp.inh) * len(sources)
            continue
        chosen = np.zeros(inp.synapses.pre, bool)
        chosen[sources] = True
        load += (inp.exc + inp.inh) * np.bincount(inp.synapses.indices[chosen[inp.synapses.sources]],
                                                  minlength=size)
    return load


@dataclass
class ChipFill:
    """What one chip of a partition has left: columns free of merged neurons, circuits free at all."""

    chip: Chip
    columns_used: int = 0
    circuits_used: int = 0

    def room(self, circuits_per_neuron: int) -> int:
        """How many more neurons of `c` circuits fit. Merged neurons take whole columns from column 0
        up; single circuits go wherever a circuit is free, so only the totals matter."""
        free = self.chip.circuits - self.circuits_used
        k = self.chip.columns_for(circuits_per_neuron)
        if k == 0:
            return free
        return max(0, min((self.chip.columns - self.columns_used) // k, free // circuits_per_neuron))

    def take(self, circuits_per_neuron: int, neurons: int) -> None:
        self.columns_used += neurons * self.chip.columns_for(circuits_per_neuron)
        self.circuits_used += neurons * circuits_per_neuron


@dataclass(frozen=True)
class PackedChunk:
    """Neurons [start, stop) of a population, on one chip of one partition (the IR's Chunk, before the
    partitions are records)."""

    population: str
    start: int
    stop: int
    partition: int
    chip: int


@dataclass
class _Partition:
    fills: list[ChipFill]
    cursor: int = 0  # chips before the cursor are closed: later populations go to this one or after
    chunks: list[PackedChunk] = field(default_factory=list)


Member = tuple[str, int, int, "int | None"]  # population, size, circuits per neuron, neurons per chip (None: all)


def pack(units: list[tuple[bool, list[Member]]], chip: Chip, chips: int) -> list[PackedChunk] | None:
    """Chunks of every population: `units` in dependency order, each (recurrent, [(population, size,
    circuits per neuron, neurons per chip)]). A feed-forward population fills the chips of the current
    partition in order and spills into the next partitions; a recurrent unit goes into one partition whole
    (its neurons must run at once) or into a fresh one. A population spread thin (a number of neurons per
    chip, bss2_spread) takes chips of its own. None when a recurrent unit fits no partition."""
    partitions = [_Partition([ChipFill(chip) for _ in range(chips)])]
    for recurrent, members in units:
        if recurrent:
            current = partitions[-1]
            placed = _try_at_once(current, members, len(partitions) - 1)
            if placed is None:
                fresh = _Partition([ChipFill(chip) for _ in range(chips)])
                placed = _try_at_once(fresh, members, len(partitions))
                if placed is None:
                    return None
                partitions.append(fresh)
            continue
        for name, size, c, per_chip in members:
            start = 0
            while start < size:
                current = partitions[-1]
                start = _fill(current, name, start, size, c, len(partitions) - 1, per_chip)
                if start < size:
                    partitions.append(_Partition([ChipFill(chip) for _ in range(chips)]))
    return [chunk for p in partitions for chunk in p.chunks]


def fits_at_once(members: list[Member], chip: Chip, chips: int) -> bool:
    """Whether these populations fit on `chips` empty chips at the same time."""
    return _try_at_once(_Partition([ChipFill(chip) for _ in range(chips)]), members, 0) is not None


def fewest_chips(members: list[Member], chip: Chip, given: int, limit: int | None = None) -> int | None:
    """The fewest chips, more than `given` (on which they do not fit), on which these populations fit at once;
    None if that is more than `limit`. Filling chips one after another, what fits on n chips fits on more,
    so the count is found by doubling, then halving the interval."""
    low, high = given, 2 * given if limit is None else min(2 * given, limit)
    while not fits_at_once(members, chip, high):
        if limit is not None and high >= limit:
            return None
        low, high = high, 2 * high if limit is None else min(2 * high, limit)
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if fits_at_once(members, chip, middle) else (middle, high)
    return high


def _fill(partition: _Partition, name: str, start: int, size: int, c: int, index: int,
          per_chip: int | None = None) -> int:
    """Put neurons from `start` on the partition's open chips; the new start. Spread (`per_chip`): at most
    that many on each chip, on chips nothing else takes (their hemispheres' sources are its own)."""
    fills = partition.fills
    if per_chip is not None and partition.cursor < len(fills) and fills[partition.cursor].circuits_used:
        partition.cursor += 1
    while start < size and partition.cursor < len(fills):
        fill = fills[partition.cursor]
        n = min(fill.room(c), size - start, per_chip or size)
        if n > 0:
            fill.take(c, n)
            partition.chunks.append(PackedChunk(name, start, start + n, index, partition.cursor))
            start += n
        if start < size or per_chip is not None:
            partition.cursor += 1
    return start


def _try_at_once(partition: _Partition, members: list[Member], index: int) -> _Partition | None:
    trial = _Partition([ChipFill(f.chip, f.columns_used, f.circuits_used) for f in partition.fills],
                       partition.cursor, list(partition.chunks))
    for name, size, c, per_chip in members:
        if _fill(trial, name, 0, size, c, index, per_chip) < size:
            return None
    partition.fills, partition.cursor, partition.chunks = trial.fills, trial.cursor, trial.chunks
    return partition


def population_units(graph, populations: list[str]) -> list[tuple[bool, list[str]]]:
    """The populations grouped into units in dependency order: each strongly connected set of the
    projection graph (inputs left out) is one unit, recurrent when it has a cycle (a self-projection
    counts). Ties are broken by declaration order, so the result is deterministic."""
    order = {name: i for i, name in enumerate(populations)}
    sub = nx.DiGraph(graph.subgraph(populations))
    condensed = nx.condensation(sub)
    members = condensed.graph["mapping"]
    groups: dict[int, list[str]] = {}
    for name, component in members.items():
        groups.setdefault(component, []).append(name)
    first = {component: min(order[n] for n in names) for component, names in groups.items()}
    units = []
    for component in nx.lexicographical_topological_sort(condensed, key=first.__getitem__):
        names = sorted(groups[component], key=order.__getitem__)
        recurrent = len(names) > 1 or sub.has_edge(names[0], names[0])
        units.append((recurrent, names))
    return units
