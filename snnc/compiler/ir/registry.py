"""The table behind the catalogue: `register` files a vocabulary dataclass under its kind and DSL name.

The vocabulary modules (neurons, encoders, connectivity, readouts, training) import this module to
register themselves; it imports none of them, so the table has no import circle. Read the table through
`snnc.compiler.ir.catalogue`, which imports every vocabulary module and so always sees all of it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from snnc.compiler.ir.serialize import serializable

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
        serializable(cls)
        return cls

    return decorate
