"""The bss2 membrane noise of one batch call (philox.py): what the emulator hands to the simulation, the
general core reading it as (T, B, N) tensors, the fast kernels drawing the same values themselves."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np
import torch

from snnc.runtime.emulators import philox

try:  # numba is a dependency; without it numpy draws the same values
    from snnc.runtime.emulators.fast_noise import fill
except ImportError:  # pragma: no cover
    fill = None


class MembraneNoise(Mapping):
    """The membrane noise of one batch call: per population, scale (N,) times standard normals drawn from
    the Philox counters (block, sample, step, call) under the population's key. As a mapping population ->
    (T, B, N) tensor it is what core.simulate adds (each made on first access: with numba when it can be
    imported, else numpy, the same values); the fast kernels draw the same values from keys, call and
    scales instead (fast_lif)."""

    def __init__(self, steps: int, batch: int, call: int, keys: dict[str, tuple[int, int]],
                 scales: dict[str, np.ndarray]):
        self.steps, self.batch, self.call = steps, batch, call % philox.WORD
        self.keys, self.scales = keys, scales
        self._made: dict[str, torch.Tensor] = {}

    def __getitem__(self, name: str) -> torch.Tensor:
        if name not in self._made:
            scale = self.scales[name]  # KeyError for a population without noise
            self._made[name] = torch.from_numpy(self.normals(name) * scale)
        return self._made[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.scales)

    def __len__(self) -> int:
        return len(self.scales)

    def normals(self, name: str) -> np.ndarray:
        """The population's (T, B, N) standard normals."""
        n, key = self.scales[name].shape[0], self.keys[name]
        if fill is None:  # pragma: no cover - numba missing: numpy draws the same values, slower
            return philox.normals(key, self.call, self.steps, self.batch, n)
        out = np.empty((self.steps, self.batch, n + philox.PAD), np.float32)
        fill(out, key[0], key[1], self.call, 0, self.batch)
        return np.ascontiguousarray(out[:, :, :n])
