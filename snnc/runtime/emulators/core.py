"""The one simulation core: time-stepped spiking networks on batches, shared by every emulator and the
digital twin. Populations are simulated group by group (the strongly connected components of the
projection graph, in topological order): inputs from earlier groups reach a group through one matmul
over all time steps at once; only projections inside a group (recurrence) are applied step by step.

Per step t, for every population of a group (exact integration of the current-based LIF over one step
with the synaptic current decaying exponentially):
    V_t = v_leak + a_mem (V_{t-1} - v_leak) + k_syn I_{t-1} + k_in x_t       (+ the AdEx terms)
    z_t = spike(V_t - v_th);  V_t <- v_reset where z_t (reset = subtract: V_t <- V_t - (v_th - v_reset));
    refractory neurons hold V_t = v_reset
    I_t = a_syn I_{t-1} + x_t,   x_t = sum over projections of z^source_{t - delay} @ W
With `arrival = next_step` (the default, k_in = 0) a spike emitted at step t moves the target's current at
t + delay and its membrane from the next step on: even a zero-delay recurrent projection is causal. With
`arrival = same_step` the spike arrives at the start of step t + delay and drives the membrane in that
step already: V_t = ... + k I_t, i.e. k_syn = k a_syn and k_in = k (k: the exact propagator of a current
over one step). Without a synaptic current (tau_syn = 0; IF, integrator) an input moves V by its weight
in the step it arrives: a_syn = k_syn = 0, k_in = 1. Inside a recurrent group a spike cannot act on the
step that produced it: a zero-delay projection into such a population arrives one step later. IF and
integrator neurons have no leak (a_mem = 1); an always_on population spikes at every step.
An analog input (current, intensity) is a drive u = x @ W of the synaptic current, integrated exactly too
(a constant u: I settles at u, and so does V; without a synaptic current V gains (1 - a_mem) u per step).
Sequence data give one u per window, W windows spread evenly over the simulated span T dt (window w
during [w T dt / W, (w + 1) T dt / W)); a step that a window boundary cuts gets each window's exact
share (analog.window_gains), so the integration stays exact per window."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import networkx as nx
import torch

from snnc.compiler.ir.encoders import Current, Intensity
from snnc.compiler.ir.graph import NetworkIR
from snnc.compiler.ir.neurons import IF, LI, LIF, AdEx, AlwaysOn, Integrator
from snnc.compiler.ir.synapses import SparseWeights, is_sparse
from snnc.diagnostics import SnncError, error
from snnc.runtime.emulators import analog
from snnc.runtime.emulators.sparse import densify

Tensor = torch.Tensor
# Cap of the AdEx exponent: the upswing is cut by the threshold long before; this only avoids inf.
ADEX_EXP_CAP = 20.0
MODELS = {LIF: "lif", LI: "li", AdEx: "adex", IF: "lif", Integrator: "li", AlwaysOn: "always_on"}


@dataclass
class NeuronParams:
    """Per-neuron parameters of one population as tensors of shape (N,) (mismatch makes them differ)."""

    kind: str  # "lif", "li", "adex" or "always_on"
    tau_mem: Tensor  # inf: no leak (IF, integrator)
    tau_syn: Tensor  # 0: no synaptic current
    v_leak: Tensor
    v_th: Tensor | None = None
    v_reset: Tensor | None = None
    refractory_steps: int = 0
    adex: dict[str, Tensor] = field(default_factory=dict)  # v_exp, delta_t, a, b, tau_w
    reset: str = "to_v_reset"  # or "subtract"
    arrival: str = "next_step"  # or "same_step"

    @property
    def spiking(self) -> bool:
        return self.kind in ("lif", "adex")

    @property
    def immediate(self) -> bool:
        """Whether an input drives the membrane in the step it arrives (k_in != 0)."""
        return self.arrival == "same_step" or bool((self.tau_syn == 0).any())

    def needs_core(self) -> str | None:
        """What of this population only the general core simulates (None: the fast kernels may run it)."""
        if self.immediate or self.reset != "to_v_reset":
            return "arrival = same_step, tau_syn = 0 or reset = subtract"
        return None

    def threshold_unit(self) -> Tensor:
        """v_th - v_leak: the unit in which mismatch and noise of voltages are given (1 without threshold)."""
        return (self.v_th - self.v_leak) if self.v_th is not None else torch.ones_like(self.v_leak)


@dataclass(frozen=True)
class Edge:
    """A projection as the core sees it."""

    name: str
    source: str
    target: str
    delay_steps: int
    analog: bool  # from a current/intensity input: a constant drive, not events


@dataclass(frozen=True)
class Plan:
    """The static structure of a network: groups of populations in simulation order and their edges, and
    the synapses of its sparse projections (whose weights are vectors, one entry per synapse)."""

    steps: int
    dt: float
    inputs: tuple[str, ...]
    groups: tuple[tuple[str, ...], ...]
    edges: tuple[Edge, ...]
    sizes: dict[str, int]
    synapses: dict[str, SparseWeights] = field(default_factory=dict)

    def incoming(self, population: str) -> list[Edge]:
        return [e for e in self.edges if e.target == population]


def check_models(ir: NetworkIR) -> None:
    """SnncError naming every population whose model the spiking core does not simulate."""
    problems = [error("E480", f"population '{p.name}': the spiking emulator does not simulate "
                      f"'{p.model.dsl_name}' neurons (it runs {', '.join(m.dsl_name for m in MODELS)}; optical "
                      "models run on the onn target)", p.span)
                for p in ir.populations() if type(p.model) not in MODELS]
    if problems:
        raise SnncError(problems)


def build_plan(ir: NetworkIR) -> Plan:
    """The simulation order of an IR."""
    header = ir.header
    pops = {p.name for p in ir.populations()}
    subgraph = nx.DiGraph()
    subgraph.add_nodes_from(pops)
    subgraph.add_edges_from((e.source, e.target) for e in ir.projections() if e.source in pops)
    condensed = nx.condensation(subgraph)
    order = nx.lexicographical_topological_sort(condensed, key=lambda n: min(condensed.nodes[n]["members"]))
    groups = tuple(tuple(sorted(condensed.nodes[n]["members"])) for n in order)
    edges = []
    for projection in ir.projections():
        source = ir.decl(projection.source)
        analog = isinstance(getattr(source, "encoder", None), (Current, Intensity))
        edges.append(Edge(projection.name, projection.source, projection.target,
                          int(round(projection.delay / header.timestep)), analog))
    return Plan(steps=header.steps, dt=header.timestep, inputs=tuple(i.name for i in ir.inputs()),
                groups=groups, edges=tuple(edges), sizes={name: ir.size(name) for name in ir.graph.nodes},
                synapses={key: w for _, _, key, attrs in ir.edges() if is_sparse(w := attrs["weights"])})


def nominal_params(ir: NetworkIR, dtype: torch.dtype = torch.float32) -> dict[str, NeuronParams]:
    """The parameters of every population as declared (the ideal substrate and the twin)."""
    dt = ir.header.timestep
    params = {}
    for population in ir.populations():
        model = population.model

        def full(value: float, n: int = population.size) -> Tensor:
            return torch.full((n,), float(value), dtype=dtype)

        kind = MODELS[type(model)]
        leaky = hasattr(model, "tau_mem")  # IF and integrator: no leak, no synaptic current
        p = NeuronParams(kind=kind, tau_mem=full(model.tau_mem if leaky else float("inf")),
                         tau_syn=full(model.tau_syn if leaky else 0.0), v_leak=full(getattr(model, "v_leak", 0.0)),
                         reset=getattr(model, "reset", "to_v_reset"), arrival=getattr(model, "arrival", "next_step"))
        if kind in ("lif", "adex"):
            p.v_th, p.v_reset = full(model.v_th), full(model.v_reset)
            # (a hold past the sample's end is one to its end: int32 counters stay in range)
            p.refractory_steps = min(int(round(model.refractory / dt)), ir.header.steps + 1)
        if kind == "adex":
            p.adex = {k: full(getattr(model, k)) for k in ("v_exp", "delta_t", "a", "b", "tau_w")}
        params[population.name] = p
    return params


def with_mismatch(p: NeuronParams, tau_mem: Tensor, tau_syn: Tensor, v_th: Tensor, v_leak: Tensor) -> NeuronParams:
    """A copy of `p` with relative time-constant factors and voltage offsets (in threshold units) applied."""
    unit = p.threshold_unit()
    return replace(p, tau_mem=p.tau_mem * tau_mem, tau_syn=p.tau_syn * tau_syn, v_leak=p.v_leak + v_leak * unit,
                   v_th=None if p.v_th is None else p.v_th + v_th * unit)


@dataclass
class Coefficients:
    """Per-step propagators of one population, from its parameters and dt (computed in float64)."""

    a_mem: Tensor
    a_syn: Tensor
    k_syn: Tensor  # of I_{t-1}
    a_w: Tensor | None = None
    k_in: Tensor | None = None  # of x_t, for populations whose input acts in the step it arrives

    @classmethod
    def of(cls, p: NeuronParams, dt: float) -> Coefficients:
        a_mem, a_syn, k_syn = analog.propagators(p.tau_mem, p.tau_syn, torch.tensor(dt, dtype=torch.float64))
        ts = p.tau_syn.double()
        k_in = None
        if p.immediate:  # V_t = ... + k I_t = ... + k a_syn I_{t-1} + k x_t; no current: k_in = 1
            delta = ts == 0
            k_in = torch.where(delta, torch.ones_like(k_syn), k_syn)
            k_syn = torch.where(delta, torch.zeros_like(k_syn), k_syn * a_syn)
        a_w = torch.exp(-dt / p.adex["tau_w"].double()) if p.kind == "adex" else None
        dtype = p.tau_mem.dtype
        return cls(a_mem.to(dtype), a_syn.to(dtype), k_syn.to(dtype), None if a_w is None else a_w.to(dtype),
                   None if k_in is None else k_in.to(dtype))


# spike(population, step, v - v_th) -> z in [0, 1]: the emulators use a step function, the twin a
# surrogate whose value may be the substrate's observed spike.
SpikeFn = Callable[[str, int, Tensor], Tensor]


@dataclass
class Trace:
    """The result of a simulation: per population (T, B, N) spikes and membranes."""

    spikes: dict[str, Tensor]
    membrane: dict[str, Tensor]

    def activity(self) -> Tensor:
        """(B,) spikes per sample over all spiking populations."""
        counts = [z.sum(dim=(0, 2)) for z in self.spikes.values()]
        return torch.stack(counts).sum(0) if counts else torch.zeros(0)


def shifted(z: Tensor, steps: int) -> Tensor:
    """z delayed by `steps` along time (dim 0), zeros shifted in."""
    if steps == 0:
        return z
    if steps >= z.shape[0]:
        return torch.zeros_like(z)
    return torch.cat([z.new_zeros((steps,) + z.shape[1:]), z[:-steps]])


def analog_drive(u: Tensor, p: NeuronParams, c: Coefficients, steps: int,
                 dt: float) -> tuple[Tensor | None, Tensor]:
    """The per-step increments of the synaptic current ((T, B, N), None for a population whose input acts
    at once) and of the membrane (a (B, N) for every step, or (T, B, N)) from drive u: (B, N) constant
    or (W, B, N) per window (analog.py)."""
    return analog.analog_drive(u, p.tau_mem, p.tau_syn, p.immediate, c.a_mem, c.a_syn, c.k_syn, steps, dt)


def simulate(plan: Plan, params: dict[str, NeuronParams], weights: dict[str, Tensor], events: dict[str, Tensor],
             values: dict[str, Tensor], spike: SpikeFn, *, noise: dict[str, Tensor] | None = None,
             detach_reset: bool = False, observed: dict[str, Tensor] | None = None) -> Trace:
    """Run the network on a batch. `events[input]` (T, B, N); `values[input]` for analog inputs, (B, N)
    constant or (W, B, N) per window; `noise[population]` (T, B, N) is added to the membrane after each
    step's integration. `observed[population]` (T, B, N), a measured membrane (the twin's membrane mode):
    each step's integrated V takes the measured value, its gradient passes to the computed one (hxtorch's
    Unterjubel); the spike is evaluated on it and the reset skipped, since the measurement already
    shows what the substrate did, and the next step integrates from it. A sparse projection's weight
    vector is scattered onto its (pre, post) matrix (differentiably) first."""
    T, dt = plan.steps, plan.dt
    weights = {name: densify(name, plan.synapses[name], w) if name in plan.synapses else w
               for name, w in weights.items()}
    batch = next(iter(events.values() or values.values())).shape[-2]
    spikes: dict[str, Tensor] = dict(events)
    membrane: dict[str, Tensor] = {}
    for group in plan.groups:
        coeff = {name: Coefficients.of(params[name], dt) for name in group}
        external, constant, recurrent = {}, {}, {name: [] for name in group}
        for name in group:
            drive, c = None, coeff[name]
            for edge in plan.incoming(name):
                w = weights[edge.name]
                if edge.source in group:
                    recurrent[name].append(edge)
                elif edge.analog:  # a drive u = x @ W into tau_syn dI/dt = -I + u
                    u = values[edge.source] @ w
                    constant[name] = u if name not in constant else constant[name] + u
                else:  # all steps in one matmul
                    z = shifted(spikes[edge.source], edge.delay_steps)
                    term = (z.reshape(T * batch, -1) @ w).reshape(T, batch, -1)
                    drive = term if drive is None else drive + term
            if name in constant:
                current, voltage = analog_drive(constant[name], params[name], c, T, dt)
                if current is not None:
                    drive = current + (0 if drive is None else drive)
                constant[name] = [voltage] * T if voltage.dim() == 2 else voltage.unbind(0)
            # One tensor per step: indexing drive[t] inside the loop would make autograd build a
            # full-size gradient for every step (quadratic in T); unbind's backward stacks once.
            external[name] = None if drive is None else drive.unbind(0)
        out_z, out_v = _run_group(group, params, coeff, external, constant, recurrent, weights, spike, noise,
                                  batch, plan, detach_reset, observed or {})
        spikes.update(out_z)
        membrane.update(out_v)
    for name in plan.inputs:
        spikes.pop(name, None)
    # always_on populations are not activity: their spikes are the bias they carry
    return Trace(spikes={k: v for k, v in spikes.items() if params[k].spiking}, membrane=membrane)


def _run_group(group, params, coeff, external, constant, recurrent, weights, spike, noise, batch, plan,
               detach_reset, observed):
    T = plan.steps
    any_param = params[group[0]].tau_mem
    state = {}
    for name in group:
        p, n = params[name], plan.sizes[name]
        v = p.v_leak.expand(batch, n).clone()
        i = any_param.new_zeros(batch, n)
        w_ad = any_param.new_zeros(batch, n) if p.kind == "adex" else None
        refrac = torch.zeros(batch, n, dtype=torch.int32) if p.refractory_steps > 0 else None
        state[name] = [v, i, w_ad, refrac]
    zs = {name: [] for name in group}
    vs = {name: [] for name in group}
    arriving = {}  # x_t of the populations whose input acts in the step it arrives
    for t in range(T):
        for name in group:  # membranes first: they depend on the previous step only
            p, c = params[name], coeff[name]
            if p.kind == "always_on":
                zs[name].append(any_param.new_ones(batch, plan.sizes[name]))
                continue
            v, i, w_ad, refrac = state[name]
            v_new = p.v_leak + c.a_mem * (v - p.v_leak) + c.k_syn * i
            if p.immediate:
                x = _arriving(external[name], recurrent[name], zs, weights, t)
                arriving[name] = x
                if x is not None:
                    v_new = v_new + c.k_in * x
            if name in constant:
                v_new = v_new + constant[name][t]
            if p.kind == "adex":
                a = p.adex
                exp_term = a["delta_t"] * torch.exp(torch.clamp((v - a["v_exp"]) / a["delta_t"], max=ADEX_EXP_CAP))
                v_new = v_new + (1 - c.a_mem) * (exp_term - w_ad)
                w_ad = c.a_w * w_ad + (1 - c.a_w) * a["a"] * (v - p.v_leak)
            if noise is not None and name in noise:
                v_new = v_new + noise[name][t]
            if refrac is not None:
                v_new = torch.where(refrac > 0, p.v_reset, v_new)
            if name in observed:  # forward: the measurement; backward: the model's dV
                v_new = measured(v_new, observed[name][t])
            if p.spiking:
                z = spike(name, t, v_new - p.v_th)
                zr = z.detach() if detach_reset else z
                if name not in observed:
                    v_new = v_new - zr * ((p.v_th - p.v_reset) if p.reset == "subtract" else (v_new - p.v_reset))
                if p.kind == "adex":
                    w_ad = w_ad + zr * p.adex["b"]
                if refrac is not None:
                    refrac = torch.where(z.detach() > 0.5, p.refractory_steps, torch.clamp(refrac - 1, min=0))
                zs[name].append(z)
            vs[name].append(v_new)
            state[name] = [v_new, i, w_ad, refrac]
        for name in group:  # then currents, with this step's spikes of the group (recurrence)
            p, c = params[name], coeff[name]
            if p.kind == "always_on":
                continue
            v, i, w_ad, refrac = state[name]
            i = c.a_syn * i
            if p.immediate:
                if arriving[name] is not None:
                    i = i + arriving[name]
            else:
                if external[name] is not None:
                    i = i + external[name][t]
                for edge in recurrent[name]:
                    if t - edge.delay_steps >= 0:
                        i = i + zs[edge.source][t - edge.delay_steps] @ weights[edge.name]
            state[name][1] = i
    out_z = {name: torch.stack(zs[name]) for name in group if zs[name]}
    out_v = {name: torch.stack(vs[name]) for name in group if vs[name]}
    return out_z, out_v


def _arriving(external, recurrent, zs, weights, t):
    """x_t of a population whose input acts in the step it arrives: the earlier groups' drive of step t
    and the group's own spikes, a zero-delay one from the step before (it cannot act on its own step)."""
    x = None if external is None else external[t]
    for edge in recurrent:
        lag = max(edge.delay_steps, 1)
        if t - lag >= 0:
            term = zs[edge.source][t - lag] @ weights[edge.name]
            x = term if x is None else x + term
    return x


def measured(computed: Tensor, measurement: Tensor) -> Tensor:
    """The measurement's value exactly, with the gradient of `computed` (hxtorch's Unterjubel)."""
    return _Measured.apply(computed, measurement)


class _Measured(torch.autograd.Function):
    """forward(computed, measured) -> measured, exactly; backward: the gradient goes to `computed`
    (hxtorch's Unterjubel, hxtorch/spiking/functional/unterjubel.py)."""

    @staticmethod
    def forward(ctx, computed: Tensor, measured: Tensor) -> Tensor:
        return measured.to(computed.dtype).clone()

    @staticmethod
    def backward(ctx, grad: Tensor):
        return grad, None


def heaviside(_population: str, _step: int, u: Tensor) -> Tensor:
    """The substrate's spike: a threshold crossing."""
    return (u >= 0).to(u.dtype)

