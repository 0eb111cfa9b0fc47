"""Pass: replace the AST held by a lowered IR with typed records, values in SI units."""

from __future__ import annotations

from typing import Any, ClassVar

from snnc.compiler.frontend import ast
from snnc.compiler.frontend.values import Scope, ValueResolver, format_quantity
from snnc.compiler.ir.fields import ParamSpec
from snnc.compiler.ir.graph import NetworkIR
from snnc.compiler.ir.nodes import MAX_NEURONS, MAX_STEPS, Input, NetworkHeader, Output, Population, Projection
from snnc.compiler.ir.training import TrainSpec
from snnc.compiler.ir.units import Dim
from snnc.compiler.passes.base import Pass, PassContext
from snnc.diagnostics import MAX_SUGGESTION_CANDIDATES, Note, did_you_mean, error, warning

_TIME = ParamSpec(dim=Dim.TIME, minimum=0.0, exclusive_minimum=True)
_DELAY = ParamSpec(dim=Dim.TIME, minimum=0.0)
_SIZE = ParamSpec(kind="integer", minimum=0.0, exclusive_minimum=True)


class ResolveNamesAndUnits(Pass):
    """Evaluate params, units and model calls; bind populations to neuron models, projections to
    connectivity, outputs to readouts; build the header and the train spec."""

    name: ClassVar[str] = "resolve_names_and_units"
    tolerant: ClassVar[bool] = True

    def apply(self, ir: NetworkIR, ctx: PassContext) -> NetworkIR:
        network: ast.Network = ir.graph.graph.pop("ast")
        bag = ctx.diagnostics
        scope = Scope()
        values = ValueResolver(scope, bag)
        settings = self._settings_and_definitions(network, values, scope)
        for _, attrs in ir.graph.nodes(data=True):
            stmt = attrs["decl"]
            decl = self._node(stmt, values, scope)
            if decl is None:
                attrs["invalid"] = True
            else:
                attrs["decl"] = decl
        for source, target, key, attrs in list(ir.edges()):
            stmt: ast.ProjDecl = attrs["decl"]
            connectivity = values.build("connectivity", stmt.connectivity)
            delay = 0.0 if stmt.delay is None else values.number(stmt.delay, _DELAY, "delay")
            if connectivity is None or delay is None:
                attrs["invalid"] = True
                continue
            attrs["decl"] = Projection(name=key, source=source, target=target, connectivity=connectivity,
                                       sign=stmt.sign, delay=delay, span=stmt.span)
        outputs = tuple(o for o in (self._output(s, ir, values) for s in network.statements
                                    if isinstance(s, ast.OutputDecl)) if o is not None)
        if not any(isinstance(s, ast.OutputDecl) for s in network.statements):
            bag.add(error("E130", f"network '{network.name}' has no output; add `output POP : READOUT`",
                          network.name_span))
        train = self._train(network.train, values) if network.train is not None else None
        ir.header = NetworkHeader(name=network.name, outputs=outputs, train=train, span=network.span,
                                  **settings)
        self._warn_unused(network, scope, bag)
        return ir

    def _settings_and_definitions(self, network: ast.Network, values: ValueResolver, scope: Scope) -> dict:
        settings: dict[str, Any] = {}
        seen: dict[str, ast.Statement] = {}
        for stmt in network.statements:
            if isinstance(stmt, (ast.Timestep, ast.Duration)):
                key = "timestep" if isinstance(stmt, ast.Timestep) else "duration"
                if key in seen:
                    values.bag.add(error("E102", f"'{key}' is set twice", stmt.span,
                                         Note("first set here", seen[key].span)))
                    continue
                seen[key] = stmt
                value = values.number(stmt.value, _TIME, key)
                if value is not None:
                    settings[key] = value
            elif isinstance(stmt, ast.Param) and stmt.name not in scope.params:
                result = values.quantity(stmt.value)
                if result is not None:
                    scope.params[stmt.name] = result
            elif isinstance(stmt, ast.NeuronDef) and stmt.name not in scope.neurons:
                scope.neurons[stmt.name] = values.build("neuron", stmt.model)
        self._check_steps(settings, seen, values)
        if settings.get("timestep", 0.0) > settings.get("duration", NetworkHeader.duration):
            values.bag.add(error("E135", f"timestep ({format_quantity(settings['timestep'], Dim.TIME)}) is "
                                 "longer than the sample's duration "
                                 f"({format_quantity(settings.get('duration', NetworkHeader.duration), Dim.TIME)})",
                                 seen["timestep"].span))
        return settings

    def _check_steps(self, settings: dict, seen: dict, values: ValueResolver) -> None:
        """Refuse a sample of more than MAX_STEPS time steps before anything is simulated."""
        timestep = settings.get("timestep", NetworkHeader.timestep)
        duration = settings.get("duration", NetworkHeader.duration)
        steps = duration / timestep
        if steps > MAX_STEPS:
            count = f"{steps:,.0f}" if steps < 1e15 else f"{steps:.3g}"
            values.bag.add(error("E137", f"a sample of {format_quantity(duration, Dim.TIME)} at a timestep of "
                                 f"{format_quantity(timestep, Dim.TIME)} has {count} time steps; at most "
                                 f"{MAX_STEPS:,} are supported", seen.get("duration", seen.get("timestep")).span))

    def _shape(self, stmt, values: ValueResolver) -> tuple[int, ...] | None:
        dims = [values.number(e, _SIZE, f"size of '{stmt.name}'") for e in stmt.shape]
        if any(d is None for d in dims):
            return None
        total = 1
        for d in dims:
            total *= d
        if total >= MAX_NEURONS:
            values.bag.add(error("E142", f"'{stmt.name}' has {total} neurons; at most {MAX_NEURONS - 1} "
                                 "are supported", stmt.name_span))
            return None
        return tuple(dims)

    def _node(self, stmt, values: ValueResolver, scope: Scope):
        shape = self._shape(stmt, values)
        if isinstance(stmt, ast.InputDecl):
            encoder = values.build("encoder", stmt.encoder)
            if shape is None or encoder is None:
                return None
            return Input(name=stmt.name, shape=shape, encoder=encoder, span=stmt.span)
        model = values.build("neuron", stmt.model, aliases=scope.neurons)
        if shape is None or model is None:
            return None
        alias = stmt.model.name if stmt.model.name in scope.neurons else None
        return Population(name=stmt.name, shape=shape, model=model, model_alias=alias, span=stmt.span)

    def _output(self, stmt: ast.OutputDecl, ir: NetworkIR, values: ValueResolver) -> Output | None:
        readout = values.build("readout", stmt.readout)
        if stmt.population not in ir.graph:
            populations = [n for n, s in ir.graph.nodes(data="decl") if isinstance(s, (ast.PopDecl, Population))
                           ] if len(ir.graph) <= MAX_SUGGESTION_CANDIDATES else ()  # (not once per output)
            values.bag.add(error("E100", f"unknown population '{stmt.population}'"
                                 f"{did_you_mean(stmt.population, populations)}", stmt.population_span))
            return None
        if isinstance(ir.graph.nodes[stmt.population]["decl"], (ast.InputDecl, Input)):
            values.bag.add(error("E120", f"'{stmt.population}' is an input; an output must be a population",
                                 stmt.population_span))
            return None
        if readout is None:
            return None
        return Output(population=stmt.population, readout=readout, span=stmt.span)

    def _train(self, block: ast.TrainBlock, values: ValueResolver) -> TrainSpec | None:
        entries: dict[str, tuple[ast.Expr, Any]] = {}
        for entry in block.entries:
            if entry.key in entries:
                values.bag.add(error("E102", f"train setting '{entry.key}' is given twice", entry.key_span))
                continue
            entries[entry.key] = (entry.value, entry.key_span)
        return values.build_record(TrainSpec, entries, "train", block.span)

    def _warn_unused(self, network: ast.Network, scope: Scope, bag) -> None:
        for stmt in network.statements:
            if not isinstance(stmt, (ast.Param, ast.NeuronDef)):
                continue
            defined = stmt.name in scope.params or scope.neurons.get(stmt.name) is not None
            if defined and stmt.name not in scope.used:
                kind = "param" if isinstance(stmt, ast.Param) else "neuron"
                bag.add(warning("W201", f"{kind} '{stmt.name}' is never used", stmt.name_span))
