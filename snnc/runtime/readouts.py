"""Readouts: the class scores of the output population, from its (T, B, N) membrane and spikes.

Each is written with differentiable tensor operations so the twin's backward flows through it; on the
emulators' step-function spikes they compute exactly the readout DSL.md defines."""

from __future__ import annotations

from collections.abc import Callable

import torch

from snnc.compiler.ir.readouts import FirstSpike, MaxMembrane, SpikeCount, Value

Tensor = torch.Tensor


def max_membrane(membrane: Tensor, _spikes: Tensor | None, _dt: float) -> Tensor:
    """score = max_t V(t). amax shares the gradient among tied maxima: a silent network (V flat at rest)
    still gets a gradient through every step, not only through t = 0."""
    return membrane.amax(dim=0)


def spike_count(_membrane: Tensor, spikes: Tensor, _dt: float) -> Tensor:
    """score = number of spikes."""
    return spikes.sum(dim=0)


def first_spike(_membrane: Tensor, spikes: Tensor, dt: float) -> Tensor:
    """score = -(time of the first spike) / duration, in [-1, 0]; no spike scores -1. In units of the
    duration, not seconds, so that scores span about one unit like the other readouts (the loss scales
    them by LOGIT_SCALE; in seconds they differed by milliseconds and a cross-entropy could not tell
    classes apart). Written as sum_t t z_t prod_{t'<t}(1 - z_t') + T prod_t (1 - z_t), which equals the
    first spike step for 0/1 spikes and passes gradients through each z_t."""
    steps = spikes.shape[0]
    silent_before = torch.cumprod(torch.cat([torch.ones_like(spikes[:1]), 1 - spikes[:-1]]), dim=0)
    times = torch.arange(steps, dtype=spikes.dtype).reshape(-1, *([1] * (spikes.dim() - 1)))
    first = (times * spikes * silent_before).sum(0) + steps * silent_before[-1] * (1 - spikes[-1])
    return -first / steps


def value(values: Tensor, _spikes: Tensor | None, _dt: float) -> Tensor:
    """score = the neuron's output (models without dynamics)."""
    return values


READOUTS: dict[type, Callable[[Tensor, Tensor | None, float], Tensor]] = {
    MaxMembrane: max_membrane, SpikeCount: spike_count, FirstSpike: first_spike, Value: value}
