"""The digital twin of spiking substrates: the same simulation core on the declared (ideal) parameters and
the nominal deployed weights, with differentiable spikes. It serves only the backward pass: replayed on
the batch the substrate ran, it takes each spike's value from the substrate (as hardware-in-the-loop
training on BrainScaleS-2 does), so gradients follow the trajectory the substrate actually took; dz/dV
is the SuperSpike surrogate 1 / (1 + beta |V - v_th|)^2. The membrane is the twin's own ("spikes"
twin) or the substrate's measured one ("membrane" twin, as hxtorch injects the CADC samples: the value
is the measurement, the gradient the model's dV; core.simulate's `observed`), so the surrogate and the
readout are evaluated where the substrate's membrane was. Both replay on the fast kernels' adjoint where
the emulator runs the fast path (fast_lif.replay), else by autograd through core.simulate."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from snnc.runtime.emulators import core, fast_lif
from snnc.runtime.emulators.base import Observation, Stimulus, Twin
from snnc.runtime.readouts import READOUTS

Tensor = torch.Tensor


class _SuperSpikeFn(torch.autograd.Function):
    """Forward: the observed spike (or the threshold crossing); backward: the SuperSpike surrogate."""

    @staticmethod
    def forward(ctx, u: Tensor, observed: Tensor | None, beta: float) -> Tensor:
        ctx.save_for_backward(u)
        ctx.beta = beta
        return observed.clone() if observed is not None else (u >= 0).to(u.dtype)

    @staticmethod
    def backward(ctx, grad: Tensor):
        (u,) = ctx.saved_tensors
        return grad / (1.0 + ctx.beta * u.abs()) ** 2, None, None


@dataclass(frozen=True)
class SuperSpike:
    """Step-function spikes with the SuperSpike surrogate derivative (Zenke & Ganguli 2018)."""

    beta: float = 10.0  # per unit of (v_th - v_leak)

    def __call__(self, u: Tensor, observed: Tensor | None) -> Tensor:
        return _SuperSpikeFn.apply(u, observed, self.beta)

    def substrate(self, u: Tensor) -> Tensor:
        return (u >= 0).to(u.dtype)


@dataclass(frozen=True)
class SmoothSpike:
    """A smooth 'spike' sigmoid(beta u) in forward and backward: with it the network is a smooth function of
    its weights, so the twin's gradients can be checked against finite differences."""

    beta: float = 4.0

    def __call__(self, u: Tensor, observed: Tensor | None) -> Tensor:
        s = torch.sigmoid(self.beta * u)
        return s if observed is None else observed + (s - s.detach())

    def substrate(self, u: Tensor) -> Tensor:
        return torch.sigmoid(self.beta * u)


class SpikingTwin(Twin):
    """The twin of a SpikingEmulator. `detach_reset` keeps the reset out of the gradient (the usual choice
    for surrogate-gradient training, Zenke & Vogels 2021); `use_observed` takes spike values from the
    substrate's observation."""

    def __init__(self, emulator, surrogate: SuperSpike | SmoothSpike = SuperSpike(), *, use_observed: bool = True,
                 detach_reset: bool = True, membrane: bool = False):
        self.emulator = emulator
        self.surrogate = surrogate
        self.use_observed = use_observed
        self.detach_reset = detach_reset
        self.membrane = membrane  # take the substrate's measured membranes (needs them all recorded)
        self.membranes = "all" if membrane else "output"
        self.units = {name: p.threshold_unit() for name, p in emulator.nominal.items()}

    def trace(self, stimulus: Stimulus, weights: dict[str, Tensor],
              observation: Observation | None = None) -> core.Trace:
        """The twin's own simulation (differentiable); spikes from `observation` where given."""
        em = self.emulator

        def spike(population: str, step: int, u: Tensor) -> Tensor:
            observed = None
            if observation is not None and self.use_observed and population in observation.spikes:
                observed = observation.spikes[population][step]
            return self.surrogate(u / self.units[population], observed)

        measured = None
        if observation is not None and self.membrane:
            measured = {k: v for k, v in observation.membrane.items() if k in em.nominal}
        return core.simulate(em.plan, em.nominal, em.twin_weights(weights), stimulus.events, stimulus.values,
                             spike, detach_reset=self.detach_reset, observed=measured)

    def fast_replay(self, observation: Observation | None) -> bool:
        """Whether replay runs the fast kernels' adjoint (the emulator's fast path, SuperSpike, observed
        spikes of every spiking population, detached reset, and for the membrane twin every population's
        measured membrane); otherwise autograd through the core."""
        em = self.emulator
        return (observation is not None and self.use_observed and self.detach_reset
                and type(self.surrogate) is SuperSpike and em.fast_path()
                and all(name in observation.spikes for name, p in em.nominal.items() if p.spiking)
                and (not self.membrane or all(name in observation.membrane for name in em.nominal)))

    def replay(self, stimulus: Stimulus, weights: dict[str, Tensor],
               observation: Observation | None = None) -> tuple[Tensor, Tensor]:
        em, out = self.emulator, self.emulator.output
        measured = observation.membrane if self.membrane and observation is not None else {}
        if stimulus.events and self.fast_replay(observation):
            given = {k: v for k, v in measured.items() if em.nominal[k].spiking} if self.membrane else None
            membrane, spikes, activity = fast_lif.replay(em.plan, em.nominal, em.twin_weights(weights),
                                                         stimulus.events, observation.spikes, out.population,
                                                         self.surrogate.beta, surrogate_membrane=given)
            if out.population in measured:  # the same substitution as core.simulate's `observed`
                membrane = core.measured(membrane, measured[out.population])
        else:
            trace = self.trace(stimulus, weights, observation)
            membrane, spikes = trace.membrane[out.population], trace.spikes.get(out.population)
            activity = trace.activity()
        if out.population not in measured:
            membrane = em.sample_membrane(membrane)  # the twin's own: read as the substrate reads it
        scores = READOUTS[type(out.readout)](membrane, spikes, em.plan.dt)
        return scores, activity
