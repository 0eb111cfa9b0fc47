"""Physical dimensions and units of the language. Everything inside the IR is SI (seconds, hertz)."""

from __future__ import annotations

import enum


class Dim(enum.Enum):
    """A quantity's dimension, as the exponent of time: time = s^1, rate = s^-1."""

    NONE = 0
    TIME = 1
    RATE = -1

    @classmethod
    def from_exponent(cls, exponent: int) -> Dim | None:
        return {d.value: d for d in cls}.get(exponent)

    def describe(self) -> str:
        return {Dim.NONE: "a plain number", Dim.TIME: "a time", Dim.RATE: "a rate"}[self]

    def example(self) -> str:
        return {Dim.NONE: "1.5", Dim.TIME: "5 ms", Dim.RATE: "100 Hz"}[self]


UNITS: dict[str, tuple[float, Dim]] = {
    "s": (1.0, Dim.TIME),
    "ms": (1e-3, Dim.TIME),
    "us": (1e-6, Dim.TIME),
    "ns": (1e-9, Dim.TIME),
    "Hz": (1.0, Dim.RATE),
    "kHz": (1e3, Dim.RATE),
    "MHz": (1e6, Dim.RATE),
}

# Every value of the language lies within float32's range: weights and model parameters run as float32.
LARGEST = 3.4028234663852886e38
TOO_LARGE = "numbers are limited to ±3.4e38 (float32)"
