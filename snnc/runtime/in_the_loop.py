"""Training in the loop: an autograd Function whose forward is the substrate and whose backward is the
digital twin. Generic over substrates: anything with an Emulator.observe and a Twin.replay
(docs/runtime.md) trains through it; the emulator itself is never differentiated."""

from __future__ import annotations

import torch

from snnc.runtime.emulators.base import Emulator, Stimulus, Twin

Tensor = torch.Tensor


class InTheLoop(torch.autograd.Function):
    """forward(emulator, twin, stimulus, names, *weights) -> (scores, activity) as the substrate observed
    them; backward: the vector-Jacobian product of twin.replay on the same stimulus and observation."""

    @staticmethod
    def forward(ctx, emulator: Emulator, twin: Twin, stimulus: Stimulus, names: tuple[str, ...],
                *weights: Tensor) -> tuple[Tensor, Tensor]:
        observation = emulator.observe(stimulus, dict(zip(names, weights)), membranes=twin.membranes)
        ctx.twin, ctx.stimulus, ctx.names, ctx.observation = twin, stimulus, names, observation
        ctx.save_for_backward(*weights)
        return observation.scores.clone(), observation.activity.clone()

    @staticmethod
    def backward(ctx, grad_scores: Tensor, grad_activity: Tensor):
        weights = [w.detach().requires_grad_(True) for w in ctx.saved_tensors]
        with torch.enable_grad():
            scores, activity = ctx.twin.replay(ctx.stimulus, dict(zip(ctx.names, weights)), ctx.observation)
            outputs, grads_out = [scores], [grad_scores]
            if activity.requires_grad:  # a network without spiking populations has constant activity
                outputs.append(activity)
                grads_out.append(grad_activity)
            grads = torch.autograd.grad(outputs, weights, grads_out, allow_unused=True)
        grads = [torch.zeros_like(w) if g is None else g for w, g in zip(weights, grads)]
        return (None, None, None, None, *grads)


def in_the_loop(emulator: Emulator, twin: Twin, stimulus: Stimulus,
                weights: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
    """(scores (B, n_out), activity (B,)): values from the substrate's forward, gradients from the twin."""
    names = tuple(weights)
    return InTheLoop.apply(emulator, twin, stimulus, names, *(weights[n] for n in names))


def warm_up(emulator: Emulator, twin: Twin, stimulus: Stimulus, weights: dict[str, Tensor]) -> None:
    """One batch forward and backward on copies of `weights`, its noise drawn aside: loads (on a cold numba
    cache: compiles) the substrate's kernels and the twin's before the first timed batch. Moves none of
    the run's state (weights, optimizer, random streams)."""
    state = emulator.generator.get_state()
    copies = {name: w.detach().clone().requires_grad_(True) for name, w in weights.items()}
    try:
        scores, _ = in_the_loop(emulator, twin, stimulus, copies)
        scores.sum().backward()
    finally:
        emulator.generator.set_state(state)
