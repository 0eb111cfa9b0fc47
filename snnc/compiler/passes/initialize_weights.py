"""Pass: draw every projection's weights from its init with the compile seed (edge attr `weights`: a dense
(pre, post) matrix, or for sparse(p) and one_to_one only the synapses that exist, ir/synapses.py)."""

from __future__ import annotations

import zlib
from typing import ClassVar

import numpy as np

from snnc.compiler.ir.connectivity import Constant, Dense, FromFile, Normal, OneToOne, Sparse, Uniform
from snnc.compiler.ir.graph import NetworkIR
from snnc.compiler.ir.synapses import SparseWeights
from snnc.compiler.passes.base import Pass, PassContext
from snnc.compiler.passes.infer_shapes import read_weight_file
from snnc.diagnostics import error

MAX_SYNAPSES = 1 << 28  # entries of one projection: 1 GiB of float32 (dense: pre x post; sparse: synapses + sources)
GAP_BLOCK = 1 << 20  # gaps between synapses drawn at once (the synapses do not depend on it)
MASK_PAIRS = 1 << 22  # a sparse projection of at most this many (pre, post) pairs draws a mask of them, as
# snnc did before sparse projections were stored sparse: small networks keep their synapses and weights


def projection_rng(seed: int, projection: str, stream: int | None = None) -> np.random.Generator:
    """A generator per (seed, projection): adding a projection does not change the others' weights. A sparse
    projection draws which synapses exist from `stream` 1 and their weights from `stream` 2, so the weights
    do not depend on how its synapses were drawn."""
    key = [seed, zlib.crc32(projection.encode())]
    return np.random.default_rng(key if stream is None else key + [stream])


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


def draw_synapses(p: float, pre: int, post: int, rng: np.random.Generator, limit: int,
                  block: int = GAP_BLOCK) -> tuple[np.ndarray, np.ndarray] | None:
    """Which of the pre x post pairs are synapses, each with probability p independently: the gaps between
    successive synapses in row-major order are geometric(p), so drawing costs the synapses, not the pairs,
    and comes out in CSR order (by source, targets ascending, no duplicates). (indptr int64, indices int32),
    or None past `limit` synapses. Each gap takes one draw of `rng`, so `block` changes nothing."""
    pairs = pre * post
    block = max(1, min(block, ((1 << 63) - 1) // (pairs + 1)))
    found, last, count = [], -1, 0
    while last < pairs:
        positions = rng.geometric(p, size=block)
        if p < 1e-6:  # a gap may reach int64's range: clipped to pairs + 1 (it ends the drawing), no overflow
            np.minimum(positions, pairs + 1, out=positions)
        np.cumsum(positions, out=positions)
        positions += last
        last = int(positions[-1])
        kept = positions[:np.searchsorted(positions, pairs)]
        count += len(kept)
        if count > limit:
            return None
        found.append(kept)
    positions = np.concatenate(found) if len(found) > 1 else found[0]
    indptr = np.searchsorted(positions, np.arange(pre + 1, dtype=np.int64) * post).astype(np.int64)
    return indptr, (positions % post).astype(np.int32)


def too_many_synapses(key: str, conn, pre: int, post: int) -> str | None:
    """Why the projection's weights do not fit in memory, with its synapse count (None: they fit)."""
    limit = f"at most {MAX_SYNAPSES:,} fit in memory"
    if isinstance(conn, (Dense, FromFile)):
        return f"projection '{key}' has {pre * post:,} synapses; {limit}" if pre * post > MAX_SYNAPSES else None
    synapses = pre if isinstance(conn, OneToOne) else conn.p * pre * post
    if synapses + pre <= MAX_SYNAPSES:
        return None
    count = f"{pre:,} synapses (one_to_one)" if isinstance(conn, OneToOne) else \
        f"about {round(synapses):,} synapses (sparse, p = {conn.p:g})"
    return (f"projection '{key}' has {count} from {pre:,} source neurons; stored sparse, each synapse and each "
            f"source neuron takes an entry, and {limit}")


class InitializeWeights(Pass):
    """Edge attr `weights`: float32 (pre, post) for dense and from_file projections, a SparseWeights record
    (CSR by source) for sparse and one_to_one ones, drawn with one generator per (seed, projection), so
    they do not depend on the target, the chips or the other projections. Sign-constrained projections take
    the magnitude of the drawn weights."""

    name: ClassVar[str] = "initialize_weights"

    def apply(self, ir: NetworkIR, ctx: PassContext) -> NetworkIR:
        for _, _, key, attrs in ir.edges():
            projection = attrs["decl"]
            pre, post = ir.size(projection.source), ir.size(projection.target)
            conn = projection.connectivity
            refused = too_many_synapses(key, conn, pre, post)
            if refused is None and isinstance(conn, Sparse) and pre * post > MASK_PAIRS:
                synapses = draw_synapses(conn.p, pre, post, projection_rng(ctx.seed, key, 1), MAX_SYNAPSES - pre)
                refused = None if synapses is not None else (
                    f"projection '{key}' has more than {MAX_SYNAPSES - pre:,} synapses (sparse, p = {conn.p:g}) "
                    f"from {pre:,} source neurons; at most {MAX_SYNAPSES:,} entries fit in memory")
            if refused is not None:
                ctx.diagnostics.add(error("E150", refused, projection.span))
                continue
            rng = projection_rng(ctx.seed, key)
            if isinstance(conn, Dense):
                weights = draw(conn.init, (pre, post), rng)
            elif isinstance(conn, Sparse) and pre * post <= MASK_PAIRS:
                mask = rng.random((pre, post)) < conn.p
                weights = SparseWeights.from_dense(draw(conn.init, (pre, post), rng), mask)
            elif isinstance(conn, Sparse):
                indptr, indices = synapses
                weights = SparseWeights(pre, post, indptr, indices,
                                        draw(conn.init, (len(indices),), projection_rng(ctx.seed, key, 2)))
            elif isinstance(conn, OneToOne):
                weights = SparseWeights(pre, post, np.arange(pre + 1, dtype=np.int64),
                                        np.arange(pre, dtype=np.int32), draw(conn.init, (pre,), rng))
            elif isinstance(conn, FromFile):
                weights = read_weight_file(ctx.base_dir / conn.path)
            else:
                raise AssertionError(f"unknown connectivity {conn!r}")
            values = weights.values if isinstance(weights, SparseWeights) else weights
            if not np.all(np.isfinite(values)):
                ctx.diagnostics.add(error("E151", f"initial weights of projection '{key}' overflow float32 "
                                          "(beyond ±3.4e38); draw them from a narrower init", projection.span))
                continue
            if projection.sign != "signed":
                values = np.abs(values) if projection.sign == "positive" else -np.abs(values)
            values = values.astype(np.float32)
            attrs["weights"] = weights.with_values(values) if isinstance(weights, SparseWeights) else values
        return ir
