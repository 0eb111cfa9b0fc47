"""The CADC's view of a membrane: BrainScaleS-2 samples every neuron's membrane in parallel once per
`interval` (hxtorch: ~2 us of chip time with the samples in SRAM, ~6 us in DRAM, 1.7 us at most), and
hxtorch maps the samples onto its simulation grid by linear interpolation between samples, holding the
last sample to the end (`sparse_cadc_to_dense_linear` in hxtorch's src/hxtorch/spiking/detail/to_dense.cpp).

Here sample k reads the membrane of step s_k = floor(k * interval / dt) (the emulator's state at that
time; s_0 = 0), and step t gets (1 - a) V[s_k] + a V[s_k+1] with s_k <= t < s_k+1, a = (t - s_k) / (s_k+1
- s_k); steps after the last sample hold it. An interval below dt samples every step (the identity). The
map is linear in V, so the twin differentiates through it."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

Tensor = torch.Tensor


@dataclass(frozen=True)
class Sampling:
    """Which steps the CADC samples and how every step is interpolated from them."""

    samples: tuple[int, ...]  # the sampled steps s_k, increasing, s_0 = 0
    lower: Tensor  # (T,) index k of the sample at or before each step
    upper: Tensor  # (T,) index of the next sample (the same one after the last)
    weight: Tensor  # (T,) a: the share of the upper sample

    @classmethod
    def of(cls, steps: int, dt: float, interval: float) -> Sampling:
        if interval <= dt * (1 + 1e-9):
            samples = tuple(range(steps))
        else:
            count = int(math.floor((steps - 1) * dt / interval + 1e-9)) + 1
            samples = tuple(sorted({int(math.floor(k * interval / dt + 1e-9)) for k in range(count)}))
        lower, upper, weight = [], [], []
        for t in range(steps):
            k = max(i for i, s in enumerate(samples) if s <= t)
            nxt = min(k + 1, len(samples) - 1)
            span = samples[nxt] - samples[k]
            lower.append(k)
            upper.append(nxt)
            weight.append((t - samples[k]) / span if span else 0.0)
        return cls(samples, torch.tensor(lower), torch.tensor(upper), torch.tensor(weight))

    @property
    def every_step(self) -> bool:
        return len(self.samples) == len(self.lower)

    def resample(self, v: Tensor) -> Tensor:
        """(T, ...) membrane -> the same shape: its samples, interpolated onto every step."""
        if self.every_step:
            return v
        sampled = v[list(self.samples)]
        a = self.weight.to(v.dtype).reshape(-1, *([1] * (v.dim() - 1)))
        return sampled[self.lower] * (1 - a) + sampled[self.upper] * a
