"""Readouts: how an output population's activity becomes one score per neuron (the class scores)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from snnc.compiler.ir.registry import register


@register("readout", "max_membrane")
@dataclass(frozen=True, kw_only=True)
class MaxMembrane:
    """score_i = max_t V_i(t)."""

    needs: ClassVar[str] = "membrane"


@register("readout", "spike_count")
@dataclass(frozen=True, kw_only=True)
class SpikeCount:
    """score_i = number of spikes of neuron i."""

    needs: ClassVar[str] = "spikes"


@register("readout", "first_spike")
@dataclass(frozen=True, kw_only=True)
class FirstSpike:
    """score_i = -(time of the first spike of neuron i); earlier is better, no spike scores -duration."""

    needs: ClassVar[str] = "spikes"


@register("readout", "value")
@dataclass(frozen=True, kw_only=True)
class Value:
    """score_i = y_i, the output of a neuron without dynamics (linear, photon_detector)."""

    needs: ClassVar[str] = "value"
