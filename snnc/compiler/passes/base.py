"""The pass framework: a pass is one job `IR -> IR`; a PassManager runs a tuple of them.

Passes report problems as diagnostics in the context, never by raising or printing. A pass that
is `tolerant` still runs after earlier errors (the checking passes, so that one run reports as
many independent mistakes as it can); the others need an error-free IR and are skipped."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from snnc.compiler.ir.graph import NetworkIR
from snnc.compiler.targets import Target
from snnc.diagnostics import DiagnosticBag


@dataclass
class PassContext:
    """What passes may read besides the IR, and where they report."""

    target: Target | None  # None for target-independent checking (the frontend's passes)
    diagnostics: DiagnosticBag = field(default_factory=DiagnosticBag)
    seed: int = 0
    base_dir: Path = Path(".")  # paths in the program (from_file) are relative to this
    timings: dict[str, float] = field(default_factory=dict)


class Pass:
    """Base of all passes: subclasses set `name` and implement `apply`."""

    name: ClassVar[str]
    tolerant: ClassVar[bool] = False

    def apply(self, ir: NetworkIR, ctx: PassContext) -> NetworkIR:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<pass {self.name}>"


class InternalError(Exception):
    """A pass broke an IR invariant: a bug in snnc, not in the user's program."""


@dataclass(frozen=True)
class PassManager:
    """Runs passes in order; after each, verifies the IR and calls `after_pass` (for --dump-ir-after)."""

    passes: tuple[Pass, ...]
    after_pass: Callable[[Pass, NetworkIR], None] | None = None

    def run(self, ir: NetworkIR, ctx: PassContext) -> NetworkIR:
        for p in self.passes:
            if ctx.diagnostics.has_errors and not p.tolerant:
                break
            start = time.perf_counter()
            ir = p.apply(ir, ctx)
            ctx.timings[p.name] = time.perf_counter() - start
            if not ctx.diagnostics.has_errors:
                problems = ir.verify()
                if problems:
                    raise InternalError(f"IR invalid after pass '{p.name}': " + "; ".join(problems))
            if self.after_pass is not None:
                self.after_pass(p, ir)
        return ir

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.passes]
