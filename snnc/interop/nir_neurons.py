"""NIR neuron nodes <-> snnc neuron models, under the discrete reading that snnTorch and Norse use.

A NIR file describes continuous-time neurons, but the tools that write them simulate Euler steps of a
fixed dt (snnTorch always 1e-4 s) with spikes as 1 held for one step, and their exporters choose the
parameters so that this reading reproduces their own update. For a LIF node:
    v_t = v_{t-1} + dt / tau (v_leak - v_{t-1} + r x_t),   x_t = the node's input in step t
        = v_leak + beta (v_{t-1} - v_leak) + (r dt / tau) x_t,   beta = 1 - dt / tau
snnc integrates exactly, V_t = v_leak + a_mem (V_{t-1} - v_leak) + ..., so tau_mem = -dt / ln(beta) gives
a_mem = beta, and the input factor r dt / tau goes into the weights of every projection into the
population (`gain`, per neuron). A CubaLIF node is synapse then membrane in the same step, as snnTorch's
Synaptic (I_t = alpha I_{t-1} + (dt / tau_syn) w_in x_t, v_t = ... + (r dt / tau_mem) I_t): snnc's
`arrival = same_step` with V gaining k J_t, so the gain is (dt / tau_syn) w_in (r dt / tau_mem) / k.
IF and Integrator nodes add r x_t per step, without dt, as Norse, Sinabs and snnTorch read them.
Resets: NIR's is V <- v_reset. snnTorch's default Leaky instead subtracts the threshold in the step after
a spike (U_t = beta U_{t-1} + x_t - theta s_{t-1}), and writes v_reset = 0 all the same; `subtract` maps
that exactly onto snnc's immediate `reset = subtract` with v_reset = v_th - (v_th - v_reset) / beta,
since the subtracted amount then decays by beta before the next input. docs/interop.md has the table."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import nir
import numpy as np

from snnc.compiler.ir.neurons import IF, LI, LIF, Integrator
from snnc.interop.nir_graph import fail

UNIFORM_RTOL = 1e-6  # per-neuron values closer than this are one value (float32 exports of one number)


@dataclass
class Mapped:
    """An snnc neuron model for a NIR node, and the factor on every input of each of its neurons."""

    model: object  # an instance of a model of snnc.compiler.ir.neurons
    gain: np.ndarray  # (n,)
    notes: list[str] = field(default_factory=list)


def propagator(tau_mem: float, tau_syn: float, dt: float) -> float:
    """k of the simulation core (Coefficients.of): what V gains over a step from a unit current."""
    a_mem, a_syn = math.exp(-dt / tau_mem), math.exp(-dt / tau_syn)
    if math.isclose(tau_mem, tau_syn, rel_tol=1e-6):
        return dt / tau_mem * a_mem
    return tau_syn / (tau_syn - tau_mem) * (a_syn - a_mem)


class NodeReader:
    """Parameters of one NIR neuron node, broadcast to its n neurons, with errors naming the node."""

    def __init__(self, name: str, node: nir.NIRNode, n: int, where: str):
        self.name, self.node, self.n, self.where = name, node, n, where

    def array(self, key: str, default: float | None = None) -> np.ndarray:
        value = getattr(self.node, key, None)
        value = default if value is None else value
        array = np.asarray(value, dtype=np.float64).reshape(-1)
        if array.size not in (1, self.n):
            raise fail("E502", f"{self.where}: node '{self.name}' has {array.size} values of {key} for "
                       f"{self.n} neurons")
        return np.broadcast_to(array, (self.n,)).copy()

    def uniform(self, key: str, values: np.ndarray | None = None) -> float:
        values = self.array(key) if values is None else values
        low, high = float(values.min()), float(values.max())
        if high - low > UNIFORM_RTOL * max(abs(low), abs(high)):
            raise fail("E502", f"{self.where}: node '{self.name}' ({type(self.node).__name__}) has {key} from "
                       f"{low:g} to {high:g}; the neurons of an snnc population share one value")
        return float(values[0])

    def decay(self, key: str, dt: float, allow_zero: bool = False) -> float:
        """beta = 1 - dt / tau of the Euler step; tau must exceed dt (equal it, for a synapse)."""
        tau = self.uniform(key)
        beta = 1.0 - dt / tau if tau > 0 else -1.0
        if not (0.0 <= beta < 1.0) or (beta == 0.0 and not allow_zero):
            raise fail("E502", f"{self.where}: node '{self.name}' has {key} = {tau:g} s, not longer than the "
                       f"time step dt = {dt:g} s: its Euler update is unstable (import with a smaller --dt?)")
        return beta


def _tau(beta: float, dt: float) -> float:
    """The time constant whose exact decay over dt is beta (0 for beta = 0: no synaptic current)."""
    return 0.0 if beta == 0.0 else -dt / math.log(beta)


def _threshold_params(reader: NodeReader, beta: float, reset: str) -> tuple[dict, np.ndarray, list[str]]:
    """v_th, v_reset, v_leak and reset of a spiking node; per-neuron thresholds become a per-neuron scale
    of the membrane (weights divided by v_th - v_leak), which changes no spike."""
    v_th, v_leak = reader.array("v_threshold"), reader.array("v_leak", 0.0)
    v_reset = reader.array("v_reset", 0.0)
    scale, notes = np.ones(reader.n), []
    if np.ptp(v_th) > UNIFORM_RTOL * np.abs(v_th).max():
        scale = v_th - v_leak
        if np.any(scale <= 0):
            raise fail("E502", f"{reader.where}: node '{reader.name}' has thresholds at or below v_leak")
        v_th, v_leak, v_reset = v_th / scale, v_leak / scale, v_reset / scale
        notes.append("per-neuron thresholds: membrane scaled to v_th - v_leak = 1 per neuron")
    params = {"v_th": reader.uniform("v_threshold", v_th), "v_leak": reader.uniform("v_leak", v_leak)}
    reset_to = reader.uniform("v_reset", v_reset)
    if reset == "subtract":
        reset_to = params["v_th"] - (params["v_th"] - reset_to) / (beta if beta > 0 else 1.0)
    params.update(v_reset=reset_to, reset=reset)
    return params, 1.0 / scale, notes


def from_nir(name: str, node: nir.NIRNode, n: int, dt: float, reset: str, where: str) -> Mapped:
    """The snnc model of NIR neuron node `node` with n neurons at time step dt (`reset`: "to_v_reset" as
    NIR says, or "subtract" for snnTorch's default reset)."""
    reader = NodeReader(name, node, n, where)
    if isinstance(node, (nir.LIF, nir.LI)):
        beta = reader.decay("tau", dt)
        gain = reader.array("r") * dt / reader.array("tau")
        common = {"tau_mem": _tau(beta, dt), "tau_syn": 0.0}
        if isinstance(node, nir.LI):
            return Mapped(LI(**common, v_leak=reader.uniform("v_leak")), gain)
        params, scale, notes = _threshold_params(reader, beta, reset)
        return Mapped(LIF(**common, **params), gain * scale, notes)
    if isinstance(node, (nir.CubaLIF, nir.CubaLI)):
        alpha, beta = reader.decay("tau_syn", dt, allow_zero=True), reader.decay("tau_mem", dt)
        tau_mem, tau_syn = _tau(beta, dt), _tau(alpha, dt)
        k = 1.0 if alpha == 0.0 else propagator(tau_mem, tau_syn, dt)
        gain = (dt / reader.array("tau_syn") * reader.array("w_in", 1.0)
                * reader.array("r") * dt / reader.array("tau_mem") / k)
        common = {"tau_mem": tau_mem, "tau_syn": tau_syn, "arrival": "same_step"}
        if isinstance(node, nir.CubaLI):
            return Mapped(LI(**common, v_leak=reader.uniform("v_leak")), gain)
        params, scale, notes = _threshold_params(reader, beta, reset)
        return Mapped(LIF(**common, **params), gain * scale, notes)
    if isinstance(node, nir.IF):
        params, scale, notes = _threshold_params(reader, 1.0, reset)  # IF nodes have no v_leak: 0
        del params["v_leak"]
        return Mapped(IF(**params), reader.array("r") * scale, notes)
    if isinstance(node, nir.I):
        return Mapped(Integrator(), reader.array("r"))
    raise AssertionError(f"not a neuron node: {node!r}")


def to_nir(model: object, dt: float, n: int) -> tuple[nir.NIRNode, float, dict]:
    """The NIR node of an snnc population (model, n neurons, time step dt), the factor by which NIR's
    weights into it exceed snnc's, and what NIR cannot say (for the node's metadata).
    Inverse of `from_nir`: from_nir(to_nir(m)) = m up to float rounding."""
    ones = np.ones(n)
    extra: dict = {}
    if isinstance(model, (IF, Integrator)):
        if isinstance(model, Integrator):
            return nir.I(r=ones), 1.0, extra
        extra["reset"] = model.reset
        return nir.IF(r=ones, v_threshold=ones * model.v_th, v_reset=ones * model.v_reset), 1.0, extra
    beta = math.exp(-dt / model.tau_mem)
    tau_mem = dt / (1.0 - beta)
    spiking = isinstance(model, LIF)
    extra["arrival"] = model.arrival
    v_reset = None
    if spiking:
        extra["reset"] = model.reset
        v_reset = model.v_reset if model.reset == "to_v_reset" else model.v_th - beta * (model.v_th - model.v_reset)
    if model.tau_syn == 0.0:
        if spiking:
            return nir.LIF(tau=ones * tau_mem, r=ones * tau_mem / dt, v_leak=ones * model.v_leak,
                           v_threshold=ones * model.v_th, v_reset=ones * v_reset), 1.0, extra
        return nir.LI(tau=ones * tau_mem, r=ones * tau_mem / dt, v_leak=ones * model.v_leak), 1.0, extra
    tau_syn = dt / (1.0 - math.exp(-dt / model.tau_syn))
    k = propagator(model.tau_mem, model.tau_syn, dt)
    common = dict(tau_syn=ones * tau_syn, tau_mem=ones * tau_mem, r=ones * tau_mem / dt, v_leak=ones * model.v_leak,
                  w_in=ones * tau_syn / dt)
    if spiking:
        return nir.CubaLIF(**common, v_threshold=ones * model.v_th, v_reset=ones * v_reset), k, extra
    return nir.CubaLI(**common), k, extra
