"""The language's vocabulary: every neuron model, encoder, connectivity, init, readout, optimizer and
regularizer is a dataclass registered under its DSL name (`registry.register`). Resolution, validation,
docs and serialization all read this one table, so a name is never listed twice by hand.

Importing this module imports every vocabulary module, so the table is complete whenever it is read."""

from __future__ import annotations

from snnc.compiler.ir import connectivity, encoders, neurons, readouts, training  # noqa: F401 - they register
from snnc.compiler.ir.registry import CATALOGUE, KINDS


def lookup(kind: str, name: str) -> type | None:
    return CATALOGUE[kind].get(name)


def names(kind: str) -> list[str]:
    return sorted(CATALOGUE[kind])


def all_entries() -> list[type]:
    return [cls for kind in KINDS for cls in CATALOGUE[kind].values()]
