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
