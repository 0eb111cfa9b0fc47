"""Pass: model weights -> signed integer hardware weights (edge attrs `scale`, `hw_weights`,
`quantization`). `quantize_weights` is also how trained weights are re-deployed without re-placing."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from snnc.compiler.ir.graph import NetworkIR
from snnc.compiler.passes.base import Pass, PassContext
from snnc.compiler.targets.bss2 import Chip


def quantize_weights(weights: np.ndarray, scale: float, bits: int, sign: str) -> np.ndarray:
    """Model weights -> int16 hardware weights: round(w * scale), clipped to the magnitude
    2**bits - 1 and to the projection's sign ("signed", "positive" or "negative"). Pure."""
    largest = (1 << bits) - 1
    low = 0 if sign == "positive" else -largest
    high = 0 if sign == "negative" else largest
    scaled = np.rint(np.asarray(weights, dtype=np.float64) * float(scale))
    return np.clip(scaled, low, high).astype(np.int16)


def choose_scale(weights: np.ndarray, mask: np.ndarray | None, bits: int) -> float:
    """Hardware units per model unit: the largest magnitude among existing synapses maps onto the
    largest hardware weight, so nothing clips and the full resolution is used."""
    present = weights if mask is None else weights[mask]
    largest = float(np.max(np.abs(present))) if present.size else 0.0
    return ((1 << bits) - 1) / largest if largest > 0 else float((1 << bits) - 1)


def quantization_error(weights: np.ndarray, hw_weights: np.ndarray, scale: float,
                       mask: np.ndarray | None) -> tuple[float, float]:
    """RMSE and largest absolute error, in model units, of the deployed weights hw / scale."""
    error = hw_weights.astype(np.float32) / np.float32(scale) - weights
    if mask is not None:
        error = error[mask]
    if not error.size:
        return 0.0, 0.0
    return float(np.sqrt(np.mean(np.square(error, dtype=np.float64)))), float(np.max(np.abs(error)))


class LegalizeWeights(Pass):
    """Per projection: a scale (LSB per model unit), the weights quantized to the target's bit width
    with the sign of their rows, and the quantization error (RMSE and max)."""

    name: ClassVar[str] = "legalize_weights"

    def apply(self, ir: NetworkIR, ctx: PassContext) -> NetworkIR:
        chip: Chip = ctx.target.substrate
        bits = chip.weight_bits
        for _, _, _, attrs in ir.edges():
            weights, mask = attrs["weights"], attrs.get("mask")
            scale = choose_scale(weights, mask, bits)
            hw = quantize_weights(weights, scale, bits, attrs["decl"].sign)
            if mask is not None:
                hw[~mask] = 0  # no synapse, no weight
            rmse, largest = quantization_error(weights, hw, scale, mask)
            attrs["scale"] = scale
            attrs["hw_weights"] = hw
            attrs["quantization"] = {"rmse": rmse, "max": largest}
        return ir
