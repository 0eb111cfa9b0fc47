"""The optical family (`family: onn`): the exact schema of its target YAML and the optics model the
passes and the emulator read.

Every number lives in the YAML (onn.yaml or a user's variant); this module only names them, checks
that the values make a device (counts >= 1, probabilities in [0, 1]) and derives shared figures."""

from __future__ import annotations

from dataclasses import dataclass

from snnc.compiler.targets.schema import Choice, family_schema

SIGNED_SCHEMES = ("auto", "differential", "offset")

ONN_SCHEMA: dict = family_schema("onn", {
    "resources": {
        "channels": int,
        "modulator_columns": int,
        "modulator_bits": int,
        "detectors": int,
        "readout_bits": int,
        "max_passes": int,
        "optical_power": float,
        "linear_photons_per_mac": float,
        "signed_weights": Choice(SIGNED_SCHEMES),
    },
    "noise": {
        "detector_efficiency": float,
        "dark_counts": float,
        "transmission_mismatch": float,
    },
})

_POSITIVE_COUNTS = ("channels", "modulator_columns", "modulator_bits", "detectors", "readout_bits",
                    "max_passes")


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
    problems = []
    resources, noise = spec["resources"], spec["noise"]
    for key in _POSITIVE_COUNTS:
        if resources[key] < 1:
            problems.append(f"resources.{key}: must be >= 1, got {resources[key]}")
    if resources["modulator_bits"] > 16:
        problems.append(f"resources.modulator_bits: at most 16 (levels are uint16), got {resources['modulator_bits']}")
    if resources["readout_bits"] > 31:
        problems.append(f"resources.readout_bits: at most 31, got {resources['readout_bits']}")
    for key in ("optical_power", "linear_photons_per_mac"):
        if resources[key] <= 0:
            problems.append(f"resources.{key}: must be > 0, got {resources[key]}")
    if not 0.0 < noise["detector_efficiency"] <= 1.0:
        problems.append(f"noise.detector_efficiency: must be in (0, 1], got {noise['detector_efficiency']}")
    for key in ("dark_counts", "transmission_mismatch"):
        if noise[key] < 0:
            problems.append(f"noise.{key}: must be >= 0, got {noise[key]}")
    if spec["time_scale"] <= 0:
        problems.append(f"time_scale: must be > 0, got {spec['time_scale']}")
    return problems
