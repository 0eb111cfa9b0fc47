"""Spike-train-level post-synaptic potentials (S-PSP; Zhang & Li, NeurIPS 2019, after Jin, Zhang & Li,
NeurIPS 2018), computed from the spike trains a substrate emitted.

The S-PSP of synapse j -> i is the sum, over the post-synaptic spikes t_i^m, of the membrane response
that the presynaptic train of j alone leaves at t_i^m, with the membrane reset at every post-synaptic
spike and held during the refractory steps that follow it, while the synaptic current keeps decaying
across resets (the authors' `d_Spiking_accumulate_effect_step`, common/cuBase.cu). In the core's
discrete dynamics (core.py), with g_j[s] the unit drive of j into the membrane at step s:

    e_{i|j} = sum_s c_i[s] g_j[s],   c_i[s] = a_mem^(t_i^m - s) if the step s lies in (r_i^m, t_i^m], else 0

where r_i^m is the last step before t_i^m at which the membrane was reset or held. For a presynaptic
spike train (after the projection's delay) g_j[s] = k_syn p_j[s - 1] with p_j[s] = a_syn p_j[s - 1] + z_j[s];
for an analog input it is the exact per-step drive of core.analog_drive. Time is cut into chunks; each
carries the synaptic traces p (B, J) and the membrane responses q (B, J, I) across the chunk boundary,
so the memory is O(B J I) whatever the number of steps. Per chunk two kernels, c (the S-PSP weights
of its steps) and h (the weights that carry q to the chunk's end), are one batched matmul."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch

from snnc.runtime.emulators import core

Tensor = torch.Tensor
CHUNK = 64  # steps per chunk: a (B, J, CHUNK) x (B, CHUNK, 2 I) matmul each


@dataclass(frozen=True)
class Kernel:
    """The per-step propagators of a post-synaptic population (its nominal, uniform constants)."""

    a_mem: float
    a_syn: float
    k_syn: float
    refractory: int

    @classmethod
    def of(cls, p: core.NeuronParams, dt: float) -> Kernel:
        c = core.Coefficients.of(p, dt)
        return cls(float(c.a_mem.double().mean()), float(c.a_syn.double().mean()), float(c.k_syn.double().mean()),
                   p.refractory_steps)

    @functools.cache  # noqa: B019 - a frozen dataclass: a handful of kernels per run, each asked every batch
    def peak(self, steps: int) -> float:
        """The largest membrane response to one presynaptic spike at unit weight (no reset)."""
        p, q, best = 1.0, 0.0, 0.0
        for _ in range(steps):
            q = self.a_mem * q + self.k_syn * p
            p *= self.a_syn
            best = max(best, q)
        return best


@dataclass
class Source:
    """What drives a projection's synapses: a spike train (T, B, J) seen through a delay, or an analog
    input's per-step unit drive into the current and the membrane (core.analog_drive)."""

    spikes: Tensor | None = None
    delay: int = 0
    current: Tensor | None = None  # (T, B, J) increments of p
    membrane: Tensor | None = None  # (T, B, J), or (B, J) every step: direct increments of g

    def chunk(self, start: int, stop: int) -> tuple[Tensor, Tensor | None]:
        """(increments of p, direct increments of g or None) for steps [start, stop)."""
        if self.spikes is None:
            direct = self.membrane if self.membrane.dim() == 2 else self.membrane[start:stop]
            return self.current[start:stop], direct.expand(stop - start, *direct.shape[-2:])
        z = self.spikes
        lo, hi = start - self.delay, stop - self.delay
        part = z[max(lo, 0):max(hi, 0)]
        if lo < 0:
            part = torch.cat([z.new_zeros((min(-lo, stop - start),) + z.shape[1:]), part])
        return part, None


def spsp(source: Source, post: Tensor, kernel: Kernel, chunk: int = CHUNK) -> Tensor:
    """(B, J, I) S-PSPs of every synapse from `source` to the post-synaptic spike trains `post` (T, B, I)."""
    steps, batch, n_post = post.shape
    dtype = post.dtype
    p = q = e = None
    remaining = torch.zeros(batch, n_post, dtype=torch.int64)  # refractory steps left
    for start in range(0, steps, chunk):
        stop = min(start + chunk, steps)
        increments, direct = source.chunk(start, stop)
        if p is None:
            n_pre = increments.shape[-1]
            p = increments.new_zeros(batch, n_pre)
            q = increments.new_zeros(batch, n_pre, n_post)
            e = torch.zeros_like(q)
        drive = []
        for s in range(stop - start):  # g[s] = k_syn p[s - 1] (+ the analog input's direct share)
            drive.append(kernel.k_syn * p if direct is None else kernel.k_syn * p + direct[s])
            p = kernel.a_syn * p + increments[s]
        z = post[start:stop]
        held = []
        for s in range(stop - start):  # as core._run_group: held while the counter set by a spike runs
            held.append(remaining > 0)
            remaining = torch.where(z[s] > 0.5, kernel.refractory, torch.clamp(remaining - 1, min=0))
        spiked = z > 0.5
        zeroed = spiked | torch.stack(held)
        weights = torch.zeros(stop - start, batch, 2 * n_post, dtype=dtype)  # [c | h] per step
        c_next = torch.zeros(batch, n_post, dtype=dtype)
        h_next = torch.full((batch, n_post), 1.0 / kernel.a_mem, dtype=dtype)
        for s in reversed(range(stop - start)):
            c_next = torch.where(spiked[s], 1.0, torch.where(zeroed[s], 0.0, kernel.a_mem * c_next))
            h_next = torch.where(zeroed[s], 0.0, kernel.a_mem * h_next)
            weights[s, :, :n_post], weights[s, :, n_post:] = c_next, h_next
        both = torch.bmm(torch.stack(drive).permute(1, 2, 0), weights.permute(1, 0, 2))  # (B, J, 2 I)
        e = e + both[..., :n_post] + q * (kernel.a_mem * c_next)[:, None, :]
        q = both[..., n_post:] + q * (kernel.a_mem * h_next)[:, None, :]
    return e


def filled(z: Tensor, count: int) -> Tensor:
    """A train of `count` spikes evenly spaced over T steps (the authors' `g_modifySpikes`): (T,)."""
    train = torch.zeros(z.shape[0], dtype=z.dtype)
    interval = max(z.shape[0] // (count + 1), 1)
    train[interval::interval][:count] = 1.0
    return train
