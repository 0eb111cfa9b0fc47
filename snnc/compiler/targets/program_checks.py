"""What a compiled program read back from a file must hold for its target family: every record the
family's passes add is there, and its arrays are in shape and range for the target's substrate (hardware
weights within the synapses' bits and sign, circuits on the chips and unique per partition, row modes,
routing tables, transmission levels, tiles on the device). The records' own `problems()` say what is
wrong inside each; these functions hand them the target's figures and check what links records together.

Each returns (key path, phrase) pairs, like snnc.compiler.ir.validate, whose generic checks ran first."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import networkx as nx
import numpy as np

from snnc.compiler.ir.bss2_records import ChipPartition
from snnc.compiler.ir.checks import unique_rows
from snnc.compiler.ir.graph import NetworkIR
from snnc.compiler.ir.neurons import PhotonDetector
from snnc.compiler.ir.onn_records import ModulatorPass
from snnc.compiler.ir.records import Partition
from snnc.compiler.ir.synapses import is_sparse
from snnc.compiler.ir.validate import Problem, edge_path, join, node_path
from snnc.compiler.targets.bss2 import Chip
from snnc.compiler.targets.onn import ENCODINGS, Optics, channels_per_weight

BSS2_RECORDS = {"graph": ("partitions", "routing"), "population": ("merge", "placement"),
                "edge": ("sign_split", "legalization", "synapse_rows")}
ONN_RECORDS = {"graph": ("partitions",), "population": (), "edge": ("transmissions", "tiles")}
DIGITAL_RECORDS = {"graph": ("partitions",), "population": (), "edge": ()}


def under(path: str, problems: Iterable[tuple[str, str]]) -> list[Problem]:
    """A record's own problems (keys relative to it) under the record's key path."""
    return [(path + (key if key.startswith("[") else f".{key}") if key else path, phrase) for key, phrase in problems]


def missing_records(ir: NetworkIR, required: dict[str, tuple[str, ...]], family: str) -> list[Problem]:
    """The records the family's passes add that are not there."""
    problems = [(join("ir.attrs", key), f"missing (every {family} program has it)")
                for key in required["graph"] if key not in ir.graph.graph]
    for population in ir.populations():
        problems += [(join(node_path(population.name), key), f"missing (every {family} program has it)")
                     for key in required["population"] if key not in ir.node_attrs(population.name)]
    for _, _, name, attrs in ir.edges():
        problems += [(join(edge_path(name), key), f"missing (every {family} program has it)")
                     for key in required["edge"] if key not in attrs]
    return problems


def partition_problems(ir: NetworkIR, record: type, once: bool, limit: int | None = None) -> list[Problem]:
    """Graph attr `partitions`: records of the family's type, indexed in order, naming populations of the
    network, every population in one of them (`once`: in exactly one)."""
    partitions = ir.graph.graph["partitions"]
    problems = [] if limit is None or len(partitions) <= limit else [
        ("ir.attrs.partitions", f"{len(partitions)} partitions; the target runs at most {limit}")]
    placed: list[str] = []
    populations = {p.name for p in ir.populations()}
    for i, partition in enumerate(partitions):
        path = join("ir.attrs.partitions", i)
        if not isinstance(partition, record):
            problems.append((path, f"expected a {record.__name__}, got {type(partition).__name__}"))
            continue
        if partition.index != i:
            problems.append((join(path, "index"), f"must be {i} (the partitions in order), got {partition.index}"))
        for name in partition.populations:
            if name not in populations:
                problems.append((join(path, "populations"), f"'{name}' is not a population of the network"))
        placed += partition.populations
    unplaced = sorted(populations - set(placed))
    twice = sorted({name for name in placed if placed.count(name) > 1}) if once else []
    if unplaced or twice:
        problems.append(("ir.attrs.partitions", f"every population must be in {'exactly ' if once else ''}one "
                         f"partition: not placed {unplaced or 'none'}" + (f", placed twice {twice}" if twice else "")))
    return problems


def digital(ir: NetworkIR, target: Any) -> list[Problem]:
    return missing_records(ir, DIGITAL_RECORDS, "digital") or partition_problems(ir, Partition, once=True)


def bss2(ir: NetworkIR, target: Any) -> list[Problem]:
    chip: Chip = target.substrate
    problems = missing_records(ir, BSS2_RECORDS, "bss2") or partition_problems(ir, ChipPartition, once=False)
    if problems:
        return problems
    partitions = ir.graph.graph["partitions"]
    problems = [p for i, partition in enumerate(partitions) if partition.chips > chip.chips
                for p in [(join(join("ir.attrs.partitions", i), "chips"), f"{partition.chips}; the target has "
                           f"{chip.chips} chips")]]
    if problems:
        return problems
    for population in ir.populations():
        problems += _placement(ir, chip, population.name, partitions)
    problems += _routing(ir, chip) if not problems else []
    for source, target_name, key, attrs in ir.edges():
        path, projection, weights = edge_path(key), attrs["decl"], attrs["weights"]
        shape = weights.indices.shape if is_sparse(weights) else (ir.size(source), ir.size(target_name))
        problems += under(join(path, "sign_split"), attrs["sign_split"].problems(projection.sign))
        problems += under(join(path, "legalization"), attrs["legalization"].problems(
            shape, projection.sign, chip.weight_bits))
        found = under(join(path, "synapse_rows"), attrs["synapse_rows"].problems(
            ir.size(source), shape, ir.node_attrs(target_name)["merge"].circuits_per_neuron, chip.rows,
            attrs["sign_split"].row_signs))
        problems += found or ([] if problems else _row_modes(ir, chip, target_name, weights, attrs["synapse_rows"],
                                                              join(path, "synapse_rows")))
    return problems


def _placement(ir: NetworkIR, chip: Chip, name: str, partitions: list[ChipPartition]) -> list[Problem]:
    """The population's chunks cover it once, each on its partition's chips; its circuits are those of
    the chunk's chip and unique within each partition."""
    chunks = sorted((c.start, c.stop, c.chip, p) for p in partitions for c in p.chunks if c.population == name)
    ends = [start for start, *_ in chunks] + [ir.size(name)]
    if not chunks or chunks[0][0] != 0 or any(stop != ends[i + 1] for i, (_, stop, *_) in enumerate(chunks)):
        return [("ir.attrs.partitions", f"the chunks of '{name}' must cover its {ir.size(name)} neurons once, got "
                 f"{[(start, stop) for start, stop, *_ in chunks][:8]}")]
    placement = ir.node_attrs(name)["placement"]
    found = under(join(node_path(name), "placement"), placement.problems(
        ir.size(name), ir.node_attrs(name)["merge"].circuits_per_neuron, chip.chips * chip.circuits))
    for start, stop, on_chip, partition in chunks if not found else []:
        if name not in partition.populations or np.any(placement.circuits[start:stop] // chip.circuits != on_chip):
            found.append((join(node_path(name), "placement.circuits"), f"neurons {start}..{stop - 1} must be on "
                          f"chip {on_chip} of partition {partition.index} (their chunk)"))
            break
    return found


def _routing(ir: NetworkIR, chip: Chip) -> list[Problem]:
    """A routing table per partition; circuits unique within each partition."""
    partitions, tables = ir.graph.graph["partitions"], ir.graph.graph["routing"]
    if len(tables) != len(partitions):
        return [("ir.attrs.routing", f"{len(tables)} tables for {len(partitions)} partitions")]
    sizes = {name: ir.size(name) for name in ir.graph.nodes}
    problems = []
    for i, (table, partition) in enumerate(zip(tables, partitions)):
        problems += under(join("ir.attrs.routing", i), table.problems(partition.chips, chip, sizes))
        used = [ir.node_attrs(c.population)["placement"].circuits[c.start:c.stop].reshape(-1)
                for c in partition.chunks]
        if used:
            problems += unique_rows([np.concatenate(used)], join(join("ir.attrs.partitions", i), "chunks"),
                                    "a neuron circuit")
    return problems


def _row_modes(ir: NetworkIR, chip: Chip, target: str, weights: Any, rows: Any, path: str) -> list[Problem]:
    """Each synapse's row is in the mode of its kind on the hemisphere of the circuit it sits on, as the
    partition's routing table sets the drivers (RoutingTable.modes)."""
    circuits = ir.node_attrs(target)["placement"].circuits
    if is_sparse(weights):
        source, neuron = weights.sources.astype(np.int64), weights.indices.astype(np.int64)
    else:
        pre, post = weights.shape
        source, neuron = np.repeat(np.arange(pre), post), np.tile(np.arange(post), pre)
    circuit = circuits[neuron, rows.slot.astype(np.int64)[source]].astype(np.int64)  # one per synapse
    on_chip, hemisphere = circuit // chip.circuits, circuit % chip.circuits // chip.columns
    partition_of = np.full(circuits.shape[0], -1)
    for partition in ir.graph.graph["partitions"]:
        for chunk in partition.chunks:
            if chunk.population == target:
                partition_of[chunk.start:chunk.stop] = partition.index
    partition = partition_of[neuron]
    for index, table in enumerate(ir.graph.graph["routing"]):
        here = partition == index
        if not here.any():
            continue
        modes = table.modes(int(on_chip[here].max()) + 1, chip.hemispheres, chip.rows)
        for key, mode, kind in (("exc_row", 1, "excitatory"), ("inh_row", -1, "inhibitory")):
            row = getattr(rows, key).reshape(-1)
            chosen = here & (row >= 0)
            wrong = modes[on_chip[chosen], hemisphere[chosen], row[chosen].astype(np.int64)] != mode
            if wrong.any():
                c, h = int(on_chip[chosen][wrong][0]), int(hemisphere[chosen][wrong][0])
                return [(join(path, key), f"rows of chip {c}, hemisphere {h} whose drivers are not {kind} "
                         f"(routing table {index})")]
    return []


def onn(ir: NetworkIR, target: Any) -> list[Problem]:
    optics: Optics = target.substrate
    problems = missing_records(ir, ONN_RECORDS, "onn") or partition_problems(ir, ModulatorPass, once=False,
                                                                             limit=optics.max_passes)
    if problems:
        return problems
    if not nx.is_directed_acyclic_graph(ir.graph):
        return [("ir.edges", "light passes the layers in order: an optical network has no cycles")]
    encodings = {name: channels_per_weight(name) for name in ENCODINGS}
    for _, target_name, key, attrs in ir.edges():
        path, projection, record = edge_path(key), attrs["decl"], attrs["transmissions"]
        shape = (ir.size(projection.source), ir.size(target_name))
        found = under(join(path, "transmissions"), record.problems(shape, encodings, optics.modulator_bits))
        signed = ("differential", "offset") if optics.signed_weights == "auto" else (optics.signed_weights,)
        allowed = {"positive": ("positive",), "negative": ("negative",)}.get(projection.sign, signed)
        if isinstance(ir.decl(target_name).model, PhotonDetector):
            allowed = ("positive",)  # into a detector the weight is a transmission
        if not found and record.encoding not in allowed:
            found = [(join(path, "transmissions.encoding"), f"a {projection.sign} projection into "
                      f"'{target_name}' deploys as {' or '.join(allowed)}, got {record.encoding!r}")]
        problems += found or _tiles(attrs["tiles"], shape, channels_per_weight(record.encoding), optics,
                                    join(path, "tiles"))
    for i, partition in enumerate(ir.graph.graph["partitions"]):
        where = join("ir.attrs.partitions", i)
        for key, limit in (("channels", optics.channels), ("detectors", optics.detectors)):
            if getattr(partition, key) > limit:
                problems.append((join(where, key), f"{getattr(partition, key)}; the device has {limit}"))
    return problems


def _tiles(tiles: list, shape: tuple[int, int], k: int, optics: Optics, path: str) -> list[Problem]:
    """Each tile on the device; together they cover the projection's weights exactly once."""
    problems = []
    for i, tile in enumerate(tiles):
        problems += under(join(path, i), tile.problems(shape, k, optics.channels, optics.detectors,
                                                       optics.max_passes))
    if problems:
        return problems
    overlapping = any(a.rows[0] < b.rows[1] and b.rows[0] < a.rows[1] and a.cols[0] < b.cols[1]
                      and b.cols[0] < a.cols[1] for i, a in enumerate(tiles) for b in tiles[i + 1:])
    if overlapping or sum(tile.area for tile in tiles) != shape[0] * shape[1]:
        problems.append((path, f"must cover the {shape[0]} x {shape[1]} weights exactly once"))
    return problems
