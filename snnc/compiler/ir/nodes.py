"""The IR's own records: inputs and populations (graph nodes), projections (graph edges), outputs and
the network's header (graph attributes). All quantities are SI floats; every record has its span."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from snnc.compiler.ir.serialize import serializable
from snnc.compiler.ir.training import TrainSpec
from snnc.diagnostics import Span

SIGNS = ("signed", "positive", "negative")
MAX_NEURONS = 1 << 31  # neurons of one input or population (the limit is one less)
MAX_STEPS = 100_000  # time steps of one sample (duration / timestep), e.g. 100 s at 1 ms


def catalogue(kind: str) -> Any:
    """A required field holding an entry of the language's vocabulary of this kind ("neuron", ...)."""
    return dataclasses.field(metadata={"catalogue": kind})


def shape_problems(shape: tuple[int, ...]) -> list[tuple[str, str]]:
    if not shape or any(d < 1 for d in shape):
        return [("shape", f"every size must be >= 1, got {list(shape)}")]
    if math.prod(shape) >= MAX_NEURONS:
        return [("shape", f"{math.prod(shape):,} neurons; at most {MAX_NEURONS - 1:,} are supported")]
    return []


class Shaped:
    """What inputs and populations share: their neurons, `shape` flattened row-major to `size`."""

    shape: tuple[int, ...]  # declared by each record (a field there)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def problems(self) -> list[tuple[str, str]]:
        return shape_problems(self.shape)


@serializable
@dataclass(frozen=True, kw_only=True)
class Input(Shaped):
    """An external stimulus: `input NAME[SHAPE] : ENCODER`; flattened row-major to `size`."""

    name: str
    shape: tuple[int, ...]
    encoder: Any = catalogue("encoder")  # an encoder from snnc.compiler.ir.encoders
    span: Span | None = None


@serializable
@dataclass(frozen=True, kw_only=True)
class Population(Shaped):
    """A group of neurons of one model: `pop NAME[SHAPE] : MODEL`."""

    name: str
    shape: tuple[int, ...]
    model: Any = catalogue("neuron")  # a neuron model from snnc.compiler.ir.neurons
    model_alias: str | None = None  # the `neuron NAME = ...` it was declared with, if any
    span: Span | None = None


@serializable
@dataclass(frozen=True, kw_only=True)
class Projection:
    """Synapses from `source` to `target`: `proj SRC -> DST : CONN [positive|negative] [delay Q]`."""

    name: str  # the edge key: "src->dst", "#2" appended for a second projection between the same pair
    source: str
    target: str
    connectivity: Any = catalogue("connectivity")  # from snnc.compiler.ir.connectivity
    sign: str = "signed"  # one of SIGNS: the allowed sign of every weight
    delay: float = 0.0  # s
    span: Span | None = None

    def problems(self) -> list[tuple[str, str]]:
        problems = [] if self.sign in SIGNS else [("sign", f"expected one of {', '.join(SIGNS)}, got {self.sign!r}")]
        return problems + ([("delay", f"must be >= 0, got {self.delay:g}")] if self.delay < 0 else [])


@serializable
@dataclass(frozen=True, kw_only=True)
class Output:
    """`output NAME : READOUT`."""

    population: str
    readout: Any = catalogue("readout")  # from snnc.compiler.ir.readouts
    span: Span | None = None


@serializable
@dataclass(frozen=True, kw_only=True)
class NetworkHeader:
    """Everything about a network that is not a node or an edge."""

    name: str
    timestep: float = 1e-3  # s
    duration: float = 50e-3  # s
    outputs: tuple[Output, ...] = ()
    train: TrainSpec | None = None
    span: Span | None = None

    @property
    def steps(self) -> int:
        return max(int(round(self.duration / self.timestep)), 1)

    def problems(self) -> list[tuple[str, str]]:
        """What the language refuses in a header (resolve_names_and_units)."""
        for key in ("timestep", "duration"):
            if getattr(self, key) <= 0:
                return [(key, f"must be > 0, got {getattr(self, key):g}")]
        if self.timestep > self.duration:
            return [("timestep", f"{self.timestep:g} s is longer than the duration, {self.duration:g} s")]
        if self.duration / self.timestep > MAX_STEPS:
            return [("duration", f"{self.duration / self.timestep:,.0f} time steps; at most {MAX_STEPS:,} are "
                     "supported")]
        return []
