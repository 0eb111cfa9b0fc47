"""The `train` block: optimizers, regularizers and the training specification with its defaults."""

from __future__ import annotations

from dataclasses import dataclass

from snnc.compiler.ir.fields import param
from snnc.compiler.ir.registry import register
from snnc.compiler.ir.serialize import serializable


@register("optimizer", "adam")
@dataclass(frozen=True, kw_only=True)
class Adam:
    """Adam (Kingma & Ba 2015)."""

    lr: float = param(default=1e-3, positive=True, doc="learning rate")
    beta1: float = param(default=0.9, minimum=0.0, maximum=1.0)
    beta2: float = param(default=0.999, minimum=0.0, maximum=1.0)


@register("optimizer", "sgd")
@dataclass(frozen=True, kw_only=True)
class SGD:
    """Stochastic gradient descent with momentum."""

    lr: float = param(default=1e-2, positive=True, doc="learning rate")
    momentum: float = param(default=0.0, minimum=0.0, maximum=1.0)


@register("regularizer", "spikes")
@dataclass(frozen=True, kw_only=True)
class SpikeBudget:
    """strength * mean_batch (spikes per sample - per_sample)^2, for samples above the budget."""

    per_sample: float = param(minimum=0.0, doc="spike budget per sample")
    strength: float = param(minimum=0.0, doc="weight of the penalty in the loss")


DATA_SETS = ("digits", "sequential_digits")
MAX_EPOCHS = 100_000
MAX_BATCH = 1 << 20  # samples of one batch (its memory is checked when a run starts: runtime/budget.py)
LOSSES = ("cross_entropy", "mse")
METHODS = ("surrogate", "pat", "st-rsbp")
TWINS = ("spikes", "membrane")


@serializable
@dataclass(frozen=True, kw_only=True)
class TrainSpec:
    """Defaults for `snnc train`, from a `train { key value ... }` block; every key is optional."""

    data: str = param(default="digits", kind="name_or_string",
                      doc="an embedded data set (digits, sequential_digits) or a path to an .npz or MNIST idx file")
    loss: str = param(default="cross_entropy", kind="name", choices=LOSSES)
    optimizer: Adam | SGD = param(default=Adam(), kind="optimizer")
    epochs: int = param(default=10, kind="integer", minimum=1, maximum=MAX_EPOCHS)
    batch: int = param(default=64, kind="integer", minimum=1, maximum=MAX_BATCH)
    regularize: SpikeBudget | None = param(default=None, kind="regularizer")
    method: str | None = param(default=None, kind="name_or_string", choices=METHODS,
                               doc="training method; default: the target's own (surrogate on spiking substrates, "
                                   "pat on optics); a name with a hyphen is written in quotes: \"st-rsbp\"")
    twin: str | None = param(default=None, kind="name", choices=TWINS,
                             doc="what the spiking twin takes from the substrate: its spikes, or its spikes and "
                                 "measured membranes; default: the target's choice")
    seed: int = param(default=0, kind="integer", minimum=0)
