"""The Python face of the CLI: every command is a function that returns objects and prints nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from snnc import defaults
from snnc.compiler.backend.artifact import CompiledProgram, load_program, save_program
from snnc.compiler.driver import CompileResult, Source, compile_program, read_source, run_pipeline
from snnc.compiler.families import load_target
from snnc.compiler.ir.graph import NetworkIR
from snnc.compiler.passes.base import Pass
from snnc.compiler.targets import Target, builtin_targets
from snnc.interop.nir_source import compile_nir, is_nir, run_nir, train_nir
from snnc.interop.options import ImportOptions


def _source(path: str | Path, text: str | None) -> Source:
    return Source(str(path), text) if text is not None else read_source(path)


def check(path: str | Path, *, text: str | None = None, network: str | None = None,
          target: str | Target | None = None,
          after_pass: Callable[[Pass, NetworkIR], None] | None = None,
          chips: int | None = None) -> list[CompileResult]:
    """Parse and validate a program (and, with `target`, run that target's whole pipeline, over `chips`
    chips of a multi-chip target): the named network, or every network of the file. Returns one result
    (IR and warnings) per network; raises SnncError listing every error."""
    return run_pipeline(_source(path, text), target=target, network=network, after_pass=after_pass,
                        all_networks=True, chips=chips)


def compile(path: str | Path, *, target: str | Target = defaults.TARGET, out: str | Path | None = None,  # noqa: A001
            network: str | None = None, seed: int = defaults.SEED, text: str | None = None,
            after_pass: Callable[[Pass, NetworkIR], None] | None = None,
            chips: int | None = None, nir: ImportOptions | None = None) -> CompiledProgram:
    """Compile a program for a target; with `out`, also write the program directory atomically.
    `chips` spreads a multi-chip target (bss2) over that many chips (default: the target's own count).
    A .nir file is imported first, as `nir` says (snnc.interop.options.ImportOptions)."""
    if text is None and is_nir(path):
        program = compile_nir(path, nir=nir, target=target, network=network, seed=seed, after_pass=after_pass,
                              chips=chips)
    else:
        program = compile_program(path if text is None else Source(str(path), text), target=target, network=network,
                                  seed=seed, chips=chips, after_pass=after_pass)
    if out is not None:
        save_program(program, out)
    return program


def load(directory: str | Path) -> CompiledProgram:
    """Load a compiled program directory."""
    return load_program(directory)


def targets() -> list[Target]:
    """Every shipped target, loaded and validated."""
    return [load_target(name) for name in builtin_targets()]


def train(path: str | Path, **options):
    """Train a program in the loop on a target's emulator (options as `snnc train`: target, out, data,
    epochs, batch, lr, seed, chip_seed, method, resume, ...; `nir` for a .nir file); returns a TrainResult.
    Imports torch."""
    from snnc.runtime.training import train as train_in_the_loop

    return train_nir(path, **options) if is_nir(path) else train_in_the_loop(path, **options)


def run(directory: str | Path, **options):
    """Inference of a compiled program on its target's emulator (options as `snnc run`: data, target,
    chip_seed, seed, split, samples); returns a RunResult. A .nir file is compiled for `target` (default
    reference) first, as `nir` says. Imports torch."""
    from snnc.runtime.inference import run as run_on_emulator

    return run_nir(directory, **options) if is_nir(directory) else run_on_emulator(directory, **options)
