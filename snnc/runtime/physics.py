"""Physics of optical layers read by photon detectors, shared by the onn emulator (which samples it) and
its twin (which differentiates its expectation).

A detector behind an optical matrix-vector multiply receives lambda photons on average (lambda =
photons_per_mac * sum_j t_j x_j); it counts each with probability `efficiency` and adds `dark` spurious
counts, so its count is Poisson with mean mu = efficiency * lambda + dark (a thinned Poisson process is
Poisson). A single-photon detector reports only whether it clicked: P(click) = 1 - exp(-mu)."""

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


def photons_per_mac(arriving: Tensor, fan_in: int) -> float:
    """Optical energy per multiply-accumulate: mean photons reaching a detector over its fan-in."""
    return float(arriving.mean()) / max(fan_in, 1)
