"""numba's on-disk cache of the emulator kernels, kept in step with every source file the kernels read.

numba checks a cached kernel only against the file that defines it (its modification time and size), but
the kernels inline functions and constants from their neighbours (fast_noise, philox's normal table):
a change to those alone would load the old machine code. A digest of the whole package's sources, kept
beside the cache, drops every cached kernel of this package when any of its files changes."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

STAMP = "snnc-kernel-sources.sha256"
CACHED_KERNEL_SUFFIXES = (".nbi", ".nbc")


def sources_digest(package: Path) -> str:
    """sha256 over the names and contents of the package's Python files, in name order."""
    digest = hashlib.sha256()
    for source in sorted(package.glob("*.py")):
        digest.update(source.name.encode() + b"\0" + source.read_bytes() + b"\0")
    return digest.hexdigest()


def drop_stale_kernels(package: Path) -> bool:
    """Delete the package's cached kernels unless they were compiled from its current sources (a missing
    stamp counts as stale); returns whether any were dropped. A cache that cannot be written (a read-only
    install) is left to numba, which then does not cache there either."""
    cache = package / "__pycache__"
    digest = sources_digest(package)
    stamp = cache / STAMP
    try:
        if stamp.read_text() == digest:
            return False
    except OSError:
        pass
    dropped = False
    try:
        cache.mkdir(exist_ok=True)  # absent under PYTHONDONTWRITEBYTECODE until numba writes a kernel
        for entry in cache.iterdir():
            if entry.suffix in CACHED_KERNEL_SUFFIXES:
                entry.unlink(missing_ok=True)  # another process may drop it at the same time
                dropped = True
        handle, temporary = tempfile.mkstemp(dir=cache, prefix=".stamp-")
        with os.fdopen(handle, "w") as out:
            out.write(digest)
        os.replace(temporary, stamp)
    except OSError:
        pass
    return dropped
