"""Reading .npz archives without trusting them: no pickle, and the size every array declares is added
up and checked against a budget before any array is read, so a 20-byte header that claims 10^15
elements is refused instead of allocated. Compiled programs, checkpoints and data files use it."""

from __future__ import annotations

import math
import zipfile
from pathlib import Path

import numpy as np

from snnc.limits import format_bytes


class ArchiveError(ValueError):
    """The archive is unreadable, corrupt, or larger than allowed; the message says which."""


def read_npz(path: str | Path, budget: int) -> dict[str, np.ndarray]:
    """Every array of the .npz at `path` by name; ArchiveError if it is not a readable .npz of plain
    arrays or its arrays take more than `budget` bytes. FileNotFoundError passes through."""
    try:
        with zipfile.ZipFile(path) as archive:
            total = 0
            for member in archive.infolist():
                total += _declared_bytes(archive, member)
                if total > budget:
                    raise ArchiveError(f"its arrays take {format_bytes(total)} or more; at most "
                                       f"{format_bytes(budget)} (half this machine's memory) may be read")
        with np.load(path, allow_pickle=False) as loaded:
            return {key: loaded[key] for key in loaded.files}
    except (FileNotFoundError, ArchiveError):
        raise
    except Exception as exc:  # whatever zipfile, zlib or numpy raise on bytes that are not what they claim
        raise ArchiveError(f"{type(exc).__name__}: {exc}") from None


def _declared_bytes(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> int:
    """What the array in `member` says it takes, from its .npy header alone."""
    if not member.filename.endswith(".npy"):
        raise ArchiveError(f"'{member.filename}' is not an array (.npy)")
    with archive.open(member) as stream:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(stream)
        else:  # 3.0 (UTF-8 field names): numpy reads its header with the same code
            shape, _, dtype = np.lib.format._read_array_header(stream, version)
    if dtype.hasobject:
        raise ArchiveError(f"'{member.filename}' holds Python objects, which snnc never writes")
    return math.prod(shape) * dtype.itemsize
