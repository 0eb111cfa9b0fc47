"""One seed, derived per purpose: each consumer of randomness draws from its own stream, so no two
consumers see the same numbers (seeding noise and encoding with one value made their streams
identical), and one consumer's draws do not shift another's. As initialize_weights derives one
generator per (seed, projection), each stream here is derived from (seed, purpose, keys) by numpy's
SeedSequence, which is built so that distinct entropy gives independent streams.

Purposes (the weights' initialization is the compiler's: passes/initialize_weights.py):
- noise: the emulator's temporal noise (membrane noise, photon shot noise); checkpoints save its state
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
