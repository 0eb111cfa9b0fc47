"""`snnc.to_torch(program)`: a compiled program as a `torch.nn.Module`.

The module runs the program's network in plain PyTorch autograd: the reference dynamics (the simulation
core on the declared parameters, weights as they are), or with `twin=True` the target's digital twin
(what training in the loop differentiates: on bss2 the weights quantized with a straight-through
gradient; on onn the optics' expected activations). Spikes are threshold crossings in the forward pass
and carry the SuperSpike surrogate gradient backward, so the module trains like any snnTorch network.

Its state_dict is torch's convention: one `<projection>.weight` of shape (post, pre) per projection
(snnc stores (pre, post)), e.g. `pixels->hidden.weight`, loadable from an nn.Linear's weight; a sparse
projection's is `<projection>.values`, one weight per existing synapse (ir/synapses.py);
`to_program()` deploys the module's weights back into a CompiledProgram (re-legalized for its target)."""

from __future__ import annotations

import torch

from snnc.compiler.backend.artifact import CompiledProgram
from snnc.compiler.ir.encoders import Spikes
from snnc.diagnostics import SnncError, error
from snnc.runtime.emulators.base import Stimulus, emulator_for
from snnc.runtime.encoders import EVENT_ENCODERS, encode

Tensor = torch.Tensor


class Projection(torch.nn.Module):
    """One projection's weights: `weight` (post, pre) as in torch.nn.Linear, or for a sparse projection
    `values` (nnz,), one per existing synapse in the order of its SparseWeights (ir/synapses.py)."""

    def __init__(self, weight: Tensor, sparse: bool = False):
        super().__init__()
        if sparse:
            self.values = torch.nn.Parameter(weight)
        else:
            self.weight = torch.nn.Parameter(weight.T.contiguous())

    def snnc_layout(self) -> Tensor:
        """The weights as snnc holds them: (pre, post), or the vector of a sparse projection."""
        return self.values if hasattr(self, "values") else self.weight.T


class SnncModule(torch.nn.Module):
    """A compiled program's network as a differentiable torch module (see the module's docstring)."""

    def __init__(self, program: CompiledProgram, *, twin: bool = False):
        super().__init__()
        if twin:
            self.emulator = emulator_for(program)
        else:
            from snnc.runtime.emulators.reference import ReferenceEmulator

            self.emulator = ReferenceEmulator(program)
        self.program, self.twin = program, twin
        self._twin = self.emulator.make_twin()
        [self.input] = program.ir.inputs() if len(program.ir.inputs()) == 1 else [None]
        if self.input is None:
            raise SnncError([error("E411", f"network '{program.name}' has {len(program.ir.inputs())} inputs; a "
                                   "torch module takes exactly one")])
        self.names = self.emulator.weight_names()
        for name, w in self.emulator.initial_weights().items():
            self.add_module(name.replace(".", "_"), Projection(w, sparse=name in self.emulator.synapses))

    def weights(self) -> dict[str, Tensor]:
        """The projections' weights in snnc's layout ((pre, post), or a sparse projection's vector),
        differentiable."""
        return {name: getattr(self, name.replace(".", "_")).snnc_layout() for name in self.names}

    def stimulus(self, x: Tensor, spikes: bool | None = None) -> Stimulus:
        """`x` as the network's input: a (T, B, N) spike tensor (`spikes`, or when None: an event input and
        x of that shape), else the data the input's encoder takes (encoded as `snnc run` encodes)."""
        steps, size = self.program.ir.header.steps, self.input.size
        event_input = type(self.input.encoder) in EVENT_ENCODERS
        if spikes is None:
            spikes = (event_input and x.dim() == 3 and x.shape[0] == steps and x.shape[2] == size
                      and not isinstance(self.input.encoder, Spikes))
        if not spikes:
            return encode(self.program.ir, x.to(self.emulator.dtype), torch.Generator().manual_seed(0))
        if not event_input or x.dim() != 3 or x.shape[0] != steps or x.shape[2] != size:
            raise SnncError([error("E410", f"spikes for input '{self.input.name}' have shape (T={steps}, B, "
                                   f"N={size}); got {tuple(x.shape)}" + ("" if event_input else
                                   f" (its encoder '{self.input.encoder.dsl_name}' takes values, not spikes)"))])
        return Stimulus(batch=x.shape[1], steps=steps, events={self.input.name: x.to(self.emulator.dtype)})

    def forward(self, x: Tensor, spikes: bool | None = None) -> Tensor:
        """Scores (B, outputs) of the program's readout; their argmax is the prediction."""
        scores, _ = self._twin.replay(self.stimulus(x, spikes), self.weights(), None)
        return scores

    def activity(self, x: Tensor, spikes: bool | None = None) -> tuple[Tensor, Tensor]:
        """(scores (B, outputs), events per sample (B,)): what a spike budget regularizes."""
        return self._twin.replay(self.stimulus(x, spikes), self.weights(), None)

    @torch.no_grad()
    def to_program(self) -> CompiledProgram:
        """The program with this module's weights deployed (legalized for its target, placement kept)."""
        weights = {name: w.detach().clone() for name, w in self.weights().items()}
        self.emulator.legalize_(weights)
        return self.emulator.export(weights, training=self.program.ir.graph.graph.get("training"))
