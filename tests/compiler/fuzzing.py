"""What the fuzz tests of the three surfaces (source, target file, compiled program) share: how many
examples each runs, the hypothesis settings, and the key paths of a document to mutate (`key_paths`).

Example counts: SNNC_FUZZ_EXAMPLES (`make fuzz`) is the examples per surface, drawn afresh each run; without
it the suite runs fixed draws of SUITE_EXAMPLES per surface (the same ones each time, a few thousand in all).
Each surface's examples are shared out between its tests (the shares of one surface sum to 1)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

RANDOM = "SNNC_FUZZ_EXAMPLES" in os.environ  # `make fuzz`: new draws each run; the suite: the same ones
SUITE_EXAMPLES = {"source": 2500, "target_file": 1200, "compiled_program": 1000}
EXAMPLES = {surface: int(os.environ.get("SNNC_FUZZ_EXAMPLES", count)) for surface, count in SUITE_EXAMPLES.items()}

SHARES = {
    "source": {"mutations": 0.35, "targets": 0.2, "bytes": 0.15, "numbers": 0.1, "strings": 0.08,
               "nesting": 0.05, "cli": 0.07},
    "target_file": {"values": 0.45, "lines": 0.25, "bytes": 0.15, "compiled": 0.1, "cli": 0.05},
    "compiled_program": {"json": 0.45, "arrays": 0.35, "files": 0.1, "cli": 0.1},
}


def fuzz(surface: str, test: str):
    return settings(max_examples=max(1, round(EXAMPLES[surface] * SHARES[surface][test])), deadline=None,
                    derandomize=not RANDOM, database=None, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                           HealthCheck.data_too_large])


def key_paths(tree, prefix=()) -> list[tuple]:
    """Every key path in a tree of dicts and lists (a YAML or JSON document), the root's () first."""
    found = [prefix]
    if isinstance(tree, dict):
        for key, value in tree.items():
            found += key_paths(value, prefix + (key,))
    elif isinstance(tree, list):
        for i, value in enumerate(tree):
            found += key_paths(value, prefix + (i,))
    return found
