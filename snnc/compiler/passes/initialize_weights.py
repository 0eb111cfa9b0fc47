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
    """float32 draws; one beyond float32's range becomes inf (the pass reports it)."""
    if isinstance(init, Normal):
        values = rng.normal(init.mu, init.sigma, size=shape)
    elif isinstance(init, Uniform):
        values = rng.uniform(init.lo, init.hi, size=shape)
    elif isinstance(init, Constant):
        values = np.full(shape, init.c)
    else:
        raise AssertionError(f"unknown init {init!r}")
    with np.errstate(over="ignore"):
        return values.astype(np.float32)


def too_many_synapses(key: str, conn, pre: int, post: int) -> str:
    """Says how many synapses the connectivity has and that its dense (pre, post) matrix is too big."""
    limit = f"at most {MAX_SYNAPSES:,} fit in memory"
    if isinstance(conn, (Dense, FromFile)):
        return f"projection '{key}' has {pre * post:,} synapses; {limit}"
    count = f"{pre:,} synapses (one_to_one)" if isinstance(conn, OneToOne) else \
        f"about {round(conn.p * pre * post):,} synapses (sparse, p = {conn.p:g})"
    return (f"projection '{key}' has {count}, but its weights are stored as a {pre:,} x {post:,} matrix of "
            f"{pre * post:,} entries; {limit}")


class InitializeWeights(Pass):
    """Edge attrs `weights` (float32, shape (pre, post)) and `mask` (bool, where synapses exist;
    None for dense). Sign-constrained projections take the magnitude of the drawn weights."""

    name: ClassVar[str] = "initialize_weights"

    def apply(self, ir: NetworkIR, ctx: PassContext) -> NetworkIR:
        for _, _, key, attrs in ir.edges():
            projection = attrs["decl"]
            pre, post = ir.size(projection.source), ir.size(projection.target)
            conn = projection.connectivity
            if pre * post > MAX_SYNAPSES:
                ctx.diagnostics.add(error("E150", too_many_synapses(key, conn, pre, post), projection.span))
                continue
            rng = projection_rng(ctx.seed, key)
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
            if not np.all(np.isfinite(weights)):
                ctx.diagnostics.add(error("E151", f"initial weights of projection '{key}' overflow float32 "
                                          "(beyond ±3.4e38); draw them from a narrower init", projection.span))
                continue
            if projection.sign == "positive":
                weights = np.abs(weights)
            elif projection.sign == "negative":
                weights = -np.abs(weights)
            attrs["weights"] = weights.astype(np.float32)
            attrs["mask"] = mask
        return ir
