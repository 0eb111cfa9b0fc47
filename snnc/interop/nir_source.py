""".nir files where a .snn program is expected: snnc.compile, snnc.train and snnc.run (and so the CLI's
compile, train and run) convert them in a temporary directory first. A program compiled or trained this way
names the .nir file as its source (with its sha256 and the import options), so `snnc run --target` can
redeploy it (`retarget_nir`: converted again, as the runtime's deploy reads .snn sources only); the number
of time steps follows spike data (N, T, C) when one is given and --steps is not."""

from __future__ import annotations

import hashlib
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from snnc.interop.options import ImportOptions


def is_nir(path) -> bool:
    """Whether `path` names a .nir file (anything else, a CompiledProgram included, is not one)."""
    return isinstance(path, (str, Path)) and Path(path).suffix.lower() == ".nir"


def steps_of_data(data) -> int | None:
    """T of spike data (N, T, C) in an .npz file or as (x, y) arrays in memory, else None."""
    if isinstance(data, (tuple, list)) and len(data) == 2:
        shape = tuple(getattr(data[0], "shape", ()))
        return int(shape[1]) if len(shape) == 3 else None
    if not isinstance(data, (str, Path)) or Path(data).suffix != ".npz" or not Path(data).is_file():
        return None
    try:
        with np.load(data, allow_pickle=False) as archive:
            key = "x" if "x" in archive.files else "x_test" if "x_test" in archive.files else None
            shape = archive[key].shape if key else ()
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        return None  # the data loader reports it properly
    return int(shape[1]) if len(shape) == 3 else None


@contextmanager
def as_snn(path: str | Path, options: ImportOptions | None = None, data=None) -> Iterator[tuple]:
    """(the .snn program to use for `path`, the import's warnings): a .nir file converted in a temporary
    directory that lives as long as the context."""
    from snnc.interop.nir_import import import_nir

    with tempfile.TemporaryDirectory(prefix="snnc-nir-") as folder:
        out = Path(folder) / f"{Path(path).stem}.snn"
        imported = import_nir(path, out, _options(options, data))
        yield out, imported.diagnostics


def _options(options: ImportOptions | None, data) -> ImportOptions:
    """The options a .nir file is read with: as given, the steps of spike `data` when they give none."""
    options = options or ImportOptions()
    if options.steps is None and steps_of_data(data) is not None:
        options = replace(options, steps=steps_of_data(data))
    return options


def _source(path: str | Path, options: ImportOptions) -> dict:
    """A program's record of the .nir file it comes from and how it was read (to read it again the same)."""
    return {"path": str(path), "sha256": hashlib.sha256(Path(path).read_bytes()).hexdigest(), "nir": asdict(options)}


def compile_nir(path: str | Path, *, nir: ImportOptions | None = None, out: str | Path | None = None,
                data=None, **options):
    """snnc.compile for a .nir file (options as snnc.compile's)."""
    from snnc.compiler.backend.artifact import diagnostics_to_dicts, save_program
    from snnc.compiler.driver import compile_program

    with as_snn(path, nir, data) as (snn, warnings):
        program = compile_program(snn, **options)
    program.source = _source(path, _options(nir, data))
    program.diagnostics = diagnostics_to_dicts(warnings) + program.diagnostics
    if out is not None:
        save_program(program, out)
    return program


def train_nir(path: str | Path, *, nir: ImportOptions | None = None, **options):
    """snnc.train for a .nir file (options as snnc.train's): compiled as training compiles a .snn source (for
    `target`, default reference, over `chips`, weights drawn with `seed`), so that the trained program names
    the .nir file as its source, not the converted .snn; saved to a temporary directory that training loads
    (a directory, unlike a CompiledProgram, goes to the processes of `workers=N`)."""
    from snnc import defaults
    from snnc.runtime.training import train

    seed = options.get("seed")
    with tempfile.TemporaryDirectory(prefix="snnc-nir-") as folder:
        compile_nir(path, nir=nir, data=options.get("data"), out=Path(folder) / "program",
                    target=options.get("target") or defaults.TARGET, chips=options.get("chips"),
                    network=options.get("network"), seed=defaults.SEED if seed is None else seed)
        return train(Path(folder) / "program", **options)


def retarget_nir(program, target: str | None, chips: int | None):
    """`program` (a CompiledProgram or a program directory) compiled from a .nir file, deployed onto `target`
    / over `chips` when either differs: its .nir file read again as it was. Anything else is returned as
    given (the runtime deploys a program compiled from a .snn file itself)."""
    from snnc.compiler.backend.artifact import CompiledProgram, load_program
    from snnc.runtime.deployment import deploy, deployment_target, unchanged_source

    if isinstance(program, (str, Path)) and (Path(program) / "program.json").is_file():
        loaded = load_program(program)
    elif isinstance(program, CompiledProgram):
        loaded = program
    else:
        return program
    if "nir" not in loaded.source:
        return program
    wanted = deployment_target(loaded, target, chips)
    if wanted is None:
        return loaded
    with as_snn(unchanged_source(loaded), ImportOptions(**loaded.source["nir"])) as (snn, _):
        return deploy(loaded, wanted, chips, converted=snn)


def run_nir(path: str | Path, *, nir: ImportOptions | None = None, target: str | None = None,
            chips: int | None = None, data=None, network: str | None = None, **options):
    """snnc.run for a .nir file: compiled for `target` (default reference), then run (options as snnc.run's)."""
    from snnc import defaults
    from snnc.runtime.inference import run

    program = compile_nir(path, nir=nir, target=target or defaults.TARGET, chips=chips, data=data)
    return run(program, data=data, **options)
