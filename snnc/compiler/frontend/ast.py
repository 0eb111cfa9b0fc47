"""The syntax tree of a `.snn` file: plain dataclasses named after the grammar's rules."""

from __future__ import annotations

from dataclasses import dataclass, field

from snnc.diagnostics import Span

# --- expressions -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Quantity:
    """A number literal with an optional unit: `6 ms`, `0.1`, `2e-3`."""

    value: float
    unit: str | None
    span: Span


@dataclass(frozen=True)
class Ref:
    """A bare name in value position: a `param`, or a model/init written without parentheses."""

    name: str
    span: Span


@dataclass(frozen=True)
class String:
    value: str
    span: Span


@dataclass(frozen=True)
class Arg:
    """`name = value` or a positional `value` inside a call's parentheses."""

    name: str | None
    value: Expr
    span: Span


@dataclass(frozen=True)
class Call:
    """`NAME(args)`; `args` is None when written without parentheses (`dense`, `hw`, `linear`)."""

    name: str
    args: tuple[Arg, ...] | None
    span: Span
    name_span: Span


@dataclass(frozen=True)
class BinOp:
    op: str  # one of + - * /
    left: Expr
    right: Expr
    span: Span


@dataclass(frozen=True)
class Neg:
    operand: Expr
    span: Span


Expr = Quantity | Ref | String | Call | BinOp | Neg


# --- statements --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Timestep:
    value: Expr
    span: Span


@dataclass(frozen=True)
class Duration:
    value: Expr
    span: Span


@dataclass(frozen=True)
class Param:
    name: str
    value: Expr
    span: Span
    name_span: Span


@dataclass(frozen=True)
class NeuronDef:
    name: str
    model: Call
    span: Span
    name_span: Span


@dataclass(frozen=True)
class InputDecl:
    name: str
    shape: tuple[Expr, ...]
    encoder: Call
    span: Span
    name_span: Span


@dataclass(frozen=True)
class PopDecl:
    name: str
    shape: tuple[Expr, ...]
    model: Call
    span: Span
    name_span: Span


@dataclass(frozen=True)
class ProjDecl:
    source: str
    target: str
    connectivity: Call
    sign: str  # "signed", "positive" or "negative"
    delay: Expr | None
    span: Span
    source_span: Span
    target_span: Span


@dataclass(frozen=True)
class OutputDecl:
    population: str
    readout: Call
    span: Span
    population_span: Span


Statement = Timestep | Duration | Param | NeuronDef | InputDecl | PopDecl | ProjDecl | OutputDecl


@dataclass(frozen=True)
class TrainEntry:
    key: str
    value: Expr
    span: Span
    key_span: Span


@dataclass(frozen=True)
class TrainBlock:
    """`train [NETWORK] { key value ... }`; without a name it belongs to the network above it."""

    network: str | None
    entries: tuple[TrainEntry, ...]
    span: Span


@dataclass(frozen=True)
class Network:
    name: str
    statements: tuple[Statement, ...]
    span: Span
    name_span: Span
    train: TrainBlock | None = None


@dataclass(frozen=True)
class Module:
    """One parsed file."""

    path: str
    source: str = field(repr=False)
    networks: tuple[Network, ...]
