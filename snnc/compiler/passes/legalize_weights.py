"""Pass: model weights -> signed integer hardware weights (edge attr `legalization`). The maths is the
chip's (targets/bss2.py; `quantize_weights` is also how trained weights are re-deployed without
re-placing)."""

from __future__ import annotations

from typing import ClassVar

from snnc.compiler.ir.graph import NetworkIR
from snnc.compiler.ir.synapses import values_of
from snnc.compiler.passes.base import Pass, PassContext
from snnc.compiler.targets.bss2 import Chip, choose_scale, legalize


class LegalizeWeights(Pass):
    """Per projection: a scale (LSB per model unit), the weights quantized to the target's bit width
    with the sign of their rows, and the quantization error (RMSE and max)."""

    name: ClassVar[str] = "legalize_weights"

    def apply(self, ir: NetworkIR, ctx: PassContext) -> NetworkIR:
        chip: Chip = ctx.target.substrate
        bits = chip.weight_bits
        for _, _, _, attrs in ir.edges():
            weights = values_of(attrs["weights"])  # (a sparse projection: the vector of its synapses)
            attrs["legalization"] = legalize(weights, choose_scale(weights, bits), bits, attrs["decl"].sign)
        return ir
