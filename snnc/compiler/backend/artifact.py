"""The compiled program: a directory with program.json, weights.npz and the report. No pickle.

    program.json   {"format", "schema_version", "snnc_version", "target", "source", "seed",
                    "diagnostics", "ir"}; arrays in the IR are {"$array": key} references
    weights.npz    every array of the IR under its key (weights, masks, hardware weights)
    report.json / report.md (and whatever else the target's report adds)
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from snnc.compiler.families import restore_target
from snnc.compiler.ir.graph import NetworkIR
from snnc.compiler.targets import Target
from snnc.diagnostics import Diagnostic, SnncError, error

FORMAT = "snnc-program"
SCHEMA_VERSION = 2  # 2: the target record names its `family` (was `pipeline`) and `chips`


@dataclass
class CompiledProgram:
    """An IR that went through a target's whole pipeline, with where it came from."""

    ir: NetworkIR
    target: Target
    seed: int
    source: dict[str, str]  # {"path", "sha256"}
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
    np.savez_compressed(buffer, **arrays)
    files = {
        "program.json": json.dumps(document, indent=1, allow_nan=False).encode("utf-8"),
        "weights.npz": buffer.getvalue(),
    }
    files.update(render_report_files(program))
    files.update(extra_files or {})
    return files


def write_directory_atomically(directory: str | Path, files: dict[str, bytes]) -> Path:
    """Write all files into a fresh temporary directory beside `directory`, then swap it into place:
    readers see the old directory or the new one, never a mix or a half-written file."""
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    if directory.exists() and not directory.is_dir():
        raise SnncError([error("E300", f"output '{directory}' exists and is not a directory")])
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.tmp-", dir=directory.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(staging, 0o777 & ~umask)  # mkdtemp makes it private; the result is an ordinary directory
    try:
        for name, data in files.items():
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        old = None
        if directory.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{directory.name}.old-", dir=directory.parent))
            os.rmdir(old)
            os.replace(directory, old)
        os.replace(staging, directory)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return directory


def save_program(program: CompiledProgram, directory: str | Path,
                 extra_files: dict[str, bytes] | None = None) -> Path:
    program.path = write_directory_atomically(directory, emit(program, extra_files))
    return program.path


def load_program(directory: str | Path, *, validator: Callable[[CompiledProgram], None] | None = None
                 ) -> CompiledProgram:
    """Read a program directory back; SnncError naming the file on anything missing or corrupt."""
    directory = Path(directory)
    program_file, weights_file = directory / "program.json", directory / "weights.npz"
    if not directory.is_dir():
        raise SnncError([error("E301", f"'{directory}' is not a compiled program directory "
                               "(run `snnc compile` first)")])
    try:
        document = json.loads(program_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SnncError([error("E301", f"'{program_file}' is missing")]) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SnncError([error("E302", f"'{program_file}' is corrupt: {exc}")]) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise SnncError([error("E302", f"'{program_file}' is not an snnc program")])
    if document.get("schema_version") != SCHEMA_VERSION:
        raise SnncError([error("E302", f"'{program_file}' has schema version "
                               f"{document.get('schema_version')}; this snnc reads {SCHEMA_VERSION}")])
    try:
        with np.load(weights_file, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except FileNotFoundError:
        raise SnncError([error("E301", f"'{weights_file}' is missing")]) from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise SnncError([error("E302", f"'{weights_file}' is corrupt: {exc}")]) from None
    try:
        ir = NetworkIR.from_dict(document["ir"], arrays)
        target = restore_target(document["target"])
        program = CompiledProgram(ir=ir, target=target, seed=int(document["seed"]),
                                  source=dict(document["source"]),
                                  diagnostics=list(document.get("diagnostics", [])), path=directory)
    except (KeyError, TypeError, ValueError) as exc:
        raise SnncError([error("E302", f"'{program_file}' is corrupt: {type(exc).__name__}: {exc}")]) from None
    problems = ir.verify()
    if problems:
        raise SnncError([error("E302", f"'{program_file}' is inconsistent: {'; '.join(problems)}")])
    if validator is not None:
        validator(program)
    return program


def diagnostics_to_dicts(diagnostics: list[Diagnostic]) -> list[dict[str, Any]]:
    return [d.to_dict() for d in diagnostics]
