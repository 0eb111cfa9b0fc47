"""Pass: one spelling per meaning, every default explicit, delays on the time grid."""

from __future__ import annotations

import dataclasses
import math
from typing import ClassVar

from snnc.compiler.frontend.values import format_quantity
from snnc.compiler.ir.connectivity import Constant, Dense, Normal, OneToOne, Sparse
from snnc.compiler.ir.graph import NetworkIR
from snnc.compiler.ir.nodes import MAX_STEPS
from snnc.compiler.ir.units import Dim
from snnc.compiler.passes.base import Pass, PassContext
from snnc.diagnostics import error, warning


def default_init(connectivity, pre_size: int):
    """normal(0, 1/sqrt(fan_in)) for dense and sparse, constant(1) for one_to_one."""
    if isinstance(connectivity, OneToOne):
        return Constant(c=1.0)
    fan_in = pre_size * (connectivity.p if isinstance(connectivity, Sparse) else 1.0)
    return Normal(mu=0.0, sigma=1.0 / math.sqrt(max(fan_in, 1.0)))


class Canonicalize(Pass):
    """sparse(p = 1) becomes dense; a missing init becomes the default one; each delay is rounded
    to a whole number of timesteps (with a warning when that changes it)."""

    name: ClassVar[str] = "canonicalize"

    def apply(self, ir: NetworkIR, ctx: PassContext) -> NetworkIR:
        timestep = ir.header.timestep
        for _, _, _, attrs in ir.edges():
            projection = attrs["decl"]
            conn = projection.connectivity
            if isinstance(conn, Sparse) and conn.p >= 1.0:
                conn = Dense(init=conn.init)
            if hasattr(conn, "init") and conn.init is None:
                conn = dataclasses.replace(conn, init=default_init(conn, ir.size(projection.source)))
            if not math.isfinite(projection.delay / timestep):
                ctx.diagnostics.add(error(
                    "E152", f"delay {format_quantity(projection.delay, Dim.TIME)} is no number of timesteps "
                    f"of {format_quantity(timestep, Dim.TIME)}", projection.span))
                continue
            steps = round(projection.delay / timestep)
            if steps > MAX_STEPS:  # (the emulators keep a buffer of this many steps)
                ctx.diagnostics.add(error(
                    "E138", f"delay {format_quantity(projection.delay, Dim.TIME)} is {steps:,.4g} time steps; at most "
                    f"{MAX_STEPS:,} are supported", projection.span))
                continue
            delay = steps * timestep
            if not math.isclose(delay, projection.delay, rel_tol=1e-9, abs_tol=1e-15):
                ctx.diagnostics.add(warning(
                    "W203", f"delay {format_quantity(projection.delay, Dim.TIME)} is rounded to "
                    f"{format_quantity(delay, Dim.TIME)}, a whole number of timesteps", projection.span))
            attrs["decl"] = dataclasses.replace(projection, connectivity=conn, delay=delay)
        return ir
