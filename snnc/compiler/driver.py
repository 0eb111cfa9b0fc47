"""The compiler driver: source file -> parsed network -> pass pipeline -> CompiledProgram (compile_program)."""

from __future__ import annotations

import hashlib
import numbers
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from snnc import defaults
from snnc.compiler.backend.artifact import CompiledProgram, diagnostics_to_dicts
from snnc.compiler.families import FRONTEND, all_pass_names, check_chips, load_target
from snnc.compiler.frontend import ast
from snnc.compiler.frontend.limits import MAX_SOURCE_BYTES, source_size_error
from snnc.compiler.frontend.lower import lower
from snnc.compiler.frontend.parser import parse
from snnc.compiler.ir.graph import NetworkIR
from snnc.compiler.pages import without_huge_pages
from snnc.compiler.passes.base import Pass, PassContext, PassManager
from snnc.compiler.targets import Target
from snnc.diagnostics import Diagnostic, DiagnosticBag, SnncError, Span, UsageError, did_you_mean, error


@dataclass
class Source:
    """A program's text and the name diagnostics use for it."""

    path: str
    text: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    @property
    def base_dir(self) -> Path:
        return Path(self.path).parent


@dataclass
class CompileResult:
    """The IR after the pipeline, the warnings on the way, and how long each pass took."""

    ir: NetworkIR
    target: Target | None
    source: Source
    seed: int
    diagnostics: list[Diagnostic] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


def read_source(path: str | Path) -> Source:
    """Read a `.snn` file; SnncError if it is missing or not UTF-8 text."""
    path = Path(path)
    try:
        with path.open("rb") as file:
            data = file.read(MAX_SOURCE_BYTES + 1)  # never more: a huge file is refused unread
        too_big = source_size_error(data, str(path))
        if too_big is not None:
            raise SnncError([too_big])
        return Source(str(path), data.decode("utf-8"))
    except FileNotFoundError:
        raise SnncError([error("E004", f"file '{path}' does not exist")]) from None
    except IsADirectoryError:
        raise SnncError([error("E004", f"'{path}' is a directory, not a .snn file")]) from None
    except UnicodeDecodeError as exc:
        raise SnncError([error("E004", f"file '{path}' is not UTF-8 text (byte {exc.start})")]) from None
    except OSError as exc:
        raise SnncError([error("E004", f"cannot read '{path}': {exc.strerror}")]) from None


def select_network(module: ast.Module, name: str | None) -> ast.Network:
    names = [n.name for n in module.networks]
    if name is not None:
        for network in module.networks:
            if network.name == name:
                return network
        raise SnncError([error("E103", f"no network '{name}' in '{module.path}'{did_you_mean(name, names)}"
                               f"; it has: {', '.join(names) or 'none'}")])
    if len(module.networks) == 1:
        return module.networks[0]
    if not module.networks:
        raise SnncError([error("E103", "the file defines no network", Span(module.path, 1, 1))],
                        {module.path: module.source})
    raise SnncError([error("E103", f"'{module.path}' defines {len(names)} networks ({', '.join(names)}); "
                           "choose one with --network NAME")])


def check_dump_pass(name: str | None) -> None:
    """Fail early, as a usage error, on a --dump-ir-after name no pipeline has."""
    if name is not None and name not in all_pass_names():
        raise ValueError(f"no pass named '{name}'{did_you_mean(name, all_pass_names())}; "
                         f"passes: {', '.join(all_pass_names())}")


def run_pipeline(source: Source, *, target: str | Target | None, network: str | None = None,
                 seed: int = defaults.SEED, after_pass: Callable[[Pass, NetworkIR], None] | None = None,
                 all_networks: bool = False, chips: int | None = None) -> list[CompileResult]:
    """Parse, lower and run the frontend (target None) or the target's whole pipeline, for the chosen
    network (or, with `all_networks` and no name, for each network of the file); `chips` spreads a
    multi-chip target over that many chips. Raises SnncError with every diagnostic of every network if
    any is an error, UsageError on a bad `chips`."""
    check_chips(chips)  # a usage error comes before any in the files
    sources = {source.path: source.text}
    try:
        module = parse(source.text, source.path)
        if all_networks and network is None and module.networks:
            chosen = list(module.networks)
        else:
            chosen = [select_network(module, network)]
        loaded = None if target is None else load_target(target, chips)
    except SnncError as exc:
        raise SnncError(exc.diagnostics, {**sources, **exc.sources}) from None
    bag = DiagnosticBag()
    results = []
    for one in chosen:
        network_bag = DiagnosticBag()
        ir = lower(one, network_bag)
        passes = FRONTEND if loaded is None else loaded.family.passes
        results.append(_run_passes(passes, ir, network_bag, source, loaded, seed, after_pass))
        bag.extend(network_bag.items)
    bag.raise_if_errors(sources)
    return results


def _run_passes(passes: tuple[Pass, ...], ir: NetworkIR, bag: DiagnosticBag, source: Source, target: Target | None,
                seed: int, after_pass: Callable[[Pass, NetworkIR], None] | None) -> CompileResult:
    ctx = PassContext(target=target, diagnostics=bag, seed=seed, base_dir=source.base_dir)
    with without_huge_pages():  # (many short-lived large arrays: snnc/compiler/pages.py)
        ir = PassManager(passes, after_pass).run(ir, ctx)
    return CompileResult(ir=ir, target=target, source=source, seed=seed, diagnostics=bag.sorted(),
                         timings=ctx.timings)


def check_seed(seed: int) -> None:
    """UsageError unless `seed` is an integer >= 0 (the generators take no negative seed)."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise UsageError(f"seed must be an integer >= 0, got {seed!r}")


def compile_program(source: str | Path | Source | CompileResult, *, target: str | Path | Target = defaults.TARGET,
                    network: str | None = None, seed: int = defaults.SEED, chips: int | None = None,
                    after_pass: Callable[[Pass, NetworkIR], None] | None = None) -> CompiledProgram:
    """Compile one network (the named one, or the file's only one) for `target`, over `chips` chips of a
    multi-chip target (default: the target's own count). `source` is a path, a Source, or the result
    of run_pipeline(target=None), whose checked IR (consumed) then goes through the target's passes
    after the frontend's: what `snnc train` does, which reads the train block before it compiles."""
    check_chips(chips)
    check_seed(seed)
    if not isinstance(source, CompileResult):
        source = source if isinstance(source, Source) else read_source(source)
        [result] = run_pipeline(source, target=target, network=network, seed=seed, after_pass=after_pass,
                                chips=chips)
    else:
        result = _continue(source, target, seed, after_pass, chips)
    return CompiledProgram(ir=result.ir, target=result.target, seed=seed,
                           source={"path": result.source.path, "sha256": result.source.sha256},
                           diagnostics=diagnostics_to_dicts(result.diagnostics))


def _continue(checked: CompileResult, target: str | Path | Target, seed: int,
              after_pass: Callable[[Pass, NetworkIR], None] | None, chips: int | None) -> CompileResult:
    """A frontend result through the rest of `target`'s pipeline."""
    if checked.target is not None:
        raise ValueError("compile_program continues a frontend result (run_pipeline with target=None)")
    source = checked.source
    try:
        loaded = load_target(target, chips)
    except SnncError as exc:
        raise SnncError(exc.diagnostics, {source.path: source.text, **exc.sources}) from None
    passes = loaded.family.passes
    if passes[:len(FRONTEND)] != FRONTEND:  # pragma: no cover - every family's pipeline starts with the frontend
        raise ValueError(f"family '{loaded.family.name}' does not start with the frontend's passes")
    bag = DiagnosticBag(list(checked.diagnostics))
    result = _run_passes(passes[len(FRONTEND):], checked.ir, bag, source, loaded, seed, after_pass)
    bag.raise_if_errors({source.path: source.text})
    return result
