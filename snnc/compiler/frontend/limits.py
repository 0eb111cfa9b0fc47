"""Limits of the language, checked on the raw text before Lark parses it.

One linear scan finds what would make parsing or evaluation slow or deep: a source too large, brackets
nested too deep, an expression with too many operators, a name or number too long, a string too long.
The parser itself is LALR (no recursion) and the tree is transformed and evaluated without recursion,
so these bounds also bound every later walk over an expression. Documented in docs/language.md."""

from __future__ import annotations

import re
from dataclasses import dataclass

from snnc.compiler.ir.units import UNITS
from snnc.diagnostics import Diagnostic, Span, error

MAX_SOURCE_BYTES = 1 << 20  # 1 MiB of UTF-8: parses in about 2 s (docs/language.md says how measured)
MAX_NESTING = 64  # brackets (), [], {} open at once
MAX_OPERATORS = 256  # + - * / in one expression, those inside its brackets included
MAX_TOKEN_LENGTH = 128  # characters of a name or a number
MAX_STRING_LENGTH = 4096  # characters between the quotes (PATH_MAX on Linux)

_TOKEN = re.compile(r"""
    (?P<newline>\n)
  | (?P<space>[ \t\r\f]+)
  | (?P<comment>(?:\#|//)[^\n]*)
  | (?P<string>"(?:[^"\\\n]|\\.)*"?)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<number>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<delimiter>->|[,=:])
  | (?P<operator>[-+*/])
  | (?P<open>[(\[{])
  | (?P<close>[)\]}])
  | (?P<other>.)
""", re.VERBOSE | re.DOTALL)

# After one of these, a word, number or string starts a new expression (`pop y[3] : linear  proj ...`).
_ENDS_OPERAND = {"word", "number", "string", "close"}


@dataclass
class _Frame:
    """One open bracket (or the file itself): the operators of its current expression, and the most of
    any expression it held before (the arguments of a call stand side by side, not inside each other)."""

    operators: int = 0
    widest: int = 0

    def end_expression(self) -> int:
        """Close the current expression; returns how many operators that takes off the running count."""
        ended, self.operators = self.operators, 0
        self.widest = max(self.widest, ended)
        return ended


def _too_many_operators(span: Span) -> Diagnostic:
    return error("E002", f"expression with more than {MAX_OPERATORS} operators; split it into `param`s", span)


def source_size_error(source: str | bytes, path: str) -> Diagnostic | None:
    """A source over MAX_SOURCE_BYTES, pointed at the line and column where the limit is crossed."""
    data = source.encode("utf-8", errors="replace") if isinstance(source, str) else source
    if len(data) <= MAX_SOURCE_BYTES:
        return None
    head = data[:MAX_SOURCE_BYTES].decode("utf-8", errors="ignore")
    line = head.count("\n") + 1
    column = len(head) - (head.rfind("\n") + 1) + 1
    return error("E006", f"the source is larger than {MAX_SOURCE_BYTES:,} bytes (the most snnc reads); "
                 "split it into several files", Span(path, line, column))


def scan_limits(source: str, path: str) -> Diagnostic | None:
    """The first limit `source` breaks, or None. Runs before parsing, in time linear in the size."""
    if len(source) > MAX_SOURCE_BYTES // 4:  # (a UTF-8 character has at most 4 bytes)
        size = source_size_error(source, path)
        if size is not None:
            return size
    frames = [_Frame()]
    operators, line, line_start, previous_kind = 0, 1, 0, ""
    for match in _TOKEN.finditer(source):
        kind, text = match.lastgroup, match.group()
        column = match.start() - line_start + 1
        span = Span(path, line, column, line, column + len(text))
        if kind == "newline":
            line, line_start = line + 1, match.end()
            continue
        if kind in ("space", "comment"):
            continue
        if kind in ("word", "number") and len(text) > MAX_TOKEN_LENGTH:
            return error("E006", f"{'name' if kind == 'word' else 'number'} of {len(text):,} characters; "
                         f"at most {MAX_TOKEN_LENGTH} are allowed", Span(path, line, column))
        if kind == "string" and len(text) - 2 > MAX_STRING_LENGTH:
            return error("E006", f"string of {len(text) - 2:,} characters; at most {MAX_STRING_LENGTH:,} "
                         "are allowed", Span(path, line, column))
        unit = kind == "word" and previous_kind == "number" and text in UNITS
        if kind == "delimiter" or (kind in ("word", "number", "string") and previous_kind in _ENDS_OPERAND
                                   and not unit):
            operators -= frames[-1].end_expression()
        elif kind == "operator":
            frames[-1].operators += 1
            operators += 1
            if operators > MAX_OPERATORS:
                return _too_many_operators(span)
        elif kind == "open":
            frames.append(_Frame())
            if len(frames) - 1 > MAX_NESTING:
                return error("E002", f"brackets nested more than {MAX_NESTING} deep", span)
        elif kind == "close" and len(frames) > 1:
            inner = frames.pop()
            operators -= inner.end_expression()
            frames[-1].operators += inner.widest  # a bracket's operators belong to the expression around it
            operators += inner.widest
            if operators > MAX_OPERATORS:
                return _too_many_operators(span)
        previous_kind = kind
    return None
