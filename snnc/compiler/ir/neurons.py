"""Neuron models. Each docstring gives the dynamics; fields are SI (seconds) or dimensionless.

`observables` says what a readout may take from the model: "membrane", "spikes" or "value"."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from snnc.compiler.ir.fields import param
from snnc.compiler.ir.registry import register
from snnc.compiler.ir.units import Dim

RESETS = ("to_v_reset", "subtract")
ARRIVALS = ("next_step", "same_step")
TAU_SYN_DOC = "synaptic time constant; 0: no synaptic current (an input moves the membrane at once)"
RESET_DOC = "after a spike: V <- v_reset (to_v_reset) or V <- V - (v_th - v_reset) (subtract)"
ARRIVAL_DOC = ("a spike arriving in step t drives the membrane from step t + 1 (next_step) or already in "
               "step t (same_step)")


@register("neuron", "LIF")
@dataclass(frozen=True, kw_only=True)
class LIF:
    """Current-based leaky integrate-and-fire neuron.

    tau_syn dI/dt = -I + sum_j w_j s_j(t)
    tau_mem dV/dt = -(V - v_leak) + I
    V >= v_th: emit a spike, V <- v_reset (reset = to_v_reset) or V <- V - (v_th - v_reset)
    (reset = subtract), hold V at v_reset for `refractory`.
    tau_syn = 0: no synaptic current; an input of weight w moves V by w in the step it arrives.
    arrival: when a spike arriving in step t starts to drive V (runtime core docstring).
    """

    observables: ClassVar[frozenset] = frozenset({"membrane", "spikes"})
    tau_mem: float = param(Dim.TIME, positive=True, doc="membrane time constant")  # s
    tau_syn: float = param(Dim.TIME, minimum=0.0, doc=TAU_SYN_DOC)  # s
    v_th: float = param(default=1.0, doc="threshold")
    v_reset: float = param(default=0.0, doc="reset potential")
    v_leak: float = param(default=0.0, doc="resting potential")
    refractory: float = param(Dim.TIME, 0.0, minimum=0.0, doc="refractory period")  # s
    reset: str = param(default="to_v_reset", kind="name", choices=RESETS, doc=RESET_DOC)
    arrival: str = param(default="next_step", kind="name", choices=ARRIVALS, doc=ARRIVAL_DOC)


@register("neuron", "LI")
@dataclass(frozen=True, kw_only=True)
class LI:
    """Leaky integrator: LIF without threshold; never spikes (a readout).

    tau_syn dI/dt = -I + sum_j w_j s_j(t)
    tau_mem dV/dt = -(V - v_leak) + I
    """

    observables: ClassVar[frozenset] = frozenset({"membrane"})
    tau_mem: float = param(Dim.TIME, positive=True, doc="membrane time constant")  # s
    tau_syn: float = param(Dim.TIME, minimum=0.0, doc=TAU_SYN_DOC)  # s
    v_leak: float = param(default=0.0, doc="resting potential")
    arrival: str = param(default="next_step", kind="name", choices=ARRIVALS, doc=ARRIVAL_DOC)


@register("neuron", "AdEx")
@dataclass(frozen=True, kw_only=True)
class AdEx:
    """Adaptive exponential integrate-and-fire neuron (Brette & Gerstner 2005), current-based.

    tau_syn dI/dt = -I + sum_j w_j s_j(t)
    tau_mem dV/dt = -(V - v_leak) + delta_t exp((V - v_exp) / delta_t) - w + I
    tau_w   dw/dt = a (V - v_leak) - w
    V >= v_th: emit a spike, V <- v_reset, w <- w + b, hold for `refractory`.
    """

    observables: ClassVar[frozenset] = frozenset({"membrane", "spikes"})
    tau_mem: float = param(Dim.TIME, positive=True, doc="membrane time constant")  # s
    tau_syn: float = param(Dim.TIME, positive=True, doc="synaptic time constant")  # s
    v_th: float = param(doc="spike detection threshold")
    v_reset: float = param(doc="reset potential")
    v_leak: float = param(default=0.0, doc="resting potential")
    v_exp: float = param(doc="exponential threshold (onset of the spike upswing)")
    delta_t: float = param(positive=True, doc="slope factor of the exponential term")
    a: float = param(doc="subthreshold adaptation coupling")
    b: float = param(doc="spike-triggered adaptation increment")
    tau_w: float = param(Dim.TIME, positive=True, doc="adaptation time constant")  # s
    refractory: float = param(Dim.TIME, 0.0, minimum=0.0, doc="refractory period")  # s


@register("neuron", "IF")
@dataclass(frozen=True, kw_only=True)
class IF:
    """Integrate-and-fire neuron without leak or synaptic current.

    V moves by w_j when a spike of weight w_j arrives (in the step it arrives);
    V >= v_th: emit a spike, reset as LIF's `reset` says, hold V at v_reset for `refractory`.
    """

    observables: ClassVar[frozenset] = frozenset({"membrane", "spikes"})
    v_th: float = param(default=1.0, doc="threshold")
    v_reset: float = param(default=0.0, doc="reset potential")
    refractory: float = param(Dim.TIME, 0.0, minimum=0.0, doc="refractory period")  # s
    reset: str = param(default="to_v_reset", kind="name", choices=RESETS, doc=RESET_DOC)


@register("neuron", "integrator")
@dataclass(frozen=True, kw_only=True)
class Integrator:
    """Sums its input: V moves by w_j when a spike of weight w_j arrives; never spikes (a readout)."""

    observables: ClassVar[frozenset] = frozenset({"membrane"})


@register("neuron", "always_on")
@dataclass(frozen=True, kw_only=True)
class AlwaysOn:
    """Spikes at every step, without input: a projection from it adds its weights to the targets' input
    at every step (a bias). Needs no input and gives no readout."""

    observables: ClassVar[frozenset] = frozenset()


@register("neuron", "linear")
@dataclass(frozen=True, kw_only=True)
class Linear:
    """Weighted sum without dynamics: y = sum_j w_j x_j (physical layers, readouts)."""

    observables: ClassVar[frozenset] = frozenset({"value"})


@register("neuron", "photon_detector")
@dataclass(frozen=True, kw_only=True)
class PhotonDetector:
    """Single-photon detector behind an optical matrix-vector multiply.

    lambda = g * sum_j w_j x_j (expected photons at the detector, per exposure), the source power g held
    so that the layer's detectors receive `photons_per_mac` photons per MAC and inference on average;
    each exposure fires (1) with probability 1 - exp(-lambda), else 0; y = the mean over `shots` exposures.
    """

    observables: ClassVar[frozenset] = frozenset({"spikes", "value"})
    photons_per_mac: float = param(positive=True, doc="the optical energy budget: photons reaching the detectors "
                                   "per multiply-accumulate and inference (all exposures), on average")
    shots: int = param(default=1, kind="integer", minimum=1, doc="exposures per inference, their clicks averaged")
