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

Units: weights in model units, `scale` in LSB per model unit, rates in events per chip second, times in chip
seconds. The maths making these (quantizing, routing, packing, estimating): compiler/targets/bss2*.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from snnc.compiler.ir.checks import Problem, array_problems, at_least, within
from snnc.compiler.ir.counting import distinct_counted
from snnc.compiler.ir.serialize import serializable

ROW_SIGNS = {"signed": ("exc", "inh"), "positive": ("exc",), "negative": ("inh",)}  # by projection sign


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

    def problems(self, sign: str) -> list[Problem]:
        expected = ROW_SIGNS.get(sign)
        if self.row_signs != expected:
            return [("row_signs", f"a {sign} projection has rows {list(expected or ())}, got {list(self.row_signs)}")]
        return []


@serializable
@dataclass(frozen=True, eq=False)
class Legalization:
    """A projection's weights as its synapses hold them. hw_weights = round(w * scale), clipped to
    |hw| <= 2**weight_bits - 1 and to the projection's sign (int16, one per synapse: (pre, post) for a dense
    projection, (nnz,) aligned with a sparse one's synapses, ir/synapses.py); the deployed weight is
    hw / scale. quant_rmse and quant_max: RMSE and largest |hw / scale - w| over the synapses (model units)."""

    scale: float  # LSB per model unit
    hw_weights: np.ndarray
    quant_rmse: float
    quant_max: float

    def problems(self, shape: tuple[int, ...], sign: str, weight_bits: int) -> list[Problem]:
        """hw_weights int16 of the projection's synapses' shape, within the synapses' range and the sign."""
        problems = [("scale", f"must be > 0, got {self.scale:g}")] if self.scale <= 0 else []
        problems += at_least(self, ("quant_rmse", "quant_max"), 0)
        found = array_problems(self.hw_weights, "hw_weights", np.int16, shape)
        if found:
            return problems + found
        largest = (1 << weight_bits) - 1
        low, high = (0 if sign == "positive" else -largest), (0 if sign == "negative" else largest)
        return problems + within(self.hw_weights, "hw_weights", low, high, f" ({weight_bits}-bit synapses, {sign})")


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

    def problems(self) -> list[Problem]:
        return at_least(self, ("signed", "exc", "inh", "rows"), 0)

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

    def problems(self) -> list[Problem]:
        return at_least(self, ("circuits_per_neuron",), 1)


@serializable
@dataclass(frozen=True)
class Chunk:
    """Neurons [start, stop) of a population, on chip `chip` of a partition."""

    population: str
    start: int
    stop: int
    chip: int

    def problems(self) -> list[Problem]:
        problems = at_least(self, ("start", "chip"), 0)
        if self.stop <= self.start:
            problems.append(("stop", f"must be > start ({self.start}), got {self.stop}"))
        return problems


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

    def problems(self) -> list[Problem]:
        return at_least(self, ("crossing_sources", "event_copies", "peak_events_per_second",
                               "budget_events_per_second"), 0)


@serializable
@dataclass(frozen=True)
class Usage:
    """What a partition uses of its chips, in total over them."""

    neuron_circuits: int
    synapse_rows: int
    synapse_drivers: int
    synapses: int

    def problems(self) -> list[Problem]:
        return at_least(self, ("neuron_circuits", "synapse_rows", "synapse_drivers", "synapses"), 0)


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

    def problems(self) -> list[Problem]:
        problems = at_least(self, ("index", "replayed_sources"), 0) + at_least(self, ("chips",), 1)
        return problems + [(f"chunks[{i}].chip", f"must be < chips ({self.chips}), got {chunk.chip}")
                           for i, chunk in enumerate(self.chunks) if chunk.chip >= self.chips]


@serializable
@dataclass(frozen=True, eq=False)
class Placement:
    """Where a population's neurons sit: circuits[i, t] is the global id of merged circuit t of neuron i,
    chip * circuits_per_chip + hemisphere * columns + column (int32, (size, circuits_per_neuron)).
    Circuits are unique within a partition; partitions run one after another and may reuse them."""

    circuits: np.ndarray

    def problems(self, size: int, circuits_per_neuron: int, circuits: int) -> list[Problem]:
        """int32 (size, circuits_per_neuron) global circuit ids below `circuits` (all chips')."""
        found = array_problems(self.circuits, "circuits", np.int32, (size, circuits_per_neuron))
        return found or within(self.circuits, "circuits", 0, circuits - 1, f" ({circuits} circuits on the chips)")


@serializable
@dataclass(frozen=True, eq=False)
class SynapseRows:
    """Where a projection's synapses sit: source i reaches merged circuit `slot[i]` of every target neuron
    (int16, (pre,)); a synapse sits on row `exc_row` (excitatory) and/or `inh_row` (inhibitory) of that
    circuit's hemisphere (int16, one per synapse: (pre, post) for a dense projection, (nnz,) aligned with a
    sparse one's synapses; -1: none of that kind). Rows are packed per synapse column, so a sparse projection
    takes only the rows its synapses need."""

    slot: np.ndarray
    exc_row: np.ndarray
    inh_row: np.ndarray

    def problems(self, pre: int, shape: tuple[int, ...], circuits_per_neuron: int, rows: int,
                 row_signs: tuple[str, ...]) -> list[Problem]:
        """slot int16 (pre,) on the target's merged circuits; rows int16 of the synapses' `shape`, within a
        hemisphere: one of each kind the sign split has for every synapse, -1 for the other kind (which mode
        each row's driver is in: targets/program_checks.py, from the routing table)."""
        found = array_problems(self.slot, "slot", np.int16, (pre,)) + [
            p for key in ("exc_row", "inh_row") for p in array_problems(getattr(self, key), key, np.int16, shape)]
        if found:
            return found
        problems = within(self.slot, "slot", 0, circuits_per_neuron - 1, " (the target's merged circuits)")
        for key, kind in (("exc_row", "exc"), ("inh_row", "inh")):
            row = getattr(self, key)
            problems += within(row, key, -1, rows - 1, f" (-1 or one of the {rows} rows of a hemisphere)")
            if kind in row_signs and np.any(row < 0):
                problems.append((key, f"-1 for {int(np.sum(row < 0)):,} synapses that exist"))
            if kind not in row_signs and np.any(row >= 0):
                problems.append((key, f"a row for {int(np.sum(row >= 0)):,} synapses of the other sign"))
        return problems


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

    def problems(self, drivers: int, buses: int, bus: int, labels: int) -> list[Problem]:
        problems = [("drivers", f"must be distinct drivers d < {drivers} with d % {buses} == {bus} (on the bus), got "
                     f"{list(self.drivers)[:8]}")] if (len(set(self.drivers)) != len(self.drivers) or any(
                         not 0 <= d < drivers or d % buses != bus for d in self.drivers)) else []
        problems += at_least(self, ("exc_rows", "inh_rows", "internal"), 0)
        if self.exc_rows + self.inh_rows > 2 * len(self.drivers):
            problems.append(("exc_rows", f"exc_rows + inh_rows must be at most the {2 * len(self.drivers)} rows of "
                             "its drivers"))
        if not self.internal <= self.sources <= labels:
            problems.append(("sources", f"must be from internal ({self.internal}) to {labels} (labels), got "
                             f"{self.sources}"))
        return problems


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

    def problems(self, chips: int, chip: Any) -> list[Problem]:
        """On one of the partition's `chips` of `chip` (a targets.bss2.Chip), at most its label groups."""
        problems = [(key, f"must be in [0, {high}), got {getattr(self, key)}") for key, high in
                    (("chip", chips), ("hemisphere", chip.hemispheres), ("bus", chip.buses))
                    if not 0 <= getattr(self, key) < high]
        if len(self.groups) > chip.label_groups:
            problems.append(("groups", f"{len(self.groups)}; a bus tells {chip.label_groups} apart"))
        if len({d for g in self.groups for d in g.drivers}) != self.drivers:
            problems.append(("groups", "two label groups share a driver"))
        return problems + [(f"groups[{i}].{key}", phrase) for i, group in enumerate(self.groups) for key, phrase in
                           group.problems(chip.drivers, chip.buses, self.bus, chip.labels)]

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

    def problems(self, chips: int, chip: Any, sizes: dict[str, int]) -> list[Problem]:
        """Its buses on the chips (each once), equal-length arrays of their dtypes, every entry in a label
        group of its bus that counts it, one label per source of a group, `nodes` of the network."""
        problems = [(f"buses[{i}].{key}" if key else f"buses[{i}]", phrase) for i, route in enumerate(self.buses)
                    for key, phrase in route.problems(chips, chip)]
        routes = {(r.chip, r.hemisphere, r.bus): r for r in self.buses}
        if len(routes) != len(self.buses):
            problems.append(("buses", "a (chip, hemisphere, bus) appears twice"))
        columns = {"chip": np.int32, "hemisphere": np.int8, "bus": np.int8, "group": np.int16, "source": np.int32,
                   "neuron": np.int32, "label": np.int16}
        shape = (len(self.chip) if isinstance(self.chip, np.ndarray) and self.chip.ndim == 1 else 0,)
        problems += [p for key, kind in columns.items() for p in array_problems(getattr(self, key), key, kind, shape)]
        problems += [("nodes", f"'{node}' is not a node of the network") for node in self.nodes if node not in sizes]
        if problems:
            return problems
        problems = (within(self.label, "label", 0, chip.labels - 1) + within(self.source, "source", 0,
                                                                              len(self.nodes) - 1))
        problems += within(self.chip, "chip", 0, chips - 1) + within(self.hemisphere, "hemisphere", 0,
                                                                     chip.hemispheres - 1)
        problems += within(self.bus, "bus", 0, chip.buses - 1) + within(self.group, "group", 0, chip.label_groups - 1)
        if problems:
            return problems
        group_key = ((self.chip.astype(np.int64) * chip.hemispheres + self.hemisphere) * chip.buses
                     + self.bus) * chip.label_groups + self.group  # (all non-negative and bounded: checked)
        keys, group_index, counts = distinct_counted(group_key)
        for key, count in zip(keys.tolist(), counts.tolist()):
            rest, g = divmod(key, chip.label_groups)
            rest, b = divmod(rest, chip.buses)
            c, h = divmod(rest, chip.hemispheres)
            route = routes.get((c, h, b))
            if route is None or not g < len(route.groups) or route.groups[g].sources != count:
                return [("group", f"entries of chip {c}, hemisphere {h}, bus {b}, group {g}: no such label group, or "
                         "it counts another number of sources")]
        limits = np.array([sizes[node] for node in self.nodes], np.int64)[self.source]
        if np.any((self.neuron < 0) | (self.neuron >= limits)):
            problems.append(("neuron", "names neurons beyond the size of their node"))
        labelled = np.sort(group_index.astype(np.int64) * chip.labels + self.label)  # (np.unique: 5 s for 3.6M)
        repeats = int(np.count_nonzero(labelled[1:] == labelled[:-1]))
        return problems + ([("label", f"{repeats:,} entries repeat a (chip, hemisphere, bus, group, label)")]
                           if repeats else [])

    def row_modes(self, chip: int, hemisphere: int, rows: int) -> np.ndarray:
        """+1 excitatory, -1 inhibitory, 0 unused, per synapse row of one hemisphere (int8): `modes`."""
        here = [r for r in self.buses if (r.chip, r.hemisphere) == (chip, hemisphere)]
        return self.modes(chip + 1, hemisphere + 1, rows, here)[chip, hemisphere]

    def modes(self, chips: int, hemispheres: int, rows: int, buses: Any = None) -> np.ndarray:
        """Per synapse row of every hemisphere of the first `chips` chips, (chips, hemispheres, rows) int8: +1
        excitatory, -1 inhibitory, 0 unused (from `buses`, by default all). A group's drivers d carry rows
        2d and 2d + 1, its excitatory rows first."""
        modes = np.zeros((chips, hemispheres, rows), np.int8)
        for route in self.buses if buses is None else buses:
            if route.chip >= chips or route.hemisphere >= hemispheres:
                continue
            for group in route.groups:
                drivers = np.array(group.drivers, np.int64)
                group_rows = np.stack([2 * drivers, 2 * drivers + 1], 1).ravel()
                modes[route.chip, route.hemisphere, group_rows[:group.exc_rows]] = 1
                modes[route.chip, route.hemisphere, group_rows[group.exc_rows:group.exc_rows + group.inh_rows]] = -1
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

    def problems(self) -> list[Problem]:
        return at_least(self, tuple(self.__dataclass_fields__), 0)
