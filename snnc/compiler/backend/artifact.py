"""The compiled program: a directory with program.json, weights.npz and the report. No pickle.

    program.json   {"format", "schema_version", "snnc_version", "target", "source", "seed",
                    "diagnostics", "ir"}; arrays in the IR are {"$array": key} references
    weights.npz    every array of the IR under its key (weights, masks, hardware weights)
    report.json / report.md (and whatever else the target's report adds)
    .snnc-output   the marker that lets a later run replace the directory (output_dir.py)
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from snnc.compiler.backend.arrays import ArchiveError, read_npz
from snnc.compiler.backend.output_dir import recover_interrupted_swap, write_directory_atomically
from snnc.compiler.backend.program_check import attribute_problems, corrupt, document_problems, read_document
from snnc.compiler.families import program_problems, restore_target, target_problems
from snnc.compiler.ir.graph import NetworkIR
from snnc.compiler.ir.validate import ir_problems, show
from snnc.compiler.pages import without_huge_pages
from snnc.compiler.targets import Target
from snnc.diagnostics import Diagnostic, SnncError, UsageError, error
from snnc.limits import memory_budget

FORMAT = "snnc-program"
SCHEMA_VERSION = 2  # 2: the target record names its `family` (was `pipeline`) and `chips`


@dataclass
class CompiledProgram:
    """An IR that went through a target's whole pipeline, with where it came from."""

    ir: NetworkIR
    target: Target
    seed: int
    source: dict[str, Any]  # {"path", "sha256"}, and "nir" (its import options) for a .nir file
    diagnostics: list[dict[str, Any]] = field(default_factory=list)
    path: Path | None = None  # the directory it was loaded from or written to

    @property
    def name(self) -> str:
        return self.ir.name


def emit(program: CompiledProgram, extra_files: dict[str, bytes] | None = None) -> dict[str, bytes]:
    """The files of a program directory, as bytes by file name (a pure function: nothing is written)."""
    from snnc.compiler.backend.report import render_report_files
    from snnc.version import __version__

    arrays: dict[str, np.ndarray] = {}
    ir_dict = program.ir.to_dict(arrays)
    document = {
        "format": FORMAT,
        "schema_version": SCHEMA_VERSION,
        "snnc_version": __version__,
        "target": program.target.to_dict(),
        "source": program.source,
        "seed": program.seed,
        "diagnostics": program.diagnostics,
        "ir": ir_dict,
    }
    buffer = io.BytesIO()
    write_npz(buffer, arrays)
    files = {
        "program.json": json.dumps(document, indent=1, allow_nan=False).encode("utf-8"),
        "weights.npz": buffer.getvalue(),
    }
    files.update(render_report_files(program, sorted(extra_files or {})))
    files.update(extra_files or {})
    return files


def write_npz(buffer: io.BytesIO, arrays: dict[str, np.ndarray]) -> None:
    """np.savez_compressed's archive at zlib's fastest level: a program of 10M synapses (weights.npz of
    ~80 MB) compresses in ~4 s instead of ~14 s (measured, 2 busy cores), ~10% larger; np.load reads both."""
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, array in arrays.items():
            with archive.open(name + ".npy", "w", force_zip64=True) as file:
                np.lib.format.write_array(file, np.asanyarray(array), allow_pickle=False)


def save_program(program: CompiledProgram, directory: str | Path,
                 extra_files: dict[str, bytes] | None = None) -> Path:
    with without_huge_pages():  # (the report's and weights' large arrays: snnc/compiler/pages.py)
        program.path = write_directory_atomically(directory, emit(program, extra_files))
    return program.path


DEFAULT_OUTPUT = "build/{network}.{target}"  # `snnc compile`; `snnc train` adds ".trained"


def output_directory(pattern: str | Path, program: CompiledProgram) -> Path:
    """The output directory `pattern` names for `program`: `{network}` and `{target}` replaced by its
    network's and target's names (one rule for compile and train: DEFAULT_OUTPUT)."""
    try:
        return Path(str(pattern).format_map({"network": program.name, "target": program.target.name}))
    except (KeyError, ValueError, IndexError) as exc:
        raise UsageError(f"output '{pattern}': only {{network}} and {{target}} are replaced in it "
                         f"({type(exc).__name__}: {exc})") from None


def load_program(directory: str | Path, *, validator: Callable[[CompiledProgram], None] | None = None
                 ) -> CompiledProgram:
    """Read a program directory back and check everything in it (program_check.py); SnncError naming the
    file and the key path of each problem on anything missing, corrupt or out of range for its target."""
    with without_huge_pages():  # (the checks' many short-lived large arrays: snnc/compiler/pages.py)
        return _read_program(Path(directory), validator)


def _read_program(directory: Path, validator: Callable[[CompiledProgram], None] | None) -> CompiledProgram:
    try:
        recover_interrupted_swap(directory)  # a write killed between its two renames
    except OSError:
        pass  # (then the checks below say what is missing)
    program_file, weights_file = directory / "program.json", directory / "weights.npz"
    if not directory.is_dir():
        raise SnncError([error("E301", f"'{directory}' is not a compiled program directory "
                               "(run `snnc compile` first)")])
    try:
        document = read_document(program_file)
    except FileNotFoundError:
        raise SnncError([error("E301", f"'{program_file}' is missing")]) from None
    except (OSError, ValueError) as exc:  # (UnicodeDecodeError and JSONDecodeError are ValueErrors)
        raise SnncError([error("E302", f"'{program_file}' is corrupt: {exc}")]) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise SnncError([error("E302", f"'{program_file}' is not an snnc program")])
    if document.get("schema_version") != SCHEMA_VERSION:
        raise SnncError([error("E302", f"'{program_file}' has schema version "
                               f"{show(document.get('schema_version'))}; this snnc reads {SCHEMA_VERSION}")])
    problems = document_problems(document) or target_problems(document["target"])
    if problems:
        raise SnncError(corrupt(directory, problems))
    try:
        arrays = read_npz(weights_file, memory_budget())
    except FileNotFoundError:
        raise SnncError([error("E301", f"'{weights_file}' is missing")]) from None
    except ArchiveError as exc:
        raise SnncError([error("E302", f"'{weights_file}' is corrupt: {exc}")]) from None
    try:
        ir = NetworkIR.from_dict(document["ir"], arrays)
    except (KeyError, TypeError, ValueError, AttributeError, RecursionError, nx.NetworkXError) as exc:
        raise SnncError([error("E302", f"'{program_file}' is corrupt: {type(exc).__name__}: {exc}")]) from None
    # the records' types first: the invariants' checks (verify) may then rely on them
    problems = ir_problems(ir) or [("ir", p) for p in ir.verify()] or attribute_problems(ir)
    target = restore_target(document["target"]) if not problems else None
    problems = problems or program_problems(ir, target)
    if problems:
        raise SnncError(corrupt(directory, problems, arrays))
    program = CompiledProgram(ir=ir, target=target, seed=document["seed"], source=dict(document["source"]),
                              diagnostics=list(document["diagnostics"]), path=directory)
    if validator is not None:
        validator(program)
    return program


def diagnostics_to_dicts(diagnostics: list[Diagnostic]) -> list[dict[str, Any]]:
    return [d.to_dict() for d in diagnostics]
