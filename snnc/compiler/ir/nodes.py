"""The IR's own records: inputs and populations (graph nodes), projections (graph edges), outputs and
the network's header (graph attributes). All quantities are SI floats; every record has its span."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from snnc.compiler.ir.serialize import serializable
from snnc.compiler.ir.training import TrainSpec
from snnc.diagnostics import Span

SIGNS = ("signed", "positive", "negative")


@serializable
@dataclass(frozen=True, kw_only=True)
class Input:
    """An external stimulus: `input NAME[SHAPE] : ENCODER`; flattened row-major to `size`."""

    name: str
    shape: tuple[int, ...]
    encoder: Any  # an encoder from snnc.compiler.ir.encoders
    span: Span | None = None

    @property
    def size(self) -> int:
        return math.prod(self.shape)


@serializable
@dataclass(frozen=True, kw_only=True)
class Population:
    """A group of neurons of one model: `pop NAME[SHAPE] : MODEL`."""

    name: str
    shape: tuple[int, ...]
    model: Any  # a neuron model from snnc.compiler.ir.neurons
    model_alias: str | None = None  # the `neuron NAME = ...` it was declared with, if any
    span: Span | None = None

    @property
    def size(self) -> int:
        return math.prod(self.shape)


@serializable
@dataclass(frozen=True, kw_only=True)
class Projection:
    """Synapses from `source` to `target`: `proj SRC -> DST : CONN [positive|negative] [delay Q]`."""

    name: str  # the edge key: "src->dst", "#2" appended for a second projection between the same pair
    source: str
    target: str
    connectivity: Any  # from snnc.compiler.ir.connectivity
    sign: str = "signed"  # one of SIGNS: the allowed sign of every weight
    delay: float = 0.0  # s
    span: Span | None = None


@serializable
@dataclass(frozen=True, kw_only=True)
class Output:
    """`output NAME : READOUT`."""

    population: str
    readout: Any  # from snnc.compiler.ir.readouts
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
