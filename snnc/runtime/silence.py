"""A check at the start of training: a spiking population that emits no spike on the first batch gets a
warning (a Diagnostic value) naming it and what to change. A silent population has no gradient to
follow under spike-train-level methods, and only a weak surrogate one under BPTT, so training an
example that starts silent stays at chance (the issue behind this check: a shipped recurrent example
whose hidden layers never fired)."""

from __future__ import annotations

import torch

from snnc.diagnostics import Diagnostic, warning
from snnc.runtime.emulators import core
from snnc.runtime.emulators.base import Emulator, Observation, Stimulus
from snnc.runtime.encoders import encode

Tensor = torch.Tensor


@torch.no_grad()
def silent_populations(emulator: Emulator, weights: dict[str, Tensor], x: Tensor) -> list[Diagnostic]:
    """W450 for every spiking population silent on the batch `x`, run aside: a throwaway encoding
    generator, and the emulator's noise state restored, so the run's random streams are untouched."""
    if not hasattr(emulator, "plan"):  # substrates without spiking populations
        return []
    stimulus = encode(emulator.ir, x, torch.Generator().manual_seed(0))
    state = emulator.generator.get_state()
    observation = emulator.observe(stimulus, weights, membranes="all")
    emulator.generator.set_state(state)
    silent = [name for name, z in observation.spikes.items() if not bool(z.any())]
    deployed = emulator.deploy(weights)
    return [_warning(emulator, name, stimulus, observation, deployed, silent) for name in silent]


def synaptic_current(emulator, name: str, stimulus: Stimulus, observation: Observation,
                     weights: dict[str, Tensor]) -> Tensor:
    """(T, B, N) synaptic current of population `name` from what its sources emitted (core.py's I); a
    sparse projection's weight vector is scattered onto its (pre, post) matrix first."""
    plan, p = emulator.plan, emulator.nominal[name]
    c = core.Coefficients.of(p, plan.dt)
    trains = {**stimulus.events, **observation.spikes}
    for source, q in emulator.nominal.items():  # always_on populations: a spike every step
        if q.kind == "always_on":
            trains[source] = torch.ones(plan.steps, stimulus.batch, plan.sizes[source], dtype=emulator.dtype)
    drive = torch.zeros(plan.steps, stimulus.batch, plan.sizes[name], dtype=emulator.dtype)
    for edge in plan.incoming(name):
        w = emulator.dense(edge.name, weights[edge.name])
        if edge.analog:
            current = core.analog_drive(stimulus.values[edge.source] @ w, p, c, plan.steps, plan.dt)[0]
            drive = drive if current is None else drive + current
        elif edge.source in trains:
            drive = drive + core.shifted(trains[edge.source], edge.delay_steps) @ w
    current, i = [], torch.zeros_like(drive[0])
    for step in drive:
        i = c.a_syn * i + step
        current.append(i)
    return torch.stack(current)


def _warning(emulator, name: str, stimulus: Stimulus, observation: Observation, weights: dict[str, Tensor],
             silent: list[str]) -> Diagnostic:
    population = emulator.ir.decl(name)
    p = emulator.nominal[name]
    v_th, v_leak = float(p.v_th.mean()), float(p.v_leak.mean())
    current = float(synaptic_current(emulator, name, stimulus, observation, weights).mean())
    peak = float(observation.membrane[name].max())
    live = [e for e in emulator.plan.incoming(name) if e.source not in silent]
    if not live:
        sources = sorted({e.source for e in emulator.plan.incoming(name)})
        advice = f"all its sources ({', '.join(sources)}) are silent too: make them fire first"
    else:
        described = []
        for e in live:
            present = weights[e.name][weights[e.name] != 0]
            described.append(f"{e.source} -> {e.target} (mean {float(present.mean()):.2g}, std "
                             f"{float(present.std()) if present.numel() > 1 else 0.0:.2g})")
        projections = ", ".join(described)
        # Without spikes (no reset) V - v_leak is linear in the weights: scaling them scales the peak.
        advice = (f"raise the initial weights of {projections}" if peak <= v_leak else
                  f"scale the initial weights of {projections} up by at least {(v_th - v_leak) / (peak - v_leak):.2g}x "
                  "(a silent membrane grows in proportion), or lower v_th")
    return warning("W450", f"population '{name}' emitted no spike on the first batch ({stimulus.batch} samples): "
                   f"its membrane peaks at {peak:.2g} (largest over neurons, samples and steps) below v_th = "
                   f"{v_th:.3g}, and the synaptic current it receives averages {current:.2g} while a constant "
                   f"current must exceed v_th - v_leak = {v_th - v_leak:.3g} to make a LIF fire (V settles at "
                   f"v_leak + I); {advice}", population.span)
