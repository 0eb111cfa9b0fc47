"""What every emulated substrate offers the runtime: the Emulator and Twin interfaces, the Stimulus and
Observation they exchange, and `emulator_for`, which picks the emulator the target's family names.
See docs/runtime.md."""

from __future__ import annotations

import copy
import importlib
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from snnc import defaults
from snnc.compiler.backend.artifact import CompiledProgram
from snnc.compiler.ir.graph import NetworkIR
from snnc.compiler.ir.synapses import SparseWeights, is_sparse, values_of
from snnc.diagnostics import SnncError, error
from snnc.runtime import seeds
from snnc.runtime.emulators.sparse import densify

Tensor = torch.Tensor


@dataclass
class Stimulus:
    """One encoded batch, shared by the emulator's forward and the twin's backward."""

    batch: int
    steps: int  # time steps T (1 for networks without dynamics)
    events: dict[str, Tensor] = field(default_factory=dict)  # input -> (T, B, N) spikes (0/1)
    values: dict[str, Tensor] = field(default_factory=dict)  # input -> (B, N) analog values


@dataclass
class Observation:
    """What a substrate reports for one batch; nothing in it requires grad."""

    scores: Tensor  # (B, n_out) the output readout (class scores)
    activity: Tensor  # (B,) events per sample (spikes, detector clicks), for the spike budget
    spikes: dict[str, Tensor] = field(default_factory=dict)  # population -> (T, B, N) 0/1
    membrane: dict[str, Tensor] = field(default_factory=dict)  # population -> (T, B, N) as read out
    values: dict[str, Tensor] = field(default_factory=dict)  # population -> (B, N), models without dynamics


class Twin(ABC):
    """A differentiable model of a substrate, used only for the backward pass of training in the loop."""

    # What the substrate's `observe` must record for `replay` (its `membranes` argument): "output" (the
    # readout population's membrane) or "all" (a twin that takes every measured membrane).
    membranes: str = "output"

    @abstractmethod
    def replay(self, stimulus: Stimulus, weights: dict[str, Tensor],
               observation: Observation) -> tuple[Tensor, Tensor]:
        """(scores (B, n_out), activity (B,)) as differentiable functions of `weights`."""


class Emulator(ABC):
    """A compiled program on an emulated substrate: forward passes on batches, never differentiated.

    `chip_seed` fixes the fixed-pattern imperfections (one emulated chip keeps its identity across runs),
    `noise_seed` the temporal noise; `generator` holds the noise state (checkpoints save it). Each is its
    own stream (snnc.runtime.seeds: purposes "chip" and "noise")."""

    methods: tuple[str, ...] = ("surrogate",)  # what `snnc train --method` accepts on this substrate
    # The twins `snnc train --twin` chooses from, the default first; none: the substrate has one twin.
    twins: tuple[str, ...] = ()

    def __init__(self, program: CompiledProgram, *, chip_seed: int = defaults.CHIP_SEED,
                 noise_seed: int = defaults.SEED, dtype: torch.dtype = torch.float32):
        self.program = program
        self.ir: NetworkIR = program.ir
        self.chip_seed = chip_seed
        self.dtype = dtype
        self.generator = self.noise_stream(noise_seed)
        outputs = self.ir.header.outputs
        if len(outputs) != 1:
            raise SnncError([error("E481", f"network '{self.ir.name}' has {len(outputs)} outputs; running and "
                                   "training need exactly one `output` statement")])
        self.output = outputs[0]
        # A sparse projection's synapses (ir/synapses.py): its weights are a vector with one entry per synapse.
        self.synapses: dict[str, SparseWeights] = {name: w for name, attrs in self.ir.edge_attrs_by_name().items()
                                                   if is_sparse(w := attrs["weights"])}

    def noise_stream(self, seed: int) -> torch.Generator:
        """A fresh temporal-noise stream of `seed` (what `generator` holds): a torch generator, or a counter
        stream with the same get_state/set_state (seeds.Counter: bss2's membrane noise)."""
        return seeds.generator(seed, "noise")

    # --- weights -------------------------------------------------------------------------------
    def weight_names(self) -> list[str]:
        """The trainable projections (edge keys), in a fixed order."""
        return sorted(p.name for p in self.ir.projections())

    def initial_weights(self) -> dict[str, Tensor]:
        """The program's weights in model units, as fresh tensors: (pre, post) for a dense projection, (nnz,)
        for a sparse one (one entry per existing synapse, in the order of its SparseWeights)."""
        attrs = self.ir.edge_attrs_by_name()
        return {name: torch.as_tensor(np.array(values_of(attrs[name]["weights"])), dtype=self.dtype)
                for name in self.weight_names()}

    def dense(self, name: str, w: Tensor) -> Tensor:
        """A projection's weights as a (pre, post) matrix, differentiable in `w` (a sparse projection's vector
        scattered onto its synapses, 0 elsewhere); SnncError past MAX_DENSE entries."""
        synapses = self.synapses.get(name)
        return w if synapses is None else densify(name, synapses, w)

    @torch.no_grad()
    def legalize_(self, weights: dict[str, Tensor]) -> None:
        """Project trained weights onto what the substrate can hold, in place (after each optimizer step):
        sign-constrained projections keep their sign (only existing synapses have weights)."""
        for projection in self.ir.projections():
            w = weights[projection.name]
            if projection.sign == "positive":
                w.clamp_(min=0.0)
            elif projection.sign == "negative":
                w.clamp_(max=0.0)
            self.clip_(projection.name, w)

    def clip_(self, name: str, w: Tensor) -> None:  # noqa: B027 - a hook: substrates without limits keep it
        """Clip one projection's weights to the substrate's range, in place (no limit by default)."""

    def export(self, weights: dict[str, Tensor], training: dict[str, Any] | None = None) -> CompiledProgram:
        """The program with `weights` deployed (edge attr `weights`, plus what the substrate derives
        from it), placement untouched; `training` is recorded as the graph attr `training`."""
        ir = self.ir.copy()
        for _, _, key, attrs in ir.edges():
            ir.graph.edges[attrs["decl"].source, attrs["decl"].target, key].update(
                self.deployed_attrs(key, weights[key].detach().cpu().numpy().astype(np.float32)))
        if training is not None:
            ir.graph.graph["training"] = training
        program = copy.copy(self.program)
        program.ir, program.path = ir, None
        return program

    def deployed_attrs(self, name: str, w: np.ndarray) -> dict[str, Any]:
        """Edge attributes that describe deployed weights `w` (model units)."""
        return {"weights": self.weights_attr(name, w)}

    def weights_attr(self, name: str, w: np.ndarray) -> np.ndarray | SparseWeights:
        """The edge attr `weights` holding `w`: the matrix, or the projection's synapses with these weights."""
        synapses = self.synapses.get(name)
        return w if synapses is None else synapses.with_values(w)

    # --- running -------------------------------------------------------------------------------
    @abstractmethod
    def observe(self, stimulus: Stimulus, weights: dict[str, Tensor], *, membranes: str = "all") -> Observation:
        """The substrate's forward pass on a batch with `weights` deployed. `membranes`: "all" records every
        population's membrane in the observation, "output" only the readout population's (what training
        and inference read; it saves writing the hidden layers' traces)."""

    def energy(self) -> dict[str, float]:
        """Energy figures of the last `observe` for the metrics (optics: photons per MAC); none by default."""
        return {}

    @abstractmethod
    def make_twin(self, kind: str | None = None) -> Twin:
        """The digital twin of this substrate; `kind` one of `twins` (None: the default)."""


def emulator_for(program: CompiledProgram, **options: Any) -> Emulator:
    """The emulator of the program's target family (`Family.emulator`, "module:Class", imported on use)."""
    family = program.target.family
    if family.emulator is None:
        raise SnncError([error("E482", f"target '{program.target.name}' (family '{family.name}') has no "
                               "emulator")])
    module, _, cls = family.emulator.partition(":")
    return getattr(importlib.import_module(module), cls)(program, **options)
