"""What the onn passes add to the IR: typed, frozen records, each under one attribute key, each with its
contract (the runtime's emulator and the report read them; program.json and weights.npz hold them).

| key             | on    | record                | set by                                          |
|-----------------|-------|-----------------------|-------------------------------------------------|
| `transmissions` | edge  | Transmissions         | legalize_transmissions (training's export too)  |
| `tiles`         | edge  | list[Tile]            | place_channels                                  |
| `partitions`    | graph | list[ModulatorPass]   | place_channels                                  |

The maths (encodings, quantization, photon figures, tile shapes) lives in snnc/compiler/targets/onn.py."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from snnc.compiler.ir.checks import Problem, array_problems, at_least, within
from snnc.compiler.ir.serialize import serializable


@serializable
@dataclass(frozen=True, eq=False)
class Transmissions:
    """A projection's weights as modulator transmissions. `encoding` is one of targets.onn.ENCODINGS
    (positive, negative, differential, offset); levels (uint16, (k, pre, post)) hold k channels per weight,
    transmission = level / (2**modulator_bits - 1); the weights they realize are
    deployed_weights(levels, scale, modulator_bits, encoding). quant_rmse and quant_max: RMSE and largest
    |realized - w| over the existing synapses (model units)."""

    encoding: str
    scale: float  # transmission per model unit; 1 into a photon detector (the weight is the transmission)
    levels: np.ndarray
    quant_rmse: float
    quant_max: float

    def problems(self, shape: tuple[int, int], encodings: dict[str, int], bits: int) -> list[Problem]:
        """An encoding of `encodings` (name -> channels per weight); levels uint16 (k, pre, post) within
        the modulator's 2**bits levels."""
        if self.encoding not in encodings:
            return [("encoding", f"expected one of {', '.join(encodings)}, got {self.encoding!r}")]
        problems = [("scale", f"must be > 0, got {self.scale:g}")] if self.scale <= 0 else []
        problems += at_least(self, ("quant_rmse", "quant_max"), 0)
        found = array_problems(self.levels, "levels", np.uint16, (encodings[self.encoding], *shape))
        return problems + (found or within(self.levels, "levels", 0, (1 << bits) - 1, f" ({bits}-bit modulator)"))


@serializable
@dataclass(frozen=True)
class Tile:
    """One block of a projection in one pass of the modulator: input rows [r0, r1) x output columns
    [c0, c1), k channels per weight. Weight (i, j), channel s sits on modulator channel
    channels[0] + ((i - r0) * (c1 - c0) + (j - c0)) * k + s; column j's detector s is detector
    detectors[0] + (j - c0) * k + s. Intervals are half-open."""

    pass_index: int
    rows: tuple[int, int]
    cols: tuple[int, int]
    channels: tuple[int, int]
    detectors: tuple[int, int]

    @property
    def area(self) -> int:
        return (self.rows[1] - self.rows[0]) * (self.cols[1] - self.cols[0])

    def problems(self, shape: tuple[int, int], k: int, channels: int, detectors: int, passes: int) -> list[Problem]:
        """Rows and columns inside the projection, channels and detectors inside the device, as many as the
        block takes (k per weight), a pass the device runs."""
        problems = [] if 0 <= self.pass_index < passes else [("pass_index", f"must be in [0, {passes}), got "
                                                              f"{self.pass_index}")]
        for key, high in (("rows", shape[0]), ("cols", shape[1]), ("channels", channels), ("detectors", detectors)):
            low_, high_ = getattr(self, key)
            if not 0 <= low_ < high_ <= high:
                problems.append((key, f"must be [start, stop) with 0 <= start < stop <= {high}, got [{low_}, {high_})"))
        if problems:
            return problems
        expected = {"channels": self.area * k, "detectors": (self.cols[1] - self.cols[0]) * k}
        return [(key, f"spans {getattr(self, key)[1] - getattr(self, key)[0]}, the block takes {count}")
                for key, count in expected.items() if getattr(self, key)[1] - getattr(self, key)[0] != count]


@serializable
@dataclass(frozen=True)
class ModulatorPass:
    """One configuration of the modulator and detectors (a pass run after the ones before it): the
    populations and projections whose tiles it holds, and the channels and detectors they take."""

    index: int
    populations: tuple[str, ...]
    projections: tuple[str, ...]
    channels: int
    detectors: int

    def problems(self) -> list[Problem]:
        return at_least(self, ("index", "channels", "detectors"), 0)
