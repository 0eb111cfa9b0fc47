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

import importlib.util
from dataclasses import dataclass

import numpy as np

from snnc.compiler.ir.counting import stable_order
from snnc.compiler.targets.bss2 import Chip

_CODES = np.random.default_rng(0).integers(0, 1 << 62, size=1 << 17, dtype=np.int64)  # pattern hashes


def pattern_codes(columns: int) -> np.ndarray:
    """A random code per column and sign (2 columns, int64): a host source's pattern hash is the sum of its
    synapses' codes (equal patterns, equal sums; wrapping on overflow), without a (hosts, columns) matrix."""
    if 2 * columns <= len(_CODES):
        return _CODES
    return np.random.default_rng(0).integers(0, 1 << 62, size=2 * columns, dtype=np.int64)


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
    """Whether numba is there (a dependency; without it every hemisphere takes route_hemisphere)."""
    return importlib.util.find_spec("numba") is not None


def route_batch(pairs: Pairs, hemispheres: int, gids: int, chip: Chip) -> Batch:
    """Route the hemispheres of `pairs` that qualify (module docstring); `gids`: the number of source ids."""
    from snnc.compiler.targets.bss2_batch_kernels import first_of_host, hosts_of, route

    order, start = _by_hemisphere(pairs.hemisphere, hemispheres)
    column, gid, projection = pairs.column[order], pairs.gid[order], pairs.projection[order]
    exc, inh = pairs.exc[projection], pairs.inh[projection]
    host, hosts, patterns = hosts_of(start, gid, column, exc, inh, pattern_codes(chip.columns), chip.columns, gids)
    groups = -(-hosts // chip.labels)
    routed = (hosts > chip.labels) & (patterns > chip.labels)
    first_group = np.zeros(hemispheres + 1, np.int64)
    np.cumsum(np.where(routed, groups, 0), out=first_group[1:])
    size = int(first_group[-1])
    exc_rows, inh_rows, sources = (np.zeros(size, np.int64) for _ in range(3))
    position = np.zeros(size, np.int64)
    exc_row, inh_row = np.full(len(order), -1, np.int16), np.full(len(order), -1, np.int16)  # in pair order
    carries = np.zeros((hemispheres, chip.buses, len(pairs.exc)), np.bool_)
    route(start, order, column, projection, exc, inh, host, hosts, routed, first_group, chip.labels, chip.columns,
           chip.buses, chip.label_groups, chip.drivers_per_bus, exc_rows, inh_rows, sources, position, exc_row,
           inh_row, carries)
    # host sources: one entry per (hemisphere, host), from each one's first pair
    first = np.flatnonzero(first_of_host(start, host, hosts))
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
