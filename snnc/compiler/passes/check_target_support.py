"""Pass: every model, encoder, readout and delay is one the target supports (its YAML `supports`)."""

from __future__ import annotations

from typing import ClassVar

from snnc.compiler.ir.graph import NetworkIR
from snnc.compiler.passes.base import Pass, PassContext
from snnc.diagnostics import error


class CheckTargetSupport(Pass):
    """Reports, at the statement, each use of something `target.supports` does not list."""

    name: ClassVar[str] = "check_target_support"
    tolerant: ClassVar[bool] = True

    def apply(self, ir: NetworkIR, ctx: PassContext) -> NetworkIR:
        supports = ctx.target.spec.get("supports", {})
        target = ctx.target.name

        def check(kind: str, key: str, entry, span) -> None:
            allowed = supports.get(key, "all")
            if allowed != "all" and entry.dsl_name not in allowed:
                ctx.diagnostics.add(error(
                    "E160", f"target '{target}' does not support {kind} '{entry.dsl_name}' "
                    f"(it supports {', '.join(allowed) or 'none'})", span))

        for node in ir.inputs():
            check("encoder", "encoders", node.encoder, node.span)
        for population in ir.populations():
            check("neuron model", "neuron_models", population.model, population.span)
        for output in ir.header.outputs:
            check("readout", "readouts", output.readout, output.span)
        max_delay = supports.get("max_delay")
        for projection in ir.projections():
            if max_delay is not None and projection.delay > max_delay:
                ctx.diagnostics.add(error("E161", (
                    f"target '{target}' has no programmable synaptic delays: its spikes reach their synapses "
                    f"after a fixed latency, and '{projection.name}' has delay {projection.delay * 1e3:g} ms"
                    if max_delay == 0 else f"target '{target}' supports delays up to {max_delay * 1e3:g} ms, "
                    f"'{projection.name}' has {projection.delay * 1e3:g} ms"), projection.span))
        return ir
