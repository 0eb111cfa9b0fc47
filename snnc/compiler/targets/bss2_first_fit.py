"""A placement strategy of bss2_routing.route_hemisphere for many host sources of distinct synapses (sparse
projections), most synapses first, each into the emptiest label group that takes it without a new driver: a
numba kernel (bss2_batch_kernels.first_fit).

Round robin (route_hemisphere's first try) deals the sources evenly over just enough label groups for their
labels: every group then draws a few synapses from most columns, and its rows (its busiest column's) add up
past the bus's drivers once a hemisphere hears thousands of sources over few columns (a population spread
thin, bss2_spread). First fit instead puts a source where it costs no new row (the emptiest such group, so
groups fill evenly), so a group of one driver holds up to one synapse per column and sign, and opens
groups (on the bus with the fewest drivers) only when none takes a source for free: a hemisphere needs
about as many drivers as its busiest column has synapses, or as its sources need label groups, whichever
is more."""

from __future__ import annotations

import numpy as np

from snnc.compiler.targets.bss2 import Chip
from snnc.compiler.targets.bss2_groups import Demand, Group


def deal_first_fit(hosts: np.ndarray, host_of_unit: np.ndarray, demand: Demand, chip: Chip,
                   groups: list[Group]) -> None:
    """Place the host sources `hosts` (gids; `host_of_unit`: each unit's host index, -1 for on-chip units)
    into `groups` (the on-chip sources' groups are kept, empty ones dropped), opening groups as needed."""
    from snnc.compiler.targets.bss2_batch_kernels import first_fit

    groups[:] = [g for g in groups if g.members]
    room = len(groups) + chip.buses * chip.label_groups + -(-len(hosts) // chip.labels) + chip.buses
    group_bus = np.full(room, -1, np.int64)
    load = np.zeros((room, 2, demand.columns), np.int64)
    used = np.zeros((room, chip.labels), np.bool_)
    for i, group in enumerate(groups):
        group_bus[i], load[i, 0], load[i, 1], used[i] = group.bus, group.load_exc, group.load_inh, group.used
    free = chip.labels - used.sum(axis=1)
    owner = host_of_unit[demand.unit]
    pairs = np.flatnonzero(owner >= 0)
    pairs = pairs[np.argsort(owner[pairs], kind="stable")]
    start = np.zeros(len(hosts) + 1, np.int64)
    np.cumsum(np.bincount(owner[pairs], minlength=len(hosts)), out=start[1:])
    order = np.argsort(-np.diff(start), kind="stable")  # most synapses first
    group_of, label_of, count = first_fit(start, demand.column[pairs], demand.exc[pairs], demand.inh[pairs],
                                          group_bus, load, used, free, chip.buses, chip.label_groups,
                                          chip.drivers_per_bus, order)
    for g in range(len(groups), count):
        groups.append(Group(bus=int(group_bus[g]), chunk=-1, load_exc=load[g, 0], load_inh=load[g, 1],
                            used=used[g]))
    by_group = np.argsort(group_of, kind="stable")
    bounds = np.searchsorted(group_of[by_group], np.arange(count + 1))
    for g, group in enumerate(groups):
        group.load_exc, group.load_inh, group.used = load[g, 0].astype(np.int32), load[g, 1].astype(np.int32), used[g]
        mine = by_group[bounds[g]:bounds[g + 1]]
        group.members.update(zip(hosts[mine].tolist(), label_of[mine].tolist()))
