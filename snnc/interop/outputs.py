"""Single-file outputs (`snnc export --nir OUT.nir`, `snnc import -o NET.snn` and its .npy weights) follow the
rule of output directories (snnc/compiler/backend/output_dir.py): snnc replaces only what snnc wrote.

A file snnc wrote is recognized by its content, as a directory is by its marker: a .snn whose first line
is `snnc import`'s header, a .nir whose graph metadata carries `snnc.network` (what `snnc export` writes),
and a .npy weight file that such a .snn (the one being replaced) reads with `from_file`. Any other existing
file is left alone and the write refused before anything is written (E505). A symbolic link is written
through (the file it points to is replaced, the link stays); a link to nothing is an error. Each file is
written to a temporary name beside it, fsynced, then renamed over it: never a half-written file."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from snnc.diagnostics import SnncError, error

IMPORT_HEADER = "# Imported by `snnc import` from NIR file"
_FROM_FILE = re.compile(r'from_file\(\s*(?:path\s*=\s*)?"([^"\\\n]+)"')


def _fail(code: str, message: str) -> SnncError:
    return SnncError([error(code, message)])


def resolve(out: Path) -> Path:
    """Where writing `out` writes: through a symbolic link to its target. SnncError for a dangling link or
    a directory."""
    if out.is_symlink() and not out.exists():
        raise _fail("E504", f"cannot write '{out}': it is a symbolic link to nothing ('{os.readlink(out)}')")
    real = Path(os.path.realpath(out))
    if real.is_dir():
        raise _fail("E504", f"cannot write '{out}': it is a directory")
    if not real.parent.is_dir():
        raise _fail("E504", f"cannot write '{out}': directory '{out.parent}' does not exist")
    return real


def snnc_wrote_snn(path: Path) -> bool:
    try:
        with open(path, encoding="utf-8") as f:
            return f.readline().startswith(IMPORT_HEADER)
    except (OSError, UnicodeDecodeError):
        return False


def weights_read_by(program: Path) -> set[str]:
    """The .npy files (names beside it) that an snnc-written .snn reads with from_file."""
    if not snnc_wrote_snn(program):
        return set()
    return {name for name in _FROM_FILE.findall(program.read_text(encoding="utf-8")) if "/" not in name}


def snnc_wrote_nir(path: Path) -> bool:
    """Whether a .nir file is one `snnc export` wrote (its graph metadata names the network)."""
    try:
        import nir

        return "snnc.network" in (nir.read(str(path)).metadata or {})
    except Exception:  # not a readable NIR graph: not one snnc wrote
        return False


def check_replaceable(out: Path, snnc_wrote: Callable[[Path], bool], what: str = "") -> None:
    """SnncError (E505) if `out` exists and is not a file snnc wrote."""
    if out.exists() and not snnc_wrote(out):
        raise _fail("E505", f"'{out}' exists and was not written by snnc{what}; snnc replaces only its own "
                    "outputs: remove it or choose another name")


def write_atomically(files: list[tuple[Path, Callable[[str], None]]]) -> None:
    """Each (final path, fill(temporary path)) written to a temporary name beside it and fsynced, then all
    renamed into place in order (the last one last); SnncError (E504) and nothing renamed on a failure."""
    written: list[tuple[str, Path]] = []
    try:
        for final, fill in files:
            handle, name = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.tmp-")
            os.close(handle)
            written.append((name, final))
            fill(name)
            with open(name, "rb+") as f:
                os.fsync(f.fileno())
        for temporary, final in written:
            os.replace(temporary, final)
        for folder in {final.parent for _, final in written}:
            descriptor = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
    except OSError as exc:
        for temporary, _ in written:
            Path(temporary).unlink(missing_ok=True)
        raise _fail("E504", f"cannot write '{files[-1][0]}': {exc.strerror or exc}") from None
