"""How thinly a population must be spread over BrainScaleS-2 chips so that the sources its hemispheres
receive fit their PADI buses, label groups and labels (docs/targets.md, "Spreading a population thinner").

A hemisphere tells apart at most buses x label groups x labels sources (`Chip.sources_per_hemisphere`),
and every label group takes at least one synapse driver, whose two rows hold one synapse per column: a
group of sparse sources therefore holds at most `labels` sources and, at one driver, one (signed) synapse
per column. Packed densely (a hemisphere's 256 columns), a population of sparse fan-in from many sources
can need far more than that; with fewer of its neurons per chip each hemisphere receives fewer distinct
sources. The distinct sources of k neighbouring neurons are counted from the projections' actual synapses
(windows spread over the population, the busiest kept), not from the connection probability.

Pure functions of the IR; the passes turn the result into placements and diagnostics."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from snnc.compiler.ir.counting import distinct
from snnc.compiler.ir.graph import NetworkIR
from snnc.compiler.ir.synapses import is_sparse, per_target
from snnc.compiler.targets.bss2 import Chip

WINDOWS = 16  # windows sampled per neuron count: their busiest stands for every hemisphere
HEADROOM = 0.75  # share of a hemisphere's labels and drivers a spread population is planned to use


@dataclass(frozen=True)
class Spread:
    """A population placed at most `per_chip` of its neurons per chip (each chip its own), because packed
    densely (`dense` neurons per chip) one hemisphere would receive `sources_dense` distinct sources and
    need `drivers_dense` synapse drivers; at `per_chip` it receives `sources` and needs `drivers`."""

    population: str
    per_chip: int
    dense: int
    sources_dense: int
    drivers_dense: int
    sources: int
    drivers: int


@dataclass(frozen=True)
class Unroutable:
    """A population whose hemisphere cannot take its sources even holding only one of its neurons."""

    population: str
    sources: int
    drivers: int


def distinct_sources(ir: NetworkIR, population: str, window: int) -> int:
    """The most distinct sources any `window` neighbouring neurons of the population receive (sampled:
    WINDOWS windows spread evenly; a dense projection's sources all count)."""
    size = ir.size(population)
    window = max(1, min(window, size))
    starts = np.unique(np.linspace(0, size - window, num=min(WINDOWS, size - window + 1)).astype(np.int64))
    counts = np.zeros(len(starts), np.int64)
    for source, _, attrs in ir.population_inputs(population):
        weights = attrs["weights"]
        if not is_sparse(weights):
            counts += ir.size(source)
            continue
        for i, start in enumerate(starts.tolist()):
            counts[i] += len(distinct(weights.sources[weights.into(start, start + window)]))
    return int(counts.max(initial=0))


def dense_per_chip(chip: Chip, circuits_per_neuron: int) -> int:
    """Neurons of `c` circuits an empty chip takes."""
    k = chip.columns_for(circuits_per_neuron)
    return chip.circuits if k == 0 else min(chip.columns // k, chip.circuits // circuits_per_neuron)


def spread_population(ir: NetworkIR, population: str, chip: Chip) -> Spread | Unroutable | None:
    """How many neurons of the population one chip may hold (Spread), None where a densely packed chip's
    hemispheres already take their sources, Unroutable where even one neuron is too many."""
    merge = ir.node_attrs(population)["merge"]
    c = merge.circuits_per_neuron
    signed = any(attrs["decl"].sign == "signed" for _, _, attrs in ir.population_inputs(population))
    rows = -(-merge.fan_in.rows // c)  # rows of a neuron's busiest circuit

    def need(per_chip: int, counted: int | None = None, spread: bool = True) -> tuple[int, int]:
        # One circuit per neuron: spread placement halves a chip's neurons over its hemispheres (dense
        # placement fills one hemisphere first). Merged neurons take a column in every hemisphere; a source
        # reaches one of a neuron's circuits (its slot, alike for every neuron), dealt round robin, so a
        # hemisphere holds its circuits' share of them.
        if c == 1:
            columns = -(-per_chip // chip.hemispheres) if spread else min(per_chip, chip.columns)
            sources = distinct_sources(ir, population, columns)
        else:
            share = -(-c // chip.hemispheres)
            sources = -(-distinct_sources(ir, population, per_chip) * share // c)
            columns = per_chip * share
        sources = sources if counted is None else counted
        per_group = min(chip.labels, columns * (1 if signed else 2))  # sources a one-driver group holds
        return sources, max(-(-sources // per_group), -(-rows // chip.rows_per_driver))

    def fits(sources: int, drivers: int, share: float) -> bool:
        return sources <= share * chip.sources_per_hemisphere and drivers <= share * chip.drivers

    dense = min(dense_per_chip(chip, c), ir.size(population))
    if dense == 0:  # a neuron wider than a chip (check_bss2_rules: E403)
        return None
    sources_dense, drivers_dense = need(dense, spread=False)
    if not any(is_sparse(attrs["weights"]) for _, _, attrs in ir.population_inputs(population)) \
            or fits(sources_dense, drivers_dense, 1.0):
        return None
    fan_in = sum(per_target(attrs["weights"]) for _, _, attrs in ir.population_inputs(population))
    one = need(1, -(-int(np.max(fan_in)) * -(-c // chip.hemispheres) // c))  # the busiest neuron's sources
    if not fits(*one, HEADROOM):
        return Unroutable(population, *one)
    low, high = 1, dense  # low fits, high does not
    while high - low > 1:
        middle = (low + high) // 2
        if fits(*need(middle), HEADROOM):
            low = middle
        else:
            high = middle
    # The windows were a sample: count every hemisphere of the placement at `low`, and take fewer neurons
    # while the busiest of them has more sources than planned.
    while True:
        sources, drivers = need(low, busiest_hemisphere(ir, population, low, chip))
        if low == 1 or fits(sources, drivers, HEADROOM):
            return Spread(population, low, dense, sources_dense, drivers_dense, sources, drivers)
        low = max(1, min(low - 1, int(low * HEADROOM * chip.sources_per_hemisphere / sources)))


def busiest_hemisphere(ir: NetworkIR, population: str, per_chip: int, chip: Chip) -> int:
    """The most distinct sources one hemisphere receives with `per_chip` neurons per chip, placed as
    place_neurons spreads them (one circuit: neuron i of a chip in hemisphere i % hemispheres; merged:
    every neuron in every hemisphere, its sources dealt over its circuits: the busiest hemisphere's share)."""
    c = ir.node_attrs(population)["merge"].circuits_per_neuron
    keys, dense, offset = [], 0, 0
    for source, _, attrs in ir.population_inputs(population):
        weights = attrs["weights"]
        if not is_sparse(weights):
            dense += ir.size(source)
        else:
            target = weights.indices.astype(np.int64)
            place = target // per_chip * chip.hemispheres + (target % per_chip % chip.hemispheres if c == 1 else 0)
            keys.append(place * (1 << 32) + offset + weights.sources)
        offset += ir.size(source)
    sources = np.bincount(distinct(np.concatenate(keys)) >> 32) if keys else np.zeros(1, np.int64)
    busiest = int(sources.max(initial=0)) + dense
    return busiest if c == 1 else -(-busiest * -(-c // chip.hemispheres) // c)


def spreads(ir: NetworkIR, chip: Chip) -> dict[str, Spread | Unroutable]:
    """The populations that must be spread (or cannot be placed), by name."""
    found = {}
    for population in ir.populations():
        result = spread_population(ir, population.name, chip)
        if result is not None:
            found[population.name] = result
    return found

