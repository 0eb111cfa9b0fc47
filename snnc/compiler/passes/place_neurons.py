"""Pass: logical neurons -> neuron circuits (node attr `placement`: global circuit ids
chip * circuits_per_chip + hemisphere * columns + column)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from snnc.compiler.ir.bss2_records import Chunk, Placement
from snnc.compiler.ir.graph import NetworkIR
from snnc.compiler.passes.base import InternalError, Pass, PassContext
from snnc.compiler.targets.bss2 import Chip


def circuit_ids(chip: Chip, chip_index: int, hemisphere: np.ndarray, column: np.ndarray) -> np.ndarray:
    return chip_index * chip.circuits + hemisphere * chip.columns + column


class PlaceNeurons(Pass):
    """Per partition and chip: merged neurons take whole columns from column 0 up, slot t of a neuron
    in column base + t // hemispheres of hemisphere t % hemispheres (a 2-circuit neuron is the top and
    bottom circuit of one column, drawing rows from both synapse arrays); single-circuit neurons then
    fill the free circuits hemisphere by hemisphere, so their rows stay in as few arrays as possible.
    A pure function of the network: the same program always gets the same placement."""

    name: ClassVar[str] = "place_neurons"

    def apply(self, ir: NetworkIR, ctx: PassContext) -> NetworkIR:
        chip: Chip = ctx.target.substrate
        placed = {p.name: np.full((p.size, ir.node_attrs(p.name)["merge"].circuits_per_neuron), -1, np.int64)
                  for p in ir.populations()}
        for partition in ir.graph.graph["partitions"]:
            by_chip: dict[int, list[Chunk]] = {}
            for chunk in partition.chunks:
                by_chip.setdefault(chunk.chip, []).append(chunk)
            for chip_index, chunks in sorted(by_chip.items()):
                if len(chunks) == 1 and "spread" in ir.node_attrs(chunks[0].population):
                    self._place_spread(chip, chip_index, chunks[0], placed)
                else:
                    self._place_chip(chip, chip_index, chunks, placed)
        for name, circuits in placed.items():
            if (circuits < 0).any():
                raise InternalError(f"population '{name}' has unplaced neurons")
            ir.node_attrs(name)["placement"] = Placement(circuits.astype(np.int32))
        return ir

    @staticmethod
    def _place_spread(chip: Chip, chip_index: int, chunk: Chunk, placed: dict) -> None:
        """A population spread thin (bss2_spread) has the chip to itself: its neurons go evenly over the
        hemispheres and, at even strides, over the columns, so their spikes leave through every event
        output (every PADI bus) and each hemisphere receives the sources of its share of the neurons."""
        out = placed[chunk.population]
        n, c = chunk.stop - chunk.start, out.shape[1]
        neuron = np.arange(n)
        if c == 1:
            share = -(-n // chip.hemispheres)
            hemisphere, column = neuron % chip.hemispheres, (neuron // chip.hemispheres) * chip.columns // share
            out[chunk.start:chunk.stop, 0] = circuit_ids(chip, chip_index, hemisphere, column)
            return
        base = (neuron * (chip.columns // n))[:, None]
        slot = np.arange(c)[None, :]
        out[chunk.start:chunk.stop] = circuit_ids(chip, chip_index, slot % chip.hemispheres,
                                                  base + slot // chip.hemispheres)

    def _place_chip(self, chip: Chip, chip_index: int, chunks: list[Chunk], placed: dict) -> None:
        free = np.ones((chip.hemispheres, chip.columns), bool)
        column = 0
        for chunk in chunks:
            out = placed[chunk.population]
            c = out.shape[1]
            k = chip.columns_for(c)
            if k == 0:
                continue
            n = chunk.stop - chunk.start
            base = column + k * np.arange(n)[:, None]  # (n, 1)
            slot = np.arange(c)[None, :]  # (1, c)
            hemisphere, col = slot % chip.hemispheres, base + slot // chip.hemispheres
            out[chunk.start:chunk.stop] = circuit_ids(chip, chip_index, hemisphere, col)
            free[hemisphere, col] = False
            column += n * k
        # Single circuits: first the columns no merged neuron touched, hemisphere by hemisphere, then
        # the circuits merged neurons of odd size left over.
        untouched = np.zeros((chip.hemispheres, chip.columns), bool)
        untouched[:, column:] = True
        order = np.concatenate([np.flatnonzero((free & untouched).ravel()),
                                np.flatnonzero((free & ~untouched).ravel())])
        cursor = 0
        for chunk in chunks:
            out = placed[chunk.population]
            if out.shape[1] != 1:
                continue
            n = chunk.stop - chunk.start
            flat = order[cursor:cursor + n]
            if len(flat) < n:
                raise InternalError(f"chip {chip_index} ran out of circuits placing '{chunk.population}'")
            cursor += n
            out[chunk.start:chunk.stop, 0] = circuit_ids(chip, chip_index, flat // chip.columns,
                                                               flat % chip.columns)
