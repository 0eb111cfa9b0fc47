"""Physics of optical layers read by photon detectors, shared by the onn emulator (which samples it) and
its twin (which differentiates its expectation).

A detector behind an optical matrix-vector multiply receives lambda photons on average (lambda = g *
sum_j t_j x_j, g the source's photons per modulator pixel at full input and exposure); it counts each
with probability `efficiency` and adds `dark` spurious counts, so its count is Poisson with mean
mu = efficiency * lambda + dark (a thinned Poisson process is Poisson). A single-photon detector reports
only whether it clicked: P(click) = 1 - exp(-mu)."""

from __future__ import annotations

import torch

Tensor = torch.Tensor


def detected_mean(arriving: Tensor, efficiency: float, dark: float | Tensor) -> Tensor:
    """mu: mean counts of a detector that `arriving` photons (mean) reach."""
    return efficiency * arriving + dark


def click_probability(mu: Tensor) -> Tensor:
    """P(at least one count) = 1 - exp(-mu): the expected activation of a single-photon detector."""
    return -torch.expm1(-mu)


def sample_clicks(mu: Tensor, shots: int, generator: torch.Generator) -> Tensor:
    """The fraction of `shots` exposures in which a detector clicked: each exposure a Bernoulli draw with
    p = 1 - exp(-mu) (shot noise: SNR ~ 1 at mu ~ 1); one exposure gives 0/1."""
    p = click_probability(mu)
    if shots == 1:
        return (torch.rand(mu.shape, generator=generator, dtype=mu.dtype) < p).to(mu.dtype)
    return torch.binomial(torch.full_like(p, float(shots)), p, generator=generator) / shots


def sample_counts(mu: Tensor, generator: torch.Generator) -> Tensor:
    """Photon counts of integrating detectors: Poisson(mu)."""
    return torch.poisson(mu.clamp(min=0.0), generator=generator)


def source_power(drive: Tensor, photons_per_mac: float, fan_in: int, shots: int, limit: float) -> Tensor:
    """g, the photons per modulator pixel and exposure at full input that hold a photon-detector layer to its
    budget: `photons_per_mac` photons arriving per MAC and inference (all `shots` exposures), averaged over
    the batch and the layer's detectors. `drive` (B, N) = sum_j t_ij x_j, the light at unit power. g is at
    most `limit` (what the source can emit); a batch without light needs none. Differentiable in `drive`."""
    mean = drive.mean()
    lit = mean > 0
    g = photons_per_mac * fan_in / (shots * torch.where(lit, mean, torch.ones_like(mean)))
    return torch.where(lit, g.clamp(max=limit), torch.zeros_like(g))


def photons_per_mac(arriving: Tensor, fan_in: int) -> float:
    """Optical energy per multiply-accumulate: mean photons reaching a detector over its fan-in."""
    return float(arriving.mean()) / max(fan_in, 1)
