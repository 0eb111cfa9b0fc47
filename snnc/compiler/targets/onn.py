"""The optical family (`family: onn`): the exact schema of its target YAML, the optics model, and the
maths of the device that the passes, the emulator and the report share.

Every number lives in the YAML (onn.yaml or a user's variant); this module only names them, checks
that the values make a device (counts >= 1, probabilities in [0, 1]) and derives shared figures.

A weight w of a projection deploys as one of the ENCODINGS:
    positive      w =  t / scale                 one channel
    negative      w = -t / scale                 one channel, its detector subtracted electronically
    differential  w = (t_pos - t_neg) / scale    two channels and two detectors (differential detection)
    offset        w = (2 t - 1) / scale          one channel; the offset sum_j x_j is known electronically
with t = level / (2**modulator_bits - 1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

import numpy as np
from pydantic import Field

from snnc.compiler.ir.neurons import PhotonDetector
from snnc.compiler.ir.onn_records import Transmissions
from snnc.compiler.targets.schema import Strict, TargetBase, count, number

SIGNED_SCHEMES = ("auto", "differential", "offset")



class Resources(Strict):
    channels: count()
    modulator_columns: count()
    modulator_bits: count(1, 16)  # (levels are uint16)
    detectors: count()
    readout_bits: count(1, 31)
    max_passes: count(1, 1 << 16)
    optical_power: number(positive=True)  # photons per inference
    linear_photons_per_mac: number(positive=True)
    signed_weights: Literal[SIGNED_SCHEMES]  # type: ignore[valid-type]


class Noise(Strict):
    detector_efficiency: Annotated[float, Field(gt=0.0, le=1.0)]  # a probability
    dark_counts: number(0.0, 1e9)  # mean counts per detector per exposure
    transmission_mismatch: number(0.0, 1.0)  # absolute, on transmissions in [0, 1]


class OnnTarget(TargetBase):
    """The exact schema of an onn target's YAML."""

    family: Literal["onn"]
    resources: Resources
    noise: Noise


ONN_SCHEMA = OnnTarget


@dataclass(frozen=True)
class Optics:
    """One optical matrix-vector multiplier as the passes and the emulator see it."""

    channels: int  # modulator pixels
    modulator_columns: int
    modulator_bits: int
    detectors: int
    readout_bits: int
    max_passes: int
    optical_power: float  # photons per inference the source can emit
    linear_photons_per_mac: float
    signed_weights: str  # one of SIGNED_SCHEMES
    detector_efficiency: float
    dark_counts: float  # mean counts per detector per exposure
    transmission_mismatch: float

    @classmethod
    def from_spec(cls, spec: dict) -> Optics:
        r, n = spec["resources"], spec["noise"]
        return cls(channels=r["channels"], modulator_columns=r["modulator_columns"],
                   modulator_bits=r["modulator_bits"], detectors=r["detectors"],
                   readout_bits=r["readout_bits"], max_passes=r["max_passes"],
                   optical_power=float(r["optical_power"]),
                   linear_photons_per_mac=float(r["linear_photons_per_mac"]),
                   signed_weights=r["signed_weights"], detector_efficiency=float(n["detector_efficiency"]),
                   dark_counts=float(n["dark_counts"]), transmission_mismatch=float(n["transmission_mismatch"]))

    @property
    def levels(self) -> int:
        """The largest transmission level: transmission = level / levels."""
        return (1 << self.modulator_bits) - 1

    @property
    def max_count(self) -> int:
        """The largest photon count a `linear` detector's counter reads."""
        return (1 << self.readout_bits) - 1


def value_problems(spec: dict) -> list[str]:
    """What makes a schema-valid onn spec not a device, as 'key.path: problem' strings."""
    resources = spec["resources"]
    if resources["modulator_columns"] > resources["channels"]:
        return [f"resources.modulator_columns: at most the {resources['channels']:,} channels, got "
                f"{resources['modulator_columns']:,}"]
    return []


ENCODINGS = ("positive", "negative", "differential", "offset")


def channels_per_weight(encoding: str) -> int:
    return 2 if encoding == "differential" else 1


def quantize_transmissions(weights: np.ndarray, scale: float, bits: int, encoding: str) -> np.ndarray:
    """Transmission levels (uint16, shape (channels_per_weight, pre, post)) that deploy `weights`
    (model units) at `scale` (transmission per model unit); out-of-range weights are clipped."""
    top = (1 << bits) - 1
    scaled = np.asarray(weights, dtype=np.float64) * scale
    if encoding == "positive":
        parts = [scaled]
    elif encoding == "negative":
        parts = [-scaled]
    elif encoding == "differential":
        parts = [np.maximum(scaled, 0.0), np.maximum(-scaled, 0.0)]
    elif encoding == "offset":
        parts = [(1.0 + scaled) / 2.0]
    else:
        raise AssertionError(f"unknown encoding {encoding!r}")
    return np.stack([np.rint(np.clip(p, 0.0, 1.0) * top) for p in parts]).astype(np.uint16)


def deployed_weights(levels: np.ndarray, scale: float, bits: int, encoding: str) -> np.ndarray:
    """The weights (model units, float32, (pre, post)) that transmission `levels` realize."""
    t = np.asarray(levels, dtype=np.float64) / ((1 << bits) - 1)
    signed = {"positive": lambda: t[0], "negative": lambda: -t[0], "differential": lambda: t[0] - t[1],
              "offset": lambda: 2.0 * t[0] - 1.0}[encoding]()
    return (signed / scale).astype(np.float32)


def choose_scale(weights: np.ndarray, into_detector: bool) -> float:
    """Transmission per model unit: 1 into a photon detector (the weight is the transmission), else
    the largest weight magnitude maps to full transmission."""
    if into_detector:
        return 1.0
    largest = float(np.max(np.abs(weights))) if weights.size else 0.0
    return 1.0 / largest if largest > 0.0 else 1.0


def photons_per_mac(model: object, optics: Optics) -> float:
    """Photons per MAC and inference of a population's detectors (its neuron model): a photon detector layer's
    budget (all exposures together; the source power holds it, docs/onn.md), a linear layer's operating
    point at full transmission and input. With every transmission and input at 1, either draws exactly
    this from its source."""
    if isinstance(model, PhotonDetector):
        return model.photons_per_mac
    return optics.linear_photons_per_mac


def tile_shape(pre: int, post: int, k: int, optics: Optics) -> tuple[int, int] | None:
    """(rows, cols) of the largest block of a pre x post projection at k channels per weight that the
    device holds at once (cols <= detectors / k, rows * cols * k <= channels); None if not one weight."""
    cols = min(post, optics.detectors // k, optics.channels // k)
    if cols < 1:
        return None
    return min(pre, optics.channels // (k * cols)), cols


def deploy_transmissions(weights: np.ndarray, mask: np.ndarray | None, scale: float, bits: int,
                         encoding: str) -> tuple[Transmissions, np.ndarray]:
    """Model weights as the modulator holds them at `scale`, with the error over existing synapses, and the
    weights (model units) the levels realize."""
    levels = quantize_transmissions(weights, scale, bits, encoding)
    realized = deployed_weights(levels, scale, bits, encoding)
    deviation = np.abs(realized.astype(np.float64) - weights)  # (float64: squared below; weights reach 3.4e38)
    deviation = deviation if mask is None else deviation[np.asarray(mask)]
    record = Transmissions(encoding=encoding, scale=float(scale), levels=levels,
                           quant_rmse=float(np.sqrt(np.mean(deviation ** 2))) if deviation.size else 0.0,
                           quant_max=float(deviation.max()) if deviation.size else 0.0)
    return record, realized
