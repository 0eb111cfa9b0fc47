"""Pass: every optical layer can get the light it needs (edge `report.photons_at_full_transmission`,
`resources.optical_power`).

A photon detector layer pre -> post with `photons_per_mac = p` receives p * pre * post photons per
inference on average (its budget, all exposures together): the emulator's source power follows the
transmissions and inputs to hold it, so the less light the modulator passes the more the source emits.
It emits least with every transmission and input at 1: p * pre * post * k (k channels per weight). A
`linear` layer runs at the target's `linear_photons_per_mac` per exposure, which is its most at full
transmission and input. This pass checks what is impossible whatever the trained weights: an
`intensity` input pixel emits up to `photons` photons per sample (at value 1) and its light fans out over
the post * k pixels of each layer it lights, which need p * post * k of them at full transmission (E602);
all layers together at full transmission draw on the source's `optical_power` (E603). A trained network
with dimmer transmissions needs a brighter source; the emulator caps it at the input's `photons` and the
measured photons per MAC then fall below p (docs/onn.md)."""

from __future__ import annotations

from typing import ClassVar

from snnc.compiler.ir.encoders import Intensity
from snnc.compiler.ir.graph import NetworkIR
from snnc.compiler.ir.nodes import Input
from snnc.compiler.passes.base import Pass, PassContext
from snnc.compiler.targets.onn import Optics, channels_per_weight, photons_per_mac
from snnc.diagnostics import error


class CheckPhotonBudget(Pass):
    """Each input's `intensity(photons)` covers the layers it lights at full transmission; so does the
    source's `optical_power` for the whole network; records each projection's photons per inference at full
    transmission and input."""

    name: ClassVar[str] = "check_photon_budget"

    def apply(self, ir: NetworkIR, ctx: PassContext) -> NetworkIR:
        optics: Optics = ctx.target.substrate
        total = 0.0
        drawn: dict[str, float] = {}  # input -> photons one of its pixels must emit
        for source, target, _, attrs in ir.edges():
            pre, post = ir.size(source), ir.size(target)
            k = channels_per_weight(attrs["transmissions"].encoding)
            per_pixel = photons_per_mac(ir.decl(target).model, optics) * post * k
            attrs["report"]["photons_at_full_transmission"] = per_pixel * pre
            total += per_pixel * pre
            if isinstance(ir.decl(source), Input):
                drawn[source] = drawn.get(source, 0.0) + per_pixel
        for name, needed in drawn.items():
            node = ir.decl(name)
            if isinstance(node.encoder, Intensity) and needed > node.encoder.photons * (1 + 1e-9):
                ctx.diagnostics.add(error(
                    "E602", f"input '{name}' emits up to {node.encoder.photons:,.6g} photons per pixel and "
                    f"sample (intensity photons), but the layers it lights need {needed:,.6g} per pixel "
                    "(photons per MAC x fan-out) at full transmission; raise `photons` or lower "
                    "`photons_per_mac`", node.span))
        if total > optics.optical_power * (1 + 1e-9):
            ctx.diagnostics.add(error(
                "E603", f"the network needs up to {total:,.6g} photons per inference, but the source's "
                f"optical power (resource 'optical_power') is {optics.optical_power:,.6g}", ir.header.span))
        ir.graph.graph.setdefault("resources", {})["optical_power"] = {
            "used": total, "available": optics.optical_power}
        return ir
