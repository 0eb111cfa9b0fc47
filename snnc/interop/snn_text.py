"""Writing `.snn` programs: catalogue entries as DSL calls with exact numbers, files written atomically."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np

from snnc.compiler.ir.fields import param_fields, spec_of
from snnc.compiler.ir.units import Dim
from snnc.interop import outputs


def number(value: float) -> str:
    """The shortest text that reads back as exactly `value` (the parser takes Python's float syntax)."""
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{value} has no .snn spelling")
    return repr(value)


def quantity(value: float, dim: Dim) -> str:
    """Times in seconds and rates in hertz: no unit conversion, so the value reads back bit for bit."""
    return number(value) + {Dim.TIME: " s", Dim.RATE: " Hz"}.get(dim, "")


def call(entry: object, keep: tuple[str, ...] = ()) -> str:
    """A catalogue dataclass as a DSL call; parameters at their default are left out (except `keep`)."""
    parts = []
    for field in param_fields(type(entry)):
        value, spec = getattr(entry, field.name), spec_of(field)
        if field.default is not dataclasses.MISSING and value == field.default and field.name not in keep:
            continue
        if spec.kind in ("number", "integer"):
            parts.append(f"{field.name} = {quantity(value, spec.dim)}")
        elif spec.kind in ("name", "name_or_string"):
            parts.append(f"{field.name} = {value}")
        elif spec.kind == "string":
            parts.append(f'{field.name} = "{value}"')
        else:
            parts.append(f"{field.name} = {call(value)}")
    name = type(entry).dsl_name
    return f"{name}({', '.join(parts)})" if parts else name


def identifier(name: str, taken: set[str]) -> str:
    """A DSL name for `name` (a NIR node name such as 'lif1.lif' or '0'), unique among `taken`."""
    text = "".join(c if c.isalnum() or c == "_" else "_" for c in name).strip("_") or "node"
    if text[0].isdigit():  # keywords are fine: the parser reserves them only where a keyword may stand
        text = f"n{text}"
    unique, i = text, 2
    while unique in taken:
        unique, i = f"{text}_{i}", i + 1
    taken.add(unique)
    return unique


def write_files(out: Path, text: str, arrays: dict[str, np.ndarray]) -> None:
    """The program `out` and its .npy files beside it, each written to a temporary name then renamed, the
    program last: a failure leaves no half-written file and no program without its weights. Only files snnc
    wrote are replaced (interop/outputs.py)."""
    program = check_program_output(out)
    ours = outputs.weights_read_by(program) if program.exists() else set()
    files = []
    for name, array in arrays.items():
        final = outputs.resolve(out.parent / name)
        outputs.check_replaceable(final, lambda p, n=name: n in ours, " (it is not a weight file of the .snn "
                                  f"'{out}' snnc wrote before)")
        files.append((final, lambda path, a=array: _save(path, a)))
    files.append((program, lambda path: Path(path).write_text(text, encoding="utf-8")))
    outputs.write_atomically(files)


def check_program_output(out: Path) -> Path:
    """Where a .snn output is written (through a link); SnncError if it is a file snnc did not write."""
    program = outputs.resolve(out)
    outputs.check_replaceable(program, outputs.snnc_wrote_snn, " (a .snn snnc writes starts with the line "
                              f"'{outputs.IMPORT_HEADER} ...')")
    return program


def _save(path: str, array: np.ndarray) -> None:
    with open(path, "wb") as f:
        np.save(f, array, allow_pickle=False)
