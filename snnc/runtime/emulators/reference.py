"""The reference substrate (pipeline `digital`): the simulation core with every imperfection off."""

from __future__ import annotations

from snnc.runtime.emulators.spiking import SpikingEmulator


class ReferenceEmulator(SpikingEmulator):
    """Ideal digital simulation: float weights, declared parameters, no noise, exact readout."""
