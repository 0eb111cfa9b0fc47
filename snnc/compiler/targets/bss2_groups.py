"""The records of BrainScaleS-2 hemisphere routing (bss2_routing): what a hemisphere must receive (Demand),
a label group while routing (Group) and a bus that cannot carry what is routed onto it (BusProblem)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Demand:
    """What one hemisphere of one chip must receive: one entry per unit, and the units' synapses as (unit,
    column) pairs, so the work is that of the synapses (a sparse projection's source has a few columns of
    the 256, not a row of them)."""

    unit: np.ndarray  # (pairs,) int64: the unit of each (unit, column) pair that holds a synapse
    column: np.ndarray  # (pairs,) int64: its synapse column
    exc: np.ndarray  # (pairs,) bool: an excitatory synapse there
    inh: np.ndarray  # (pairs,) bool: an inhibitory synapse there
    columns: int
    gid: np.ndarray  # (units,) int64 global source neuron id
    bus: np.ndarray  # (units,) on-chip sources: the bus of their event output; -1 for host sources
    chunk: np.ndarray  # (units,) on-chip sources: their chip-wide label chunk; -1 for host sources
    label: np.ndarray  # (units,) on-chip sources: their label (fixed chip-wide); -1 for host sources

    def loads(self, owner: np.ndarray, owners: int) -> tuple[np.ndarray, np.ndarray]:
        """Excitatory and inhibitory synapses per owner and column, (owners, columns) int32 each, where
        `owner` names each unit's owner (a group, a host source; -1: none)."""
        of = owner[self.unit]
        key = of * self.columns + self.column
        size = owners * self.columns
        return tuple(np.bincount(key[flag & (of >= 0)], minlength=size)[:size].reshape(owners, self.columns)
                     .astype(np.int32) for flag in (self.exc, self.inh))


@dataclass
class Group:
    """A label group while routing: its bus, members (source ids and labels) and per-column loads."""

    bus: int
    chunk: int
    load_exc: np.ndarray
    load_inh: np.ndarray
    used: np.ndarray  # bool per label
    members: dict[int, int] = field(default_factory=dict)  # gid -> label
    costs: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)  # host gid -> (exc, inh)
    internal: int = 0
    drivers: tuple[int, ...] = ()

    @property
    def exc_rows(self) -> int:
        return int(self.load_exc.max(initial=0))

    @property
    def inh_rows(self) -> int:
        return int(self.load_inh.max(initial=0))

    @property
    def rows(self) -> int:
        return self.exc_rows + self.inh_rows

    def take(self, gids: list[int], exc: np.ndarray, inh: np.ndarray) -> None:
        """Add host sources of one cost (exc, inh per column) under the lowest free labels."""
        free = np.flatnonzero(~self.used)[:len(gids)]
        self.used[free] = True
        self.members.update(zip(gids, free.tolist()))
        self.costs.update(dict.fromkeys(gids, (exc, inh)))
        self.load_exc = self.load_exc + len(gids) * exc
        self.load_inh = self.load_inh + len(gids) * inh

    def give(self, gid: int) -> tuple[np.ndarray, np.ndarray]:
        """Remove a host source; its cost."""
        self.used[self.members.pop(gid)] = False
        exc, inh = self.costs.pop(gid)
        self.load_exc = self.load_exc - exc
        self.load_inh = self.load_inh - inh
        return exc, inh


@dataclass
class BusProblem:
    """A bus that cannot carry what is routed onto it: `what` is 'drivers' or 'groups'."""

    bus: int
    what: str
    needed: int
    available: int
    sources: int
