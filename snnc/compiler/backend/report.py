"""The placement report: a dict built from the IR's pass attributes, rendered as JSON, Markdown and a
terminal summary. Passes decide what is in it (`report` attrs on nodes and edges, `resources` and the
`partitions` records on the graph, each entry their fields); this module only gathers and renders."""

from __future__ import annotations

import dataclasses
import importlib
import json
from functools import lru_cache
from typing import Any

import jinja2

from snnc.compiler.ir.graph import NetworkIR

REPORT_KEYS = ("target", "network", "source", "seed", "resources", "populations", "projections",
               "partitions", "diagnostics")  # and, for bss2, "routing" and "estimates"
ROUTING_SHOWN = 64  # buses listed in report.md and report.html (report.json has them all)


def build_report(program) -> dict[str, Any]:
    """report.json's content for a CompiledProgram."""
    ir: NetworkIR = program.ir
    populations = {}
    for population in ir.populations():
        entry = {"neurons": population.size, "model": population.model.dsl_name}
        entry.update(ir.node_attrs(population.name).get("report", {}))
        populations[population.name] = entry
    projections = {}
    for source, target, key, attrs in ir.edges():
        projections[key] = {"source": source, "target": target, **attrs.get("report", {})}
    report = {
        "target": program.target.name,
        "network": ir.name,
        "source": program.source,
        "seed": program.seed,
        "resources": ir.graph.graph.get("resources", {}),
        "populations": populations,
        "projections": projections,
        "partitions": [dataclasses.asdict(p) for p in ir.graph.graph.get("partitions", [])],
        "diagnostics": program.diagnostics,
    }
    if "routing" in ir.graph.graph:
        report["routing"] = routing_report(program)
    if "estimates" in ir.graph.graph:
        report["estimates"] = dataclasses.asdict(ir.graph.graph["estimates"])
    return report


def routing_report(program) -> dict[str, Any]:
    """The PADI buses in use, per partition, with the chip's limits (bss2: a RoutingTable per partition)."""
    chip = program.target.substrate
    buses = [{"partition": index, **dataclasses.asdict(bus), "drivers_used": bus.drivers, "sources": bus.sources}
             for index, table in enumerate(program.ir.graph.graph["routing"]) for bus in table.buses]
    return {"drivers_per_bus": chip.drivers_per_bus, "labels_per_group": chip.labels,
            "groups_per_bus": chip.label_groups, "buses": buses}


@lru_cache(maxsize=1)
def templates() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.PackageLoader("snnc.compiler.backend", "templates"),
                              autoescape=jinja2.select_autoescape(["html"]),
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def utilization(entry: dict[str, Any]) -> str:
    used, available = entry.get("used"), entry.get("available")
    if not available:
        return f"{used:,} (no limit)"
    return f"{used:,} / {available:,} ({100.0 * used / available:.1f}%)"


def render_markdown(report: dict[str, Any]) -> str:
    return templates().get_template("report.md.j2").render(report=report, utilization=utilization,
                                                             shown=ROUTING_SHOWN)


def render_summary(report: dict[str, Any]) -> str:
    """A compact terminal summary of a report."""
    lines = [f"{report['network']} on {report['target']}"]
    for name, entry in report["resources"].items():
        lines.append(f"  {name:<16} {utilization(entry)}")
    lines.append(f"  {len(report['populations'])} populations, {len(report['projections'])} projections, "
                 f"{len(report['partitions'])} partition{'s' if len(report['partitions']) != 1 else ''}")
    return "\n".join(lines)


def render_report_files(program) -> dict[str, bytes]:
    report = build_report(program)
    files = {
        "report.json": json.dumps(report, indent=1, allow_nan=False).encode("utf-8"),
        "report.md": render_markdown(report).encode("utf-8"),
    }
    renderer = program.target.family.renderer  # "module:function", imported on first use (matplotlib)
    if renderer is not None:
        module, function = renderer.split(":")
        files.update(getattr(importlib.import_module(module), function)(program, report))
    return files
