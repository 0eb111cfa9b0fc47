"""What the bss2 passes add to the IR: typed, frozen records, each under one attribute key, each with its
contract (the runtime's emulator and the report read them; program.json and weights.npz hold them).

| key            | on    | record                | set by                                                  |
|----------------|-------|-----------------------|---------------------------------------------------------|
| `sign_split`   | edge  | SignSplit             | split_signs                                             |
| `legalization` | edge  | Legalization          | legalize_weights (training's export deploys new weights) |
| `merge`        | node  | Merge                 | merge_circuits                                          |
| `driver_plan`  | graph | DriverPlan            | merge_circuits                                          |
| `partitions`   | graph | list[ChipPartition]   | partition_network (`resources`: account_bss2_resources) |
| `placement`    | node  | Placement             | place_neurons                                           |
| `synapse_rows` | edge  | SynapseRows           | route_synapses                                          |
| `routing`      | graph | list[RoutingTable]    | route_synapses                                          |

Units: weights in model units, `scale` in LSB per model unit, rates in events per chip second. The maths
that makes these (quantization, driver plans, packing) lives in snnc/compiler/targets/bss2*.py."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from snnc.compiler.ir.serialize import serializable


@serializable
@dataclass(frozen=True)
class SignSplit:
    """A projection's rows per source: the sign is a property of a synapse row on BrainScaleS-2, so a
    signed projection needs an excitatory and an inhibitory row per source (`("exc", "inh")`), a
    `positive` one an excitatory row (`("exc",)`), a `negative` one an inhibitory row (`("inh",)`)."""

    row_signs: tuple[str, ...]

    @property
    def rows_per_source(self) -> int:
        return len(self.row_signs)


@serializable
@dataclass(frozen=True, eq=False)
class Legalization:
    """A projection's weights as its synapses hold them. hw_weights = round(w * scale), clipped to
    |hw| <= 2**weight_bits - 1 and to the projection's sign, 0 where no synapse (int16, (pre, post)); the
    deployed weight is hw / scale. quant_rmse and quant_max: RMSE and largest |hw / scale - w| over the
    existing synapses (model units)."""

    scale: float  # LSB per model unit
    hw_weights: np.ndarray
    quant_rmse: float
    quant_max: float


@serializable
@dataclass(frozen=True)
class FanIn:
    """A population's inputs by kind, counted in source neurons: of signed projections (a row pair each),
    of `positive` ones (one excitatory row each) and of `negative` ones (one inhibitory row each)."""

    signed: int
    exc: int
    inh: int

    def describe(self) -> str:
        """'246 signed inputs', '100 excitatory and 10 inhibitory inputs'."""
        parts = [f"{count:,} {word}" for count, word in
                 ((self.signed, "signed"), (self.exc, "excitatory"), (self.inh, "inhibitory")) if count]
        if not parts:
            return "no inputs"
        return (", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]) + " inputs"


@serializable
@dataclass(frozen=True)
class Merge:
    """How many neuron circuits each logical neuron of a population merges (one membrane, the rows of all
    of them): the fewest whose rows hold `fan_in` under the driver plan."""

    fan_in: FanIn
    circuits_per_neuron: int


@serializable
@dataclass(frozen=True)
class DriverPlan:
    """How every hemisphere's synapse drivers are set, identical on all hemispheres and chips, so a row's
    sign mode never depends on who uses it: drivers [0, signed) carry an excitatory row (2d) and an
    inhibitory row (2d + 1), then `exc` drivers with two excitatory rows, then `inh` drivers with two
    inhibitory rows. A signed input takes both rows of one signed driver; an excitatory-only input one
    excitatory row, an inhibitory-only input one inhibitory row."""

    signed: int
    exc: int
    inh: int

    def row_modes(self) -> np.ndarray:
        """+1 (excitatory) or -1 (inhibitory) per row of a hemisphere (int8)."""
        return np.concatenate([np.tile(np.array([1, -1], np.int8), self.signed),
                               np.ones(2 * self.exc, np.int8), -np.ones(2 * self.inh, np.int8)])


@serializable
@dataclass(frozen=True)
class Chunk:
    """Neurons [start, stop) of a population, on chip `chip` of a partition."""

    population: str
    start: int
    stop: int
    chip: int


@serializable
@dataclass(frozen=True)
class ChipLinks:
    """Spikes a partition's chips send each other: source neurons whose spikes cross to another chip, the
    event copies (one per source neuron and destination chip), and the busiest chip's outgoing events at
    peak firing against what its link carries (events per chip second)."""

    crossing_sources: int
    event_copies: int
    peak_events_per_second: float
    budget_events_per_second: float


@serializable
@dataclass(frozen=True)
class Usage:
    """What a partition uses of its chips, in total over them."""

    neuron_circuits: int
    synapse_rows: int
    synapse_drivers: int
    synapses: int


@serializable
@dataclass(frozen=True)
class ChipPartition:
    """A part of the network that runs at once on `chips` chips; partitions run one after another, the
    spikes of `replayed_sources` source neurons of earlier partitions recorded and replayed."""

    index: int
    populations: tuple[str, ...]
    chips: int
    chunks: tuple[Chunk, ...]
    replayed_sources: int
    chip_links: ChipLinks
    resources: Usage | None = None  # None until account_bss2_resources counts it


@serializable
@dataclass(frozen=True, eq=False)
class Placement:
    """Where a population's neurons sit: circuits[i, t] is the global id of merged circuit t of neuron i,
    chip * circuits_per_chip + hemisphere * columns + column (int32, (size, circuits_per_neuron)).
    Circuits are unique within a partition; partitions run one after another and may reuse them."""

    circuits: np.ndarray


@serializable
@dataclass(frozen=True, eq=False)
class SynapseRows:
    """Where each source neuron of a projection reaches the target population, alike for every target
    neuron: merged circuit `slot` of the neuron, on row `exc_row` (excitatory) and/or `inh_row`
    (inhibitory) of that circuit's hemisphere; -1 where it has no such row (int16 arrays, length pre)."""

    slot: np.ndarray
    exc_row: np.ndarray
    inh_row: np.ndarray


@serializable
@dataclass(frozen=True, eq=False)
class RoutingTable:
    """Which source neuron each synapse driver of one partition relays, under which address label: one
    entry per (chip, hemisphere, driver, source neuron), as equal-length arrays. The synapses on the
    driver's rows that serve the source listen to `label` (< 2**address_bits); `source` indexes `nodes`."""

    chip: np.ndarray  # int32
    hemisphere: np.ndarray  # int8
    driver: np.ndarray  # int16
    source: np.ndarray  # int32, into `nodes`
    neuron: np.ndarray  # int32, within the source node
    label: np.ndarray  # int16
    nodes: tuple[str, ...]
