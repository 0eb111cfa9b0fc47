"""Pass: draw every projection's weights from its init with the compile seed (edge attr `weights`)."""

from __future__ import annotations

import zlib
from typing import ClassVar

import numpy as np

from snnc.compiler.ir.connectivity import Constant, Dense, FromFile, Normal, OneToOne, Sparse, Uniform
from snnc.compiler.ir.graph import NetworkIR
from snnc.compiler.passes.base import Pass, PassContext
from snnc.compiler.passes.infer_shapes import read_weight_file
from snnc.diagnostics import error

MAX_SYNAPSES = 1 << 28  # 1 GiB of float32 weights in one projection


def projection_rng(seed: int, projection: str) -> np.random.Generator:
    """A generator per (seed, projection): adding a projection does not change the others' weights."""
    return np.random.default_rng([seed, zlib.crc32(projection.encode())])


def draw(init, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    if isinstance(init, Normal):
        return rng.normal(init.mu, init.sigma, size=shape).astype(np.float32)
    if isinstance(init, Uniform):
        return rng.uniform(init.lo, init.hi, size=shape).astype(np.float32)
    if isinstance(init, Constant):
        return np.full(shape, init.c, dtype=np.float32)
    raise AssertionError(f"unknown init {init!r}")


class InitializeWeights(Pass):
    """Edge attrs `weights` (float32, shape (pre, post)) and `mask` (bool, where synapses exist;
    None for dense). Sign-constrained projections take the magnitude of the drawn weights."""

    name: ClassVar[str] = "initialize_weights"

    def apply(self, ir: NetworkIR, ctx: PassContext) -> NetworkIR:
        for _, _, key, attrs in ir.edges():
            projection = attrs["decl"]
            pre, post = ir.size(projection.source), ir.size(projection.target)
            if pre * post > MAX_SYNAPSES:
                ctx.diagnostics.add(error(
                    "E150", f"projection '{key}' has {pre * post:,} potential synapses; at most "
                    f"{MAX_SYNAPSES:,} fit in memory", projection.span))
                continue
            rng = projection_rng(ctx.seed, key)
            conn = projection.connectivity
            mask = None
            if isinstance(conn, Dense):
                weights = draw(conn.init, (pre, post), rng)
            elif isinstance(conn, Sparse):
                mask = rng.random((pre, post)) < conn.p
                weights = np.where(mask, draw(conn.init, (pre, post), rng), np.float32(0))
            elif isinstance(conn, OneToOne):
                mask = np.eye(pre, dtype=bool)
                weights = np.diag(draw(conn.init, (pre,), rng)).astype(np.float32)
            elif isinstance(conn, FromFile):
                weights = read_weight_file(ctx.base_dir / conn.path)
            else:
                raise AssertionError(f"unknown connectivity {conn!r}")
            if projection.sign == "positive":
                weights = np.abs(weights)
            elif projection.sign == "negative":
                weights = -np.abs(weights)
            attrs["weights"] = weights.astype(np.float32)
            attrs["mask"] = mask
        return ir
