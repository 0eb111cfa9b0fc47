"""The runtime: emulators of the substrates, the digital twin, training in the loop and inference
(docs/runtime.md). Importing this package imports no torch."""

from snnc.runtime.memory import memory_tuned, tune_memory

__all__ = ["memory_tuned", "tune_memory"]
