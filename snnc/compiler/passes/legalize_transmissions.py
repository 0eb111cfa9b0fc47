"""Pass: weights become modulator transmissions in [0, 1] at the modulator's bit depth.

A weight deploys in one of the encodings of targets/onn.py (positive, negative, differential, offset),
whose maths is there too (`quantize_transmissions`, `deployed_weights`). Into a `photon_detector` the
weight *is* the transmission (scale 1): its photon count lambda = photons_per_mac * sum_j w_j x_j is
physical and must not be rescaled; a `linear` detector's count is rescaled electronically, so its scale
uses the full range."""

from __future__ import annotations

from typing import ClassVar

from snnc.compiler.ir.graph import NetworkIR
from snnc.compiler.ir.neurons import PhotonDetector
from snnc.compiler.ir.synapses import as_dense, dense_entries_problem, synapse_count
from snnc.compiler.passes.base import Pass, PassContext
from snnc.compiler.targets.onn import Optics, choose_scale, deploy_transmissions
from snnc.diagnostics import error, warning


class LegalizeTransmissions(Pass):
    """Edge attr `transmissions` (encoding, scale, levels, quantization error); `report` with the
    encoding, scale and quantization error (quant_rmse, quant_max, model units) over existing synapses."""

    name: ClassVar[str] = "legalize_transmissions"

    def apply(self, ir: NetworkIR, ctx: PassContext) -> NetworkIR:
        optics: Optics = ctx.target.substrate
        signed_scheme = self._signed_scheme(ir, optics)
        for _, target, key, attrs in ir.edges():
            projection = attrs["decl"]
            refused = dense_entries_problem(key, attrs["weights"])
            if refused is not None:  # a modulator holds a projection as its dense block of weights
                ctx.diagnostics.add(error("E607", f"{refused} (a modulator holds a projection's every weight, "
                                          "synapse or not)", projection.span))
                continue
            weights, mask = as_dense(attrs["weights"])
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
            legal, _ = deploy_transmissions(weights, mask, scale, optics.modulator_bits, encoding)
            attrs["transmissions"] = legal
            synapses = synapse_count(attrs["weights"])
            attrs["report"] = {"synapses": synapses, "encoding": encoding, "scale": legal.scale,
                               "quant_rmse": legal.quant_rmse, "quant_max": legal.quant_max}
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
