"""How to read a NIR file (kept apart from nir_import so the CLI and snnc.api do not import nir + h5py
until a .nir file is actually read)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from snnc.compiler.ir.nodes import MAX_STEPS

DEFAULT_DT = 1e-4  # s: snnTorch writes every graph for this step, Norse's examples use it too
DEFAULT_STEPS = 100
RESETS = ("auto", "to_v_reset", "subtract")


@dataclass(frozen=True)
class ImportOptions:
    """How to read a NIR file. None: the file's snnc metadata if it has some, else the default."""

    dt: float | None = None  # s
    steps: int | None = None
    readout: str | None = None
    reset: str = "auto"  # "to_v_reset" as NIR says, "subtract" as snnTorch's default Leaky does, or "auto"

    def problem(self) -> str | None:
        """Why these options cannot be used, or None."""
        if self.reset not in RESETS:
            return f"reset must be one of {', '.join(RESETS)}, not {self.reset!r}"
        if self.dt is not None and not 0 < self.dt < math.inf:
            return f"dt must be a positive time in seconds, not {self.dt!r}"
        if self.steps is not None and not 1 <= self.steps <= MAX_STEPS:
            return f"steps must be from 1 to {MAX_STEPS:,}, not {self.steps!r}"
        return None
