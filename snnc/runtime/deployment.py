"""What train and run take as a program (a CompiledProgram, a program directory, a .snn source) and how a
compiled program moves to another target or chip count without retraining (`deploy`)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from snnc import defaults
from snnc.compiler.backend.artifact import CompiledProgram, load_program
from snnc.compiler.driver import CompileResult, compile_program, read_source, run_pipeline
from snnc.compiler.families import load_target
from snnc.compiler.ir.graph import NetworkIR
from snnc.compiler.ir.synapses import is_sparse, same_synapses
from snnc.compiler.targets import Target
from snnc.diagnostics import SnncError, error

Program = CompiledProgram | str | Path  # a compiled program, its directory, or a .snn source


def deploy(program: CompiledProgram, target: str | Target, chips: int | None = None,
           converted: Path | None = None) -> CompiledProgram:
    """The trained `program` compiled for `target` (over `chips` chips) without retraining: its source goes
    through the target's pipeline with the trained weights in place of the initial ones (then legalized,
    placed, routed). A source that is not a .snn program (a .nir file) is compiled from `converted`, the
    .snn it converts to (snnc.interop.nir_source.retarget_nir); the deployed program keeps its record."""
    source = unchanged_source(program)
    if "nir" in program.source and converted is None:
        raise SnncError([error("E460", f"cannot deploy '{program.name}' to another target here: its source "
                               f"'{source}' is a NIR graph (deploy it with snnc.run or snnc.train)")])
    trained = {key: attrs["weights"] for key, attrs in program.ir.edge_attrs_by_name().items()}

    def inject(p, ir: NetworkIR) -> None:  # after each pass (compile_program): p.name names it
        if p.name == "initialize_weights":  # (a sparse projection's synapses are drawn from the seed alone)
            for _, _, key, attrs in ir.edges():
                if not same_synapses(attrs["weights"], trained[key]):
                    raise SnncError([error("E460", f"cannot deploy '{program.name}' to another target: projection "
                                           f"'{key}' has other synapses than when it was trained")])
                attrs["weights"] = np.array(trained[key]) if not is_sparse(trained[key]) else trained[key]

    deployed = compile_program(converted or source, target=target, network=program.name, seed=program.seed,
                               chips=chips, after_pass=inject)
    deployed.source = dict(program.source)
    deployed.ir.graph.graph["training"] = dict(program.ir.graph.graph.get("training", {}),
                                               deployed_from=program.target.name)
    return deployed


def unchanged_source(program: CompiledProgram) -> Path:
    """The source file `program` was compiled from; SnncError (E460) if it is not readable or changed since."""
    source = Path(program.source.get("path", ""))
    try:
        digest = hashlib.sha256(source.read_bytes()).hexdigest()
    except OSError:
        raise SnncError([error("E460", f"cannot deploy '{program.name}' to another target: its source "
                               f"'{source}' is not readable from here")]) from None
    if digest != program.source.get("sha256"):
        raise SnncError([error("E460", f"cannot deploy '{program.name}' to another target: its source "
                               f"'{source}' changed since it was compiled")])
    return source


def deployment_target(program: CompiledProgram, target: str | Target | None, chips: int | None) -> Target | None:
    """The target (a name, a path or a Target) over `chips` chips that `program` must be deployed onto, or
    None when it was compiled for them."""
    wanted = load_target(target if target is not None else program.target, chips)
    if wanted.name == program.target.name and (chips is None or chips == program.target.chips):
        return None
    return wanted


def retarget(program: CompiledProgram, target: str | Target | None, chips: int | None) -> CompiledProgram:
    """`program` as it is, or deployed onto `target` (a name, a path or a Target) and/or over `chips` chips
    when either differs from what it was compiled for."""
    wanted = deployment_target(program, target, chips)
    return program if wanted is None else deploy(program, wanted, chips)


def is_source(program: Program) -> bool:
    """Whether `program` names a program source (a file) rather than a compiled program or directory."""
    return isinstance(program, (str, Path)) and Path(program).is_file()


def check_source(path: str | Path, network: str | None) -> CompileResult:
    """The checked frontend result of a .snn source (its train block gives training's defaults)."""
    [checked] = run_pipeline(read_source(path), target=None, network=network)
    return checked


def program_to_run(program: Program, target: str | Target | None, chips: int | None,
                   network: str | None = None) -> CompiledProgram:
    """The CompiledProgram that `snnc run` runs: compiled from a source for `target` (default reference),
    or a compiled program (or its directory) deployed onto `target` / `chips` when they differ."""
    if is_source(program):
        return compile_program(program, target=target or defaults.TARGET, network=network, chips=chips)
    if not isinstance(program, CompiledProgram):
        program = load_program(program)
    return retarget(program, target, chips)
