"""The BrainScaleS-2 family: the exact schema of its target YAML and the chip model the passes read.

Every number lives in the YAML (bss2.yaml or a user's variant); this module only names them, checks
the values make a chip (counts >= 1, ranges ordered) and derives the figures the passes share."""

from __future__ import annotations

from dataclasses import dataclass

from snnc.compiler.targets.schema import AnyOf, Choice, ListOf, OpenMapping, Optional

_NAME_LIST = AnyOf((Choice(("all",)), ListOf(str)))

BSS2_SCHEMA: dict = {
    "name": str,
    "description": str,
    "pipeline": Choice(("bss2",)),
    "time_scale": float,
    "supports": {
        "neuron_models": _NAME_LIST,
        "encoders": _NAME_LIST,
        "readouts": _NAME_LIST,
        Optional("max_delay"): float,
    },
    "resources": {
        "hemispheres": int,
        "columns_per_hemisphere": int,
        "rows_per_hemisphere": int,
        "synapse_drivers_per_hemisphere": int,
        "rows_per_driver": int,
        "weight_bits": int,
        "address_bits": int,
        "readout_bits": int,
        "chips": int,
        "events_per_second_between_chips": float,
    },
    # [low, high] of a neuron parameter on the chip, i.e. after time scaling for times.
    Optional("parameter_ranges"): OpenMapping(ListOf(float)),
    "noise": {
        "tau_mem_mismatch": float,
        "tau_syn_mismatch": float,
        "threshold_mismatch": float,
        "leak_mismatch": float,
        "weight_mismatch": float,
        "membrane_noise": float,
    },
}

_POSITIVE_COUNTS = ("hemispheres", "columns_per_hemisphere", "rows_per_hemisphere",
                    "synapse_drivers_per_hemisphere", "rows_per_driver", "weight_bits", "address_bits",
                    "readout_bits", "chips")


@dataclass(frozen=True)
class Chip:
    """One BrainScaleS-2 chip as the passes see it (read from a validated target spec)."""

    hemispheres: int
    columns: int  # neuron circuits per hemisphere
    rows: int  # synapse rows per hemisphere
    drivers: int  # synapse drivers per hemisphere
    rows_per_driver: int
    weight_bits: int
    address_bits: int
    events_per_second_between_chips: float
    time_scale: float

    @classmethod
    def from_spec(cls, spec: dict) -> Chip:
        r = spec["resources"]
        return cls(hemispheres=r["hemispheres"], columns=r["columns_per_hemisphere"],
                   rows=r["rows_per_hemisphere"], drivers=r["synapse_drivers_per_hemisphere"],
                   rows_per_driver=r["rows_per_driver"], weight_bits=r["weight_bits"],
                   address_bits=r["address_bits"],
                   events_per_second_between_chips=float(r["events_per_second_between_chips"]),
                   time_scale=float(spec["time_scale"]))

    @property
    def circuits(self) -> int:
        return self.hemispheres * self.columns

    @property
    def synapses(self) -> int:
        return self.hemispheres * self.rows * self.columns

    @property
    def max_weight(self) -> int:
        return (1 << self.weight_bits) - 1

    @property
    def labels(self) -> int:
        return 1 << self.address_bits


def value_problems(spec: dict) -> list[str]:
    """What makes a schema-valid bss2 spec not a chip, as 'key.path: problem' strings."""
    problems = []
    resources = spec["resources"]
    for key in _POSITIVE_COUNTS:
        if resources[key] < 1:
            problems.append(f"resources.{key}: must be >= 1, got {resources[key]}")
    if resources["weight_bits"] > 15:
        problems.append(f"resources.weight_bits: at most 15 (weights are int16), got {resources['weight_bits']}")
    if resources["rows_per_driver"] != 2:
        problems.append("resources.rows_per_driver: snnc places a signed input on the two rows of one "
                        f"driver, so it must be 2, got {resources['rows_per_driver']}")
    elif resources["rows_per_hemisphere"] != resources["synapse_drivers_per_hemisphere"] * 2:
        problems.append(f"resources.rows_per_hemisphere: must be synapse_drivers_per_hemisphere * "
                        f"rows_per_driver = {resources['synapse_drivers_per_hemisphere'] * 2}, "
                        f"got {resources['rows_per_hemisphere']}")
    if resources["events_per_second_between_chips"] <= 0:
        problems.append("resources.events_per_second_between_chips: must be > 0")
    if spec["time_scale"] <= 0:
        problems.append(f"time_scale: must be > 0, got {spec['time_scale']}")
    for name, bounds in spec.get("parameter_ranges", {}).items():
        if len(bounds) != 2 or bounds[0] > bounds[1]:
            problems.append(f"parameter_ranges.{name}: expected [low, high] with low <= high, got {bounds}")
    return problems
