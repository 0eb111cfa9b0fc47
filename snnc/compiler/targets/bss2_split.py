"""Splitting a count of label-group members over bins (groups, buses) as evenly as their room allows: the
arithmetic of bss2_routing's placement strategies, pure numpy."""

from __future__ import annotations

import numpy as np


def water_fill(count: int, level: np.ndarray, room: np.ndarray, step: int) -> np.ndarray:
    """`count` items, each raising its bin's level by `step`, into the bins with the lowest level first
    (bins full at `room`), so the levels end as even as they can."""
    share = np.zeros(len(level), np.int64)
    left = count
    while left > 0:
        open_ = np.flatnonzero(room - share > 0)
        if not len(open_):
            break
        now = level[open_] + step * share[open_]
        lowest = open_[now == now.min()]
        higher = now[now > now.min()]
        each = -(-(int(higher.min()) - int(now.min())) // step) if len(higher) else left
        each = max(1, min(each, -(-left // len(lowest))))
        for i in lowest:
            add = int(min(each, room[i] - share[i], left))
            share[i] += add
            left -= add
    return share


def even_split(count: int, room: np.ndarray) -> np.ndarray:
    """`count` split as evenly as `room` allows (room-capped); the remainder always to the first ones, so
    the patterns dealt one after another round up in the same groups (a group's rows are its busiest
    column's, a maximum over patterns, not a sum)."""
    share = np.zeros(len(room), np.int64)
    left = count
    while left > 0 and (room - share).sum() > 0:
        open_ = np.flatnonzero(room - share > 0)
        each = max(1, left // len(open_))
        for i in open_:
            add = int(min(each, room[i] - share[i], left))
            share[i] += add
            left -= add
            if left == 0:
                break
    return share
