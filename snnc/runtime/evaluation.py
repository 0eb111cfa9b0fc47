"""Evaluation of a program on an emulator: accuracy, per-sample predictions and scores, events per sample
and throughput on a data set (`snnc run`, and the test set after each epoch of `snnc train`)."""

from __future__ import annotations

import time

import torch

from snnc.runtime import seeds
from snnc.runtime.emulators.base import Emulator, Observation, Stimulus
from snnc.runtime.encoders import encode

EVAL_BATCH = 256


def observe_aside(emulator: Emulator, weights: dict[str, torch.Tensor], x: torch.Tensor,
                  membranes: str = "all") -> tuple[Stimulus, Observation]:
    """x[0] through the emulator on throwaway random state (its stimulus and observation): the run's
    results and random state stay those of a run without it."""
    sample = encode(emulator.ir, x[:1], torch.Generator().manual_seed(0))
    state = emulator.generator.get_state()
    observation = emulator.observe(sample, weights, membranes=membranes)
    emulator.generator.set_state(state)
    return sample, observation


def _load_kernels(emulator: Emulator, weights: dict[str, torch.Tensor], x: torch.Tensor) -> None:
    """The first call of a compiled kernel loads it: done aside, untimed."""
    observe_aside(emulator, weights, x, membranes="output")


@torch.no_grad()
def evaluate(emulator: Emulator, weights: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor,
             generator: torch.Generator | None = None) -> dict:
    """Accuracy, predictions (N,), scores (N, outputs) and events per sample of the emulator on (x, y),
    in batches of EVAL_BATCH; samples/s of the batches after an untimed first sample (whose first call
    loads the compiled kernels, ~0.7 s). Stochastic encoders draw from `generator`."""
    _load_kernels(emulator, weights, x)
    events, start, scores = 0.0, time.perf_counter(), []
    energy: dict[str, float] = {}  # the emulator's energy figures, averaged over samples
    for i in range(0, len(x), EVAL_BATCH):
        observation = emulator.observe(encode(emulator.ir, x[i:i + EVAL_BATCH], generator), weights,
                                       membranes="output")
        scores.append(observation.scores)
        events += float(observation.activity.sum())
        for key, value in emulator.energy().items():
            energy[key] = energy.get(key, 0.0) + value * len(y[i:i + EVAL_BATCH]) / len(x)
    seconds = time.perf_counter() - start
    scores = torch.cat(scores)
    predictions = scores.argmax(1)
    return {"accuracy": int((predictions == y).sum()) / len(x), "spikes_per_sample": events / len(x),
            "samples_per_second": len(x) / seconds if seconds > 0 else float("inf"), "energy": energy,
            "predictions": predictions, "scores": scores}


def evaluate_as_run(emulator: Emulator, weights: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor,
                    seed: int) -> dict:
    """`evaluate` with the noise and encoding streams a fresh `snnc run --seed seed` starts from, so that
    running the program afterwards reproduces the result; the emulator's own noise stream is left where
    it was (training's evaluation after each epoch moves none of the run's random state)."""
    own = emulator.generator
    emulator.generator = emulator.noise_stream(seed)
    try:
        return evaluate(emulator, weights, x, y, seeds.generator(seed, "encode"))
    finally:
        emulator.generator = own
