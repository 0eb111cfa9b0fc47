"""One seed, derived per purpose: each consumer of randomness draws from its own stream, so no two
consumers see the same numbers (seeding noise and encoding with one value made their streams
identical), and one consumer's draws do not shift another's. As initialize_weights derives one
generator per (seed, projection), each stream here is derived from (seed, purpose, keys) by numpy's
SeedSequence, which is built so that distinct entropy gives independent streams.

Purposes (the weights' initialization is the compiler's: passes/initialize_weights.py):
- noise: the emulator's temporal noise (membrane noise, photon shot noise); checkpoints save its state
  (bss2's membrane noise is a counter stream, `Counter`, with the same get_state/set_state)
- shuffle: the order of training samples in each epoch (one order shared by all workers of a run)
- encode: stochastic input encoders (rate coding)
In data-parallel training (distributed.py) each worker draws noise and encoding from (seed, purpose,
rank, epoch): its own streams, the same in every run with that many workers.
- chip: an emulated chip's fixed-pattern imperfections, keyed by what they belong to (circuits, synapses)"""

from __future__ import annotations

import zlib

import numpy as np
import torch

PURPOSES = ("noise", "shuffle", "encode", "chip")


def _word(key: int | str) -> int:
    return zlib.crc32(key.encode()) if isinstance(key, str) else int(key)


def entropy(seed: int, purpose: str, *keys: int | str) -> list[int]:
    """The SeedSequence entropy of (seed, purpose, keys): non-negative integers, strings by their CRC-32."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown purpose '{purpose}'; purposes: {', '.join(PURPOSES)}")
    if isinstance(seed, bool) or int(seed) < 0:
        raise ValueError(f"a seed is an integer >= 0, got {seed!r}")
    return [int(seed), _word(purpose), *(_word(key) for key in keys)]


def rng(seed: int, purpose: str, *keys: int | str) -> np.random.Generator:
    """A numpy generator of its own for (seed, purpose, keys)."""
    return np.random.default_rng(np.random.SeedSequence(entropy(seed, purpose, *keys)))


def generator(seed: int, purpose: str, *keys: int | str) -> torch.Generator:
    """A torch generator of its own for (seed, purpose, keys), seeded with 64 bits of the derived stream."""
    state = np.random.SeedSequence(entropy(seed, purpose, *keys)).generate_state(1, np.uint64)
    return torch.Generator().manual_seed(int(state[0]))


class Counter:
    """A counter-based stream (the bss2 membrane noise: emulators/philox.py): a key derived from (seed,
    purpose, keys) and the number of batch calls drawn so far. Each consumer (a population) takes its own
    Philox key derived from the stream's key and its name; a call's draws are a function of (key, call,
    step, sample, neuron) alone. `get_state`/`set_state` as torch.Generator's (checkpoints save it): an
    int64 tensor [key word 0, key word 1, calls]."""

    def __init__(self, seed: int, purpose: str, *keys: int | str):
        words = np.random.SeedSequence(entropy(seed, purpose, *keys)).generate_state(2, np.uint32)
        self.key, self.calls = (int(words[0]), int(words[1])), 0
        self._derived: dict[str, tuple[int, int]] = {}

    def philox_key(self, name: str) -> tuple[int, int]:
        """The Philox key of consumer `name` (two 32-bit words)."""
        if name not in self._derived:
            words = np.random.SeedSequence([*self.key, _word(name)]).generate_state(2, np.uint32)
            self._derived[name] = (int(words[0]), int(words[1]))
        return self._derived[name]

    def next_call(self) -> int:
        """The index of a new batch call (the stream moves on by one)."""
        self.calls += 1
        return self.calls - 1

    def get_state(self) -> torch.Tensor:
        return torch.tensor([*self.key, self.calls], dtype=torch.int64)

    def set_state(self, state: torch.Tensor) -> None:
        """Restore a state of get_state; ValueError for anything else (a torch generator's state, say)."""
        if not isinstance(state, torch.Tensor) or state.dtype != torch.int64 or tuple(state.shape) != (3,):
            raise ValueError(f"not a counter stream's state: {getattr(state, 'dtype', type(state).__name__)} "
                             f"of shape {tuple(getattr(state, 'shape', ()))}")
        key0, key1, calls = (int(v) for v in state)
        if not (0 <= key0 < 1 << 32 and 0 <= key1 < 1 << 32 and calls >= 0):
            raise ValueError(f"not a counter stream's state: {state.tolist()}")
        if (key0, key1) != self.key:
            self._derived = {}
        self.key, self.calls = (key0, key1), calls
