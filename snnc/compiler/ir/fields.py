"""How a catalogue entry declares its parameters: dimension, default, allowed range, value kind."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from snnc.compiler.ir.units import Dim

REQUIRED = dataclasses.MISSING
FLOAT32_MAX = 3.4028234663852886e38  # the emulators compute in float32: a parameter beyond it has no value there


@dataclass(frozen=True)
class ParamSpec:
    """Metadata of one parameter. `kind` says what the DSL value must be:
    "number" (a quantity of dimension `dim`), "integer", "string", "name" (one of `choices`,
    written bare), "name_or_string", or a catalogue kind such as "init" (a nested call)."""

    dim: Dim = Dim.NONE
    kind: str = "number"
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    choices: tuple[str, ...] = ()
    doc: str = ""

    def range_problem(self, value: float) -> str | None:
        """A phrase saying why `value` is out of range, or None."""
        if not math.isfinite(value):
            return "must be finite"
        if self.kind == "number" and abs(value) > FLOAT32_MAX:
            return "must be at most 3.4e38 in magnitude (the emulators compute in float32)"
        if self.minimum is not None:
            if self.exclusive_minimum and value <= self.minimum:
                return f"must be > {self.minimum:g}"
            if not self.exclusive_minimum and value < self.minimum:
                return f"must be >= {self.minimum:g}"
        if self.maximum is not None and value > self.maximum:
            return f"must be <= {self.maximum:g}"
        return None


def param(dim: Dim = Dim.NONE, default: Any = REQUIRED, *, kind: str = "number",
          minimum: float | None = None, maximum: float | None = None, positive: bool = False,
          choices: tuple[str, ...] = (), doc: str = "") -> Any:
    """A dataclass field carrying its ParamSpec; `positive=True` means strictly > 0."""
    spec = ParamSpec(dim=dim, kind=kind, minimum=0.0 if positive else minimum, maximum=maximum,
                     exclusive_minimum=positive, choices=choices, doc=doc)
    return dataclasses.field(default=default, metadata={"spec": spec})


def spec_of(field: dataclasses.Field) -> ParamSpec:
    return field.metadata.get("spec", ParamSpec())


def param_fields(cls: type) -> tuple[dataclasses.Field, ...]:
    return tuple(f for f in dataclasses.fields(cls) if "spec" in f.metadata)
