"""Connectivity patterns of a projection and the initializers of its weights."""

from __future__ import annotations

from dataclasses import dataclass

from snnc.compiler.ir.fields import param
from snnc.compiler.ir.registry import register


@register("init", "normal")
@dataclass(frozen=True, kw_only=True)
class Normal:
    """w ~ N(mu, sigma^2)."""

    mu: float = param()
    sigma: float = param(minimum=0.0)


@register("init", "uniform")
@dataclass(frozen=True, kw_only=True)
class Uniform:
    """w ~ U(lo, hi)."""

    lo: float = param()
    hi: float = param()


@register("init", "constant")
@dataclass(frozen=True, kw_only=True)
class Constant:
    """w = c."""

    c: float = param()


Init = Normal | Uniform | Constant


@register("connectivity", "dense")
@dataclass(frozen=True, kw_only=True)
class Dense:
    """Every source neuron connects to every target neuron.
    Without `init`, weights are drawn from normal(0, 1/sqrt(fan_in))."""

    init: Init | None = param(default=None, kind="init")


@register("connectivity", "sparse")
@dataclass(frozen=True, kw_only=True)
class Sparse:
    """Each (source, target) pair is connected with probability p, drawn with the compile seed."""

    p: float = param(positive=True, maximum=1.0, doc="connection probability")
    init: Init | None = param(default=None, kind="init")


@register("connectivity", "one_to_one")
@dataclass(frozen=True, kw_only=True)
class OneToOne:
    """Source i connects to target i only; both sides have the same size. Default init constant(1)."""

    init: Init | None = param(default=None, kind="init")


@register("connectivity", "from_file")
@dataclass(frozen=True, kw_only=True)
class FromFile:
    """Weights from an .npy file of shape (pre, post), a path relative to the .snn file."""

    path: str = param(kind="string")
