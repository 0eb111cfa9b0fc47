"""Pass: check sizes that must agree between elements and record each population's fan-in."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np

from snnc.compiler.ir.connectivity import FromFile, OneToOne, Sparse
from snnc.compiler.ir.graph import NetworkIR
from snnc.compiler.passes.base import Pass, PassContext
from snnc.diagnostics import error


def read_weight_file(path: Path) -> np.ndarray:
    """Load an .npy weight matrix without pickle; raises ValueError saying what is wrong."""
    try:
        array = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise ValueError("does not exist") from None
    except (OSError, ValueError, EOFError) as exc:
        raise ValueError(f"not a readable .npy file ({exc})") from None
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "fiub":
        raise ValueError("does not hold a numeric array")
    if array.ndim != 2:
        raise ValueError(f"holds an array of {array.ndim} dimensions; a (pre, post) matrix is needed")
    with np.errstate(over="ignore"):
        weights = array.astype(np.float32)
    if not np.all(np.isfinite(weights)):
        raise ValueError("holds NaN or infinite weights, or weights beyond ±3.4e38 (float32)")
    return weights


class InferShapes(Pass):
    """one_to_one sizes agree, from_file matrices have shape (pre, post); node attr `fan_in`."""

    name: ClassVar[str] = "infer_shapes"
    tolerant: ClassVar[bool] = True

    def apply(self, ir: NetworkIR, ctx: PassContext) -> NetworkIR:
        bag = ctx.diagnostics
        fan_in = {p.name: 0 for p in ir.populations()}
        for projection in ir.projections():
            pre, post = ir.decl(projection.source), ir.decl(projection.target)
            if getattr(pre, "size", None) is None or getattr(post, "size", None) is None:
                continue  # an endpoint failed to resolve and was reported
            conn = projection.connectivity
            if isinstance(conn, OneToOne) and pre.size != post.size:
                bag.add(error("E140", f"one_to_one needs equal sizes, but '{pre.name}' has {pre.size} "
                              f"neurons and '{post.name}' has {post.size}", projection.span))
                continue
            if isinstance(conn, FromFile):
                path = ctx.base_dir / conn.path
                try:
                    shape = read_weight_file(path).shape
                except ValueError as exc:
                    bag.add(error("E141", f"weight file '{conn.path}' {exc}", projection.span))
                    continue
                if shape != (pre.size, post.size):
                    bag.add(error("E141", f"weight file '{conn.path}' has shape {shape}, but "
                                  f"'{projection.name}' needs ({pre.size}, {post.size})", projection.span))
                    continue
            if post.name in fan_in:
                if isinstance(conn, OneToOne):
                    fan_in[post.name] += 1
                elif isinstance(conn, Sparse):
                    fan_in[post.name] += int(np.ceil(conn.p * pre.size))
                else:
                    fan_in[post.name] += pre.size
        for name, value in fan_in.items():
            ir.node_attrs(name)["fan_in"] = value
        return ir
