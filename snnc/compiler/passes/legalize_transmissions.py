"""Pass: weights become modulator transmissions in [0, 1] at the modulator's bit depth.

A weight w of a projection deploys as (edge attr `encoding`):
    positive      w =  t / scale                 one channel
    negative      w = -t / scale                 one channel, its detector subtracted electronically
    differential  w = (t_pos - t_neg) / scale    two channels and two detectors (differential detection)
    offset        w = (2 t - 1) / scale          one channel; the offset sum_j x_j is known electronically
with t = level / (2**modulator_bits - 1). Into a `photon_detector` the weight *is* the transmission
(scale 1): its photon count lambda = photons_per_mac * sum_j w_j x_j is physical and must not be
rescaled; a `linear` detector's count is rescaled electronically, so its scale uses the full range."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from snnc.compiler.ir.graph import NetworkIR
from snnc.compiler.ir.neurons import PhotonDetector
from snnc.compiler.passes.base import Pass, PassContext
from snnc.compiler.targets.onn import Optics
from snnc.diagnostics import error, warning

ENCODINGS = ("positive", "negative", "differential", "offset")


def channels_per_weight(encoding: str) -> int:
    return 2 if encoding == "differential" else 1


def quantize_transmissions(weights: np.ndarray, scale: float, bits: int, encoding: str) -> np.ndarray:
    """Transmission levels (uint16, shape (channels_per_weight, pre, post)) that deploy `weights`
    (model units) at `scale` (transmission per model unit); out-of-range weights are clipped."""
    top = (1 << bits) - 1
    scaled = np.asarray(weights, dtype=np.float64) * scale
    if encoding == "positive":
        parts = [scaled]
    elif encoding == "negative":
        parts = [-scaled]
    elif encoding == "differential":
        parts = [np.maximum(scaled, 0.0), np.maximum(-scaled, 0.0)]
    elif encoding == "offset":
        parts = [(1.0 + scaled) / 2.0]
    else:
        raise AssertionError(f"unknown encoding {encoding!r}")
    return np.stack([np.rint(np.clip(p, 0.0, 1.0) * top) for p in parts]).astype(np.uint16)


def deployed_weights(levels: np.ndarray, scale: float, bits: int, encoding: str) -> np.ndarray:
    """The weights (model units, float32, (pre, post)) that transmission `levels` realize."""
    t = np.asarray(levels, dtype=np.float64) / ((1 << bits) - 1)
    signed = {"positive": lambda: t[0], "negative": lambda: -t[0], "differential": lambda: t[0] - t[1],
              "offset": lambda: 2.0 * t[0] - 1.0}[encoding]()
    return (signed / scale).astype(np.float32)


def choose_scale(weights: np.ndarray, into_detector: bool) -> float:
    """Transmission per model unit: 1 into a photon detector (the weight is the transmission), else
    the largest weight magnitude maps to full transmission."""
    if into_detector:
        return 1.0
    largest = float(np.max(np.abs(weights))) if weights.size else 0.0
    return 1.0 / largest if largest > 0.0 else 1.0


class LegalizeTransmissions(Pass):
    """Edge attrs `encoding`, `scale`, `levels` (uint16 (k, pre, post)); `report` with the encoding
    and the quantization error (quant_rmse, quant_max, model units) over existing synapses."""

    name: ClassVar[str] = "legalize_transmissions"

    def apply(self, ir: NetworkIR, ctx: PassContext) -> NetworkIR:
        optics: Optics = ctx.target.substrate
        signed_scheme = self._signed_scheme(ir, optics)
        for _, target, key, attrs in ir.edges():
            projection = attrs["decl"]
            weights, mask = attrs["weights"], attrs["mask"]
            into_detector = isinstance(ir.decl(target).model, PhotonDetector)
            if into_detector and projection.sign != "positive":
                ctx.diagnostics.add(error(
                    "E601", f"'{key}' feeds photon detectors, so its weights are light intensities and "
                    f"cannot be negative; mark the projection `positive`", projection.span))
                continue
            encoding = {"positive": "positive", "negative": "negative"}.get(projection.sign, signed_scheme)
            scale = choose_scale(weights, into_detector)
            if into_detector and float(weights.max(initial=0.0)) > 1.0:
                ctx.diagnostics.add(warning(
                    "W601", f"'{key}' has weights up to {float(weights.max()):.3g}; a transmission is at "
                    "most 1, so they are clipped to 1", projection.span))
            levels = quantize_transmissions(weights, scale, optics.modulator_bits, encoding)
            deployed = deployed_weights(levels, scale, optics.modulator_bits, encoding)
            exists = np.ones(weights.shape, dtype=bool) if mask is None else mask
            deviation = np.abs(deployed - weights)[exists]
            attrs.update(encoding=encoding, scale=float(scale), levels=levels)
            attrs["report"] = {
                "synapses": int(exists.sum()), "encoding": encoding, "scale": float(scale),
                "quant_rmse": float(np.sqrt(np.mean(deviation ** 2))) if deviation.size else 0.0,
                "quant_max": float(deviation.max()) if deviation.size else 0.0,
            }
        return ir

    @staticmethod
    def _signed_scheme(ir: NetworkIR, optics: Optics) -> str:
        """`auto` takes differential detection (full resolution, no offset light) when every layer then
        fits the modulator and the detectors at once; otherwise the offset (half the channels)."""
        if optics.signed_weights != "auto":
            return optics.signed_weights
        channels = detectors = 0
        for projection in ir.projections():
            k = 2 if projection.sign == "signed" else 1
            pre, post = ir.size(projection.source), ir.size(projection.target)
            channels += k * pre * post
            detectors += k * post
        fits = channels <= optics.channels and detectors <= optics.detectors
        return "differential" if fits else "offset"
