"""Pass: the network makes sense as a whole (outputs, readouts, reachability, encoder timing)."""

from __future__ import annotations

from typing import ClassVar

import networkx as nx

from snnc.compiler.frontend.ast import InputDecl
from snnc.compiler.frontend.values import format_quantity
from snnc.compiler.ir.connectivity import Uniform
from snnc.compiler.ir.encoders import Latency
from snnc.compiler.ir.graph import NetworkIR
from snnc.compiler.ir.neurons import LIF, AlwaysOn
from snnc.compiler.ir.nodes import Input, Population
from snnc.compiler.ir.units import Dim
from snnc.compiler.passes.base import Pass, PassContext
from snnc.diagnostics import error, warning


class ValidateModels(Pass):
    """Checks that need more than one element: each output's readout fits its model;
    every population is reachable from an input; nothing projects into an input; encoder timing
    fits the sample; inits and thresholds are ordered."""

    name: ClassVar[str] = "validate_models"
    tolerant: ClassVar[bool] = True

    def apply(self, ir: NetworkIR, ctx: PassContext) -> NetworkIR:
        bag = ctx.diagnostics
        header = ir.header
        self._outputs(ir, bag)
        self._graph_structure(ir, bag)
        for node in ir.inputs():
            encoder = node.encoder
            if isinstance(encoder, Latency):
                if encoder.t_min >= encoder.t_max:
                    bag.add(error("E135", "latency needs t_min < t_max", node.span))
                elif encoder.t_max > header.duration:
                    bag.add(error("E135", f"latency t_max ({format_quantity(encoder.t_max, Dim.TIME)}) is after "
                                  f"the end of the sample (duration {format_quantity(header.duration, Dim.TIME)})",
                                  node.span))
        for population in ir.populations():
            self._threshold_above_rest(population, bag)
            if isinstance(population.model, LIF) and population.model.v_reset >= population.model.v_th:
                bag.add(warning("W202", f"'{population.name}': v_reset >= v_th, the neuron fires at every step "
                                "once it has fired", population.span))
        for projection in ir.projections():
            self._carries_something(ir, projection, bag)
            init = getattr(projection.connectivity, "init", None)
            if isinstance(init, Uniform) and init.lo > init.hi:
                bag.add(error("E136", "uniform init needs lo <= hi", projection.span))
        return ir

    def _outputs(self, ir: NetworkIR, bag) -> None:
        for output in ir.header.outputs:
            population = ir.decl(output.population)
            if not isinstance(population, Population):
                continue  # failed to resolve, already reported
            needs = output.readout.needs
            if needs not in population.model.observables:
                model = type(population.model).dsl_name
                has = " or ".join(sorted(population.model.observables)) or "nothing to read"
                bag.add(error("E131", f"readout '{output.readout.dsl_name}' needs {needs}, but "
                              f"'{population.name}' ({model}) gives only {has}", output.span))

    @staticmethod
    def _threshold_above_rest(population: Population, bag) -> None:
        """Voltages are measured in units of v_th - v_leak (mismatch, noise, the surrogate's width): a
        threshold at or below rest fires without input and leaves that unit zero or negative."""
        model = population.model
        if not hasattr(model, "v_th"):
            return
        v_leak = getattr(model, "v_leak", 0.0)
        if model.v_th <= v_leak:
            bag.add(error("E143", f"'{population.name}': v_th ({model.v_th:g}) must be above v_leak ({v_leak:g}): "
                          "the neuron would fire at rest, without input", population.span))

    @staticmethod
    def _carries_something(ir: NetworkIR, projection, bag) -> None:
        """A projection carries its source's spikes (or values, on physical layers): a source that has
        neither, such as an LI readout, would send nothing, so the program cannot mean it."""
        source = ir.decl(projection.source)
        if not isinstance(source, Population) or _spikes_unprompted(source):
            return  # an input, or a population that failed to resolve (already reported)
        model = source.model
        if model.observables & {"spikes", "value"}:
            return
        bag.add(error("E139", f"projection '{projection.name}': '{source.name}' ({model.dsl_name}) never spikes "
                      "and gives no value, so the projection would carry nothing; project from a spiking "
                      "population (e.g. LIF) instead", projection.span))

    def _graph_structure(self, ir: NetworkIR, bag) -> None:
        graph = ir.graph
        inputs = [n for n, d in graph.nodes(data="decl") if _is_input(d)]
        for _, target, _, attrs in ir.edges():
            if _is_input(graph.nodes[target]["decl"]):
                bag.add(error("E132", f"cannot project into input '{target}'", _span_of(attrs["decl"])))
        if not inputs:
            bag.add(error("E134", f"network '{ir.name}' has no input", ir.header.span))
            return
        sources = inputs + [n for n, d in graph.nodes(data="decl") if _spikes_unprompted(d)]
        reachable = set(sources)
        for node in sources:
            reachable |= nx.descendants(graph, node)
        for name, decl in graph.nodes(data="decl"):
            if name not in reachable:
                bag.add(error("E133", f"population '{name}' is not reachable from any input",
                              _span_of(decl)))


def _spikes_unprompted(decl) -> bool:
    return isinstance(getattr(decl, "model", None), AlwaysOn)


def _is_input(decl) -> bool:
    return isinstance(decl, (Input, InputDecl))


def _span_of(decl):
    return getattr(decl, "name_span", None) or decl.span

