"""The emulator of spiking substrates: the simulation core plus a substrate's hooks (its neuron parameters,
how weights are deployed, membrane noise, how the membrane is read out). `reference` and `bss2` are
this class with different hooks."""

from __future__ import annotations

from functools import cached_property

import torch

from snnc.runtime.emulators import core, fast_lif
from snnc.runtime.emulators.base import Emulator, Observation, Stimulus, Twin
from snnc.runtime.emulators.membrane_noise import MembraneNoise
from snnc.runtime.readouts import READOUTS

Tensor = torch.Tensor


class SpikingEmulator(Emulator):
    """A spiking network on an emulated substrate; the ideal one unless a subclass adds imperfections."""

    # The substrate's spike: a step function; gradient tests swap in a smooth one for emulator and twin.
    spike_fn: core.SpikeFn = staticmethod(core.heaviside)
    # Run qualifying networks (feed-forward LIF/LI, event inputs, float32) on the event-driven kernels of
    # fast_lif, same semantics; False forces the general core (the tests compare both).
    fast: bool = True
    methods = ("surrogate", "st-rsbp")  # surrogate gradients through the twin; spike-train level (methods/st_rsbp)
    # "spikes": the twin takes the substrate's spikes and computes its own membranes; "membrane": it takes
    # the measured membranes too (hxtorch's in-the-loop handling of the CADC, docs/in_the_loop.md).
    twins: tuple[str, ...] = ("spikes", "membrane")

    def __init__(self, program, **options):
        super().__init__(program, **options)
        core.check_models(self.ir)

    @cached_property
    def plan(self) -> core.Plan:
        return core.build_plan(self.ir)

    @cached_property
    def nominal(self) -> dict[str, core.NeuronParams]:
        """The declared neuron parameters (what the twin assumes)."""
        return core.nominal_params(self.ir, self.dtype)

    def neuron_params(self) -> dict[str, core.NeuronParams]:
        """The parameters the substrate actually has."""
        return self.nominal

    def deploy(self, weights: dict[str, Tensor]) -> dict[str, Tensor]:
        """The weights as the substrate applies them (a sparse projection's stay its vector: plan.synapses)."""
        return dict(weights)

    def twin_weights(self, weights: dict[str, Tensor]) -> dict[str, Tensor]:
        """The weights as the twin assumes them, differentiable in `weights`."""
        return dict(weights)

    def membrane_noise(self, batch: int) -> MembraneNoise | None:
        """The membrane noise of a batch call (population -> (T, B, N) tensors, counter-based), or None."""
        return None

    def sample_membrane(self, v: Tensor) -> Tensor:
        """(T, B, N) membrane -> the same trace as the substrate's readout samples it, on the simulation grid
        (linear in v: the twin's readout goes through it too). Every step by default."""
        return v

    def read_membrane(self, name: str, v: Tensor) -> Tensor:
        """The membrane as the substrate's readout reports it."""
        return v

    def fast_path(self) -> bool:
        """Whether observe (and the twin's replay) run on the fast kernels."""
        return (self.fast and self.spike_fn is core.heaviside
                and fast_lif.unsupported(self.plan, self.nominal, self.dtype) is None)

    @torch.no_grad()
    def observe(self, stimulus: Stimulus, weights: dict[str, Tensor], *, membranes: str = "all") -> Observation:
        if membranes not in ("all", "output"):
            raise ValueError(f"membranes must be 'all' or 'output', not {membranes!r}")
        out = self.output.population
        recorded = None if membranes == "all" else (out,)
        if self.fast_path() and stimulus.events:
            trace = fast_lif.simulate(self.plan, self.neuron_params(), self.deploy(weights), stimulus.events,
                                      noise=self.membrane_noise(stimulus.batch), membranes=recorded)
        else:
            trace = core.simulate(self.plan, self.neuron_params(), self.deploy(weights), stimulus.events,
                                  stimulus.values, self.spike_fn, noise=self.membrane_noise(stimulus.batch))
        membrane = {name: self.read_membrane(name, v) for name, v in trace.membrane.items()
                    if recorded is None or name in recorded}
        scores = READOUTS[type(self.output.readout)](membrane[out], trace.spikes.get(out), self.plan.dt)
        return Observation(scores=scores, activity=trace.activity(), spikes=trace.spikes, membrane=membrane)

    def make_twin(self, kind: str | None = None) -> Twin:
        from snnc.runtime.twin import SpikingTwin

        return SpikingTwin(self, membrane=(kind or self.twins[0]) == "membrane")
