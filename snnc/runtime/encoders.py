"""Encoders: a batch of data samples (values in [0, 1]) becomes the Stimulus of a network's inputs.

A sample is one static value per input, or, for `rate`, `current` and `intensity`, a sequence of W
windows (B, W, N) spread evenly over the simulated span (analog.window_overlaps); `spikes` data are
(B, T, N) events."""

from __future__ import annotations

from collections.abc import Callable

import torch

from snnc.compiler.ir.encoders import Current, Intensity, Latency, Rate, Spikes
from snnc.compiler.ir.graph import NetworkIR
from snnc.compiler.ir.nodes import Input
from snnc.diagnostics import SnncError, error
from snnc.runtime.emulators.analog import window_overlaps
from snnc.runtime.emulators.base import Stimulus

Tensor = torch.Tensor


def latency(encoder: Latency, x: Tensor, steps: int, dt: float, _generator) -> Tensor:
    """One spike per input at t_max - (t_max - t_min) x; x = 0 never spikes. (T, B, N)."""
    batch, n = x.shape
    times = encoder.t_max - (encoder.t_max - encoder.t_min) * x
    index = torch.clamp(torch.round(times / dt), 0, steps - 1).long()
    raster = x.new_zeros(steps, batch, n)
    raster.scatter_(0, index.unsqueeze(0), (x > 0).to(x.dtype).unsqueeze(0))
    return raster


def rate(encoder: Rate, x: Tensor, steps: int, dt: float, generator: torch.Generator) -> Tensor:
    """Bernoulli per step with p = max_rate * x * dt (Poisson spikes); for windows (B, W, N), x * dt is
    the time-weighted value of the windows that cover the step. (T, B, N)."""
    if x.dim() == 3:
        start, end = window_overlaps(steps, dt, x.shape[1])
        p = torch.clamp(encoder.max_rate * torch.einsum("tw,bwn->tbn", (end - start).to(x.dtype), x), 0.0, 1.0)
    else:
        p = torch.clamp(encoder.max_rate * dt * x, 0.0, 1.0).expand(steps, *x.shape)
    return (torch.rand(p.shape, generator=generator, dtype=x.dtype) < p).to(x.dtype)


def spikes(_encoder: Spikes, x: Tensor, steps: int, _dt: float, _generator) -> Tensor:
    """Data that already are events: each sample (T, N), counts clipped to one spike per step."""
    if x.dim() != 3 or x.shape[1] != steps:
        raise SnncError([error("E410", f"spike data must have shape (samples, {steps} steps, channels); "
                               f"got {tuple(x.shape)} (the network's duration / timestep sets the steps; "
                               "`snnc import --steps N` for a NIR graph)")])
    return torch.clamp(x.transpose(0, 1), 0.0, 1.0).contiguous()


def current(encoder: Current, x: Tensor, *_):
    """The value times `scale`, an input current: (B, N) constant, or (W, B, N) per window."""
    return _window_first(x * encoder.scale)


def intensity(encoder: Intensity, x: Tensor, *_):
    """Optical input: expected photons per input channel, x * photons: (B, N), or (W, B, N) per window."""
    return _window_first(x * encoder.photons)


def _window_first(x: Tensor) -> Tensor:
    return x.transpose(0, 1).contiguous() if x.dim() == 3 else x


EVENT_ENCODERS: dict[type, Callable] = {Latency: latency, Rate: rate, Spikes: spikes}
VALUE_ENCODERS: dict[type, Callable] = {Current: current, Intensity: intensity}


WINDOW_ENCODERS = (Rate, Current, Intensity)


def sample_layout(x: Tensor, inp: Input) -> str:
    """"static" (one value per input: (B, *shape) or (B, N)), "windows" ((B, W, N) for a rate or analog
    encoder) or "events" ((B, T, N) for `spikes`); anything else is an error naming the shapes."""
    sample = tuple(x.shape[1:])
    if isinstance(inp.encoder, Spikes):
        return "events"
    if sample == tuple(inp.shape) or (len(sample) == 1 and sample[0] == inp.size):
        return "static"
    if len(sample) == 2 and sample[1] == inp.size and isinstance(inp.encoder, WINDOW_ENCODERS):
        return "windows"
    sequences = ("or (windows, channels) = (W, " + str(inp.size) + ") for a sequence"
                 if isinstance(inp.encoder, WINDOW_ENCODERS) else
                 f"(`{inp.encoder.dsl_name}` codes one value per input; sequences need rate, current or intensity)")
    raise SnncError([error("E410", f"input '{inp.name}' ({inp.encoder.dsl_name}, shape {list(inp.shape)}) got "
                           f"samples of shape {list(sample)}; expected {list(inp.shape)} {sequences}",
                           inp.span)])


def encode(ir: NetworkIR, x: Tensor, generator: torch.Generator | None = None) -> Stimulus:
    """Encode a batch for the network's single input: `x` (B, N) or (B, *shape) with values in [0, 1],
    (B, W, N) windows for rate and analog encoders, or (B, T, N) for the `spikes` encoder. Stochastic
    encoders draw from `generator`, so a batch is encoded exactly once and the emulator's forward and
    the twin's backward see the same stimulus."""
    inputs: list[Input] = ir.inputs()
    if len(inputs) != 1:
        raise SnncError([error("E411", f"network '{ir.name}' has {len(inputs)} inputs; training and running "
                               "on a data set need exactly one")])
    [inp] = inputs
    header = ir.header
    steps = header.steps
    encoder = inp.encoder
    if type(encoder) not in EVENT_ENCODERS and type(encoder) not in VALUE_ENCODERS:
        raise SnncError([error("E412", f"input '{inp.name}': encoder '{encoder.dsl_name}' has no runtime",
                               inp.span)])
    if sample_layout(x, inp) == "static":
        x = x.reshape(x.shape[0], -1)
    if type(encoder) in EVENT_ENCODERS:
        if isinstance(encoder, Spikes) and x.dim() == 3 and x.shape[2] != inp.size:
            raise SnncError([error("E410", f"spike data have {x.shape[2]} channels; input '{inp.name}' has "
                                   f"{inp.size} neurons", inp.span)])
        raster = EVENT_ENCODERS[type(encoder)](encoder, x, steps, header.timestep, generator)
        return Stimulus(batch=x.shape[0], steps=steps, events={inp.name: raster}, values={})
    value = VALUE_ENCODERS[type(encoder)](encoder, x)
    return Stimulus(batch=x.shape[0], steps=steps, events={}, values={inp.name: value})
