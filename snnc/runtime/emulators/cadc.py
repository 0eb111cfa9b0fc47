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
    # (T, S): step t's shares of the samples (1 - a and a of its two neighbours; 1 at a sampled step and
    # for the held steps after the last). A product with it writes each output once: the gathers of
    # both neighbours and their blend cost 10x as much on (60, 256, 246) (measured, 37 -> 4 ms).
    matrix: Tensor

    @classmethod
    def of(cls, steps: int, dt: float, interval: float) -> Sampling:
        if interval <= dt * (1 + 1e-9):
            samples = tuple(range(steps))
        else:
            count = int(math.floor((steps - 1) * dt / interval + 1e-9)) + 1
            samples = tuple(sorted({int(math.floor(k * interval / dt + 1e-9)) for k in range(count)}))
        matrix = torch.zeros(steps, len(samples), dtype=torch.float64)
        for t in range(steps):
            k = max(i for i, s in enumerate(samples) if s <= t)
            nxt = min(k + 1, len(samples) - 1)
            span = samples[nxt] - samples[k]
            a = (t - samples[k]) / span if span else 0.0
            matrix[t, k] += 1.0 - a
            matrix[t, nxt] += a
        return cls(samples, matrix)

    @property
    def every_step(self) -> bool:
        return len(self.samples) == self.matrix.shape[0]

    def resample(self, v: Tensor) -> Tensor:
        """(T, ...) membrane -> the same shape: its samples, interpolated onto every step."""
        return self.interpolate(self.sampled(v))

    def sampled(self, v: Tensor) -> Tensor:
        """(T, ...) -> (S, ...): the sampled steps."""
        return v if self.every_step else v.index_select(0, torch.tensor(self.samples))

    def interpolate(self, sampled: Tensor) -> Tensor:
        """(S, ...) samples -> (T, ...) on every step."""
        if self.every_step:
            return sampled
        flat = sampled.reshape(sampled.shape[0], -1)
        return (self.matrix.to(sampled.dtype) @ flat).reshape(self.matrix.shape[0], *sampled.shape[1:])
