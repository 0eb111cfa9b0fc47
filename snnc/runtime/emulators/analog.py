"""The analog drive of the simulation core (core.py): an input current u = x @ W into tau_syn dI/dt =
-I + u, constant or one value per window, integrated exactly over every step. The dynamics are linear
and time-invariant, so the drive held on [s1, s2] of a step is the one switched on at s1 minus the one
switched on at s2, each of which has a closed form: a step that a window boundary cuts gets each
window's exact share. Functions of the per-neuron constants (tensors (N,)), so that core.py, the
encoders and the training methods share them without a circle."""

from __future__ import annotations

import torch

Tensor = torch.Tensor


def propagators(tau_mem: Tensor, tau_syn: Tensor, span: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """a_mem, a_syn and k_syn over `span` seconds (any shape, broadcast against the (N,) constants),
    float64: tau_mem dV/dt = -(V - v_leak) + I with I = I0 exp(-t / tau_syn) gains V k_syn I0
    (tau_mem = inf: a_mem = 1; tau_syn = 0: a_syn = k_syn = 0)."""
    tm, ts = tau_mem.double(), tau_syn.double()
    a_mem, a_syn = torch.exp(-span / tm), torch.exp(-span / ts)
    close = torch.isclose(tm, ts, rtol=1e-6, atol=0.0)
    k_general = ts / torch.where(close, ts + 1.0, ts - tm) * (a_syn - a_mem)
    return a_mem, a_syn, torch.where(close, span / tm * a_mem, k_general)


def window_overlaps(steps: int, dt: float, windows: int) -> tuple[Tensor, Tensor]:
    """(T, W) start and end, in seconds from each step's start, of the part of step t that window w
    covers (start == end where they do not meet), with W windows spread evenly over T dt; float64."""
    step_start = torch.arange(steps, dtype=torch.float64)[:, None] * dt
    edges = torch.arange(windows + 1, dtype=torch.float64) * (steps * dt / windows)
    start = torch.clamp(edges[None, :-1] - step_start, 0.0, dt)
    end = torch.clamp(edges[None, 1:] - step_start, 0.0, dt)
    return start, torch.maximum(start, end)


def _switched_on(tau_mem: Tensor, tau_syn: Tensor, immediate: bool, age: Tensor) -> tuple[Tensor, Tensor]:
    """I and V (above v_leak) after a unit drive switched on `age` seconds ago from rest; age (T, W, 1):
    (T, W, N) each, float64. A population whose input acts at once (immediate: no synaptic current or
    same-step arrival) takes the drive on its membrane: V relaxes towards v_leak + u with tau_mem."""
    a_mem, a_syn, k = propagators(tau_mem, tau_syn, age)
    if immediate:
        return torch.zeros_like(a_mem), 1 - a_mem
    return 1 - a_syn, 1 - a_mem - k


def window_gains(tau_mem: Tensor, tau_syn: Tensor, immediate: bool, steps: int, dt: float,
                 windows: int) -> tuple[Tensor, Tensor]:
    """(T, W, N) gains of the synaptic current and of the membrane over step t from a unit drive held
    during window w."""
    start, end = window_overlaps(steps, dt, windows)
    on_i, on_v = _switched_on(tau_mem, tau_syn, immediate, (dt - start)[..., None])
    off_i, off_v = _switched_on(tau_mem, tau_syn, immediate, (dt - end)[..., None])
    return (on_i - off_i).to(tau_mem.dtype), (on_v - off_v).to(tau_mem.dtype)


def analog_drive(u: Tensor, tau_mem: Tensor, tau_syn: Tensor, immediate: bool, a_mem: Tensor, a_syn: Tensor,
                 k_syn: Tensor, steps: int, dt: float) -> tuple[Tensor | None, Tensor]:
    """The per-step increments of the synaptic current ((T, B, N), None when the input acts at once) and of
    the membrane (a (B, N) for every step, or (T, B, N)) from drive u: (B, N) constant or (W, B, N) per
    window; a_mem, a_syn, k_syn are the one-step propagators (core.Coefficients)."""
    if u.dim() == 2 and immediate:  # V relaxes towards v_leak + u at once
        return None, u * (1 - a_mem)
    if u.dim() == 2:  # exact over a step: I gains (1 - a_syn) u, V gains (1 - a_mem - k_syn) u
        return (u * (1 - a_syn)).expand(steps, *u.shape), u * (1 - a_mem - k_syn)
    gain_i, gain_v = window_gains(tau_mem, tau_syn, immediate, steps, dt, u.shape[0])
    current = None if immediate else torch.einsum("twn,wbn->tbn", gain_i, u)
    return current, torch.einsum("twn,wbn->tbn", gain_v, u)
