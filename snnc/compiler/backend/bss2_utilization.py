"""How full every chip is, as one picture however many chips and partitions there are: one heat map per
resource (neuron circuits, synapse rows, synapse drivers), each chip of each partition a cell of a
near-square grid (row-major: partition 0's chips by index, then partition 1's, ...), colour = the fraction
of that chip's resource in use. 4,096 chips are a 64 x 64 grid, 391 partitions of one chip a 20 x 20 one."""

from __future__ import annotations

import math

import numpy as np

from snnc.compiler.backend.html import figure_png

RESOURCES = ("neuron circuits", "synapse rows", "synapse drivers")


def chip_usage(program, partition: int) -> np.ndarray:
    """(3, chips) fraction of each chip's neuron circuits, synapse rows and synapse drivers in use."""
    ir, chip = program.ir, program.target.substrate  # (a bss2 Chip)
    record = ir.graph.graph["partitions"][partition]
    used = np.zeros((3, record.chips))
    for chunk in record.chunks:
        used[0, chunk.chip] += (chunk.stop - chunk.start) * ir.node_attrs(chunk.population)["merge"].circuits_per_neuron
    for route in ir.graph.graph["routing"][partition].buses:
        used[1, route.chip] += sum(g.exc_rows + g.inh_rows for g in route.groups)
        used[2, route.chip] += route.drivers
    available = np.array([chip.circuits, chip.hemispheres * chip.rows, chip.hemispheres * chip.drivers], float)
    return used / available[:, None]


def utilization_png(program) -> bytes:
    """The picture (module docstring): three heat maps, the chips of every partition one after another."""
    from matplotlib.figure import Figure

    partitions = program.ir.graph.graph["partitions"]
    usage = np.concatenate([chip_usage(program, p) for p in range(len(partitions))], axis=1)
    cells = usage.shape[1]
    width = math.ceil(math.sqrt(cells))
    height = math.ceil(cells / width)
    order = (f"{cells:,} chips, {width} per row" if len(partitions) == 1 else
             f"{len(partitions):,} partitions' {cells:,} chips in order, {width} per row")
    figure = Figure(figsize=(4.2 * len(RESOURCES), 3.8), layout="constrained")
    axes = figure.subplots(1, len(RESOURCES), squeeze=False)[0]
    for r, name in enumerate(RESOURCES):
        grid = np.full(width * height, np.nan)
        grid[:cells] = usage[r]
        image = axes[r].imshow(grid.reshape(height, width), vmin=0.0, vmax=1.0, cmap="viridis",
                               interpolation="nearest")
        axes[r].set_title(f"{name}\nmean {100 * usage[r].mean():.1f}%, busiest chip {100 * usage[r].max():.1f}%",
                          fontsize=8)
        axes[r].set_xticks([])
        axes[r].set_yticks([])
        axes[r].set_xlabel(order, fontsize=7)
    figure.colorbar(image, ax=axes.tolist(), shrink=0.8, label="fraction in use")
    return figure_png(figure)
