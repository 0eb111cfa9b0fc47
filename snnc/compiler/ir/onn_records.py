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
