"""Directories snnc writes (compiled programs, training checkpoints): written whole or not at all, and
never replacing anything snnc did not write. docs/compiler.md describes the protocol.

Every directory snnc writes holds a marker file, `.snnc-output`, listing the entries snnc put there.
An existing output is replaced only if it is empty or if it and each directory in it carry a marker
and hold nothing but what their markers list. A new version is staged in `.NAME.tmp-PID-XXXX` beside
it (files and directories fsynced), then swapped in by two renames: NAME -> `.NAME.old-PID-XXXX`,
staging -> NAME. A process killed between the two leaves the complete old version under its `.old-`
name; the next write or read of NAME (by any snnc process) renames it back, and removes staging
directories whose process is gone."""

from __future__ import annotations

import errno
import json
import os
import re
import secrets
import shutil
from pathlib import Path

from snnc.diagnostics import SnncError, error

MARKER = ".snnc-output"
MARKER_FORMAT = "snnc-output"
_STAGING = re.compile(r"\.(?P<name>.+)\.(?P<kind>tmp|old)-(?P<pid>\d+)-[0-9a-f]+")
_IN_PROGRESS: set[Path] = set()  # this process's staging and old directories of writes under way


def write_directory_atomically(directory: str | Path, files: dict[str, bytes]) -> Path:
    """Write `files` (relative path -> bytes) as the directory `directory`: readers see the old version
    or the new one, never a mix or a half-written file. A symbolic link is written through (the link
    stays, the directory it points to is replaced). SnncError (E300) if `directory` is something snnc
    did not write, or cannot be written."""
    target = _resolve(Path(directory))
    token = f"{os.getpid()}-{secrets.token_hex(4)}"
    staging = target.parent / f".{target.name}.tmp-{token}"
    old = target.parent / f".{target.name}.old-{token}"
    _IN_PROGRESS.update((staging, old))
    try:
        recover_interrupted_swap(target)
        _check_replaceable(Path(directory), target)
        _stage(staging, files)
        if _exists(target) and any(os.scandir(target)):
            os.rename(target, old)
            _fsync_directory(target.parent)
        os.rename(staging, target)  # (replaces an empty directory in one step)
        _fsync_directory(target.parent)
    except BaseException as exc:
        _undo(target, staging, old)
        if isinstance(exc, OSError):
            raise _cannot_write(directory, exc) from None
        raise
    finally:
        _IN_PROGRESS.difference_update((staging, old))
    shutil.rmtree(old, ignore_errors=True)
    return Path(directory)


def claim_output_directory(directory: str | Path) -> None:
    """Fail now, not after the work, if `directory` may not be written; create it (empty, marked) if it
    does not exist, so that outputs written into it later (a training checkpoint) belong to snnc."""
    target = _resolve(Path(directory))
    try:
        recover_interrupted_swap(target)
        _check_replaceable(Path(directory), target)
    except OSError as exc:
        raise _cannot_write(directory, exc) from None
    if not _exists(target):
        write_directory_atomically(directory, {})


def recover_interrupted_swap(directory: str | Path) -> None:
    """Undo what a killed snnc left beside `directory`: put back the old version if the directory is
    missing, and remove staging directories of processes that are gone. Touches only directories named
    and marked as snnc's own."""
    target = Path(os.path.realpath(directory))
    if not target.name or not target.parent.is_dir():
        return
    stale = []
    for entry in os.scandir(target.parent):
        match = _STAGING.fullmatch(entry.name)
        path = Path(entry.path)
        if (match and match["name"] == target.name and entry.is_dir(follow_symlinks=False)
                and not _alive(path, int(match["pid"])) and (_marker(path) is not None or not any(os.scandir(path)))):
            stale.append((match["kind"], path))
    olds = sorted((p for kind, p in stale if kind == "old" and _marker(p) is not None), key=_mtime)
    if olds and not _exists(target):
        os.rename(olds.pop(), target)
        _fsync_directory(target.parent)
    for _, path in stale:
        if path.exists():
            shutil.rmtree(path, ignore_errors=True)


def foreign_entries(directory: Path, prefix: str = "") -> list[str]:
    """What in `directory` snnc did not write (paths relative to it; `.` for the directory itself)."""
    listed = _marker(directory)
    if listed is None and _unmarked_output(directory):
        listed = UNMARKED_FILES
    if listed is None:
        return [prefix.rstrip("/") or "."]
    found = []
    for entry in sorted(os.scandir(directory), key=lambda e: e.name):
        if entry.name == MARKER:
            continue
        if entry.is_dir(follow_symlinks=False):
            found += foreign_entries(Path(entry.path), f"{prefix}{entry.name}/")
        elif not (entry.is_file(follow_symlinks=False) and entry.name in listed):
            found.append(prefix + entry.name)
    return found


# What snnc wrote before outputs had markers: a program directory (program.json of format
# "snnc-program") or a checkpoint (state.json of format "snnc-checkpoint") holding nothing but these
# files is replaced like a marked one, so that build/ directories of earlier versions keep working.
UNMARKED_FILES = {"program.json", "weights.npz", "report.json", "report.md", "report.png", "report.html",
                  "channel_map.png", "metrics.json", "metrics.csv", "loss.png", "accuracy.png", "raster.png",
                  "membrane.png", "state.json", "state.npz"}
_UNMARKED_FORMATS = {"program.json": "snnc-program", "state.json": "snnc-checkpoint"}


def _unmarked_output(directory: Path) -> bool:
    for name, expected in _UNMARKED_FORMATS.items():
        try:
            document = json.loads((directory / name).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue
        if isinstance(document, dict) and document.get("format") == expected:
            return True
    return False


def _resolve(path: Path) -> Path:
    """The directory to write: through a symbolic link, never the current directory or one above it."""
    if path.is_symlink():
        real = Path(os.path.realpath(path))
        if not real.exists():
            raise SnncError([error("E300", f"output '{path}' is a symbolic link to '{os.readlink(path)}', which "
                                   "does not exist; snnc writes through a link only to an existing directory")])
    target = Path(os.path.realpath(path))
    try:
        here = Path(os.path.realpath(Path.cwd()))
    except OSError:
        here = None
    if here is not None and (target == here or target in here.parents):
        raise SnncError([error("E300", f"output '{path}' is the current directory or one above it; "
                               "choose a new directory (e.g. -o build/NAME)")])
    return target


def _check_replaceable(given: Path, target: Path) -> None:
    if not _exists(target):
        above = next(p for p in target.parents if _exists(p))
        if not above.is_dir():
            raise SnncError([error("E300", f"cannot write output '{given}': '{above}' is not a directory")])
        return
    if not target.is_dir():
        raise SnncError([error("E300", f"output '{given}' exists and is not a directory")])
    if not any(os.scandir(target)):
        return
    foreign = foreign_entries(target)
    if foreign == ["."]:
        raise SnncError([error("E300", f"output '{given}' is a directory that snnc did not write (it has no "
                               f"{MARKER} file); snnc replaces only its own outputs: choose another "
                               "directory")])
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        raise SnncError([error("E300", f"output '{given}' holds what snnc did not write ({shown}); snnc "
                               "replaces only its own outputs: move them or choose another directory")])


def _stage(staging: Path, files: dict[str, bytes]) -> None:
    """A complete, fsynced copy of the new version, each directory marked before anything else."""
    staging.parent.mkdir(parents=True, exist_ok=True)
    os.mkdir(staging)
    tree: dict[Path, set[str]] = {staging: set()}
    for name in files:
        parts = Path(name).parts
        for depth in range(len(parts)):
            tree.setdefault(staging.joinpath(*parts[:depth]), set()).add(parts[depth])
    for folder, entries in sorted(tree.items()):
        folder.mkdir(exist_ok=True)
        document = {"format": MARKER_FORMAT, "entries": sorted(entries)}
        _write_file(folder / MARKER, json.dumps(document, indent=1).encode("utf-8"))
    for name, data in files.items():
        _write_file(staging / name, data)
    for folder in sorted(tree, reverse=True):
        _fsync_directory(folder)


def _write_file(path: Path, data: bytes) -> None:
    with open(path, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())


def _fsync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    except OSError as exc:  # some file systems cannot sync a directory; the data files are synced
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(descriptor)


def _marker(directory: Path) -> set[str] | None:
    """The entries a directory's marker lists, or None if it has no valid marker."""
    path = directory / MARKER
    try:
        if path.is_symlink() or not path.is_file():
            return None
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(document, dict) or document.get("format") != MARKER_FORMAT:
        return None
    entries = document.get("entries")
    return {e for e in entries if isinstance(e, str)} if isinstance(entries, list) else None


def _alive(path: Path, pid: int) -> bool:
    """Whether the process that made a staging directory may still be using it."""
    if pid == os.getpid():
        return path in _IN_PROGRESS
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # someone else's process: leave its directory alone
    return True


def _undo(target: Path, staging: Path, old: Path) -> None:
    """After a failure inside this process: the old version back in place, the staging gone."""
    try:
        if not _exists(target) and old.exists():
            os.rename(old, target)
    except OSError:
        pass  # left under its .old- name: the next write or read puts it back
    shutil.rmtree(staging, ignore_errors=True)


def _exists(path: Path) -> bool:
    return os.path.lexists(path)


def _mtime(path: Path) -> int:
    return path.stat().st_mtime_ns


def _cannot_write(directory: str | Path, exc: OSError) -> SnncError:
    reason = exc.strerror or str(exc)
    where = f" ('{exc.filename}')" if exc.filename and str(exc.filename) != str(directory) else ""
    return SnncError([error("E300", f"cannot write output '{directory}': {reason}{where}")])
