"""Input encoders: how a data sample becomes the stimulus of an `input`."""

from __future__ import annotations

from dataclasses import dataclass

from snnc.compiler.ir.fields import param
from snnc.compiler.ir.registry import register
from snnc.compiler.ir.units import Dim


@register("encoder", "latency")
@dataclass(frozen=True, kw_only=True)
class Latency:
    """One spike per input at t = t_max - (t_max - t_min) * x for x in (0, 1]; x = 0 never spikes."""

    t_max: float = param(Dim.TIME, positive=True, doc="spike time of the dimmest input")  # s
    t_min: float = param(Dim.TIME, 0.0, minimum=0.0, doc="spike time of the brightest input")  # s


@register("encoder", "rate")
@dataclass(frozen=True, kw_only=True)
class Rate:
    """Poisson spikes with rate max_rate * x for x in [0, 1]."""

    max_rate: float = param(Dim.RATE, positive=True, doc="rate of an input of value 1")  # Hz


@register("encoder", "current")
@dataclass(frozen=True, kw_only=True)
class Current:
    """The value times `scale` as a constant input current for the whole sample."""

    scale: float = param(default=1.0, doc="current per unit of input")


@register("encoder", "spikes")
@dataclass(frozen=True, kw_only=True)
class Spikes:
    """The data already are events: a (time, channel) raster per sample."""


@register("encoder", "intensity")
@dataclass(frozen=True, kw_only=True)
class Intensity:
    """Optical input: the value in [0, 1] scales the per-sample photon budget."""

    photons: float = param(positive=True, doc="optical input power per sample, in photons")
