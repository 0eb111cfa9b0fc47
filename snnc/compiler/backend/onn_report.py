"""The onn report's pictures: the channel map, i.e. what every modulator pixel and detector holds in
each pass (colour = projection, brightness = transmission), as report.html and channel_map.png."""

from __future__ import annotations

from typing import Any

import numpy as np

from snnc.compiler.backend.html import figure_png, render_html
from snnc.compiler.targets.onn import Optics


def channel_contents(program) -> tuple[int, dict[str, int], np.ndarray, np.ndarray, np.ndarray]:
    """(passes, projection -> colour index, owner (passes, channels) int (-1 = free), transmission
    (passes, channels) float, detector owner (passes, detectors) int) from the placed IR."""
    optics: Optics = program.target.substrate
    ir = program.ir
    passes = int(ir.graph.graph.get("resources", {}).get("passes", {}).get("used", 0))
    index = {key: i for i, (_, _, key, _) in enumerate(ir.edges())}
    owner = np.full((passes, optics.channels), -1, dtype=np.int32)
    transmission = np.zeros((passes, optics.channels), dtype=np.float32)
    detector_owner = np.full((passes, optics.detectors), -1, dtype=np.int32)
    for _, _, key, attrs in ir.edges():
        levels = attrs["transmissions"].levels
        for tile in attrs["tiles"]:
            (r0, r1), (c0, c1), (a, b), (da, db) = tile.rows, tile.cols, tile.channels, tile.detectors
            block = levels[:, r0:r1, c0:c1].transpose(1, 2, 0).ravel()  # row-major (row, column, channel)
            owner[tile.pass_index, a:b] = index[key]
            transmission[tile.pass_index, a:b] = block / optics.levels
            detector_owner[tile.pass_index, da:db] = index[key]
    return passes, index, owner, transmission, detector_owner


def channel_map_png(program) -> bytes:
    """One panel per pass: the modulator's pixels as laid out on the device, and its detector row."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    optics: Optics = program.target.substrate
    passes, index, owner, transmission, detector_owner = channel_contents(program)
    columns = optics.modulator_columns
    rows = -(-optics.channels // columns)
    palette = np.array([[0.12, 0.47, 0.71], [1.0, 0.50, 0.05], [0.17, 0.63, 0.17], [0.84, 0.15, 0.16],
                        [0.58, 0.40, 0.74], [0.55, 0.34, 0.29], [0.89, 0.47, 0.76], [0.50, 0.50, 0.50]])
    shown = max(passes, 1)
    figure = Figure(figsize=(4.2 * shown, 5.2))
    grid = figure.add_gridspec(2, shown, height_ratios=[12, 1], hspace=0.25)
    for p in range(passes):
        image = np.full((rows * columns, 3), 0.93)
        used = owner[p] >= 0
        # brightness follows the transmission, with a floor so that dark pixels still show their block
        shade = 0.25 + 0.75 * transmission[p][used, None]
        image[:optics.channels][used] = palette[owner[p][used] % len(palette)] * shade
        axes = figure.add_subplot(grid[0, p])
        axes.imshow(image.reshape(rows, columns, 3), interpolation="nearest", aspect="auto")
        axes.set_title(f"pass {p}: {int(used.sum()):,} / {optics.channels:,} channels", fontsize=9)
        axes.set_xlabel("modulator column", fontsize=8)
        axes.set_ylabel("modulator row", fontsize=8)
        strip = np.full((optics.detectors, 3), 0.93)
        taken = detector_owner[p] >= 0
        strip[taken] = palette[detector_owner[p][taken] % len(palette)]
        axes = figure.add_subplot(grid[1, p])
        axes.imshow(strip[None], interpolation="nearest", aspect="auto")
        axes.set_yticks([])
        axes.set_xlabel(f"detectors: {int(taken.sum())} / {optics.detectors}", fontsize=8)
    figure.legend(handles=[Patch(color=palette[i % len(palette)], label=key) for key, i in index.items()],
                  loc="upper center", ncol=min(len(index), 4), fontsize=8, frameon=False)
    return figure_png(figure)


def render_onn_report(program, report: dict[str, Any]) -> dict[str, bytes]:
    """The onn family's renderer: channel_map.png and report.html (which embeds it)."""
    png = channel_map_png(program)
    caption = ("Channel map: each pass's modulator pixels (colour = projection, brightness = transmission) "
               "and detectors")
    return {"channel_map.png": png, "report.html": render_html(report, [(caption, png)])}
