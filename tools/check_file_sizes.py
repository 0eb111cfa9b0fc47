"""Fail (exit 1) on any Python source file under snnc/ over the project's limit of 400 lines, naming each.

    python tools/check_file_sizes.py [ROOT ...]     (default: snnc, beside this script's folder)"""

from __future__ import annotations

import sys
from pathlib import Path

LIMIT = 400


def too_long(roots: list[Path]) -> list[tuple[Path, int]]:
    """(file, lines) of every .py file under `roots` with more than LIMIT lines."""
    found = []
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            lines = len(path.read_text(encoding="utf-8").splitlines())
            if lines > LIMIT:
                found.append((path, lines))
    return found


def main(argv: list[str]) -> int:
    roots = [Path(a) for a in argv] or [Path(__file__).resolve().parents[1] / "snnc"]
    found = too_long(roots)
    for path, lines in found:
        print(f"{path}: {lines} lines (the limit is {LIMIT}): split it by job")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
