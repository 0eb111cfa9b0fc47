"""The batch router's numba kernels (bss2_batch.py imports them when first needed: numba's import takes
~0.5 s, which commands that route no large network do not pay)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def hosts_of(start, gid, column, exc, inh, codes, columns, gids):  # pragma: no cover - compiled
    """Per pair its host's rank in its hemisphere (order of first appearance); per hemisphere its
    number of hosts and of distinct patterns (hash of each host's (column, sign) multiset)."""
    hemispheres = len(start) - 1
    host = np.empty(len(gid), np.int64)
    hosts = np.zeros(hemispheres, np.int64)
    patterns = np.zeros(hemispheres, np.int64)
    rank = np.full(gids, -1, np.int64)
    hashes = np.zeros(len(gid), np.int64)
    for h in range(hemispheres):
        count = 0
        for e in range(start[h], start[h + 1]):
            if rank[gid[e]] < 0:
                rank[gid[e]] = count
                hashes[count] = 0
                count += 1
            k = rank[gid[e]]
            host[e] = k
            if exc[e]:
                hashes[k] += codes[column[e]]
            if inh[e]:
                hashes[k] += codes[columns + column[e]]
        for e in range(start[h], start[h + 1]):
            rank[gid[e]] = -1
        hosts[h] = count
        if count:
            patterns[h] = len(np.unique(hashes[:count]))
    return host, hosts, patterns

@njit(cache=True, nogil=True)
def first_of_host(start, host, hosts):  # pragma: no cover - compiled
    first = np.zeros(len(host), np.bool_)
    for h in range(len(start) - 1):
        seen = np.zeros(hosts[h], np.bool_)
        for e in range(start[h], start[h + 1]):
            if not seen[host[e]]:
                seen[host[e]] = True
                first[e] = True
    return first

@njit(cache=True, nogil=True)
def route(start, order, column, projection, exc, inh, host, hosts, routed, first_group, labels, columns, buses,
           label_groups, drivers_per_bus, exc_rows, inh_rows, sources, position, exc_row, inh_row,
           carries):  # pragma: no cover - compiled
    """Per routed hemisphere: loads and ranks per (group, column, sign), the groups' rows, the buses'
    check (a hemisphere that overflows is left unrouted), then each pair's row (at its place before the
    sort: `order`)."""
    for h in range(len(start) - 1):
        if not routed[h]:
            continue
        groups = (hosts[h] + labels - 1) // labels
        g0 = first_group[h]
        load = np.zeros((groups, 2, columns), np.int64)
        rank = np.empty((start[h + 1] - start[h], 2), np.int64)
        for e in range(start[h], start[h + 1]):
            g = host[e] % groups
            if exc[e]:
                rank[e - start[h], 0] = load[g, 0, column[e]]
                load[g, 0, column[e]] += 1
            if inh[e]:
                rank[e - start[h], 1] = load[g, 1, column[e]]
                load[g, 1, column[e]] += 1
        drivers = np.zeros(buses, np.int64)
        count = np.zeros(buses, np.int64)
        for g in range(groups):
            bus = g % buses
            exc_rows[g0 + g] = load[g, 0].max()
            inh_rows[g0 + g] = load[g, 1].max()
            sources[g0 + g] = (hosts[h] - g + groups - 1) // groups
            position[g0 + g] = drivers[bus]
            drivers[bus] += (exc_rows[g0 + g] + inh_rows[g0 + g] + 1) // 2
            count[bus] += 1
        if (drivers > drivers_per_bus).any() or (count > label_groups).any():
            routed[h] = False
            continue
        for e in range(start[h], start[h + 1]):
            g = host[e] % groups
            bus = g % buses
            carries[h, bus, projection[e]] = True
            for sign in range(2):
                if (exc[e] if sign == 0 else inh[e]):
                    r = rank[e - start[h], sign] + (0 if sign == 0 else exc_rows[g0 + g])
                    row = 2 * ((position[g0 + g] + r // 2) * buses + bus) + r % 2
                    if sign == 0:
                        exc_row[order[e]] = row
                    else:
                        inh_row[order[e]] = row



@njit(cache=True, nogil=True)
def first_fit(start, column, exc, inh, group_bus, load, used, free_labels, buses, label_groups, drivers_per_bus,
              order):  # pragma: no cover - compiled
    """Host sources (CSR `start` over their synapses' columns and signs), in `order`, each into the emptiest
    label group (most labels free) that takes it without a new driver; else into the open group, or a new one
    on the bus with the fewest drivers, whose drivers grow least where its bus has them (else where it
    overflows least, so the overflow is reported). Groups g with group_bus[g] >= 0 exist (`load` (groups, 2,
    columns), `used` (groups, labels) and `free_labels` theirs); the arrays have room for every group that
    may open. Returns each source's group and label (its group's lowest free one), and the group count."""
    groups = 0
    for g in range(len(group_bus)):
        if group_bus[g] >= 0:
            groups = g + 1
    rows = np.zeros((len(group_bus), 2), np.int64)
    drivers = np.zeros(buses, np.int64)
    count = np.zeros(buses, np.int64)
    for g in range(groups):
        rows[g, 0] = load[g, 0].max()
        rows[g, 1] = load[g, 1].max()
        drivers[group_bus[g]] += (rows[g, 0] + rows[g, 1] + 1) // 2
        count[group_bus[g]] += 1
    group_of = np.full(len(start) - 1, -1, np.int64)
    label_of = np.full(len(start) - 1, -1, np.int64)
    for k in order:
        best, best_key, free_fit = -1, np.int64(1) << 62, False
        for g in range(groups):
            if free_labels[g] == 0:
                continue
            new_exc, new_inh = rows[g, 0], rows[g, 1]
            for e in range(start[k], start[k + 1]):
                if exc[e]:
                    new_exc = max(new_exc, load[g, 0, column[e]] + 1)
                if inh[e]:
                    new_inh = max(new_inh, load[g, 1, column[e]] + 1)
            cost = (new_exc + new_inh + 1) // 2 - (rows[g, 0] + rows[g, 1] + 1) // 2
            if cost == 0:  # free: into the emptiest such group, so the groups fill evenly
                if not free_fit or free_labels[g] > free_labels[best]:
                    best, free_fit = g, True
                continue
            if free_fit:
                continue
            bus = group_bus[g]
            key = (np.int64(drivers[bus] + cost > drivers_per_bus) << 40) + (cost << 20) + drivers[bus]
            if key < best_key:
                best, best_key = g, key
        if not free_fit:
            bus = -1  # a new group: on the bus with the fewest drivers that has a free row-select address
            for b in range(buses):
                if count[b] < label_groups and (bus < 0 or drivers[b] < drivers[bus]):
                    bus = b
            new_exc, new_inh = 0, 0
            for e in range(start[k], start[k + 1]):
                new_exc = 1 if exc[e] else new_exc
                new_inh = 1 if inh[e] else new_inh
            cost = (new_exc + new_inh + 1) // 2
            if bus >= 0:
                opened = (np.int64(drivers[bus] + cost > drivers_per_bus) << 40) + (cost << 20) <= best_key
            else:  # every address taken: past the limit only if no group has a label left (reported)
                opened = best < 0
                bus = np.argmin(count)
            if opened:
                best = groups
                group_bus[best] = bus
                count[bus] += 1
                groups += 1
        g = best
        old = (rows[g, 0] + rows[g, 1] + 1) // 2
        for e in range(start[k], start[k + 1]):
            if exc[e]:
                load[g, 0, column[e]] += 1
                rows[g, 0] = max(rows[g, 0], load[g, 0, column[e]])
            if inh[e]:
                load[g, 1, column[e]] += 1
                rows[g, 1] = max(rows[g, 1], load[g, 1, column[e]])
        drivers[group_bus[g]] += (rows[g, 0] + rows[g, 1] + 1) // 2 - old
        label = 0
        while used[g, label]:
            label += 1
        used[g, label] = True
        free_labels[g] -= 1
        group_of[k] = g
        label_of[k] = label
    return group_of, label_of, groups
