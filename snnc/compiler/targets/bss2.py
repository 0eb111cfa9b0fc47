"""The BrainScaleS-2 family: the exact schema of its target YAML, the chip model, and the chip's maths
(weight quantization) that the passes, the emulator and the report share.

Every number lives in the YAML (bss2.yaml or a user's variant); this module only names them, checks
the values make a chip (counts >= 1, ranges ordered) and derives the figures the passes share."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from snnc.compiler.ir.bss2_records import Legalization
from snnc.compiler.targets.schema import Interval, Range, Strict, TargetBase, count, number

MAX_CHIPS = 1 << 14  # chips one target (or --chips) may have (multi-chip systems of thousands: issue 15)
MAX_CIRCUITS = 1 << 28  # neuron circuits on all chips together (placement keeps a table of them)
MAX_SYNAPSES_PER_CHIP = 1 << 26  # (BrainScaleS-2 has 2^17)
Fraction = number(0.0, 1.0)  # a relative standard deviation


class Resources(Strict):
    hemispheres: count(1, 16)
    columns_per_hemisphere: count(1, 1 << 16)
    rows_per_hemisphere: count(1, 1 << 16)
    synapse_drivers_per_hemisphere: count(1, 1 << 15)
    rows_per_driver: count(1, 16)
    padi_buses_per_hemisphere: count(1, 64)
    neuron_event_outputs: count(1, 1 << 16)
    row_select_bits: count(1, 15)  # (label groups are indexed by int16)
    weight_bits: count(1, 15)  # (hardware weights are int16)
    address_bits: count(1, 15)  # (labels are int16)
    background_spike_sources: count(0, 1 << 16)
    event_latency: number(0.0, 1.0)  # chip seconds from a spike to its synapses
    readout_bits: count(1, 24)
    # The CADC's input range [low, high] in units of (v_th - v_leak) around v_leak.
    readout_range: Interval
    # Seconds of chip time between two CADC samples of a neuron (the membrane readout in the loop).
    cadc_interval: number(positive=True, high=1.0)
    chips: count(1, MAX_CHIPS)
    events_per_second_between_chips: number(positive=True)


class Estimates(Strict):
    chip_power: number(positive=True, high=1e6)  # W
    sample_gap: number(0.0, 1e6)  # chip seconds between samples
    input_events_per_second: number(positive=True)
    reconfiguration_time: number(0.0, 1e6)  # s per partition switch
    samples_per_configuration: count(1, 1 << 30)


class Noise(Strict):
    tau_mem_mismatch: Fraction
    tau_syn_mismatch: Fraction
    threshold_mismatch: number(0.0, 10.0)  # in units of (v_th - v_leak)
    leak_mismatch: number(0.0, 10.0)  # in units of (v_th - v_leak)
    weight_mismatch: Fraction
    membrane_noise: number(0.0, 10.0)  # standard deviation per step, in units of (v_th - v_leak)


class Bss2Target(TargetBase):
    """The exact schema of a bss2 target's YAML; a key added to bss2.yaml is a field added here."""

    family: Literal["bss2"]
    resources: Resources
    # [low, high] of a neuron parameter on the chip, i.e. after time scaling for times.
    parameter_ranges: dict[str, Range] = {}
    estimates: Estimates
    noise: Noise


BSS2_SCHEMA = Bss2Target


@dataclass(frozen=True)
class Chip:
    """One BrainScaleS-2 chip as the passes see it (read from a validated target spec)."""

    hemispheres: int
    columns: int  # neuron circuits per hemisphere
    rows: int  # synapse rows per hemisphere
    drivers: int  # synapse drivers per hemisphere
    rows_per_driver: int
    buses: int  # PADI buses per hemisphere; driver d listens to bus d % buses
    event_outputs: int  # neuron event outputs per chip; column c sends through c // (columns / event_outputs)
    row_select_bits: int  # PADI row-select address: how many label groups one bus tells apart
    weight_bits: int
    address_bits: int  # synapse label: how many sources one label group tells apart
    event_latency: float  # chip seconds from a spike to its synapses (no programmable delays)
    events_per_second_between_chips: float
    time_scale: float
    chips: int  # chips to map onto: `--chips N`, else the target's `resources.chips`

    @classmethod
    def from_spec(cls, spec: dict, chips: int | None = None) -> Chip:
        """The chip of a validated bss2 spec; built once, when the target is loaded."""
        r = spec["resources"]
        return cls(hemispheres=r["hemispheres"], columns=r["columns_per_hemisphere"],
                   rows=r["rows_per_hemisphere"], drivers=r["synapse_drivers_per_hemisphere"],
                   rows_per_driver=r["rows_per_driver"], buses=r["padi_buses_per_hemisphere"],
                   event_outputs=r["neuron_event_outputs"], row_select_bits=r["row_select_bits"],
                   weight_bits=r["weight_bits"], address_bits=r["address_bits"],
                   event_latency=float(r["event_latency"]),
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
        """Sources one label group (drivers sharing a row-select address) tells apart."""
        return 1 << self.address_bits

    @property
    def label_groups(self) -> int:
        """Label groups one PADI bus tells apart (row-select addresses)."""
        return 1 << self.row_select_bits

    @property
    def drivers_per_bus(self) -> int:
        return self.drivers // self.buses

    @property
    def sources_per_hemisphere(self) -> int:
        """The most sources a hemisphere tells apart: a label each, in label groups of at least one driver."""
        return self.buses * min(self.label_groups, self.drivers_per_bus) * self.labels

    @property
    def columns_per_event_output(self) -> int:
        """Neuron columns sharing one event output (both hemispheres' circuits of a column send through it)."""
        return self.columns // self.event_outputs

    def bus_of_column(self, column: np.ndarray) -> np.ndarray:
        """The PADI bus (in every hemisphere) a neuron circuit's spikes reach: that of its column's event
        output, the crossbar's fixed diagonal."""
        return (np.asarray(column) // self.columns_per_event_output) % self.buses

    def circuits_for_rows(self, rows: int) -> int:
        """Fewest merged circuits whose synapse columns hold `rows` synapses (one row each)."""
        return max(1, math.ceil(rows / self.rows))


def value_problems(spec: dict) -> list[str]:
    """What makes a schema-valid bss2 spec not a chip, as 'key.path: problem' strings."""
    problems = []
    resources = spec["resources"]
    if resources["rows_per_driver"] != 2:
        problems.append("resources.rows_per_driver: a BrainScaleS-2 synapse driver relays onto two rows, "
                        f"so it must be 2, got {resources['rows_per_driver']}")
    elif resources["rows_per_hemisphere"] != resources["synapse_drivers_per_hemisphere"] * 2:
        problems.append(f"resources.rows_per_hemisphere: must be synapse_drivers_per_hemisphere * "
                        f"rows_per_driver = {resources['synapse_drivers_per_hemisphere'] * 2}, "
                        f"got {resources['rows_per_hemisphere']}")
    if resources["synapse_drivers_per_hemisphere"] % resources["padi_buses_per_hemisphere"]:
        problems.append("resources.padi_buses_per_hemisphere: must divide synapse_drivers_per_hemisphere "
                        f"({resources['synapse_drivers_per_hemisphere']}), "
                        f"got {resources['padi_buses_per_hemisphere']}")
    outputs, columns = resources["neuron_event_outputs"], resources["columns_per_hemisphere"]
    if columns % outputs:
        problems.append(f"resources.neuron_event_outputs: must divide columns_per_hemisphere ({columns}), "
                        f"got {outputs}")
    circuits = resources["hemispheres"] * columns
    if circuits > MAX_CIRCUITS // MAX_CHIPS:
        problems.append(f"resources: hemispheres x columns_per_hemisphere = {circuits:,} neuron circuits per chip; "
                        f"at most {MAX_CIRCUITS // MAX_CHIPS:,}")
    elif circuits * resources["rows_per_hemisphere"] > MAX_SYNAPSES_PER_CHIP:
        problems.append(f"resources: {circuits * resources['rows_per_hemisphere']:,} synapses per chip "
                        f"(circuits x rows_per_hemisphere); at most {MAX_SYNAPSES_PER_CHIP:,}")
    return problems


def quantize_weights(weights: np.ndarray, scale: float, bits: int, sign: str) -> np.ndarray:
    """Model weights -> int16 hardware weights: round(w * scale), clipped to the magnitude
    2**bits - 1 and to the projection's sign ("signed", "positive" or "negative"). Pure."""
    largest = (1 << bits) - 1
    low = 0 if sign == "positive" else -largest
    high = 0 if sign == "negative" else largest
    scaled = np.rint(np.asarray(weights, dtype=np.float64) * float(scale))
    return np.clip(scaled, low, high).astype(np.int16)


def choose_scale(weights: np.ndarray, bits: int) -> float:
    """Hardware units per model unit: the largest magnitude among the synapses (a dense projection's matrix
    or a sparse one's weight vector) maps onto the largest hardware weight, so nothing clips and the full
    resolution is used."""
    largest = float(np.max(np.abs(weights))) if weights.size else 0.0
    return ((1 << bits) - 1) / largest if largest > 0 else float((1 << bits) - 1)


def quantization_error(weights: np.ndarray, hw_weights: np.ndarray, scale: float) -> tuple[float, float]:
    """RMSE and largest absolute error, in model units, of the deployed weights hw / scale."""
    if not weights.size:
        return 0.0, 0.0
    error = hw_weights.astype(np.float64) / scale - weights  # (float64: a scale may pass float32's range)
    return float(np.sqrt(np.mean(np.square(error)))), float(np.max(np.abs(error)))


def legalize(weights: np.ndarray, scale: float, bits: int, sign: str) -> Legalization:
    """The synapses' model weights (a dense matrix or a sparse projection's vector) as the synapses hold them
    at `scale`: quantized, with the error."""
    hw = quantize_weights(weights, scale, bits, sign)
    rmse, largest = quantization_error(weights, hw, scale)
    return Legalization(scale=float(scale), hw_weights=hw, quant_rmse=rmse, quant_max=largest)
