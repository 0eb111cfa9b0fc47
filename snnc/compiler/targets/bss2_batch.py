"""Routing of many hemispheres at once, in time linear in the synapses: the hemispheres whose every source
comes from the host over sparse projections (an input layer onto thousands of chips), which
bss2_routing.route_hemisphere deals round-robin. Numba kernels walk the synapses once: grouped by
hemisphere (a stable counting sort), each hemisphere's host sources take labels in order of appearance,
source k of H going to label group k % G (G = ceil(H / labels) groups, group g on bus g % buses) under
label k // G, and each synapse the next free row of its group and column (packed rows).

A hemisphere qualifies when it has more host sources than a group has labels, their synapses fall into
more than `labels` distinct patterns (else route_hemisphere deals them by pattern) and the groups fit
their buses; the others are left to route_hemisphere (`routed` False). Pair order within a hemisphere is
(projection, source, target), so a unit's synapses are consecutive and rows are packed in unit order."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

try:  # numba is a dependency; without it every hemisphere takes the general router (bss2_routing)
    from numba import njit
except ImportError:  # pragma: no cover - exercised only where numba cannot be installed
    njit = None

from snnc.compiler.ir.counting import stable_order
from snnc.compiler.targets.bss2 import Chip

_CODES = np.random.default_rng(0).integers(0, 1 << 62, size=1 << 17, dtype=np.int64)  # pattern hashes


@dataclass(frozen=True)
class Pairs:
    """The synapses to route, one entry each: their hemisphere (0..hemispheres-1), column, source's global id,
    projection (0..P-1) and whether it has an excitatory and an inhibitory row (by projection sign)."""

    hemisphere: np.ndarray  # integers
    column: np.ndarray
    gid: np.ndarray
    projection: np.ndarray
    exc: np.ndarray  # bool per projection
    inh: np.ndarray  # bool per projection


@dataclass(frozen=True)
class Batch:
    """What the kernels decided: per hemisphere whether it was routed and its G groups' first index into
    the group arrays; per group its bus, its first driver position on the bus, rows and sources; per pair
    its rows (-1 for none, or not routed); per host source its hemisphere, group and label; which
    projections each (hemisphere, bus) carries."""

    routed: np.ndarray  # bool (hemispheres,)
    first_group: np.ndarray  # int64 (hemispheres + 1,)
    exc_rows: np.ndarray  # int64 (groups,)
    inh_rows: np.ndarray
    sources: np.ndarray
    position: np.ndarray  # first driver position of each group on its bus
    exc_row: np.ndarray  # int16 (pairs,)
    inh_row: np.ndarray
    host_hemisphere: np.ndarray  # int64 (hosts,)
    host_group: np.ndarray  # within the hemisphere
    host_gid: np.ndarray
    host_label: np.ndarray
    carries: np.ndarray  # bool (hemispheres, buses, projections)


def available() -> bool:
    return njit is not None


def route_batch(pairs: Pairs, hemispheres: int, gids: int, chip: Chip) -> Batch:
    """Route the hemispheres of `pairs` that qualify (module docstring); `gids`: the number of source ids."""
    order, start = _by_hemisphere(pairs.hemisphere, hemispheres)
    column, gid, projection = pairs.column[order], pairs.gid[order], pairs.projection[order]
    exc, inh = pairs.exc[projection], pairs.inh[projection]
    codes = _CODES if 2 * chip.columns <= len(_CODES) else np.random.default_rng(0).integers(
        0, 1 << 62, size=2 * chip.columns, dtype=np.int64)
    host, hosts, patterns = _hosts(start, gid, column, exc, inh, codes, chip.columns, gids)
    groups = -(-hosts // chip.labels)
    routed = (hosts > chip.labels) & (patterns > chip.labels)
    first_group = np.zeros(hemispheres + 1, np.int64)
    np.cumsum(np.where(routed, groups, 0), out=first_group[1:])
    size = int(first_group[-1])
    exc_rows, inh_rows, sources = (np.zeros(size, np.int64) for _ in range(3))
    position = np.zeros(size, np.int64)
    exc_row, inh_row = np.full(len(order), -1, np.int16), np.full(len(order), -1, np.int16)  # in pair order
    carries = np.zeros((hemispheres, chip.buses, len(pairs.exc)), np.bool_)
    _route(start, order, column, projection, exc, inh, host, hosts, routed, first_group, chip.labels, chip.columns,
           chip.buses, chip.label_groups, chip.drivers_per_bus, exc_rows, inh_rows, sources, position, exc_row,
           inh_row, carries)
    # host sources: one entry per (hemisphere, host), from each one's first pair
    first = np.flatnonzero(_first_of_host(start, host, hosts))
    h = np.repeat(np.arange(hemispheres), np.diff(start))[first]
    keep = routed[h]
    first, h = first[keep], h[keep]
    k = host[first]
    g = groups[h]
    return Batch(routed, first_group, exc_rows, inh_rows, sources, position, exc_row, inh_row, h, k % g, gid[first],
                 k // g, carries)


def _by_hemisphere(hemisphere: np.ndarray, hemispheres: int) -> tuple[np.ndarray, np.ndarray]:
    """The pairs' order grouped by hemisphere, stable (a counting sort), and each hemisphere's start."""
    start = np.zeros(hemispheres + 1, np.int64)
    np.cumsum(np.bincount(hemisphere, minlength=hemispheres), out=start[1:])
    return stable_order(hemisphere, start), start


if njit is not None:
    @njit(cache=True, nogil=True)
    def _hosts(start, gid, column, exc, inh, codes, columns, gids):  # pragma: no cover - compiled
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
    def _first_of_host(start, host, hosts):  # pragma: no cover - compiled
        first = np.zeros(len(host), np.bool_)
        for h in range(len(start) - 1):
            seen = np.zeros(hosts[h], np.bool_)
            for e in range(start[h], start[h + 1]):
                if not seen[host[e]]:
                    seen[host[e]] = True
                    first[e] = True
        return first

    @njit(cache=True, nogil=True)
    def _route(start, order, column, projection, exc, inh, host, hosts, routed, first_group, labels, columns, buses,
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
