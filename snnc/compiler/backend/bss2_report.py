"""The bss2 report's picture and page: both synapse arrays of every chip (colour = projection, brightness =
weight magnitude, a strip for each row's sign mode and each column's population) as report.png, and
report.html with utilization bars, the population, projection and partition tables, and the picture."""

from __future__ import annotations

from typing import Any

import numpy as np

from snnc.compiler.backend.bss2_utilization import utilization_png
from snnc.compiler.backend.html import figure_png, render_html, stack_png
from snnc.compiler.backend.report import ROUTING_SHOWN
from snnc.compiler.ir.synapses import is_sparse
from snnc.compiler.targets.bss2 import Chip

MAX_PICTURES = 4  # chips pictured in one report: each takes ~0.4-1.5 s to draw (2 busy cores) and ~280 kB
PALETTE = np.array([[0.12, 0.47, 0.71], [1.0, 0.50, 0.05], [0.17, 0.63, 0.17], [0.84, 0.15, 0.16],
                    [0.58, 0.40, 0.74], [0.55, 0.34, 0.29], [0.89, 0.47, 0.76], [0.50, 0.50, 0.50]])


def synapse_arrays(program, partition: int = 0, chip_index: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(owner, magnitude, column owner) of one chip in one partition: owner (hemispheres, rows, columns)
    the index of the projection a synapse serves (-1 free), magnitude |hw| / max weight on the row
    of the weight's sign, column owner (hemispheres, columns) the population index of each circuit."""
    ir = program.ir
    chip: Chip = program.target.substrate
    shape = (chip.hemispheres, chip.rows, chip.columns)
    owner, magnitude = np.full(shape, -1, np.int32), np.zeros(shape, np.float32)
    column_owner = np.full((chip.hemispheres, chip.columns), -1, np.int32)
    projections = {key: i for i, (_, _, key, _) in enumerate(ir.edges())}
    populations = {p.name: i for i, p in enumerate(ir.populations())}
    chunks = [c for c in ir.graph.graph["partitions"][partition].chunks if c.chip == chip_index]
    for chunk in chunks:
        name, start, stop = chunk.population, chunk.start, chunk.stop
        local = ir.node_attrs(name)["placement"].circuits[start:stop] % chip.circuits
        hemisphere, column = local // chip.columns, local % chip.columns
        column_owner[hemisphere, column] = populations[name]
        for _, key, attrs in ir.population_inputs(name):
            layout, weights, hw = attrs["synapse_rows"], attrs["weights"], attrs["legalization"].hw_weights
            if is_sparse(weights):  # the synapses into the chunk
                ids = weights.into(start, stop)
                i, j = weights.sources[ids].astype(np.int64), weights.indices[ids].astype(np.int64) - start
            else:
                i, j = np.repeat(np.arange(weights.shape[0]), stop - start), np.tile(np.arange(stop - start),
                                                                                       weights.shape[0])
                ids = i * weights.shape[1] + start + j
            level = hw.reshape(-1)[ids].astype(np.float32) / chip.max_weight
            slot = layout.slot[i].astype(np.int64)
            for row_of, sign in ((layout.exc_row.reshape(-1)[ids], 1.0), (layout.inh_row.reshape(-1)[ids], -1.0)):
                kept = row_of >= 0
                target = (hemisphere[j[kept], slot[kept]], row_of[kept], column[j[kept], slot[kept]])
                owner[target] = projections[key]
                magnitude[target] = np.maximum(sign * level[kept], 0.0)
    return owner, magnitude, column_owner


def synapse_png(program, partition: int = 0, chip_index: int = 0) -> bytes:
    """One panel per hemisphere: rows x columns of the synapse array, with the row modes at the left
    (red excitatory, blue inhibitory, grey unused; set per label group) and the circuits' populations on top."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    ir = program.ir
    chip: Chip = program.target.substrate
    owner, magnitude, column_owner = synapse_arrays(program, partition, chip_index)
    routing = ir.graph.graph["routing"][partition]
    names = [key for _, _, key, _ in ir.edges()]
    populations = [p.name for p in ir.populations()]
    figure = Figure(figsize=(5.0 * chip.hemispheres, 5.8))
    grid = figure.add_gridspec(2, 2 * chip.hemispheres, height_ratios=[1, 24], width_ratios=[1, 24] * chip.hemispheres,
                               hspace=0.03, wspace=0.03)
    for h in range(chip.hemispheres):
        image = np.full(owner[h].shape + (3,), 0.94)
        used = owner[h] >= 0
        shade = 0.2 + 0.8 * magnitude[h][used, None]  # a zero weight still shows whose synapse it is
        image[used] = 1.0 - (1.0 - PALETTE[owner[h][used] % len(PALETTE)]) * shade
        axes = figure.add_subplot(grid[1, 2 * h + 1])
        axes.imshow(image, interpolation="nearest", aspect="auto")
        axes.set_yticks([])
        axes.set_xlabel(f"hemisphere {h}: neuron circuit column ({int(used.sum()):,} synapses)", fontsize=8)
        modes = routing.row_modes(chip_index, h, chip.rows)[:, None]
        strip = np.where(modes > 0, np.array([[0.84, 0.15, 0.16]]),
                         np.where(modes < 0, np.array([[0.12, 0.47, 0.71]]), np.array([[0.94, 0.94, 0.94]])))
        side = figure.add_subplot(grid[1, 2 * h])
        side.imshow(strip[:, None, :], interpolation="nearest", aspect="auto")
        side.set_xticks([])
        if h == 0:
            side.set_ylabel("synapse row (mode: red exc, blue inh, grey unused)", fontsize=8)
        else:
            side.set_yticks([])
        top = np.full((chip.columns, 3), 0.94)
        placed = column_owner[h] >= 0
        top[placed] = PALETTE[(len(PALETTE) - 1 - column_owner[h][placed]) % len(PALETTE)]
        header = figure.add_subplot(grid[0, 2 * h + 1])
        header.imshow(top[None], interpolation="nearest", aspect="auto")
        header.set_xticks([])
        header.set_yticks([])
        header.set_title(f"chip {chip_index}, hemisphere {h}", fontsize=9)
    # the legend names what this chip holds (drawing a legend of every projection of a large network took
    # most of a picture's time: 5 of 7 s for the 400 entries of benchmarks/compile_scaling.py's 100k network)
    held, placed = set(np.unique(owner).tolist()), set(np.unique(column_owner).tolist())
    handles = [Patch(color=PALETTE[i % len(PALETTE)], label=f"synapses of {key}") for i, key in enumerate(names)
               if i in held]
    handles += [Patch(color=PALETTE[(len(PALETTE) - 1 - i) % len(PALETTE)], label=f"circuits of {name}")
                for i, name in enumerate(populations) if i in placed]
    figure.legend(handles=handles, loc="lower center", ncol=min(len(handles), 4), fontsize=8, frameon=False,
                  bbox_to_anchor=(0.5, -0.06))
    return figure_png(figure)


def _bar(entry: dict[str, Any]) -> float:
    available = entry.get("available") or 0
    return min(100.0, 100.0 * entry.get("used", 0) / available) if available else 0.0


def render_bss2_report(program, report: dict[str, Any]) -> dict[str, bytes]:
    """The bss2 family's renderer: report.png (the synapse arrays) and report.html (which embeds it)."""
    partitions = report["partitions"]
    chips = [(p, chip) for p in partitions for chip in range(p["chips"])]  # every chip of every partition
    figures = [(f"Synapse arrays of chip {chip} in partition {p['index']} (of {len(partitions)} partition"
                f"{'s' if len(partitions) != 1 else ''}, {p['chips']} chip{'s' if p['chips'] != 1 else ''} in "
                "it): colour = projection, brightness = weight magnitude; left strip = row mode, top strip = the "
                "population of each neuron circuit.", synapse_png(program, p["index"], chip))
               for p, chip in chips[:MAX_PICTURES]]
    if len(chips) > MAX_PICTURES:
        caption, png = figures[-1]
        figures[-1] = (caption + f" The other {len(chips) - MAX_PICTURES} chip pictures are left out (a report "
                       f"pictures at most {MAX_PICTURES} chips; `synapse_png(program, partition, chip)` draws any).",
                       png)
        figures.insert(0, (f"How full each of the {len(chips):,} chips is (one cell per chip; colour = the "
                           "fraction of its neuron circuits, synapse rows and synapse drivers in use).",
                           utilization_png(program)))
    html = render_html(report, figures, template="bss2_report.html", bar=_bar, shown=ROUTING_SHOWN)
    return {"report.png": stack_png([png for _, png in figures]), "report.html": html}
