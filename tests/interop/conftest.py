"""Helpers of the NIR tests: graphs built in Python, written with nir.write, imported and simulated by snnc,
and an independent reference of the discrete reading of NIR (docs/interop.md) written with numpy."""

from __future__ import annotations

from pathlib import Path

import nir
import numpy as np
import pytest
import torch

import snnc
from snnc.interop.nir_import import import_nir
from snnc.interop.options import ImportOptions
from snnc.runtime.emulators.base import emulator_for
from snnc.runtime.encoders import encode

DT = 1e-4


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def graph(nodes: dict, edges: list, **metadata) -> nir.NIRGraph:
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False, metadata=metadata)


def write(folder: Path, g: nir.NIRGraph, name: str = "model") -> Path:
    path = folder / f"{name}.nir"
    nir.write(path, g)
    return path


def run_snnc(nir_path: Path, x: np.ndarray, **options):
    """Import `nir_path` beside it, compile for the reference target, run spike trains x (B, T, C) in
    float64; the observation and the program."""
    options.setdefault("steps", x.shape[1])
    snn = nir_path.with_suffix(".snn")
    import_nir(nir_path, snn, ImportOptions(**options))
    program = snnc.compile(snn)
    emulator = emulator_for(program, dtype=torch.float64)
    stimulus = encode(program.ir, torch.as_tensor(x, dtype=torch.float64))
    return emulator.observe(stimulus, emulator.initial_weights()), program


def spike_trains(batch: int, steps: int, channels: int, p: float = 0.3, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).random((batch, steps, channels)) < p).astype(np.float64)


class Euler:
    """The discrete reading of NIR neuron nodes that snnTorch and Norse export for, step by step:
    x (B, n) is the node's input in the step; returns (output, membrane) of the step."""

    def __init__(self, node, batch: int, dt: float = DT, reset: str = "to_v_reset"):
        self.node, self.dt, self.reset = node, dt, reset
        n = np.size(node.r)
        self.v = np.broadcast_to(np.asarray(getattr(node, "v_leak", 0.0), float), (batch, n)).copy()
        self.i = np.zeros((batch, n))
        self.z = np.zeros((batch, n))

    def step(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        node, dt = self.node, self.dt
        if isinstance(node, (nir.CubaLIF, nir.CubaLI)):
            self.i = self.i + dt / node.tau_syn * (-self.i + node.w_in * x)
            drive, tau = self.i, node.tau_mem
        else:
            drive, tau = x, getattr(node, "tau", None)
        if tau is None:  # IF, Integrator: dt-free, as their exporters write them
            self.v = self.v + node.r * drive
        else:
            self.v = self.v + dt / tau * (node.v_leak - self.v + node.r * drive)
        if self.reset == "subtract":  # snnTorch: the threshold comes off in the step after the spike
            self.v = self.v - self.z * (node.v_threshold - node.v_reset)
        if not hasattr(node, "v_threshold"):
            return self.v, self.v
        self.z = (self.v >= node.v_threshold).astype(float)
        membrane = self.v.copy()
        if self.reset == "to_v_reset":
            self.v = np.where(self.z > 0, node.v_reset, self.v)
            membrane = self.v.copy()
        return self.z, membrane
