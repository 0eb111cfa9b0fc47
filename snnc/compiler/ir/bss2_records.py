"""What the bss2 passes add to the IR: typed, frozen records, each under one attribute key, each with its
contract (the runtime's emulator and the report read them; program.json and weights.npz hold them).

| key            | on    | record                | set by                                                  |
|----------------|-------|-----------------------|---------------------------------------------------------|
| `sign_split`   | edge  | SignSplit             | split_signs                                             |
| `legalization` | edge  | Legalization          | legalize_weights (training's export deploys new weights) |
| `merge`        | node  | Merge                 | merge_circuits                                          |
| `partitions`   | graph | list[ChipPartition]   | partition_network (`resources`: account_bss2_resources) |
| `placement`    | node  | Placement             | place_neurons                                           |
| `synapse_rows` | edge  | SynapseRows           | route_synapses                                          |
| `routing`      | graph | list[RoutingTable]    | route_synapses                                          |
| `estimates`    | graph | Estimates             | account_bss2_resources                                  |

Units: weights in model units, `scale` in LSB per model unit, rates in events per chip second, times in
chip seconds. The maths that makes these (quantization, bus routing, packing, estimates) lives in
snnc/compiler/targets/bss2*.py."""

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
    """A population's inputs by kind, counted in source neurons: of signed projections (an excitatory and
    an inhibitory synapse each), of `positive` ones (one excitatory synapse) and of `negative` ones (one
    inhibitory synapse); `rows`: the synapses its busiest neuron takes, counting only existing synapses
    of sparse projections (each takes a synapse row of one of the neuron's circuits)."""

    signed: int
    exc: int
    inh: int
    rows: int

    @property
    def dense_rows(self) -> int:
        """The synapses a neuron would take if every projection were dense."""
        return 2 * self.signed + self.exc + self.inh

    def describe(self) -> str:
        """'246 signed inputs', '100 excitatory and 10 inhibitory inputs', '502 signed inputs (592
        synapses on the busiest neuron)' when sparse projections take fewer synapses than dense ones."""
        parts = [f"{count:,} {word}" for count, word in
                 ((self.signed, "signed"), (self.exc, "excitatory"), (self.inh, "inhibitory")) if count]
        if not parts:
            return "no inputs"
        text = (", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]) + " inputs"
        return text if self.rows == self.dense_rows else f"{text} ({self.rows:,} synapses on the busiest neuron)"


@serializable
@dataclass(frozen=True)
class Merge:
    """How many neuron circuits each logical neuron of a population merges (one membrane, the synapse
    columns of all of them): the fewest whose rows hold the synapses of its busiest neuron."""

    fan_in: FanIn
    circuits_per_neuron: int


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
    """Where a projection's synapses sit: source i reaches merged circuit `slot[i]` of every target neuron
    (int16, (pre,)); synapse (i, j) sits on row `exc_row[i, j]` (excitatory) and/or `inh_row[i, j]`
    (inhibitory) of that circuit's hemisphere (int16, (pre, post); -1: no such synapse). Rows are packed
    per synapse column, so a sparse projection takes only the rows its existing synapses need."""

    slot: np.ndarray
    exc_row: np.ndarray
    inh_row: np.ndarray


@serializable
@dataclass(frozen=True)
class LabelGroup:
    """Sources that one set of synapse drivers on a PADI bus relays: they share a row-select address, so
    their events reach exactly these drivers (indices within the hemisphere, all on the bus), and carry
    distinct synapse labels (at most 2**address_bits). Every synapse column on the drivers' rows listens
    to one of them per row: `exc_rows` excitatory and `inh_rows` inhibitory rows, as many as the busiest
    column takes from the group. `internal` of the `sources` are neurons of the same chip (their bus is
    that of their event output); the others come from the host (inputs, earlier partitions, other chips)."""

    drivers: tuple[int, ...]
    exc_rows: int
    inh_rows: int
    sources: int
    internal: int


@serializable
@dataclass(frozen=True)
class BusRoute:
    """One PADI bus of one chip's hemisphere in one partition: its label groups (each with drivers of its
    own) and the projections whose spikes it carries."""

    chip: int
    hemisphere: int
    bus: int
    groups: tuple[LabelGroup, ...]
    projections: tuple[str, ...]

    @property
    def drivers(self) -> int:
        return sum(len(g.drivers) for g in self.groups)

    @property
    def sources(self) -> int:
        return sum(g.sources for g in self.groups)


@serializable
@dataclass(frozen=True, eq=False)
class RoutingTable:
    """How one partition's spikes reach their synapses: the PADI buses in use (`buses`) and, one entry per
    (chip, hemisphere, bus, source neuron) as equal-length arrays, which label group of that bus relays
    the source (`group`, an index into the BusRoute's groups) under which synapse `label` (< 2**address_bits).
    `source` indexes `nodes`; an on-chip source has the same label on every bus it reaches."""

    buses: tuple[BusRoute, ...]
    chip: np.ndarray  # int32
    hemisphere: np.ndarray  # int8
    bus: np.ndarray  # int8
    group: np.ndarray  # int16
    source: np.ndarray  # int32, into `nodes`
    neuron: np.ndarray  # int32, within the source node
    label: np.ndarray  # int16
    nodes: tuple[str, ...]

    def row_modes(self, chip: int, hemisphere: int, rows: int) -> np.ndarray:
        """+1 excitatory, -1 inhibitory, 0 unused, per synapse row of one hemisphere (int8): a group's
        drivers d carry rows 2d and 2d + 1, its excitatory rows first."""
        modes = np.zeros(rows, np.int8)
        for route in self.buses:
            if route.chip != chip or route.hemisphere != hemisphere:
                continue
            for group in route.groups:
                drivers = np.array(group.drivers, np.int64)
                group_rows = np.stack([2 * drivers, 2 * drivers + 1], 1).ravel()
                modes[group_rows[:group.exc_rows]] = 1
                modes[group_rows[group.exc_rows:group.exc_rows + group.inh_rows]] = -1
        return modes


@serializable
@dataclass(frozen=True)
class Estimates:
    """What the compiled program would deliver on the chip, per sample: the emulation (`run_seconds`:
    every partition for the sample's duration, chip time, plus the gap between samples), the spikes the
    host plays in (`input_events`, at most, and `io_seconds` to play them, overlapped with the run),
    reloading partitions (amortized over a batch), and energy at the chip's published power."""

    samples_per_second: float
    energy_per_sample_j: float
    seconds_per_sample: float
    run_seconds: float
    io_seconds: float
    reconfiguration_seconds: float
    input_events: int
    partitions: int
    chip_power_w: float
