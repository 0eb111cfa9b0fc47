"""BrainScaleS-2 event routing of one chip's hemisphere: which PADI bus, label group, synapse label,
drivers and rows carry each source's spikes (docs/targets.md, "Event routing", cites every rule).

- A spike enters a hemisphere on one of its PADI buses; synapse driver d listens to bus d % buses.
- An on-chip neuron's spikes reach only the bus of its column's event output (the crossbar's fixed
  diagonal), in every hemisphere; spikes from the host (inputs, earlier partitions, other chips) may be
  put on any bus.
- A bus's sources form label groups: a group's events carry one row-select address, so they reach only
  the group's own drivers, and distinct synapse labels, so a group tells at most 2**address_bits sources
  apart; a bus tells 2**row_select_bits groups apart and has drivers / buses drivers.
- A synapse column on a group's rows listens to one of the group's sources per row, so a group takes as
  many rows as the busiest column draws from it (per sign), and drivers = ceil(rows / 2), as grenade's
  router counts them; an on-chip source keeps one label on every bus (it is its neuron's address).

Sources are "units" here: one projection's source neuron with its synapses in this hemisphere (a list of
(column, sign) pairs); units of one source neuron share its label. Pure numpy: the pass turns the result into
records, rows and diagnostics."""

from __future__ import annotations

import numpy as np

from snnc.compiler.ir.counting import distinct
from snnc.compiler.targets.bss2 import Chip
from snnc.compiler.targets.bss2_batch import available, pattern_codes
from snnc.compiler.targets.bss2_first_fit import deal_first_fit
from snnc.compiler.targets.bss2_groups import BusProblem, Demand, Group
from snnc.compiler.targets.bss2_split import even_split, water_fill

__all__ = ["BusProblem", "Demand", "Group", "route_hemisphere"]  # (the records live in bss2_groups)


def route_hemisphere(demand: Demand, chip: Chip) -> tuple[list[Group], list[BusProblem]]:
    """Label groups of every bus (drivers allocated) and the buses that overflow. Host sources are dealt
    evenly over just enough groups for their labels, or over one more group per bus (finer groups trade
    labels for rows), or water-filled by load; the first placement that fits is kept (else the one that
    overflows least). Many host sources of distinct synapses (sparse projections: each source its own
    pattern, which the others place one pattern at a time) are first dealt round-robin at once, then first
    fit. More sources than the hemisphere tells apart fit no placement: one quick one says by how much."""
    best, patterns, (hosts, host_of_unit) = None, None, _hosts(demand)
    strategies = [(_deal_evenly, 0), (_deal_evenly, 1), (_level_evenly, 1), (_level_evenly, 0)]
    many_patterns = len(hosts) > chip.labels and _pattern_count(demand, host_of_unit, len(hosts)) > chip.labels
    if len(hosts) + len(distinct(demand.gid[demand.chunk >= 0])) > chip.sources_per_hemisphere:
        strategies = [(_deal_round_robin, 0) if many_patterns else (_deal_evenly, 0)]
    elif many_patterns:  # first fit (numba, bss2_first_fit) where round robin's groups take too many drivers
        fits = [(deal_first_fit, 0)] * available()  # (first where the sources on the chip's buses narrow them)
        robin = [(_deal_round_robin, 0)]
        strategies[:0] = fits + robin if (demand.chunk >= 0).any() else robin + fits
    for place, spare in strategies:
        groups = _internal_groups(demand, chip)
        if place is not deal_first_fit:  # (which opens its own)
            _open_groups(len(hosts), chip, groups, demand.columns, spare, whole=place is _level_evenly)
        if place in (_deal_round_robin, deal_first_fit):
            place(hosts, host_of_unit, demand, chip, groups)
        else:
            patterns = _host_patterns(hosts, host_of_unit, demand) if patterns is None else patterns
            place(patterns, chip, groups)
        groups = [g for g in groups if g.members]
        if place not in (_deal_round_robin, deal_first_fit):
            _relieve(groups, chip)
        problems = _bus_problems(groups, chip)
        excess = sum(p.needed - p.available for p in problems)
        drivers = sum(-(-g.rows // 2) for g in groups)
        if best is None or (excess, drivers) < best[0]:
            best = ((excess, drivers), groups, problems)
        if not excess:
            break
    _, groups, problems = best
    for bus in range(chip.buses):
        position = 0
        for group in (g for g in groups if g.bus == bus):
            count = -(-group.rows // 2)
            group.drivers = tuple(int(p * chip.buses + bus) for p in range(position, position + count))
            position += count
    return groups, problems


def _deal_round_robin(hosts: np.ndarray, host_of_unit: np.ndarray, demand: Demand, chip: Chip,
                      groups: list[Group]) -> None:
    """Host sources dealt one by one over the groups' free labels in turn, all at once (vectorized): each
    group gets an even share of sources, so with sparse sources every column's synapses spread evenly over
    the groups and a group's rows (its busiest column's) stay few."""
    free = np.array([chip.labels - int(g.used.sum()) for g in groups], np.int64)
    turns = np.concatenate([np.flatnonzero(free > r) for r in range(int(free.max(initial=0)))]) if len(free) else []
    assigned = np.asarray(turns[:len(hosts)], np.int64)
    load_exc, load_inh = demand.loads(np.where(host_of_unit >= 0, assigned[host_of_unit], -1), len(groups))
    for i in distinct(assigned).tolist():
        mine = np.flatnonzero(assigned == i)
        group = groups[i]
        labels = np.flatnonzero(~group.used)[:len(mine)]
        group.used[labels] = True
        group.members.update(zip(hosts[mine].tolist(), labels.tolist()))
        group.load_exc = group.load_exc + load_exc[i]
        group.load_inh = group.load_inh + load_inh[i]


def _bus_problems(groups: list[Group], chip: Chip) -> list[BusProblem]:
    problems = []
    bus_of = np.array([g.bus for g in groups], np.int64)
    drivers = np.bincount(bus_of, [-(-g.rows // 2) for g in groups], chip.buses).astype(np.int64).tolist()
    sources = np.bincount(bus_of, [len(g.members) for g in groups], chip.buses).astype(np.int64).tolist()
    for bus, count in enumerate(np.bincount(bus_of, minlength=chip.buses).tolist()):
        if count > chip.label_groups:
            problems.append(BusProblem(bus, "groups", count, chip.label_groups, sources[bus]))
        if drivers[bus] > chip.drivers_per_bus:
            problems.append(BusProblem(bus, "drivers", drivers[bus], chip.drivers_per_bus, sources[bus]))
    return problems


def _relieve(groups: list[Group], chip: Chip) -> None:
    """Local repair of overflowing buses: move host sources that set a group's rows (they have a synapse
    in every column at its maximum) to groups that take them without a new row, until the buses fit or
    no such move is left. Rows never grow, so this ends."""
    for _ in range(4 * chip.labels * chip.buses):
        over = [p.bus for p in _bus_problems(groups, chip) if p.what == "drivers"]
        if not over or not _move_one(groups, chip, set(over)):
            return


def _move_one(groups: list[Group], chip: Chip, over: set[int]) -> bool:
    for group in sorted((g for g in groups if g.bus in over), key=lambda g: -g.rows):
        for sign in ("exc", "inh"):
            load = group.load_exc if sign == "exc" else group.load_inh
            hot = load == load.max(initial=0)
            if load.max(initial=0) == 0:
                continue
            for gid in reversed(list(group.costs)):
                cost = group.costs[gid][0 if sign == "exc" else 1]
                if not (cost[hot] > 0).all():
                    continue
                exc, inh = group.costs[gid]
                for other in groups:
                    if other is group or other.bus in over or other.used.all():
                        continue
                    if ((other.load_exc + exc).max() <= other.exc_rows
                            and (other.load_inh + inh).max() <= other.inh_rows):
                        group.give(gid)
                        other.take([gid], exc, inh)
                        return True
    return False


def _internal_groups(demand: Demand, chip: Chip) -> list[Group]:
    """One group per chip-wide label chunk of on-chip sources present here, with its fixed labels."""
    internal = demand.chunk >= 0
    chunks, index = np.unique(demand.chunk[internal], return_inverse=True)
    owner = np.full(len(demand.gid), -1, np.int64)
    owner[internal] = index
    load_exc, load_inh = demand.loads(owner, len(chunks))
    groups = []
    for i, chunk in enumerate(chunks.tolist()):
        units = np.flatnonzero(owner == i)
        group = Group(bus=int(demand.bus[units[0]]), chunk=chunk, load_exc=load_exc[i], load_inh=load_inh[i],
                      used=np.zeros(chip.labels, bool))
        for gid, label in zip(demand.gid[units].tolist(), demand.label[units].tolist()):
            group.members[gid] = label
        group.used[list(group.members.values())] = True
        group.internal = len(group.members)
        groups.append(group)
    return groups


def _hosts(demand: Demand) -> tuple[np.ndarray, np.ndarray]:
    """The host sources (gids, in the order the projections list them: by their first unit) and each
    unit's host source (its index among them; -1 for an on-chip source's unit)."""
    host = np.flatnonzero(demand.chunk < 0)
    gids, first, inverse = np.unique(demand.gid[host], return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty(len(order), np.int64)
    rank[order] = np.arange(len(order))
    host_of_unit = np.full(len(demand.gid), -1, np.int64)
    host_of_unit[host] = rank[inverse.reshape(-1)]
    return gids[order], host_of_unit


def _pattern_count(demand: Demand, host_of_unit: np.ndarray, hosts: int) -> int:
    """How many distinct costs (synapses per column and sign) the host sources have, from the batch
    router's hash of each one's synapses (bss2_batch.pattern_codes)."""
    codes = pattern_codes(demand.columns)
    owner = host_of_unit[demand.unit]
    sums = np.zeros(hosts, np.int64)
    for flag, shift in ((demand.exc, 0), (demand.inh, demand.columns)):
        mine = flag & (owner >= 0)
        np.add.at(sums, owner[mine], codes[demand.column[mine] + shift])
    return len(distinct(sums))


def _host_patterns(hosts: np.ndarray, host_of_unit: np.ndarray, demand: Demand
                   ) -> list[tuple[list[int], np.ndarray, np.ndarray]]:
    """Host sources grouped by their cost (exc, inh synapses per column, over all their units; a dense
    projection's sources are alike), in the order the projections list them."""
    load_exc, load_inh = demand.loads(host_of_unit, len(hosts))
    costs = np.concatenate([load_exc, load_inh], axis=1)
    patterns: dict[bytes, list[int]] = {}
    rows: dict[bytes, np.ndarray] = {}
    for gid, cost in zip(hosts.tolist(), costs):
        key = cost.tobytes()
        patterns.setdefault(key, []).append(gid)
        rows.setdefault(key, cost)
    return [(members, rows[key][:demand.columns], rows[key][demand.columns:]) for key, members in patterns.items()]


def _open_groups(hosts: int, chip: Chip, groups: list[Group], columns: int, spare: int,
                 whole: bool = False) -> None:
    """Open groups (on the bus with the fewest; `whole`: on every bus at once) until the `hosts` host
    sources have labels, and `spare` more on every bus (finer groups trade labels for rows)."""
    free = sum(chip.labels - int(g.used.sum()) for g in groups)
    counts = np.bincount([g.bus for g in groups], minlength=chip.buses)
    while free < hosts:
        for bus in range(chip.buses) if whole else [int(np.argmin(counts))]:
            groups.append(_new_group(bus, chip, columns))
            free, counts[bus] = free + chip.labels, counts[bus] + 1
    for bus in range(chip.buses) if hosts else ():
        for _ in range(spare):
            groups.append(_new_group(bus, chip, columns))


def _level_evenly(patterns: list, chip: Chip, groups: list[Group]) -> None:
    """Water filling: each pattern's sources are split over the buses so that its columns draw as evenly
    as possible from every bus (counting the on-chip sources already there), then within a bus go to the
    groups where its columns' load is lowest, so every group holds an equal share of every column's inputs
    (a group's rows are its busiest column's)."""
    bus_of = np.array([g.bus for g in groups])
    for members, exc, inh in patterns:
        on_exc, on_inh = exc > 0, inh > 0
        per_source = max(1, int(exc.max(initial=0) + inh.max(initial=0)))
        level = np.array([g.load_exc[on_exc].max(initial=0) + g.load_inh[on_inh].max(initial=0) for g in groups])
        free = np.array([chip.labels - int(g.used.sum()) for g in groups], np.int64)
        bus_level = np.bincount(bus_of, weights=level, minlength=chip.buses).astype(np.int64)
        bus_free = np.bincount(bus_of, weights=free, minlength=chip.buses).astype(np.int64)
        per_bus = water_fill(len(members), bus_level, bus_free, per_source)
        start = 0
        for bus in np.flatnonzero(per_bus):
            mine = np.flatnonzero(bus_of == bus)
            for i, count in zip(mine, water_fill(int(per_bus[bus]), level[mine], free[mine], per_source)):
                if count:
                    groups[i].take(members[start:start + count], exc, inh)
                    start += int(count)


def _deal_evenly(patterns: list, chip: Chip, groups: list[Group]) -> None:
    """Deal every pattern's sources evenly over the buses and, within a bus, over its groups, first where
    they cost no new rows: each group then holds a share of every column's inputs, so the rows one column
    needs pay for the other columns' sources in the same group (sparse inputs ride on dense ones)."""
    for members, exc, inh in patterns:
        free = np.array([chip.labels - int(g.used.sum()) for g in groups], np.int64)
        room = np.minimum(free, np.minimum(_room(groups, exc, "exc"), _room(groups, inh, "inh")))
        share = even_split(len(members), room)  # first where they cost no new rows
        left = len(members) - int(share.sum())
        if left:
            # Then over the buses with row headroom, in proportion to it, and evenly within a bus.
            bus_of = np.array([g.bus for g in groups])
            per_source = max(1, int(exc.max(initial=0) + inh.max(initial=0)))
            headroom = np.maximum(0, 2 * chip.drivers_per_bus - _bus_rows(groups, chip)) // per_source
            bus_free = np.bincount(bus_of, weights=free - share, minlength=chip.buses).astype(np.int64)
            bus_share = even_split(left, np.minimum(bus_free, headroom))
            bus_share += even_split(left - int(bus_share.sum()), bus_free - bus_share)
            for bus in np.flatnonzero(bus_share):
                mine = np.flatnonzero(bus_of == bus)
                share[mine] += even_split(int(bus_share[bus]), (free - share)[mine])
        start = 0
        for i in np.flatnonzero(share):
            groups[i].take(members[start:start + share[i]], exc, inh)
            start += int(share[i])


def _new_group(bus: int, chip: Chip, columns: int) -> Group:
    return Group(bus, -1, np.zeros(columns, np.int32), np.zeros(columns, np.int32), np.zeros(chip.labels, bool))


def _room(groups: list[Group], cost: np.ndarray, sign: str) -> np.ndarray:
    """How many more sources of this cost each group takes without a new row of this sign."""
    used = cost > 0
    if not used.any():
        return np.full(len(groups), np.iinfo(np.int64).max, np.int64)
    loads = np.stack([g.load_exc if sign == "exc" else g.load_inh for g in groups])  # (G, columns)
    rows = loads.max(axis=1, keepdims=True)
    return ((rows - loads)[:, used] // cost[used]).min(axis=1).astype(np.int64)


def _bus_rows(groups: list[Group], chip: Chip) -> np.ndarray:
    buses, rows = np.array([g.bus for g in groups], np.int64), np.array([g.rows for g in groups], np.int64)
    return np.bincount(buses, weights=rows, minlength=chip.buses).astype(np.int64)
