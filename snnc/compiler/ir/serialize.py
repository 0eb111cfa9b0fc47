"""IR <-> JSON-compatible values, generic over every registered dataclass; arrays travel separately.

A dataclass becomes {"$type": ClassName, field: value, ...}; a Span becomes "file:line:col-line:col";
a numpy array becomes {"$array": key} and is put into the `arrays` dict under that key. Inside
dataclasses every sequence is a tuple, so a list read back inside one becomes a tuple again."""

from __future__ import annotations

import dataclasses
import enum
import re
from typing import Any

import numpy as np

from snnc.diagnostics import Span

_TYPES: dict[str, type] = {}
_SPAN = re.compile(r"^(?P<file>.*):(?P<line>\d+):(?P<col>\d+)-(?P<eline>\d+):(?P<ecol>\d+)$")


def serializable(cls: type) -> type:
    """Class decorator: let `to_jsonable`/`from_jsonable` round-trip instances of `cls`."""
    existing = _TYPES.get(cls.__name__)
    if existing is not None and existing is not cls:
        raise ValueError(f"two serializable classes named {cls.__name__}")
    _TYPES[cls.__name__] = cls
    return cls


def registered_types() -> dict[str, type]:
    return dict(_TYPES)


def to_jsonable(value: Any, arrays: dict[str, np.ndarray] | None = None, key: str = "") -> Any:
    """Convert IR values to JSON-compatible data; arrays go to `arrays` (or are summarized if None)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, Span):
        return f"{value.file}:{value.line}:{value.column}-{value.end_line}:{value.end_column}"
    if isinstance(value, np.ndarray):
        if arrays is None:
            return {"$array": key, "shape": list(value.shape), "dtype": str(value.dtype)}
        arrays[key] = value
        return {"$array": key}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {"$type": type(value).__name__}
        for field in dataclasses.fields(value):
            out[field.name] = to_jsonable(getattr(value, field.name), arrays, f"{key}.{field.name}")
        return out
    if isinstance(value, dict):
        return {str(k): to_jsonable(v, arrays, f"{key}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v, arrays, f"{key}.{i}") for i, v in enumerate(value)]
    raise TypeError(f"cannot serialize {type(value).__name__} at {key or 'top level'}")


def from_jsonable(data: Any, arrays: dict[str, np.ndarray] | None = None, in_dataclass: bool = False) -> Any:
    """Inverse of `to_jsonable`. Raises ValueError on data it does not understand."""
    if isinstance(data, str):
        match = _SPAN.match(data)
        if match and in_dataclass:
            return Span(match["file"], int(match["line"]), int(match["col"]),
                        int(match["eline"]), int(match["ecol"]))
        return data
    if data is None or isinstance(data, (bool, int, float)):
        return data
    if isinstance(data, list):
        items = [from_jsonable(v, arrays, in_dataclass) for v in data]
        return tuple(items) if in_dataclass else items
    if isinstance(data, dict):
        if "$array" in data:
            if arrays is None or data["$array"] not in arrays:
                raise ValueError(f"array '{data['$array']}' is missing")
            return arrays[data["$array"]]
        if "$type" in data:
            cls = _TYPES.get(data["$type"])
            if cls is None:
                raise ValueError(f"unknown IR type '{data['$type']}'")
            names = {f.name for f in dataclasses.fields(cls)}
            unknown = set(data) - names - {"$type"}
            if unknown:
                raise ValueError(f"unknown fields {sorted(unknown)} for {data['$type']}")
            kwargs = {k: from_jsonable(v, arrays, True) for k, v in data.items() if k != "$type"}
            return cls(**kwargs)
        return {k: from_jsonable(v, arrays, in_dataclass) for k, v in data.items()}
    raise ValueError(f"unexpected value of type {type(data).__name__}")
