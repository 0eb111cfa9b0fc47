"""Diagnostics: values that describe a problem in the user's program, rendered like a compiler."""

from __future__ import annotations

import difflib
import enum
import functools
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class Span:
    """A region of a source file: 1-based line and column, end column exclusive."""

    file: str
    line: int
    column: int
    end_line: int = 0
    end_column: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class Severity(enum.IntEnum):
    NOTE = 0
    WARNING = 1
    ERROR = 2

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Note:
    """A secondary message attached to a diagnostic, optionally pointing elsewhere."""

    message: str
    span: Span | None = None


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in a program: what, where, how bad, and a stable code for tests and tools."""

    severity: Severity
    code: str
    message: str
    span: Span | None = None
    notes: tuple[Note, ...] = ()

    def sort_key(self) -> tuple:
        span = self.span or Span("", 0, 0)
        return (span.file, span.line, span.column, -int(self.severity), self.message)

    def render(self, sources: Mapping[str, str] | None = None) -> str:
        """`file:line:col: error[E123]: message`, the source line, carets under the span, then notes."""
        where = f"{self.span}: " if self.span else ""
        code = f"[{self.code}]" if self.code else ""
        lines = [f"{where}{self.severity}{code}: {self.message}"]
        lines += _excerpt(self.span, sources)
        for note in self.notes:
            note_where = f"{note.span}: " if note.span else ""
            lines.append(f"{note_where}note: {note.message}")
            lines += _excerpt(note.span, sources)
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {
            "severity": str(self.severity),
            "code": self.code,
            "message": self.message,
            "file": self.span.file if self.span else None,
            "line": self.span.line if self.span else None,
            "column": self.span.column if self.span else None,
            "notes": [n.message for n in self.notes],
        }


def _excerpt(span: Span | None, sources: Mapping[str, str] | None) -> list[str]:
    if span is None or sources is None or span.file not in sources or span.line < 1:
        return []
    text_lines = _lines(sources[span.file])
    if span.line > len(text_lines):
        return []
    line = text_lines[span.line - 1].expandtabs(1)
    start = max(span.column, 1)
    if span.end_line == span.line and span.end_column > span.column:
        width = span.end_column - span.column
    else:
        width = 1
    return ["    " + line.rstrip(), "    " + " " * (start - 1) + "^" * width]


@functools.lru_cache(maxsize=4)
def _lines(text: str) -> list[str]:
    """A source split once per text, not once per diagnostic (50,000 warnings on a 1 MB file); at "\n"
    only, as the parser counts lines (str.splitlines also splits at form feeds and U+2028)."""
    return text.split("\n")


def error(code: str, message: str, span: Span | None = None, *notes: Note) -> Diagnostic:
    return Diagnostic(Severity.ERROR, code, message, span, tuple(notes))


def warning(code: str, message: str, span: Span | None = None, *notes: Note) -> Diagnostic:
    return Diagnostic(Severity.WARNING, code, message, span, tuple(notes))


# Suggestions are searched among at most this many names: the work is errors x names, and a generated
# program with 20,000 unknown names among 20,000 known ones took minutes (docs/language.md).
MAX_SUGGESTION_CANDIDATES = 64


def did_you_mean(name: str, candidates: Collection[str]) -> str:
    """' (did you mean 'x'?)' when a close candidate exists, else ''."""
    if len(candidates) > MAX_SUGGESTION_CANDIDATES:
        return ""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


@dataclass
class DiagnosticBag:
    """Collects the diagnostics of one run; passes add to it instead of raising or printing."""

    items: list[Diagnostic] = field(default_factory=list)

    def add(self, diagnostic: Diagnostic) -> None:
        self.items.append(diagnostic)

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.items.extend(diagnostics)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity is Severity.ERROR]

    @property
    def has_errors(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self.items)

    def sorted(self) -> list[Diagnostic]:
        return sorted(self.items, key=Diagnostic.sort_key)

    def raise_if_errors(self, sources: Mapping[str, str] | None = None) -> None:
        if self.has_errors:
            raise SnncError(self.sorted(), sources)


FOLD_AFTER = 5  # diagnostics of one code at one place rendered in full; the rest counted


class SnncError(Exception):
    """The one error type for bad input: carries every diagnostic of the run (errors and warnings)."""

    def __init__(self, diagnostics: Iterable[Diagnostic], sources: Mapping[str, str] | None = None):
        self.diagnostics = sorted(diagnostics, key=Diagnostic.sort_key)
        self.sources = dict(sources or {})
        super().__init__(self.render())

    @classmethod
    def single(cls, code: str, message: str, span: Span | None = None,
               sources: Mapping[str, str] | None = None) -> SnncError:
        return cls([error(code, message, span)], sources)

    def render(self) -> str:
        """Every diagnostic, except that past FOLD_AFTER of one code at one place (a network too big for
        thousands of buses) the rest are counted in one line; `diagnostics` (and `--json`) keep them all."""
        shown, folded = [], {}
        for d in self.diagnostics:
            key = (d.code, d.span, d.severity)
            folded[key] = folded.get(key, 0) + 1
            if folded[key] <= FOLD_AFTER or d.span is None:  # a file's own problems (a target's keys) all show
                shown.append(d.render(self.sources))
        for (code, span, severity), count in folded.items():
            if count > FOLD_AFTER and span is not None:
                shown.append(f"{span}: note: {count - FOLD_AFTER:,} more {severity}[{code}] like these here "
                             "(--json lists every one)")
        body = "\n".join(shown)
        count = sum(d.severity is Severity.ERROR for d in self.diagnostics)
        if count > 1:
            body += f"\n{count} errors"
        return body


class UsageError(ValueError):
    """A wrong argument of a call, not a problem in the user's files: a flag value out of range
    (`--chips 0`). The command line reports it as a usage error (exit code 2)."""
