"""How full every chip is, as one picture however many chips there are: per partition, one heat map per
resource (neuron circuits, synapse rows, synapse drivers), each chip a cell of a near-square grid (row-major
by chip index), colour = the fraction of that chip's resource in use. 4,096 chips are a 64 x 64 grid."""

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
    """The picture (module docstring): a row of heat maps per partition."""
    from matplotlib.figure import Figure

    partitions = program.ir.graph.graph["partitions"]
    figure = Figure(figsize=(4.2 * len(RESOURCES), 3.6 * len(partitions)), layout="constrained")
    axes = figure.subplots(len(partitions), len(RESOURCES), squeeze=False)
    for p, record in enumerate(partitions):
        usage = chip_usage(program, p)
        width = math.ceil(math.sqrt(record.chips))
        height = math.ceil(record.chips / width)
        for r, name in enumerate(RESOURCES):
            grid = np.full(width * height, np.nan)
            grid[:record.chips] = usage[r]
            image = axes[p, r].imshow(grid.reshape(height, width), vmin=0.0, vmax=1.0, cmap="viridis",
                                      interpolation="nearest")
            mean, top = float(usage[r].mean()), float(usage[r].max())
            axes[p, r].set_title(f"partition {p}: {name}\nmean {100 * mean:.1f}%, busiest chip {100 * top:.1f}%",
                                 fontsize=8)
            axes[p, r].set_xticks([])
            axes[p, r].set_yticks([])
            axes[p, r].set_xlabel(f"{record.chips:,} chips, {width} per row (chip = row x {width} + column)",
                                  fontsize=7)
        figure.colorbar(image, ax=axes[p, :].tolist(), shrink=0.8, label="fraction in use")
    return figure_png(figure)
