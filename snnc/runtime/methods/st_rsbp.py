"""`--method st-rsbp`: spike-train-level recurrent backpropagation (ST-RSBP; Zhang & Li, "Spike-Train
Level Backpropagation for Training Deep Recurrent Spiking Neural Networks", NeurIPS 2019; its
feed-forward special case is HM2-BP, Jin, Zhang & Li, NeurIPS 2018), after the authors' CUDA code
(github.com/stonezwr/ST-RSBP: layers/Spiking.cu, layers/Reservoir.cu). docs/recurrent.md states the
equations (R1)-(R7) referred to below.

The forward pass is the substrate's, in the loop, unchanged. The backward pass never unrolls time: it
works on spike-train-level quantities of the observed trains, the firing counts o and the S-PSPs e
(spsp.py), under the paper's firing-count model o_i = a_i / nu_i with a_i = sum_j w_ij e_{i|j} (R2).
Differentiating that model, with e_{i|j} depending on the presynaptic count (R3) and on the neuron's
own (R4), gives one linear system per strongly connected group of populations (a recurrent layer;
(R5)), solved per sample for the error passed to the layer below; the weights' own gradient uses its
diagonal, as the authors' code does (R6). For a feed-forward layer it is diagonal, which is HM2-BP. The loss is the
training loop's own on the output's firing counts (a `spike_count` readout): a rate-coded loss."""

from __future__ import annotations

import torch

from snnc.compiler.ir.neurons import LIF, AlwaysOn
from snnc.compiler.ir.readouts import SpikeCount
from snnc.diagnostics import Diagnostic, SnncError, error
from snnc.runtime.emulators import core
from snnc.runtime.emulators.base import Observation, Stimulus, Twin
from snnc.runtime.methods.spsp import Kernel, Source, filled, spsp

Tensor = torch.Tensor
NAME = "st-rsbp"
# The self-consistency factor 1 - S_i of (R4) is kept at least this large: at low rates S_i nears 1 and a
# sign change would reverse the neuron's gradient (the authors' code keeps |1 - S| >= 1e-4 and its sign).
MIN_SELF_FACTOR = 0.1
# de_{i|j}/do_j where either count is 0: the authors' constant 0.5 is 2/3 of their kernel's peak response
# (0.74 at tau_m = 64, tau_s = 8 steps); we take the same share of the post-synaptic kernel's peak.
SILENT_RATIO_OF_PEAK = 2.0 / 3.0


def problems(emulator) -> list[Diagnostic]:
    """Why st-rsbp cannot train this program (empty when it can)."""
    ir, output = emulator.ir, emulator.output
    found = []
    if not isinstance(output.readout, SpikeCount):
        found.append(error("E453", "st-rsbp trains a rate-coded loss on firing counts, but output "
                           f"'{output.population}' is read out by {output.readout.dsl_name}; declare "
                           f"`output {output.population} : spike_count`", output.span))
    for population in ir.populations():
        model, p = population.model, emulator.nominal[population.name]
        if isinstance(model, AlwaysOn):  # a bias source: its train is known, it has nothing to learn
            continue
        if not isinstance(model, LIF):
            what = "never spikes, so it has no firing count" if model.dsl_name == "LI" else "is not a LIF population"
        elif p.reset != "to_v_reset" or p.arrival != "next_step" or bool((p.tau_syn == 0).any()):
            what = "uses reset = subtract, arrival = same_step or tau_syn = 0"
        else:
            continue
        found.append(error("E453", f"population '{population.name}' ({model.dsl_name}) {what}: st-rsbp's "
                           "spike-train-level model is the current-based LIF with a synaptic current, reset to "
                           "v_reset and input arriving the next step; use such neurons (and a spike_count readout) "
                           "or --method surrogate", population.span))
    return found


def spike_trains(emulator, stimulus: Stimulus, observation: Observation) -> dict[str, Tensor]:
    """(T, B, N) trains of every source: inputs' events, observed spikes, always_on populations' ones."""
    trains = {**stimulus.events, **observation.spikes}
    for name, p in emulator.nominal.items():
        if p.kind == "always_on":
            trains[name] = torch.ones(stimulus.steps, stimulus.batch, emulator.plan.sizes[name],
                                      dtype=emulator.dtype)
    return trains


class SpikeTrainTwin(Twin):
    """The backward of st-rsbp as a Twin: replay returns the observed firing counts and activity, whose
    vector-Jacobian product with respect to the weights is the spike-train-level gradient."""

    def __init__(self, emulator):
        found = problems(emulator)
        if found:
            raise SnncError(found)
        self.emulator = emulator
        self.kernels = {name: Kernel.of(p, emulator.plan.dt) for name, p in emulator.nominal.items()}

    def replay(self, stimulus: Stimulus, weights: dict[str, Tensor],
               observation: Observation) -> tuple[Tensor, Tensor]:
        deployed = self.emulator.twin_weights(weights)  # quantized on bss2, straight through
        # (pre, post) matrices: a sparse projection's synapse vector scattered, differentiably (emulators/sparse.py)
        deployed = {name: self.emulator.dense(name, w) for name, w in deployed.items()}
        names = tuple(deployed)
        return _SpikeTrainLevel.apply(self, stimulus, observation, names, *(deployed[n] for n in names))


class _SpikeTrainLevel(torch.autograd.Function):
    @staticmethod
    def forward(ctx, twin: SpikeTrainTwin, stimulus: Stimulus, observation: Observation, names: tuple[str, ...],
                *weights: Tensor) -> tuple[Tensor, Tensor]:
        ctx.twin, ctx.stimulus, ctx.observation, ctx.names = twin, stimulus, observation, names
        ctx.save_for_backward(*weights)
        return observation.scores.clone(), observation.activity.clone()

    @staticmethod
    def backward(ctx, grad_counts: Tensor, grad_activity: Tensor):
        weights = dict(zip(ctx.names, (w.detach() for w in ctx.saved_tensors)))
        grads = gradients(ctx.twin, weights, ctx.stimulus, ctx.observation, grad_counts, grad_activity)
        return (None, None, None, None, *(grads[n] for n in ctx.names))


def _sources(twin: SpikeTrainTwin, stimulus: Stimulus, trains: dict[str, Tensor], edge: core.Edge) -> Source:
    em = twin.emulator
    if not edge.analog:
        return Source(spikes=trains[edge.source], delay=edge.delay_steps)
    p = em.nominal[edge.target]
    current, membrane = core.analog_drive(stimulus.values[edge.source], p, core.Coefficients.of(p, em.plan.dt),
                                          em.plan.steps, em.plan.dt)
    return Source(current=current, membrane=membrane)


def gradients(twin: SpikeTrainTwin, weights: dict[str, Tensor], stimulus: Stimulus, observation: Observation,
              grad_counts: Tensor, grad_activity: Tensor) -> dict[str, Tensor]:
    """dE/dW of every projection from dE/do of the output's counts and of the activity (spikes per sample)."""
    em = twin.emulator
    plan, params, out = em.plan, em.nominal, em.output.population
    steps, duration = plan.steps, plan.steps * plan.dt
    trains = spike_trains(em, stimulus, observation)
    # dE/do of every spiking population (R1): the activity counts every spike, the readout the output's
    delta = {name: grad_activity[:, None].expand(-1, plan.sizes[name]).clone() for name in observation.spikes}
    delta[out] = delta[out] + grad_counts
    trains[out] = _fill_silent_targets(trains[out], delta[out])
    counts = {name: z.sum(0) for name, z in trains.items()}
    grads = {name: torch.zeros_like(w) for name, w in weights.items()}
    for group in reversed(plan.groups):
        if not all(name in delta for name in group):  # an always_on bias source: nothing to learn
            continue
        edges = [e for e in plan.edges if e.target in group]
        s_psp = {e.name: spsp(_sources(twin, stimulus, trains, e), trains[e.target], twin.kernels[e.target])
                 for e in edges}
        ratio = {e.name: _pre_ratio(s_psp[e.name], counts[e.source], counts[e.target], twin.kernels[e.target], steps)
                 for e in edges if e.source in delta}
        for name in group:  # (R1) a silent neuron's count cannot fall: only "fire more" passes through it
            delta[name] = torch.where(counts[name] > 0, delta[name], delta[name].clamp(max=0.0))
        nu = {name: params[name].threshold_unit()[None, :] for name in group}
        factor = {name: _self_factor(name, edges, weights, s_psp, counts[name], nu[name], params[name], duration,
                                     plan.dt) for name in group}
        mu = _solve_group(group, edges, weights, ratio, factor, nu, delta, plan)
        for e in edges:  # (R6) dE/dw_ji with M's diagonal (the authors' g_Reservoir_wgrad_spiketime), (R7) the
            own = delta[e.target] / (factor[e.target] * nu[e.target])  # error of the presynaptic counts with M
            grads[e.name] = torch.einsum("bi,bji->ji", own, s_psp[e.name])
            if e.source in delta and e.source not in group:
                delta[e.source] = delta[e.source] + torch.einsum("bi,ji,bji->bj", mu[e.target], weights[e.name],
                                                                 ratio[e.name])
    return grads


def _fill_silent_targets(z: Tensor, delta: Tensor) -> Tensor:
    """Output neurons that the loss asks to fire more (dE/do < 0) but that were silent on a sample count,
    for the backward only, as firing evenly spaced spikes (the authors' g_modifySpikes, which fills the
    label's neuron with its desired count; a cross-entropy has none, so we fill the count of the sample's
    most active output neuron, at least one): otherwise its S-PSPs, and so its gradient, are zero."""
    counts = z.sum(0)
    silent = (counts == 0) & (delta < 0)
    if not bool(silent.any()):
        return z
    z = z.clone()
    for b, i in silent.nonzero().tolist():
        z[:, b, i] = filled(z[:, b, i], max(int(counts[b].max()), 1))
    return z


def _pre_ratio(e: Tensor, pre: Tensor, post: Tensor, kernel: Kernel, steps: int) -> Tensor:
    """(R3) de_{i|j}/do_j ~ e_{i|j} / o_j: the S-PSP grows in proportion to the presynaptic count; where a
    count is 0, a share of the kernel's peak (the authors' constant)."""
    both = (pre[:, :, None] > 0) & (post[:, None, :] > 0)
    fallback = SILENT_RATIO_OF_PEAK * kernel.peak(steps)
    return torch.where(both, e / pre.clamp(min=1.0)[:, :, None], torch.full_like(e, fallback))


def _self_factor(name: str, edges, weights, s_psp, count: Tensor, nu: Tensor, p: core.NeuronParams,
                 duration: float, dt: float) -> Tensor:
    """(R4) 1 - S_i with S_i = sum_j w_ij (de_{i|j}/do_i) / nu_i, de_{i|j}/do_i = eta_i e_{i|j} / o_i, where
    eta_i is the elasticity of the mean S-PSP to the post count for Poisson firing after each spike's
    refractory hold R (the authors fit this derivative to simulated random trains instead): with n
    spikes in D, each interval integrates for a free time of rate n / (D - n R), and the mean S-PSP is
    e ~ n (D - n R) / (D - n R + n tau_m), so eta = 1 - n R / (D - n R) - n (tau_m - R) / (D - n R + n tau_m):
    1 / (1 + n tau_m / D) without refractoriness, negative near the refractory limit (an extra spike
    takes integration time away, so the gain of a saturated neuron is small). Silent neurons: S_i = 0."""
    total = sum(torch.einsum("ji,bji->bi", weights[e.name], s_psp[e.name]) for e in edges if e.target == name)
    hold = p.refractory_steps * dt
    free = (duration - count * hold).clamp(min=dt)
    tau = p.tau_mem[None, :]
    eta = 1.0 - count * hold / free - count * (tau - hold) / (free + count * tau)
    s = torch.where(count > 0, eta * total / (nu * count.clamp(min=1.0)), torch.zeros_like(count))
    return torch.clamp(1.0 - s, min=MIN_SELF_FACTOR)


def _solve_group(group, edges, weights, ratio, factor, nu, delta, plan) -> dict[str, Tensor]:
    """(R5) mu = M^-T dE/do / nu over the group's neurons, M = diag(1 - S) - diag(1 / nu) C with
    C_ip = w_pi de_{i|p}/do_p for every projection inside the group; a group without one is diagonal."""
    inner = [e for e in edges if e.source in group]
    if not inner:
        return {name: delta[name] / (factor[name] * nu[name]) for name in group}
    offsets, n = {}, 0
    for name in group:
        offsets[name], n = n, n + plan.sizes[name]
    batch = delta[group[0]].shape[0]
    nu_all = torch.cat([nu[name].expand(batch, -1) for name in group], 1)
    m = torch.diag_embed(torch.cat([factor[name] for name in group], 1))
    for e in inner:  # rows: the target neuron i, columns: the presynaptic neuron p
        i0, p0 = offsets[e.target], offsets[e.source]
        i1, p1 = i0 + plan.sizes[e.target], p0 + plan.sizes[e.source]
        block = (weights[e.name][None] * ratio[e.name]).transpose(1, 2)  # (B, I, P)
        m[:, i0:i1, p0:p1] -= block / nu_all[:, i0:i1, None]
    rhs = torch.cat([delta[name] for name in group], 1)
    lam, info = torch.linalg.solve_ex(m.transpose(1, 2), rhs)
    singular = info != 0  # a sample whose system has no unique solution keeps the diagonal one (HM2-BP's)
    lam = torch.where(singular[:, None], rhs / torch.diagonal(m, dim1=1, dim2=2), lam)
    mu = lam / nu_all
    return {name: mu[:, offsets[name]:offsets[name] + plan.sizes[name]] for name in group}
