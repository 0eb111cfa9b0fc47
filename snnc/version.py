"""The version of snnc (its own module: the compiler records it in every program it writes)."""

__version__ = "0.1.0"
