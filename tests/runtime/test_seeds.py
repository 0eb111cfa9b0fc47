"""One seed, one stream per purpose (snnc.runtime.seeds): streams differ between purposes, keys and
seeds, and are the same for the same (seed, purpose, keys)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from snnc import defaults
from snnc.runtime import seeds
from snnc.runtime.data import load_data
from snnc.runtime.emulators.base import emulator_for
from snnc.runtime.training import Trainer, resolve_config

from .conftest import SMALL_DIGITS, compile_text


def draws(generator: torch.Generator) -> torch.Tensor:
    return torch.rand(64, generator=generator)


def test_each_purpose_has_its_own_stream():
    for a, b in itertools.combinations(seeds.PURPOSES, 2):
        assert not torch.equal(draws(seeds.generator(3, a)), draws(seeds.generator(3, b))), (a, b)
        assert not np.array_equal(seeds.rng(3, a).random(64), seeds.rng(3, b).random(64)), (a, b)


def test_a_stream_is_reproducible_and_moves_with_the_seed_and_keys():
    assert torch.equal(draws(seeds.generator(7, "noise")), draws(seeds.generator(7, "noise")))
    assert not torch.equal(draws(seeds.generator(7, "noise")), draws(seeds.generator(8, "noise")))
    same = seeds.rng(7, "chip", "synapses", "x_to_h").random(8), seeds.rng(7, "chip", "synapses", "x_to_h").random(8)
    assert np.array_equal(*same)
    keyed = [seeds.rng(7, "chip", *keys).random(8) for keys in (("neurons", 0), ("neurons", 1), ("synapses", 0))]
    for a, b in itertools.combinations(keyed, 2):
        assert not np.array_equal(a, b)


def test_the_derivation_is_pinned():
    # (seed, CRC-32 of the purpose, keys; strings by their CRC-32) through numpy's SeedSequence: a change
    # here changes every stream and the figures measured with them.
    assert seeds.entropy(5, "chip", "neurons", 2) == [5, 0xAA29BCBB, 0x9F219B35, 2]
    noise = np.random.SeedSequence(seeds.entropy(0, "noise")).generate_state(1, np.uint64)[0]
    assert torch.equal(draws(seeds.generator(0, "noise")), draws(torch.Generator().manual_seed(int(noise))))
    assert torch.rand(2, generator=seeds.generator(0, "noise")).tolist() == [0.038154661655426025, 0.47769707441329956]


def test_bad_purposes_and_seeds_are_refused():
    with pytest.raises(ValueError, match="unknown purpose 'nosie'"):
        seeds.generator(0, "nosie")
    with pytest.raises(ValueError, match="seed is an integer >= 0"):
        seeds.rng(-1, "chip")


def test_training_draws_noise_shuffle_and_encoding_from_their_own_streams(tmp_path):
    program = compile_text(SMALL_DIGITS)
    config = resolve_config(program.ir.header.train, seed=4)
    dataset = load_data("digits", program.ir.inputs()[0], tmp_path).subset(16, 16)
    generators = Trainer(program, config, dataset).generators
    assert set(generators) == {"noise", "shuffle", "encode"}
    for purpose, generator in generators.items():
        assert torch.equal(generator.get_state(), seeds.generator(4, purpose).get_state()), purpose
    for a, b in itertools.combinations(generators.values(), 2):
        assert not torch.equal(a.get_state(), b.get_state())


def test_the_emulator_noise_comes_from_the_noise_stream_and_defaults_are_stated_once():
    emulator = emulator_for(compile_text(SMALL_DIGITS))
    assert emulator.chip_seed == defaults.CHIP_SEED
    assert torch.equal(emulator.generator.get_state(), seeds.generator(defaults.SEED, "noise").get_state())
