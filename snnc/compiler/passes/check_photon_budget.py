"""Pass: every optical layer gets the light it needs (edge `report.photons_peak`, `resources.optical_power`).

A layer pre -> post at p photons per MAC needs up to p * pre * post * k photons per exposure (k
channels per weight; all transmissions and inputs at 1); its actual use is lower and is measured by the
emulator. An `intensity` input pixel emits up to `photons` photons per sample (at value 1) and its
light fans out over the post * k pixels of each layer it lights, so it needs p * post * k of them; all
layers together draw on the source's `optical_power`. A `linear` layer runs at the target's
`linear_photons_per_mac`."""

from __future__ import annotations

from typing import ClassVar

from snnc.compiler.ir.encoders import Intensity
from snnc.compiler.ir.graph import NetworkIR
from snnc.compiler.ir.nodes import Input
from snnc.compiler.passes.base import Pass, PassContext
from snnc.compiler.targets.onn import Optics, channels_per_weight, photons_per_mac
from snnc.diagnostics import error


class CheckPhotonBudget(Pass):
    """Each input's `intensity(photons)` covers the layers it lights; the whole network fits the
    source's `optical_power`; records the peak photons per exposure of every projection."""

    name: ClassVar[str] = "check_photon_budget"

    def apply(self, ir: NetworkIR, ctx: PassContext) -> NetworkIR:
        optics: Optics = ctx.target.substrate
        total = 0.0
        drawn: dict[str, float] = {}  # input -> photons one of its pixels must emit
        for source, target, _, attrs in ir.edges():
            pre, post = ir.size(source), ir.size(target)
            k = channels_per_weight(attrs["transmissions"].encoding)
            per_pixel = photons_per_mac(ir.decl(target).model, optics) * post * k
            attrs["report"]["photons_peak"] = per_pixel * pre
            total += per_pixel * pre
            if isinstance(ir.decl(source), Input):
                drawn[source] = drawn.get(source, 0.0) + per_pixel
        for name, needed in drawn.items():
            node = ir.decl(name)
            if isinstance(node.encoder, Intensity) and needed > node.encoder.photons * (1 + 1e-9):
                ctx.diagnostics.add(error(
                    "E602", f"input '{name}' emits up to {node.encoder.photons:,.6g} photons per pixel and "
                    f"sample (intensity photons), but the layers it lights need {needed:,.6g} per pixel "
                    "(photons per MAC x fan-out); raise `photons` or lower `photons_per_mac`", node.span))
        if total > optics.optical_power * (1 + 1e-9):
            ctx.diagnostics.add(error(
                "E603", f"the network needs up to {total:,.6g} photons per inference, but the source's "
                f"optical power (resource 'optical_power') is {optics.optical_power:,.6g}", ir.header.span))
        ir.graph.graph.setdefault("resources", {})["optical_power"] = {
            "used": total, "available": optics.optical_power}
        return ir
