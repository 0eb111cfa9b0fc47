"""snnc: compile spiking and physical neural networks for neuromorphic and physical substrates."""

__version__ = "0.1.0"

from snnc.api import check, compile, load, run, targets, train  # noqa: E402,A004
from snnc.diagnostics import Diagnostic, SnncError  # noqa: E402

__all__ = ["__version__", "check", "compile", "load", "run", "targets", "train", "Diagnostic", "SnncError"]
