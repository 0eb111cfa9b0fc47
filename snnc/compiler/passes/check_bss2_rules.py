"""Pass: the design rules of BrainScaleS-2, each violation an error at the DSL statement that causes it."""

from __future__ import annotations

from typing import ClassVar

from snnc.compiler.frontend.values import format_quantity
from snnc.compiler.ir.fields import param_fields, spec_of
from snnc.compiler.ir.graph import NetworkIR
from snnc.compiler.ir.nodes import Population
from snnc.compiler.ir.units import Dim
from snnc.compiler.passes.base import Pass, PassContext
from snnc.compiler.targets.bss2 import Chip
from snnc.compiler.targets.bss2_layout import fewest_chips, fits_at_once, population_units
from snnc.compiler.targets.bss2_spread import HEADROOM, Spread, spreads
from snnc.diagnostics import Note, error


def _time(seconds: float) -> str:
    return "0 s" if seconds == 0 else format_quantity(seconds, Dim.TIME)


class CheckBss2Rules(Pass):
    """Neuron parameters inside the chip's ranges after time scaling; projections carry spikes; every
    logical neuron fits one chip; every recurrent subnetwork fits the chips at once (only feed-forward
    layers may be split into partitions run one after another)."""

    name: ClassVar[str] = "check_bss2_rules"
    tolerant: ClassVar[bool] = True  # parameter ranges are worth reporting next to earlier errors

    def apply(self, ir: NetworkIR, ctx: PassContext) -> NetworkIR:
        chip: Chip = ctx.target.substrate
        populations = [p for p in ir.populations() if isinstance(p, Population)]
        for population in populations:
            self._parameter_ranges(population, ctx, chip)
        self._spiking_sources(ir, ctx)
        if all("merge" in ir.node_attrs(p.name) for p in populations):
            self._fit(ir, ctx, chip, chip.chips)
        return ir

    def _parameter_ranges(self, population: Population, ctx: PassContext, chip: Chip) -> None:
        ranges = ctx.target.spec.get("parameter_ranges", {})
        model = population.model
        if not hasattr(type(model), "__dataclass_fields__"):
            return
        for field in param_fields(type(model)):
            value = getattr(model, field.name)
            if spec_of(field).kind == "name" and value != field.default:  # the circuits have one behaviour
                ctx.diagnostics.add(error("E401", f"population '{population.name}': {field.name} = {value} is not "
                                          f"available on {ctx.target.name} (only {field.default})", population.span))
            if field.name not in ranges or (field.name == "refractory" and value == 0):
                continue  # refractory 0 asks for none: it runs as the chip's shortest, below a time step
            dim = spec_of(field).dim
            on_chip = value * chip.time_scale if dim is Dim.TIME else value
            low, high = ranges[field.name]
            if low <= on_chip <= high:
                continue
            if dim is Dim.TIME:
                scale = chip.time_scale
                where = (f"{_time(low / scale)} .. {_time(high / scale)} in model time ({_time(low)} .. "
                         f"{_time(high)} on the chip, {1 / scale:g}x faster)")
            else:
                where = f"{format_quantity(low, dim)} .. {format_quantity(high, dim)}"
            ctx.diagnostics.add(error(
                "E401", f"population '{population.name}': {field.name} = "
                f"{_time(value) if dim is Dim.TIME else format_quantity(value, dim)} is outside the range "
                f"{ctx.target.name} calibrates: {where}", population.span))

    def _spiking_sources(self, ir: NetworkIR, ctx: PassContext) -> None:
        for projection in ir.projections():
            source = ir.decl(projection.source)
            model = getattr(source, "model", None)
            observables = getattr(model, "observables", {"spikes"})
            # A source with neither spikes nor a value is refused for every target (E139, validate_models).
            if model is not None and "spikes" not in observables and ("value" in observables or not observables):
                ctx.diagnostics.add(error(
                    "E402", f"projection '{projection.name}': {ctx.target.name} carries spikes between neurons, "
                    f"and '{source.name}' ({model.dsl_name}) never spikes", projection.span))

    def _fit(self, ir: NetworkIR, ctx: PassContext, chip: Chip, chips: int) -> None:
        target = ctx.target.name
        order = [p.name for p in ir.populations()]
        merge = {name: ir.node_attrs(name)["merge"] for name in order}
        c_of = {name: m.circuits_per_neuron for name, m in merge.items()}
        too_wide = set()
        for name in order:
            if c_of[name] > chip.circuits:
                too_wide.add(name)
                ctx.diagnostics.add(error(
                    "E403", f"population '{name}' does not fit: one neuron needs {c_of[name]:,} merged neuron "
                    f"circuits for {merge[name].fan_in.describe()}, a {target} chip has {chip.circuits:,}",
                    ir.decl(name).span))
        spread, unroutable = self._spreads(ir, ctx, chip, set(order) - too_wide)
        for recurrent, names in population_units(ir.graph, order):
            if not recurrent or (too_wide | unroutable) & set(names):
                continue
            members = [(n, ir.size(n), c_of[n], spread[n].per_chip if n in spread else None) for n in names]
            if fits_at_once(members, chip, chips):
                continue
            if set(names) & set(spread):
                self._spread_too_few_chips(ir, ctx, chip, chips, names, members, spread)
                continue
            needed = sum(size * c for _, size, c, _ in members)
            have = f"{target} has {chip.circuits * chips:,}" if chips == 1 else \
                f"{chips} {target} chips have {chip.circuits * chips:,}"
            what = "; ".join(f"{c} per neuron for {merge[n].fan_in.describe()}"
                             + ("" if len(names) == 1 else f" in '{n}'") for n, _, c, _ in members)
            loops = [p.name for p in ir.projections() if p.source in names and p.target in names]
            # subject, pronoun and verbs agree: one population "does not fit", several "do not fit"
            subject, they, are, fit, does = (f"population '{names[0]}'", "it", "is", "fits", "does") \
                if len(names) == 1 else ("recurrent populations " + ", ".join(f"'{n}'" for n in names),
                                         "they", "are", "fit", "do")
            notes = [Note(f"{they} {are} recurrent (projection{'s' if len(loops) > 1 else ''} "
                          + ", ".join(f"'{p}'" for p in loops) + f"), so {they} cannot be split into partitions "
                          "run one after another")]
            enough = fewest_chips(members, chip, chips, limit=4 * chips + needed // chip.circuits + 1)
            if enough is not None:
                notes.append(Note(f"{they} {fit} on {enough} chips at once: compile with --chips {enough}"))
            ctx.diagnostics.add(error(
                "E404", f"{subject} {does} not fit: needs {needed:,} neuron circuits ({what}), {have}",
                ir.decl(names[0]).span, *notes))

    @staticmethod
    def _spreads(ir: NetworkIR, ctx: PassContext, chip: Chip, names: set[str]) -> tuple[dict[str, Spread], set[str]]:
        """The populations spread thin so their hemispheres' sources fit (bss2_spread), and those whose
        hemisphere cannot take their sources even holding a single neuron (E408 each)."""
        found, unroutable = {}, set()
        ir.graph.graph["spreads"] = everything = spreads(ir, chip)  # (partition_network takes it)
        for name, result in everything.items():
            if name not in names:
                continue
            if isinstance(result, Spread):
                found[name] = result
                continue
            unroutable.add(name)
            ctx.diagnostics.add(error(
                "E408", f"population '{name}' cannot be routed: a hemisphere holding only one of its neurons "
                f"receives {result.sources:,} distinct sources and needs about {result.drivers} synapse drivers; "
                f"it tells apart {chip.sources_per_hemisphere:,} sources ({chip.buses} PADI buses x "
                f"{min(chip.label_groups, chip.drivers_per_bus)} label groups x {chip.labels} labels) and has "
                f"{chip.drivers} drivers, of which a spread population is planned to use "
                f"{HEADROOM:.0%}", ir.decl(name).span))
        return found, unroutable

    @staticmethod
    def _spread_too_few_chips(ir: NetworkIR, ctx: PassContext, chip: Chip, chips: int, names: list[str],
                              members: list, spread: dict[str, Spread]) -> None:
        """E408: a recurrent unit with a spread population does not fit the chips at once."""
        high = fewest_chips(members, chip, chips)
        thin = ", ".join(f"'{n}' at most {spread[n].per_chip} neurons per chip (a chip holds {spread[n].dense})"
                         for n in names if n in spread)
        s = spread[next(n for n in names if n in spread)]
        ctx.diagnostics.add(error(
            "E408", f"recurrent population{'s' if len(names) > 1 else ''} {', '.join(repr(n) for n in names)} "
            f"need{'' if len(names) > 1 else 's'} {high:,} chips at once, {chips:,} given: spread so that each "
            f"hemisphere's sources fit its PADI buses' label groups ({thin}; packed densely one hemisphere would "
            f"receive {s.sources_dense:,} distinct sources, it tells apart {chip.sources_per_hemisphere:,})",
            ir.decl(names[0]).span, Note(f"it fits on {high:,} chips at once: compile with --chips {high}")))
