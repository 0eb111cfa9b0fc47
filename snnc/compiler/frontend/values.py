"""Evaluate AST values: arithmetic with units, `param` references, and calls of catalogue entries.

Problems become diagnostics in a bag; the functions return None for a value that could not be made."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from snnc.compiler.frontend import ast
from snnc.compiler.ir import catalogue
from snnc.compiler.ir.fields import ParamSpec, param_fields, spec_of
from snnc.compiler.ir.units import LARGEST, TOO_LARGE, UNITS, Dim
from snnc.diagnostics import DiagnosticBag, Span, did_you_mean, error


def format_quantity(value: float, dim: Dim) -> str:
    if dim is Dim.TIME:
        for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9)):
            if abs(value) >= scale or unit == "ns":
                return f"{value / scale:g} {unit}"
    if dim is Dim.RATE:
        for unit, scale in (("MHz", 1e6), ("kHz", 1e3), ("Hz", 1.0)):
            if abs(value) >= scale or unit == "Hz":
                return f"{value / scale:g} {unit}"
    return f"{value:g}"


class _Failed(Exception):
    """An evaluation failed; its diagnostic is already in the bag."""


@dataclass
class Scope:
    """Names visible to values: `param`s and `neuron` definitions, with what used them."""

    params: dict[str, tuple[float, Dim]] = field(default_factory=dict)
    neurons: dict[str, Any] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)


class ValueResolver:
    """Turns AST values into floats, strings and catalogue dataclasses, reporting into `bag`."""

    def __init__(self, scope: Scope, bag: DiagnosticBag):
        self.scope = scope
        self.bag = bag

    # --- numbers --------------------------------------------------------------------------------
    def quantity(self, expr: ast.Expr) -> tuple[float, Dim] | None:
        try:
            return self._eval(expr)
        except _Failed:
            return None

    def number(self, expr: ast.Expr, spec: ParamSpec, what: str) -> float | None:
        """A value of the dimension and range `spec` asks for; `what` names it in messages."""
        result = self.quantity(expr)
        if result is None:
            return None
        value, dim = result
        value += 0.0  # -0 is 0 (numpy refuses normal(0, -0): "scale < 0")
        if dim is not spec.dim:
            self.bag.add(error("E110", _dimension_message(what, spec.dim, dim), expr.span))
            return None
        problem = spec.range_problem(value)
        if problem is None and spec.kind == "integer" and value != int(value):
            problem = "must be a whole number"
        if problem:
            self.bag.add(error("E111", f"{what} {problem}, got {format_quantity(value, dim)}", expr.span))
            return None
        return int(value) if spec.kind == "integer" else value

    def _fail(self, code: str, message: str, span: Span):
        self.bag.add(error(code, message, span))
        raise _Failed

    def _eval(self, root: ast.Expr) -> tuple[float, Dim]:
        """Post-order with an explicit stack: no recursion, however long the expression."""
        results: list[tuple[float, Dim]] = []
        stack: list[tuple[ast.Expr, bool]] = [(root, False)]
        while stack:
            expr, operands_done = stack.pop()
            if isinstance(expr, ast.BinOp):
                if operands_done:
                    right, left = results.pop(), results.pop()
                    results.append(self._binop(expr, left, right))
                else:
                    stack += [(expr, True), (expr.right, False), (expr.left, False)]
            elif isinstance(expr, ast.Neg):
                if operands_done:
                    value, dim = results.pop()
                    results.append((-value, dim))
                else:
                    stack += [(expr, True), (expr.operand, False)]
            else:
                results.append(self._leaf(expr))
        return results.pop()

    def _leaf(self, expr: ast.Expr) -> tuple[float, Dim]:
        if isinstance(expr, ast.Quantity):
            if expr.unit is None:
                return expr.value, Dim.NONE
            scale, dim = UNITS[expr.unit]
            return self._in_range(expr.value * scale, expr.span), dim
        if isinstance(expr, ast.Ref):
            if expr.name not in self.scope.params:
                self._fail("E100", f"unknown name '{expr.name}'{did_you_mean(expr.name, self.scope.params)}",
                           expr.span)
            self.scope.used.add(expr.name)
            return self.scope.params[expr.name]
        if isinstance(expr, ast.String):
            self._fail("E112", "expected a number, got a string", expr.span)
        if isinstance(expr, ast.Call):
            self._fail("E112", f"expected a number, got a call of '{expr.name}'", expr.span)
        raise AssertionError(f"unknown expression {expr!r}")

    def _in_range(self, value: float, span: Span) -> float:
        if not abs(value) <= LARGEST:  # (also NaN)
            self._fail("E003", f"number is too large; {TOO_LARGE}", span)
        return value

    def _binop(self, expr: ast.BinOp, left_value: tuple[float, Dim],
               right_value: tuple[float, Dim]) -> tuple[float, Dim]:
        (left, left_dim), (right, right_dim) = left_value, right_value
        if expr.op in "+-":
            if left_dim is not right_dim:
                self._fail("E110", f"cannot {'add' if expr.op == '+' else 'subtract'} "
                           f"{left_dim.describe()} and {right_dim.describe()}", expr.span)
            value, dim = (left + right if expr.op == "+" else left - right), left_dim
        else:
            sign = 1 if expr.op == "*" else -1
            dim = Dim.from_exponent(left_dim.value + sign * right_dim.value)
            if dim is None:
                self._fail("E110", "this product has a unit snnc does not know (time^2 or rate^2)", expr.span)
            if expr.op == "/" and right == 0:
                self._fail("E113", "division by zero", expr.span)
            value = left * right if expr.op == "*" else left / right
        return self._in_range(value, expr.span), dim

    # --- calls of catalogue entries --------------------------------------------------------------
    def build(self, kind: str, call: ast.Call | ast.Ref, *, aliases: dict[str, Any] | None = None) -> Any:
        """An instance of the `kind` entry that `call` names, or None after reporting why not."""
        if isinstance(call, ast.Ref):
            call = ast.Call(call.name, None, call.span, call.span)
        if not isinstance(call, ast.Call):
            self.bag.add(error("E112", f"expected {_article(kind)} {kind}, e.g. "
                               f"'{catalogue.names(kind)[0]}'", call.span))
            return None
        aliases = aliases or {}
        if call.name in aliases:
            self.scope.used.add(call.name)
            base = aliases[call.name]
            if base is None:  # the definition itself failed and was reported
                return None
            return self._fill(type(base), call, base=base)
        cls = catalogue.lookup(kind, call.name)
        if cls is None:
            known = list(catalogue.names(kind)) + list(aliases)
            self.bag.add(error("E100", f"unknown {kind} '{call.name}'{did_you_mean(call.name, known)}",
                               call.name_span))
            return None
        return self._fill(cls, call)

    def _fill(self, cls: type, call: ast.Call, base: Any = None) -> Any:
        fields = param_fields(cls)
        by_name = {f.name: f for f in fields}
        given: dict[str, ast.Arg] = {}
        ok = True
        for index, arg in enumerate(call.args or ()):
            if arg.name is None:
                if index >= len(fields):
                    self.bag.add(error("E107", f"'{call.name}' takes at most {len(fields)} "
                                       f"argument{'s' if len(fields) != 1 else ''}", arg.span))
                    ok = False
                    continue
                name = fields[index].name
            else:
                name = arg.name
            if name not in by_name:
                self.bag.add(error("E104", f"'{call.name}' has no parameter '{name}'"
                                   f"{did_you_mean(name, by_name)}", arg.span))
                ok = False
            elif name in given:
                self.bag.add(error("E105", f"parameter '{name}' of '{call.name}' is given twice", arg.span))
                ok = False
            else:
                given[name] = arg
        return self._construct(cls, call.name, given, call.span, ok, base)

    def build_record(self, cls: type, entries: dict[str, tuple[ast.Expr, Span]], what: str,
                     span: Span) -> Any:
        """Like `build`, for `key value` blocks (the train block); unknown keys are reported."""
        fields = {f.name: f for f in param_fields(cls)}
        given, ok = {}, True
        for key, (value, key_span) in entries.items():
            if key not in fields:
                self.bag.add(error("E104", f"unknown {what} setting '{key}'{did_you_mean(key, fields)}",
                                   key_span))
                ok = False
                continue
            given[key] = ast.Arg(key, value, key_span)
        return self._construct(cls, what, given, span, ok, None)

    def _construct(self, cls, label, given, span, ok, base):
        values = {}
        for f in param_fields(cls):
            if f.name in given:
                value = self._argument(spec_of(f), given[f.name].value, f"'{f.name}' of {label}")
                ok = ok and value is not None
                values[f.name] = value
            elif base is None and f.default is dataclasses.MISSING and ok:
                # (after a misspelt or surplus argument, "missing" would only repeat that error)
                self.bag.add(error("E106", f"'{label}' needs parameter '{f.name}'"
                                   f" ({spec_of(f).dim.describe()}, e.g. {f.name} = {spec_of(f).dim.example()})",
                                   span))
                ok = False
        if not ok:
            return None
        return dataclasses.replace(base, **values) if base is not None else cls(**values)

    def _argument(self, spec: ParamSpec, value: ast.Expr, what: str) -> Any:
        if spec.kind in ("number", "integer"):
            return self.number(value, spec, what)
        if spec.kind == "string":
            if isinstance(value, ast.String):
                return value.value
            self.bag.add(error("E112", f"{what} must be a string in double quotes", value.span))
            return None
        if spec.kind in ("name", "name_or_string"):
            if isinstance(value, ast.String) and spec.kind == "name_or_string":
                name = value.value
            elif isinstance(value, ast.Ref):
                name = value.name
            else:
                name = None
            if name is not None and (not spec.choices or name in spec.choices):
                return name
            if name is not None:
                self.bag.add(error("E100", f"{what} must be one of {', '.join(spec.choices)}, got "
                                   f"'{name}'{did_you_mean(name, spec.choices)}", value.span))
                return None
            quoted = " or a string in double quotes" if spec.kind == "name_or_string" else ""
            self.bag.add(error("E112", f"{what} must be a name{quoted}", value.span))
            return None
        return self.build(spec.kind, value)


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def _dimension_message(what: str, expected: Dim, got: Dim) -> str:
    if expected is Dim.NONE:
        return f"{what} is {expected.describe()}, got {got.describe()}"
    if got is Dim.NONE:
        return f"{what} is {expected.describe()} and needs a unit, e.g. {expected.example()}"
    return f"{what} is {expected.describe()}, got {got.describe()}"
