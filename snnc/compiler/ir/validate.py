"""Re-validation of an IR read back from a file: what `from_dict` built is checked, not trusted.

Every record's fields are checked against their type hints (a tuple of ints is a tuple of ints, a float
is finite, an array is an array), catalogue entries against the ranges their fields declare (the same
ParamSpecs the language checks, ir/fields.py), and each record's own `problems()` (beside its definition)
is asked for its invariants. `ir_problems` does this for the declarations, the header and every attribute
a pass adds; the hardware arrays against their target are the families' part (targets/*_program.py).

A problem is a (key path, phrase) pair: ("ir.nodes[hidden].decl.model.tau_mem", "must be > 0, got -0.005")."""

from __future__ import annotations

import dataclasses
import inspect
import math
import re
import types
import typing
from functools import cache
from typing import Any

import numpy as np

from snnc.compiler.ir.bss2_records import (
    Estimates,
    Legalization,
    Merge,
    Placement,
    RoutingTable,
    SignSplit,
    SynapseRows,
)
from snnc.compiler.ir.checks import array_problems
from snnc.compiler.ir.fields import spec_of
from snnc.compiler.ir.graph import NetworkIR
from snnc.compiler.ir.nodes import MAX_STEPS, Input, NetworkHeader, Population, Projection
from snnc.compiler.ir.onn_records import Tile, Transmissions
from snnc.compiler.ir.synapses import SparseWeights
from snnc.diagnostics import Span

Problem = tuple[str, str]

MAX_INT = (1 << 63) - 1  # what any integer in a program may reach (numpy's int64)

# The attributes passes add, by where they sit, and what each must hold (graph `partitions` is a list of
# the family's partition records, checked by the family). Others (a newer snnc's) get the generic check.
NODE_ATTRS: dict[str, Any] = {"decl": Input | Population, "fan_in": int, "detectors": int, "merge": Merge,
                              "placement": Placement, "report": dict}
EDGE_ATTRS: dict[str, Any] = {"decl": Projection, "weights": np.ndarray | SparseWeights, "report": dict,
                              "sign_split": SignSplit, "legalization": Legalization, "synapse_rows": SynapseRows,
                              "transmissions": Transmissions, "tiles": list[Tile]}
GRAPH_ATTRS: dict[str, Any] = {"header": NetworkHeader, "partitions": list, "routing": list[RoutingTable],
                               "estimates": Estimates, "resources": dict, "chips": int, "training": dict}


def join(path: str, key: str | int) -> str:
    return f"{path}[{key}]" if isinstance(key, int) or not key.isidentifier() else f"{path}.{key}"


def node_path(name: str) -> str:
    return f"ir.nodes[{name}]"


def edge_path(key: str) -> str:
    return f"ir.edges[{key}]"


def array_key(path: str) -> str:
    """The weights.npz key of the array at a key path (to_jsonable's naming): ir.edges[x->h].weights is
    'x->h.weights', ir.attrs.routing[0].chip is 'graph.routing.0.chip'."""
    match = re.fullmatch(r"ir\.(?:nodes|edges)\[(.+?)\]\.(.+)", path)
    if match:
        return f"{match[1]}.{match[2]}"
    return re.sub(r"\[(\d+)\]", r".\1", path.replace("ir.attrs.", "graph.", 1))


def show(value: Any) -> str:
    """A value as a message quotes it: short, one line."""
    if isinstance(value, np.ndarray):
        return f"an array of {value.dtype} {list(value.shape)}"
    if dataclasses.is_dataclass(value):
        return f"a {getattr(value, 'dsl_name', type(value).__name__)}"
    text = "a mapping" if isinstance(value, dict) else "a list" if isinstance(value, (list, tuple)) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def describe(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(describe(h) for h in typing.get_args(hint))
    if origin in (tuple, list) or hint in (tuple, list):
        return "a list"
    words = {int: "an integer", float: "a number", str: "a string", bool: "true or false", dict: "a mapping",
             np.ndarray: "an array", type(None): "null", Span: "a source span"}
    if hint in words:
        return words[hint]
    return f"a {getattr(hint, 'dsl_name', getattr(hint, '__name__', str(hint)))}"


@cache
def hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def check_value(value: Any, hint: Any, path: str) -> list[Problem]:
    """Whether `value` is what the type hint `hint` says, recursively (records: their fields and invariants)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return json_problems(value, path)
    if origin in (typing.Union, types.UnionType):
        for option in args:  # the option the value is an instance of says what is wrong inside it
            if option is not type(None) and isinstance(value, typing.get_origin(option) or option):
                return check_value(value, option, path)
        if value is None and type(None) in args:
            return []
        return [(path, f"expected {describe(hint)}, got {show(value)}")]
    if origin in (tuple, list):
        if not isinstance(value, origin):
            return [(path, f"expected {describe(hint)}, got {show(value)}")]
        if len(args) == 2 and args[1] is Ellipsis or origin is list:
            items = [args[0]] * len(value)
        elif len(value) != len(args):
            return [(path, f"expected a list of {len(args)}, got {len(value)} items")]
        else:
            items = list(args)
        return [p for i, (item, h) in enumerate(zip(value, items)) for p in check_value(item, h, join(path, i))]
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return [(path, f"expected a number, got {show(value)}")]
        return [] if math.isfinite(value) else [(path, f"must be finite, got {value}")]
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            return [(path, f"expected an integer, got {show(value)}")]
        return [] if abs(value) <= MAX_INT else [(path, f"must be at most {MAX_INT:,} in magnitude")]
    if isinstance(hint, type) and not isinstance(value, hint) or isinstance(value, bool) and hint is not bool:
        return [(path, f"expected {describe(hint)}, got {show(value)}")]
    if dataclasses.is_dataclass(hint):
        return record_problems(value, path)
    if hint in (dict, list):
        return json_problems(value, path)
    return []


def record_problems(record: Any, path: str) -> list[Problem]:
    """A record's fields against their hints and declared ranges, then its own `problems()`."""
    problems = []
    for field in dataclasses.fields(record):
        value, where = getattr(record, field.name), join(path, field.name)
        found = check_value(value, hints(type(record))[field.name], where)
        kind = field.metadata.get("catalogue")  # a field holding an entry of the language's vocabulary
        if not found and kind is not None and getattr(value, "catalogue_kind", None) != kind:
            found = [(where, f"expected a {kind}, got {show(value)}")]
        if not found and "spec" in field.metadata:
            found = [(where, phrase) for phrase in _spec_problems(value, spec_of(field))]
        problems += found
    own = getattr(record, "problems", None)
    if not problems and own is not None and not _takes_context(own):
        problems += [(join(path, key) if key else path, phrase) for key, phrase in own()]
    return problems


def _takes_context(method: Any) -> bool:
    function = getattr(method, "__func__", None)  # a bound method: its function's signature, once per class
    return bool(inspect.signature(method).parameters) if function is None else _method_takes_context(function)


@cache
def _method_takes_context(function: Any) -> bool:
    return len(inspect.signature(function).parameters) > 1  # more than self


def _spec_problems(value: Any, spec) -> list[str]:
    """The language's own checks of a parameter value (its ParamSpec)."""
    if spec.kind in ("number", "integer") and isinstance(value, (int, float)):
        problem = spec.range_problem(value)
        return [f"{problem}, got {value:g}"] if problem else []
    if spec.kind == "name" and spec.choices and value is not None and value not in spec.choices:
        return [f"expected one of {', '.join(spec.choices)}, got {show(value)}"]
    return []


def json_problems(value: Any, path: str) -> list[Problem]:
    """Data of no declared type (report entries, a newer snnc's attributes): records are checked as
    records, numbers must be finite, containers are walked."""
    if isinstance(value, float) and not math.isfinite(value):
        return [(path, f"must be finite, got {value}")]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INT:
        return [(path, f"must be at most {MAX_INT:,} in magnitude")]
    if dataclasses.is_dataclass(value):
        return record_problems(value, path)
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in json_problems(v, join(path, str(k)))]
    if isinstance(value, (list, tuple)):
        return [p for i, v in enumerate(value) for p in json_problems(v, join(path, i))]
    if isinstance(value, np.ndarray):
        return array_problems(value, path)
    return []


def ir_problems(ir: NetworkIR) -> list[Problem]:
    """Everything wrong with the declarations, the header and the attributes of an IR read from a file."""
    problems = _attr_problems(ir.graph.graph, GRAPH_ATTRS, "ir.attrs")
    for name, attrs in ir.graph.nodes(data=True):
        problems += _attr_problems(attrs, NODE_ATTRS, node_path(str(name)))
    for _, _, key, attrs in ir.edges():
        problems += _attr_problems(attrs, EDGE_ATTRS, edge_path(str(key)))
    if problems:
        return problems
    for source, target, key, attrs in ir.edges():
        path = edge_path(key)
        if not isinstance(ir.decl(target), Population):
            problems.append((join(path, "decl"), f"projects into '{target}', which is not a population"))
            continue
        shape = (ir.size(source), ir.size(target))
        if attrs["decl"].delay / ir.header.timestep > MAX_STEPS:
            problems.append((join(path, "decl.delay"), f"{attrs['decl'].delay:g} s is more than {MAX_STEPS:,} time "
                             "steps"))
        weights = attrs["weights"]
        if isinstance(weights, SparseWeights):
            if weights.shape != shape:
                problems.append((join(path, "weights"), f"synapses of a {weights.pre} x {weights.post} projection; "
                                 f"it is {shape[0]} x {shape[1]}"))
        else:
            problems += array_problems(weights, join(path, "weights"), np.float32, shape)
    for population in ir.populations():
        for output in ir.header.outputs:
            needs = output.readout.needs
            if output.population == population.name and needs not in population.model.observables:
                problems.append(("ir.header.outputs", f"readout '{output.readout.dsl_name}' needs {needs}, which "
                                 f"'{population.name}' ({population.model.dsl_name}) does not give"))
    return problems


def _attr_problems(attrs: dict, known: dict[str, Any], path: str) -> list[Problem]:
    problems = []
    for key, value in attrs.items():
        where = "ir.header" if known is GRAPH_ATTRS and key == "header" else join(path, key)
        if key not in known:
            problems += json_problems(value, where)
        elif key == "weights" and not isinstance(value, SparseWeights):
            problems += [] if isinstance(value, np.ndarray) else [(where, f"expected an array or SparseWeights, got "
                                                                   f"{show(value)}")]
        else:
            problems += check_value(value, known[key], where)
    if "decl" not in attrs and path != "ir.attrs":
        problems.append((join(path, "decl"), "missing"))
    if "weights" not in attrs and known is EDGE_ATTRS:
        problems.append((join(path, "weights"), "missing"))
    return problems
