"""The language's vocabulary: every neuron model, encoder, connectivity, init, readout, optimizer and
regularizer is a dataclass registered here under its DSL name. Resolution, validation, docs and
serialization all read this one table, so a name is never listed twice by hand."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

KINDS = ("neuron", "encoder", "connectivity", "init", "readout", "optimizer", "regularizer")
CATALOGUE: dict[str, dict[str, type]] = {kind: {} for kind in KINDS}

T = TypeVar("T", bound=type)


def register(kind: str, dsl_name: str) -> Callable[[T], T]:
    """Class decorator: make `cls` the meaning of `dsl_name` among the `kind`s of the language."""

    def decorate(cls: T) -> T:
        if dsl_name in CATALOGUE[kind]:
            raise ValueError(f"{kind} '{dsl_name}' registered twice")
        cls.dsl_name = dsl_name
        cls.catalogue_kind = kind
        CATALOGUE[kind][dsl_name] = cls
        from snnc.compiler.ir.serialize import serializable
        serializable(cls)
        return cls

    return decorate


def lookup(kind: str, name: str) -> type | None:
    _load_all()
    return CATALOGUE[kind].get(name)


def names(kind: str) -> list[str]:
    _load_all()
    return sorted(CATALOGUE[kind])


def all_entries() -> list[type]:
    _load_all()
    return [cls for kind in KINDS for cls in CATALOGUE[kind].values()]


def _load_all() -> None:
    # The modules register themselves on import.
    from snnc.compiler.ir import connectivity, encoders, neurons, readouts, training  # noqa: F401
