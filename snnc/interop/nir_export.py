"""`snnc export DIR --nir OUT.nir`: a compiled (or trained) program as a NIR graph.

The weights are the deployed ones: what the target applies without its chip's random mismatch (on bss2
the integer hardware weights / scale, through the emulator's twin weights). Each population becomes a
neuron node (nir_neurons.to_nir: the reading that snnTorch and Norse import), each projection a Linear
node (Affine where an always_on population gives it a bias) followed by a Delay node when it has a delay;
the input becomes the Input node and the output population feeds the Output node. What NIR cannot say
(snnc's arrival and reset variants, the encoder, the readout, exact parameter values) goes into
metadata under `snnc.` keys, which `snnc import` reads back, so a round trip gives the same program."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import nir
import numpy as np

from snnc.compiler.backend.artifact import CompiledProgram, load_program
from snnc.compiler.ir.encoders import Latency, Rate, Spikes
from snnc.compiler.ir.fields import param_fields
from snnc.compiler.ir.neurons import IF, LI, LIF, AlwaysOn, Integrator
from snnc.compiler.ir.synapses import dense_entries_problem
from snnc.diagnostics import Diagnostic, SnncError, error, warning
from snnc.interop import outputs, snn_text
from snnc.interop.nir_import import META
from snnc.interop.nir_neurons import to_nir


@dataclass
class Exported:
    graph: nir.NIRGraph
    diagnostics: list[Diagnostic] = field(default_factory=list)


def _fail(code: str, message: str) -> SnncError:
    return SnncError([error(code, message)])


def deployed_weights(program: CompiledProgram) -> dict[str, np.ndarray]:
    """(pre, post) weights as the target applies them, without the emulated chip's mismatch."""
    from snnc.runtime.emulators.base import emulator_for
    from snnc.runtime.emulators.spiking import SpikingEmulator

    emulator = emulator_for(program)
    if not isinstance(emulator, SpikingEmulator):
        raise _fail("E510", f"program '{program.name}' runs on '{program.target.name}', which is not a spiking "
                    "substrate: NIR here describes spiking networks")
    for name, synapses in emulator.synapses.items():  # NIR holds every weight matrix dense
        problem = dense_entries_problem(name, synapses)
        if problem is not None:
            raise _fail("E512", f"{problem}: NIR stores a projection's dense weight matrix; export a smaller network")
    weights = emulator.twin_weights(emulator.initial_weights())
    return {name: emulator.dense(name, w).detach().double().numpy() for name, w in weights.items()}


def _check_model(population) -> None:
    model = population.model
    if not isinstance(model, (LIF, LI, IF, Integrator, AlwaysOn)):
        raise _fail("E510", f"population '{population.name}' is {model.dsl_name}, which NIR has no node for "
                    "(NIR has LIF, CubaLIF, LI, CubaLI, IF and Integrator neurons)")
    if getattr(model, "refractory", 0.0) > 0:
        raise _fail("E510", f"population '{population.name}' has a refractory period, which NIR neurons do not "
                    "have (set refractory = 0 ms to export)")


def export_nir(program: CompiledProgram | str | Path, out: str | Path | None = None) -> Exported:
    """The NIR graph of `program` (a CompiledProgram or its directory); with `out`, written there atomically."""
    if out is not None:
        check_nir_output(Path(out))  # refused now, not after the conversion
    if not isinstance(program, CompiledProgram):
        program = load_program(program)
    ir = program.ir
    [inp] = ir.inputs() if len(ir.inputs()) == 1 else (None,)
    if inp is None or len(ir.header.outputs) != 1:
        raise _fail("E510", f"program '{program.name}' needs one input and one output to become a NIR graph")
    for population in ir.populations():
        _check_model(population)
    weights = deployed_weights(program)
    dt, taken = ir.header.timestep, {p.name for p in ir.populations()} | {inp.name}
    exported = Exported(nir.NIRGraph(nodes={}, edges=[], type_check=False))
    # flat, as the first weight matrix sees it (snnTorch's importer mishandles Flatten nodes); the shape is metadata
    nodes: dict[str, nir.NIRNode] = {inp.name: nir.Input(input_type={"input": np.array([inp.size])})}
    edges: list[tuple[str, str]] = []
    _encoder(inp, exported)
    factors, variants = {}, {"arrival": [], "reset": []}
    for population in ir.populations():
        if isinstance(population.model, AlwaysOn):
            continue
        node, factors[population.name], extra = to_nir(population.model, dt, population.size)
        node.metadata = {META + "model": population.model.dsl_name,
                         **{META + f.name: getattr(population.model, f.name)
                            for f in param_fields(type(population.model))}}
        nodes[population.name] = node
        if extra.get("arrival") == "next_step" and population.model.tau_syn > 0:
            variants["arrival"].append(population.name)
        if extra.get("reset") == "subtract":
            variants["reset"].append(population.name)
    biases = _biases(ir, weights, factors)
    for projection in ir.projections():
        source, target = projection.source, projection.target
        if source not in nodes:
            continue  # an always_on source: its weights are biases
        w = (weights[projection.name] * factors[target]).T
        name = snn_text.identifier(f"{source}_to_{target}", taken)
        bias = biases.pop(target, None)
        nodes[name] = nir.Linear(weight=w) if bias is None else nir.Affine(weight=w, bias=bias)
        edges.append((source, name))
        steps = int(round(projection.delay / dt))
        if steps:
            delay = snn_text.identifier(f"{name}_delay", taken)
            nodes[delay] = nir.Delay(delay=np.full(ir.size(target), steps * dt))
            edges.append((name, delay))
            name = delay
        edges.append((name, target))
    for target, bias in biases.items():  # neurons driven by a bias only: a zero-weight Affine from the input
        name = snn_text.identifier(f"bias_to_{target}", taken)
        nodes[name] = nir.Affine(weight=np.zeros((ir.size(target), inp.size)), bias=bias)
        edges += [(inp.name, name), (name, target)]
    output = ir.header.outputs[0]
    out_name = snn_text.identifier("output", taken)
    nodes[out_name] = nir.Output(output_type={"output": np.array([ir.size(output.population)])})
    edges.append((output.population, out_name))
    exported.graph = nir.NIRGraph(nodes=nodes, edges=edges, type_check=False, metadata={
        META + "network": program.name, META + "target": program.target.name, META + "timestep": dt,
        META + "steps": ir.header.steps, META + "encoder": snn_text.call(inp.encoder),
        META + "input_shape": np.array(inp.shape), META + "output": out_name,
        META + "readout": output.readout.dsl_name})
    _variant_warnings(variants, exported)
    if out is not None:
        write_graph(exported.graph, Path(out))
    return exported


def _biases(ir, weights: dict[str, np.ndarray], factors: dict[str, float]) -> dict[str, np.ndarray]:
    biases: dict[str, np.ndarray] = {}
    for projection in ir.projections():
        if isinstance(getattr(ir.decl(projection.source), "model", None), AlwaysOn):
            b = weights[projection.name].sum(axis=0) * factors[projection.target]
            biases[projection.target] = biases.get(projection.target, 0.0) + b
    return biases


def _encoder(inp, exported: Exported) -> None:
    if isinstance(inp.encoder, Spikes):
        return
    if not isinstance(inp.encoder, (Latency, Rate)):
        raise _fail("E511", f"input '{inp.name}' is {inp.encoder.dsl_name}-coded: values, not spikes, drive it, "
                    "and NIR graphs here take spikes (use a spiking encoder: latency, rate or spikes)")
    exported.diagnostics.append(warning(
        "W511", f"input '{inp.name}' is {inp.encoder.dsl_name}-coded: the NIR graph takes the encoded spike "
        "trains (the encoder is snnc's; its settings are in the graph's metadata)"))


def _variant_warnings(variants: dict[str, list[str]], exported: Exported) -> None:
    if variants["arrival"]:
        exported.diagnostics.append(warning(
            "W512", f"population{'s' if len(variants['arrival']) > 1 else ''} {', '.join(variants['arrival'])}: "
            "snnc's synaptic current (arrival = next_step) drives the membrane one step after a spike, NIR readers "
            "(snnTorch, Norse) drive it in the same step, so there each layer answers one step earlier (snnc "
            "itself reads the graph back exactly; arrival = same_step exports exactly)"))
    if variants["reset"]:
        exported.diagnostics.append(warning(
            "W513", f"population{'s' if len(variants['reset']) > 1 else ''} {', '.join(variants['reset'])}: NIR "
            "cannot say 'reset by subtraction'; written as snnTorch writes its own subtracting neurons (v_reset = "
            "the value the threshold is subtracted towards; NIR readers reset to it, snnc reads it back exactly)"))


def write_graph(graph: nir.NIRGraph, out: Path) -> None:
    """nir.write to a temporary file beside `out`, then renamed: never a half-written file, and never over a
    file snnc did not write (interop/outputs.py)."""
    final = check_nir_output(out)
    outputs.write_atomically([(final, lambda path: nir.write(path, graph))])


def check_nir_output(out: Path) -> Path:
    """Where a .nir output is written (through a link); SnncError if it is a file snnc did not write."""
    final = outputs.resolve(out)
    outputs.check_replaceable(final, outputs.snnc_wrote_nir, " (a .nir snnc writes carries 'snnc.network' in "
                              "its graph's metadata)")
    return final
