"""Validation of target YAML files: report every problem with its key path, not the first one.

A schema is a nested dict; a value is a type (int, float, str, bool), a tuple of allowed types, a
nested dict, a `ListOf(item)`, `AnyOf(...)`, or `Choice(...)`. Keys wrapped in `Optional` may be
left out. Unknown keys are errors, with a did-you-mean."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from snnc.diagnostics import did_you_mean


@dataclass(frozen=True)
class Optional:
    key: str


@dataclass(frozen=True)
class ListOf:
    item: Any


@dataclass(frozen=True)
class Choice:
    values: tuple


@dataclass(frozen=True)
class AnyOf:
    options: tuple


@dataclass(frozen=True)
class OpenMapping:
    """A dict with free keys whose values all match `value`."""

    value: Any


_TYPE_WORDS = {int: "an integer", float: "a number", str: "a string", bool: "true or false", dict: "a mapping"}


def describe(schema: Any) -> str:
    if isinstance(schema, type):
        return _TYPE_WORDS.get(schema, schema.__name__)
    if isinstance(schema, (dict, OpenMapping)):
        return "a mapping"
    if isinstance(schema, ListOf):
        return f"a list of {describe(schema.item).removeprefix('an ').removeprefix('a ')}s"
    if isinstance(schema, Choice):
        values = ", ".join(repr(v) for v in schema.values)
        return values if len(schema.values) == 1 else f"one of {values}"
    if isinstance(schema, AnyOf):
        return " or ".join(describe(o) for o in schema.options)
    return str(schema)


def validate(data: Any, schema: Any, path: str = "") -> list[str]:
    """Every mismatch between `data` and `schema`, as 'key.path: problem' strings."""
    where = path or "(top level)"
    if isinstance(schema, AnyOf):
        if any(not validate(data, option, path) for option in schema.options):
            return []
        return [f"{where}: expected {describe(schema)}, got {_show(data)}"]
    if isinstance(schema, Choice):
        return [] if data in schema.values else [f"{where}: expected {describe(schema)}, got {_show(data)}"]
    if isinstance(schema, ListOf):
        if not isinstance(data, list):
            return [f"{where}: expected {describe(schema)}, got {_show(data)}"]
        return [p for i, item in enumerate(data) for p in validate(item, schema.item, f"{path}[{i}]")]
    if isinstance(schema, OpenMapping):
        if not isinstance(data, dict):
            return [f"{where}: expected a mapping, got {_show(data)}"]
        return [p for k, v in data.items() for p in validate(v, schema.value, _join(path, k))]
    if isinstance(schema, dict):
        if not isinstance(data, dict):
            return [f"{where}: expected a mapping, got {_show(data)}"]
        problems = []
        keys = {(k.key if isinstance(k, Optional) else k): k for k in schema}
        for key, spec_key in keys.items():
            if key in data:
                problems += validate(data[key], schema[spec_key], _join(path, key))
            elif not isinstance(spec_key, Optional):
                problems.append(f"{_join(path, key)}: missing")
        for key in data:
            if key not in keys:
                problems.append(f"{_join(path, str(key))}: unknown key{did_you_mean(str(key), keys)}")
        return problems
    if isinstance(schema, tuple):
        if _is_instance(data, schema):
            return []
        return [f"{where}: expected {' or '.join(describe(t) for t in schema)}, got {_show(data)}"]
    if isinstance(schema, type):
        return [] if _is_instance(data, (schema,)) else [f"{where}: expected {describe(schema)}, got {_show(data)}"]
    raise AssertionError(f"bad schema {schema!r}")


def _is_instance(data: Any, types: tuple) -> bool:
    if isinstance(data, bool):
        return bool in types
    if float in types and isinstance(data, int):
        return True
    return isinstance(data, types)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else str(key)


def _show(data: Any) -> str:
    if isinstance(data, dict):
        return "a mapping"
    if isinstance(data, list):
        return "a list"
    return repr(data)


def family_schema(family: str, sections: dict) -> dict:
    """The exact schema of a substrate family's target YAML: the keys every target has (`family` fixed
    to this one, every `supports` list required) plus the family's own `sections`."""
    names = AnyOf((Choice(("all",)), ListOf(str)))
    return {
        "name": str,
        "description": str,
        "family": Choice((family,)),
        "time_scale": float,
        "supports": {"neuron_models": names, "encoders": names, "readouts": names, Optional("max_delay"): float},
        **sections,
    }
