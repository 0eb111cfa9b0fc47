"""The BrainScaleS-2 family: the exact schema of its target YAML, the chip model, and the chip's maths
(weight quantization, driver plans) that the passes, the emulator and the report share.

Every number lives in the YAML (bss2.yaml or a user's variant); this module only names them, checks
the values make a chip (counts >= 1, ranges ordered) and derives the figures the passes share."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from snnc.compiler.ir.bss2_records import DriverPlan, FanIn, Legalization
from snnc.compiler.targets.schema import ListOf, OpenMapping, Optional, family_schema

BSS2_SCHEMA: dict = family_schema("bss2", {
    "resources": {
        "hemispheres": int,
        "columns_per_hemisphere": int,
        "rows_per_hemisphere": int,
        "synapse_drivers_per_hemisphere": int,
        "rows_per_driver": int,
        "weight_bits": int,
        "address_bits": int,
        "readout_bits": int,
        # The CADC's input range [low, high] in units of (v_th - v_leak) around v_leak.
        "readout_range": ListOf(float),
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
})

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
    chips: int  # chips to map onto: `--chips N`, else the target's `resources.chips`

    @classmethod
    def from_spec(cls, spec: dict, chips: int | None = None) -> Chip:
        """The chip of a validated bss2 spec; built once, when the target is loaded."""
        r = spec["resources"]
        return cls(hemispheres=r["hemispheres"], columns=r["columns_per_hemisphere"],
                   rows=r["rows_per_hemisphere"], drivers=r["synapse_drivers_per_hemisphere"],
                   rows_per_driver=r["rows_per_driver"], weight_bits=r["weight_bits"],
                   address_bits=r["address_bits"],
                   events_per_second_between_chips=float(r["events_per_second_between_chips"]),
                   time_scale=float(spec["time_scale"]), chips=int(chips or r["chips"]))

    @property
    def circuits(self) -> int:
        """Neuron circuits per chip."""
        return self.hemispheres * self.columns

    def columns_for(self, circuits_per_neuron: int) -> int:
        """Columns a logical neuron of `c` merged circuits takes: a single circuit shares its column;
        merged ones take whole columns (every hemisphere, so the fan-in draws rows from all of them)."""
        return 0 if circuits_per_neuron == 1 else math.ceil(circuits_per_neuron / self.hemispheres)

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
    low_high = resources["readout_range"]
    if len(low_high) != 2 or not low_high[0] < low_high[1]:
        problems.append(f"resources.readout_range: must be [low, high] with low < high, got {low_high}")
    if resources["events_per_second_between_chips"] <= 0:
        problems.append("resources.events_per_second_between_chips: must be > 0")
    if spec["time_scale"] <= 0:
        problems.append(f"time_scale: must be > 0, got {spec['time_scale']}")
    for name, bounds in spec.get("parameter_ranges", {}).items():
        if len(bounds) != 2 or bounds[0] > bounds[1]:
            problems.append(f"parameter_ranges.{name}: expected [low, high] with low <= high, got {bounds}")
    return problems


def circuits_for(plan: DriverPlan, fan_in: FanIn) -> int:
    """Fewest merged circuits holding these inputs under `plan` (0 when the plan cannot hold them)."""
    return int(circuits_needed(np.array([plan.signed]), np.array([plan.exc]), np.array([plan.inh]),
                               fan_in.signed, fan_in.exc, fan_in.inh)[0])


def circuits_needed(S: np.ndarray, E: np.ndarray, I: np.ndarray, signed: int, exc: int, inh: int  # noqa: E741
                    ) -> np.ndarray:
    """Circuits per neuron for each candidate plan (arrays of driver counts); 0 where infeasible.
    A circuit offers S signed pairs, S + 2E excitatory and S + 2I inhibitory rows; signed inputs use
    both rows of a pair, so c must satisfy s <= cS, p + s <= c(S + 2E), n + s <= c(S + 2I)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        parts = [_ceil_ratio(signed, S), _ceil_ratio(exc + signed, S + 2 * E), _ceil_ratio(inh + signed, S + 2 * I)]
    c = np.maximum.reduce(parts)
    c = np.maximum(c, 1.0)
    return np.where(np.isfinite(c), c, 0).astype(np.int64)


def _ceil_ratio(numerator: int, capacity: np.ndarray) -> np.ndarray:
    capacity = capacity.astype(np.float64)
    if numerator == 0:
        return np.zeros_like(capacity)
    return np.where(capacity > 0, np.ceil(numerator / np.maximum(capacity, 1)), np.inf)


def choose_plan(chip: Chip, demands: list[tuple[int, int, int, int]]) -> DriverPlan:
    """The driver plan using the fewest circuits for populations given as (size, signed, exc, inh)
    input counts; among equals the one with most signed drivers (a network of signed projections
    gets every driver signed). Plans that would merge so many circuits that one driver relays more
    sources than its address labels tell apart are avoided while another plan exists."""
    D = chip.drivers
    S, E = np.meshgrid(np.arange(D + 1), np.arange(D + 1), indexing="ij")
    keep = S + E <= D
    S, E = S[keep], E[keep]
    I = D - S - E  # noqa: E741
    cost = np.zeros(S.shape, np.float64)
    crowded = np.zeros(S.shape, bool)
    for size, signed, exc, inh in demands:
        c = circuits_needed(S, E, I, signed, exc, inh)
        footprint = np.where(c > 1, np.ceil(c / chip.hemispheres) * chip.hemispheres, c)
        cost += np.where(c > 0, size * footprint, np.inf)
        # Each merged circuit of a hemisphere puts one signed source, or two sign-constrained ones, on
        # every driver it uses; all of them need distinct labels.
        per_driver = 1 if exc == inh == 0 else 2
        crowded |= np.ceil(c / chip.hemispheres) * per_driver > chip.labels
    if not crowded.all():
        cost = np.where(crowded, np.inf, cost)
    order = np.lexsort((-E, -S, cost))  # lowest cost, then most signed, then most excitatory drivers
    best = order[0]
    return DriverPlan(int(S[best]), int(E[best]), int(I[best]))


def quantize_weights(weights: np.ndarray, scale: float, bits: int, sign: str) -> np.ndarray:
    """Model weights -> int16 hardware weights: round(w * scale), clipped to the magnitude
    2**bits - 1 and to the projection's sign ("signed", "positive" or "negative"). Pure."""
    largest = (1 << bits) - 1
    low = 0 if sign == "positive" else -largest
    high = 0 if sign == "negative" else largest
    scaled = np.rint(np.asarray(weights, dtype=np.float64) * float(scale))
    return np.clip(scaled, low, high).astype(np.int16)


def choose_scale(weights: np.ndarray, mask: np.ndarray | None, bits: int) -> float:
    """Hardware units per model unit: the largest magnitude among existing synapses maps onto the
    largest hardware weight, so nothing clips and the full resolution is used."""
    present = weights if mask is None else weights[mask]
    largest = float(np.max(np.abs(present))) if present.size else 0.0
    return ((1 << bits) - 1) / largest if largest > 0 else float((1 << bits) - 1)


def quantization_error(weights: np.ndarray, hw_weights: np.ndarray, scale: float,
                       mask: np.ndarray | None) -> tuple[float, float]:
    """RMSE and largest absolute error, in model units, of the deployed weights hw / scale."""
    error = hw_weights.astype(np.float64) / scale - weights  # (float64: a scale may pass float32's range)
    if mask is not None:
        error = error[mask]
    if not error.size:
        return 0.0, 0.0
    return float(np.sqrt(np.mean(np.square(error)))), float(np.max(np.abs(error)))


def legalize(weights: np.ndarray, mask: np.ndarray | None, scale: float, bits: int, sign: str) -> Legalization:
    """Model weights as the synapses hold them at `scale`: quantized, 0 where no synapse, with the error."""
    hw = quantize_weights(weights, scale, bits, sign)
    if mask is not None:
        hw[~np.asarray(mask)] = 0  # no synapse, no weight
    rmse, largest = quantization_error(weights, hw, scale, mask)
    return Legalization(scale=float(scale), hw_weights=hw, quant_rmse=rmse, quant_max=largest)
