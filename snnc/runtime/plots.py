"""Training plots as PNG bytes (matplotlib's Agg backend: no display needed)."""

from __future__ import annotations

import io
from typing import Any

import numpy as np


def _figure(width: float = 6.0, height: float = 3.5):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100)


def _png(figure) -> bytes:
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def curves(rows: list[dict[str, Any]], title: str) -> dict[str, bytes]:
    """loss.png and accuracy.png over epochs."""
    epochs = [r["epoch"] for r in rows]
    loss_fig = _figure()
    ax = loss_fig.add_subplot()
    ax.plot(epochs, [r["loss"] for r in rows], marker="o")
    ax.set(xlabel="epoch", ylabel="training loss", title=f"{title}: loss")
    acc_fig = _figure()
    ax = acc_fig.add_subplot()
    ax.plot(epochs, [100 * r["train_accuracy"] for r in rows], marker="o", label="train")
    ax.plot(epochs, [100 * r["test_accuracy"] for r in rows], marker="s", label="test")
    ax.set(xlabel="epoch", ylabel="accuracy (%)", title=f"{title}: accuracy")
    ax.legend()
    return {"loss.png": _png(loss_fig), "accuracy.png": _png(acc_fig)}


def raster(spikes: dict[str, np.ndarray], dt: float, title: str) -> bytes:
    """Spike raster of one sample: spikes[input or population] (T, N) 0/1, stacked bottom to top."""
    figure = _figure(6.0, 4.0)
    ax = figure.add_subplot()
    offset = 0
    for name, z in spikes.items():
        t, n = np.nonzero(z)
        ax.scatter(t * dt * 1e3, n + offset, s=2, label=name)
        offset += z.shape[1]
    steps = max((z.shape[0] for z in spikes.values()), default=1)
    ax.set(xlabel="time (ms)", ylabel="input / neuron (populations stacked)", title=title, xlim=(0, steps * dt * 1e3))
    if spikes:
        ax.legend(loc="upper right", markerscale=4)
    return _png(figure)


def membrane(v: np.ndarray, dt: float, label: int, title: str) -> bytes:
    """Membrane traces (T, N) of the readout population for one sample; the true class drawn bold."""
    figure = _figure()
    ax = figure.add_subplot()
    time = np.arange(v.shape[0]) * dt * 1e3
    for i in range(v.shape[1]):
        ax.plot(time, v[:, i], linewidth=2.5 if i == label else 0.8, label=str(i))
    ax.set(xlabel="time (ms)", ylabel="membrane", title=title)
    ax.legend(ncol=5, fontsize=7)
    return _png(figure)


def clicks(layers: dict[str, tuple[np.ndarray, str]], output: str, label: int, title: str) -> bytes:
    """Models without time (optics): one panel per population of one sample, its value per neuron as bars;
    layers[name] = (values (N,), what they are: e.g. 'fraction of 4 shots that clicked'). The `output`
    population's bar of the true class `label` is drawn red."""
    figure = _figure(6.0, 1.2 + 1.8 * len(layers))
    for row, (name, (values, meaning)) in enumerate(layers.items()):
        ax = figure.add_subplot(len(layers), 1, row + 1)
        colours = ["#1f77b4"] * len(values)
        if name == output and 0 <= label < len(values):
            colours[label] = "#d62728"
        ax.bar(np.arange(len(values)), values, width=1.0 if len(values) > 32 else 0.8, color=colours)
        ax.set(xlabel=f"{name}: neuron", ylabel=meaning if len(meaning) < 24 else "value",
               xlim=(-0.5, len(values) - 0.5))
        ax.set_title(f"{name}: {meaning}" if row else f"{title}\n{name}: {meaning}", fontsize=9)
    return _png(figure)


def layers_of(ir, values: dict) -> dict[str, tuple[np.ndarray, str]]:
    """The panels of `clicks` for sample 0 of an observation's values, in the network's order: a photon
    detector's value is the fraction of its `shots` exposures that clicked."""
    from snnc.compiler.ir.neurons import PhotonDetector

    panels = {}
    for population in ir.populations():
        if population.name in values:
            model = population.model
            meaning = (f"fraction of {model.shots} shot{'s' if model.shots != 1 else ''} that clicked"
                       if isinstance(model, PhotonDetector) else f"{model.dsl_name} output")
            panels[population.name] = (values[population.name][0].detach().numpy(), meaning)
    return panels
