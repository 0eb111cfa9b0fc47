"""snnc: compile spiking and physical neural networks for neuromorphic and physical substrates."""

from snnc.api import check, compile, load, run, targets, to_torch, train  # noqa: A004
from snnc.diagnostics import Diagnostic, SnncError
from snnc.version import __version__

__all__ = ["__version__", "check", "compile", "load", "run", "targets", "to_torch", "train", "Diagnostic", "SnncError"]
