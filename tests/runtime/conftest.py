"""Shared fixtures of the runtime tests: tiny networks compiled from text, and their emulators."""

from __future__ import annotations

import pytest
import torch

import snnc
from tests.conftest import timed_network, train_block

TINY = timed_network("tiny", "12 ms", """\
    input  x[6] : latency(t_max = 8 ms)
    pop    h[5] : LIF(tau_mem = 4 ms, tau_syn = 3 ms, v_th = 0.5, refractory = 1 ms)
    pop    o[3] : LI(tau_mem = 4 ms, tau_syn = 3 ms)
    proj x -> h : dense(init = normal(0.3, 0.3))
    proj h -> h : sparse(p = 0.5, init = normal(0, 0.2)) delay 1 ms
    proj h -> o : dense(init = normal(0, 0.5))
    output o : max_membrane""")

# bss2 has no programmable delays: the same network with the chip's fixed event latency instead.
TINY_BSS2 = TINY.replace(" delay 1 ms", "")

# 64 -> 20 -> 10 on the native 8x8 digits: trains to a useful accuracy in seconds.
SMALL_DIGITS = timed_network("small_digits", "20 ms", """\
    neuron lif = LIF(tau_mem = 5 ms, tau_syn = 5 ms, v_th = 1.0, refractory = 1 ms)
    input  pixels[8, 8] : latency(t_max = 15 ms)
    pop    hidden[20]   : lif
    pop    out[10]      : LI(tau_mem = 5 ms, tau_syn = 5 ms)
    proj pixels -> hidden : dense(init = normal(0.05, 0.2))
    proj hidden -> out    : dense(init = normal(0, 0.2))
    output out : max_membrane""") + train_block(
    "epochs 2", "batch 32", "optimizer adam(lr = 5e-3)", "regularize spikes(per_sample = 20, strength = 1e-3)")


def compile_text(text: str, target: str = "reference", seed: int = 0, name: str = "net.snn"):
    return snnc.compile(name, text=text, target=target, seed=seed)


@pytest.fixture(autouse=True)
def _few_threads():
    torch.set_num_threads(1)  # tiny tensors: threads only add overhead, and results stay reproducible
    yield


@pytest.fixture
def small_digits_file(tmp_path):
    path = tmp_path / "small_digits.snn"
    path.write_text(SMALL_DIGITS)
    return path
