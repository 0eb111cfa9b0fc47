"""The Python face of the CLI: every command is a function that returns objects and prints nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from snnc import defaults
from snnc.compiler.backend.artifact import CompiledProgram, load_program, save_program
from snnc.compiler.driver import CompileResult, Source, compile_program, read_source, run_pipeline
from snnc.compiler.families import load_target
from snnc.compiler.ir.graph import NetworkIR
from snnc.compiler.passes.base import Pass
from snnc.compiler.targets import Target, builtin_targets
from snnc.interop.nir_source import as_snn, compile_nir, is_nir, retarget_nir, run_nir, train_nir
from snnc.interop.options import ImportOptions


def _source(path: str | Path, text: str | None) -> Source:
    return Source(str(path), text) if text is not None else read_source(path)


def check(path: str | Path, *, text: str | None = None, network: str | None = None,
          target: str | Target | None = None,
          after_pass: Callable[[Pass, NetworkIR], None] | None = None,
          chips: int | None = None, seed: int = defaults.SEED, nir: ImportOptions | None = None) -> list[CompileResult]:
    """Parse and validate a program (and, with `target`, run that target's whole pipeline, over `chips`
    chips of a multi-chip target, weights drawn with `seed`): the named network, or every network of the
    file. A .nir file is imported first, as `nir` says. Returns one result (IR and warnings) per network;
    raises SnncError listing every error."""
    if text is None and is_nir(path):
        with as_snn(path, nir) as (snn, _):
            return check(snn, network=network, target=target, after_pass=after_pass, chips=chips, seed=seed)
    return run_pipeline(_source(path, text), target=target, network=network, after_pass=after_pass,
                        all_networks=True, chips=chips, seed=seed)


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
        program = compile_program(path if text is None else Source(str(path), text), target=target,
                                  network=network, seed=seed, chips=chips, after_pass=after_pass)
    if out is not None:
        save_program(program, out)
    return program


def load(directory: str | Path) -> CompiledProgram:
    """Load a compiled program directory."""
    return load_program(directory)


def targets() -> list[Target]:
    """Every shipped target, loaded and validated."""
    return [load_target(name) for name in builtin_targets()]


def train(program: CompiledProgram | str | Path, **options: Any):
    """Train a program in the loop on a target's emulator: a .snn or .nir file, a CompiledProgram or a
    program directory (options as `snnc train`: target, out, data, epochs, batch, lr, seed, chip_seed,
    chips, method, resume, force, workers, ...; `nir` for a .nir file). `data`: a name, a path, (x, y)
    arrays (numpy or torch) or a torch Dataset. Returns a TrainResult. Imports torch. `workers=N` spawns
    N - 1 processes: call it under `if __name__ == "__main__":`."""
    from snnc.runtime.training import train as train_in_the_loop

    if is_nir(program):
        return train_nir(program, **options)
    return train_in_the_loop(retarget_nir(program, options.get("target"), options.get("chips")), **options)


def run(program: CompiledProgram | str | Path, **options: Any):
    """Inference on a target's emulator of a CompiledProgram, a program directory, or a .snn / .nir file
    (compiled for `target`, default reference, as `nir` says) (options as `snnc run`: data, target, chips,
    chip_seed, seed, split, samples). `data`: a name, a path, (x, y) arrays or a torch Dataset. Returns a
    RunResult: accuracy, per-sample `predictions` and `scores`, and whether it reproduces the training's
    final test accuracy (`differences`). Imports torch."""
    from snnc.runtime.inference import run as run_on_emulator

    if is_nir(program):
        return run_nir(program, **options)
    return run_on_emulator(retarget_nir(program, options.get("target"), options.get("chips")), **options)


def to_torch(program: CompiledProgram | str | Path, *, twin: bool = False, **options: Any):
    """The program as a `torch.nn.Module` (snnc.runtime.torch_module.SnncModule): the reference dynamics
    of its network with its weights (or, with `twin`, its target's digital twin, which knows e.g. the
    bss2 weight quantization), differentiable through surrogate spikes; `state_dict` holds one
    `<projection>.weight` of shape (post, pre) per projection. It takes spike tensors (T, B, N) or the
    data the program's encoder expects. A path is loaded (a directory) or compiled (a .snn or .nir file,
    for the reference target unless `target=` says otherwise). Imports torch."""
    from snnc.runtime.torch_module import SnncModule

    if isinstance(program, (str, Path)):
        program = load_program(program) if Path(program).is_dir() else compile(program, **options)
    return SnncModule(program, twin=twin)
