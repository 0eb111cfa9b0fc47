"""Text -> syntax tree. Lark's errors become snnc diagnostics here and nowhere else."""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

from lark import Lark, Transformer_NonRecursive, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from snnc.compiler.frontend import ast
from snnc.compiler.frontend.limits import scan_limits
from snnc.compiler.frontend.strings import unescape
from snnc.compiler.ir.units import LARGEST, TOO_LARGE
from snnc.diagnostics import DiagnosticBag, SnncError, Span, did_you_mean, error

GRAMMAR_PATH = Path(__file__).with_name("grammar.lark")

# How terminals are named to users in "expected ..." messages.
_TERMINAL_WORDS = {
    "NAME": "a name",
    "NUMBER": "a number",
    "STRING": "a string",
    "UNIT": "a unit",
    "POSITIVE": "'positive'",
    "NEGATIVE": "'negative'",
    "$END": "end of file",
}


@functools.lru_cache(maxsize=1)
def _lark() -> Lark:
    return Lark(GRAMMAR_PATH.read_text(), parser="lalr", lexer="contextual",
                propagate_positions=True, maybe_placeholders=True)


def parse(source: str, path: str = "<string>") -> ast.Module:
    """Parse one `.snn` file; raises SnncError with every diagnostic found."""
    sources = {path: source}
    too_big = scan_limits(source, path)  # before Lark: a huge or deep source fails fast, never deep
    if too_big:
        raise SnncError([too_big], sources)
    try:
        tree = _lark().parse(source)
    except UnexpectedInput as exc:
        raise SnncError([_syntax_diagnostic(exc, path, source)], sources) from None
    try:
        networks, trains = _ToAst(path).transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, SnncError):
            raise SnncError(exc.orig_exc.diagnostics, sources) from None
        raise
    bag = DiagnosticBag()
    networks = _attach_train_blocks(networks, trains, bag)
    _check_unique_networks(networks, bag)
    bag.raise_if_errors(sources)
    return ast.Module(path=path, source=source, networks=tuple(networks))


def _describe_terminal(name: str) -> str:
    if name in _TERMINAL_WORDS:
        return _TERMINAL_WORDS[name]
    try:
        pattern = _lark().get_terminal(name).pattern
    except KeyError:
        return name.lower()
    return f"'{pattern.value}'"


def _expected(names) -> str:
    words = sorted({_describe_terminal(n) for n in names})
    if len(words) == 1:
        return words[0]
    return "one of " + ", ".join(words)


def _end_of(source: str, path: str) -> Span:
    """Where the last non-blank line of `source` ends: the place to point at for 'unexpected end'."""
    lines = source.rstrip().splitlines() or [""]
    return Span(path, len(lines), len(lines[-1]) + 1, len(lines), len(lines[-1]) + 2)


def _syntax_diagnostic(exc: UnexpectedInput, path: str, source: str):
    if isinstance(exc, UnexpectedEOF):
        return error("E001", f"unexpected end of file; expected {_expected(exc.expected)}",
                     _end_of(source, path))
    if isinstance(exc, UnexpectedToken):
        token = exc.token
        expected = exc.expected
        if exc.interactive_parser is not None:
            expected = exc.interactive_parser.accepts() or expected
        if token.type == "$END":
            return error("E001", f"unexpected end of file; expected {_expected(expected)}",
                         _end_of(source, path))
        span = Span(path, token.line, token.column, token.end_line, token.end_column)
        return error("E001", f"unexpected '{token}'; expected {_expected(expected)}", span)
    if isinstance(exc, UnexpectedCharacters):
        char = exc.char if exc.char.isprintable() else repr(exc.char)
        span = Span(path, exc.line, exc.column, exc.line, exc.column + 1)
        allowed = exc.allowed or set()
        return error("E001", f"unexpected character '{char}'; expected {_expected(allowed)}", span)
    return error("E001", str(exc), Span(path, getattr(exc, "line", 1), getattr(exc, "column", 1)))


def _span(path: str, meta_or_token) -> Span:
    return Span(path, meta_or_token.line, meta_or_token.column,
                meta_or_token.end_line, meta_or_token.end_column)


@v_args(meta=True)
class _ToAst(Transformer_NonRecursive):
    """Parse tree -> ast dataclasses; one method per grammar rule that survives tree shaping.
    Non-recursive: an expression's depth is bounded by `limits`, not by Python's stack."""

    def __init__(self, path: str):
        super().__init__()
        self.path = path

    def _s(self, item) -> Span:
        return _span(self.path, item)

    def start(self, meta, items):
        networks = [i for i in items if isinstance(i, ast.Network)]
        trains = [i for i in items if isinstance(i, tuple)]
        return networks, trains

    def network(self, meta, items):
        name, *statements = items
        return ast.Network(str(name), tuple(statements), self._s(meta), self._s(name))

    def train_block(self, meta, items):
        name, *entries = items
        block = ast.TrainBlock(str(name) if name is not None else None, tuple(entries), self._s(meta))
        return (meta.line, block)

    def train_entry(self, meta, items):
        key, value = items
        return ast.TrainEntry(str(key), value, self._s(meta), self._s(key))

    def timestep(self, meta, items):
        return ast.Timestep(items[0], self._s(meta))

    def duration(self, meta, items):
        return ast.Duration(items[0], self._s(meta))

    def param(self, meta, items):
        name, value = items
        return ast.Param(str(name), value, self._s(meta), self._s(name))

    def neuron_def(self, meta, items):
        name, model = items
        return ast.NeuronDef(str(name), model, self._s(meta), self._s(name))

    def input_decl(self, meta, items):
        name, shape, encoder = items
        return ast.InputDecl(str(name), shape, encoder, self._s(meta), self._s(name))

    def pop_decl(self, meta, items):
        name, shape, model = items
        return ast.PopDecl(str(name), shape, model, self._s(meta), self._s(name))

    def proj_decl(self, meta, items):
        source, target, connectivity, sign, delay = items
        return ast.ProjDecl(str(source), str(target), connectivity, sign or "signed", delay,
                            self._s(meta), self._s(source), self._s(target))

    def output_decl(self, meta, items):
        population, readout = items
        return ast.OutputDecl(str(population), readout, self._s(meta), self._s(population))

    def sign(self, meta, items):
        return str(items[0])

    def delay(self, meta, items):
        return items[0]

    def shape(self, meta, items):
        return tuple(items)

    def model(self, meta, items):
        name, *args = items
        arg_list = _flatten_args(args)
        return ast.Call(str(name), arg_list, self._s(meta), self._s(name))

    def call(self, meta, items):
        name, *args = items
        return ast.Call(str(name), _flatten_args(args) or (), self._s(meta), self._s(name))

    def keyword_arg(self, meta, items):
        name, value = items
        return ast.Arg(str(name), value, self._s(meta))

    def positional_arg(self, meta, items):
        return ast.Arg(None, items[0], self._s(meta))

    def string(self, meta, items):
        token = items[0]
        text, problem = unescape(str(token), self.path, token.line, token.column)
        if problem is not None:
            raise SnncError([problem])
        return ast.String(text, self._s(token))

    def quantity(self, meta, items):
        number, unit = items
        value = float(number)
        if not value <= LARGEST:
            raise SnncError([error("E003", f"number '{number}' is too large; {TOO_LARGE}", self._s(number))])
        return ast.Quantity(value, str(unit) if unit is not None else None, self._s(meta))

    def ref(self, meta, items):
        return ast.Ref(str(items[0]), self._s(meta))

    def _binop(op):  # noqa: N805 - a factory evaluated in the class body
        def method(self, meta, items):
            return ast.BinOp(op, items[0], items[1], self._s(meta))
        return method

    add, sub, mul, div = _binop("+"), _binop("-"), _binop("*"), _binop("/")

    def neg(self, meta, items):
        return ast.Neg(items[0], self._s(meta))

    def unary(self, meta, items):  # unary plus
        return items[0]


def _flatten_args(args) -> tuple | None:
    """`[_args]` arrives as nothing (no parentheses), [None] (empty parentheses) or the arguments."""
    if not args:
        return None
    return tuple(a for a in args if a is not None)


def _attach_train_blocks(networks, trains, bag: DiagnosticBag) -> list:
    """A `train` block belongs to the network it names, else to the nearest network above it."""
    by_name = {n.name: i for i, n in enumerate(networks)}
    result = list(networks)
    for line, block in trains:
        if block.network is not None:
            if block.network not in by_name:
                bag.add(error("E101", f"train block names unknown network '{block.network}'"
                              f"{did_you_mean(block.network, by_name)}", block.span))
                continue
            index = by_name[block.network]
        else:
            above = [i for i, n in enumerate(networks) if n.span.line < line]
            if not above:
                bag.add(error("E101", "train block comes before any network; name the network "
                              "it belongs to (`train NAME { ... }`)", block.span))
                continue
            index = above[-1]
        if result[index].train is not None:
            bag.add(error("E102", f"network '{result[index].name}' has two train blocks", block.span))
            continue
        result[index] = dataclasses.replace(result[index], train=block)
    return result


def _check_unique_networks(networks, bag: DiagnosticBag) -> None:
    seen: dict[str, ast.Network] = {}
    for network in networks:
        if network.name in seen:
            bag.add(error("E102", f"network '{network.name}' is defined twice", network.name_span))
        seen.setdefault(network.name, network)


