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
               "partitions", "diagnostics")  # and, for bss2, "routing" and "estimates"; "training" if trained
ROUTING_SHOWN = 64  # buses listed in report.md and report.html (report.json has them all)

# What every column of the reports means (Markdown and HTML list those a report has; a test checks that
# every key of every shipped target's report is here).
COLUMNS: dict[str, str] = {
    "neurons": "neurons of the population (resources: in all, and the limit if the target has one)",
    "model": "the neuron model",
    "circuits_per_neuron": "neuron circuits merged into one neuron, so that its synapse rows fit (bss2)",
    "circuits": "neuron circuits the population occupies: neurons x circuits_per_neuron",
    "fan_in": "the inputs one neuron receives (signed inputs take an excitatory and an inhibitory row)",
    "partitions": "the partitions that hold the population (partitions run one after another)",
    "neurons_per_chip": "at most this many of the population's neurons per chip, on chips of its own: spread "
                        "thinner so each hemisphere's distinct sources fit its PADI buses' label groups (bss2, W403)",
    "detectors": "photon detectors the population reads, over all modulator passes (onn)",
    "photons_per_mac": "photons per multiply-accumulate and inference that reach the detectors: a photon "
                       "detector layer's budget (held by the source), a linear layer's at full transmission (onn)",
    "source": "the projection's presynaptic input or population",
    "target": "the projection's postsynaptic population",
    "sign": "the weights' sign: positive, negative, or signed (both, on separate excitatory and inhibitory rows)",
    "rows": "synapse rows the projection occupies (sources x rows per source)",
    "synapses": "synapses the projection holds (resources: in all, and the limit if the target has one)",
    "scale": "hardware units per model unit of weight: a weight w is held as round(w x scale) (bss2: 6-bit "
             "synapse LSB; onn: transmission; reference: 1, float weights)",
    "quant_rmse": "root-mean-square difference between the deployed (quantized) and the model weights, in model "
                  "units over the existing synapses (0: exact)",
    "quant_max": "the largest absolute difference between a deployed and a model weight, in model units",
    "encoding": "how signed weights become light: positive or negative (one channel), differential (two "
                "channels and detectors), offset (one channel, the offset subtracted electronically)",
    "channels": "modulator channels (pixels) used (resources: the most any pass uses)",
    "tiles": "blocks of the weight matrix placed on the modulator",
    "photons_at_full_transmission": "photons per sample the projection draws from the source with every "
                                    "transmission and input at 1 (onn)",
    "neuron_circuits": "neuron circuits used on the busiest partition's chips, of those the chips have",
    "synapse_rows": "synapse rows used, of those the chips have",
    "synapse_drivers": "synapse drivers (which feed events into rows) used, of those the chips have",
    "passes": "modulator configurations run one after another, of the most allowed",
    "optical_power": "photons per sample the network draws with every transmission and input at 1 (the least "
                     "its photon detector layers need), of what the source emits",
    "chips": "chips a partition is spread over",
    "replayed_sources": "sources whose spikes an earlier partition recorded and this one replays",
    "crossing_sources": "sources whose spikes travel to another chip",
    "peak_events_per_second": "the busiest chip link's events per second, against what a link carries",
}


def glossary(report: dict[str, Any], partition_table: bool = False) -> list[tuple[str, str]]:
    """(column, meaning) for every column the report's tables have, in COLUMNS' order (with
    `partition_table`, also the columns of a table of partitions)."""
    used = set(report["resources"])
    for section in ("populations", "projections"):
        for entry in report[section].values():
            used.update(entry)
    for partition in report["partitions"] if partition_table else ():
        used.update(partition)
        used.update(partition.get("chip_links") or {})
    return [(key, text) for key, text in COLUMNS.items() if key in used]


def training_summary(report: dict[str, Any]) -> str | None:
    """One sentence on how a trained program was trained and its final test accuracy (None: not trained)."""
    training = report.get("training")
    if not training or training.get("test_accuracy") is None:
        return None
    samples = training.get("test_samples")
    epochs = training.get("epochs")
    return (f"Trained in the loop ({training.get('method')}, {epochs} epoch{'s' if epochs != 1 else ''}, data "
            f"{training.get('data')}, chip seed {training.get('chip_seed')}, seed {training.get('seed')}): final "
            f"test accuracy {100 * training['test_accuracy']:.2f}%" + (f" on {samples} test samples" if samples
                                                                     else "") + ".")


def build_report(program, files: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
    """report.json's content for a CompiledProgram; a trained one's also names the plots among `files`
    (the other files of its directory)."""
    ir: NetworkIR = program.ir
    training = ir.graph.graph.get("training")
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
        **({"training": {**training, "plots": sorted(f for f in files if f.endswith(".png"))}} if training else {}),
    }
    if "routing" in ir.graph.graph:
        report["routing"] = routing_report(program)
    if "estimates" in ir.graph.graph:
        report["estimates"] = dataclasses.asdict(ir.graph.graph["estimates"])
    return report


def routing_report(program) -> dict[str, Any]:
    """The PADI buses in use, per partition, with the chip's limits (bss2: a RoutingTable per partition)."""
    chip = program.target.substrate
    buses = [{"partition": index, "chip": bus.chip, "hemisphere": bus.hemisphere, "bus": bus.bus,
              "groups": [{"drivers": list(g.drivers), "exc_rows": g.exc_rows, "inh_rows": g.inh_rows,
                          "sources": g.sources, "internal": g.internal} for g in bus.groups],
              "projections": list(bus.projections), "drivers_used": bus.drivers, "sources": bus.sources}
             for index, table in enumerate(program.ir.graph.graph["routing"]) for bus in table.buses]  # (not
    # dataclasses.asdict: its deep copies took 6 s for the 15,628 buses of a million neurons on 4,096 chips)
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
                                                           shown=ROUTING_SHOWN, glossary=glossary(report),
                                                           trained=training_summary(report))


def render_summary(report: dict[str, Any]) -> str:
    """A compact terminal summary of a report."""
    lines = [f"{report['network']} on {report['target']}"]
    for name, entry in report["resources"].items():
        lines.append(f"  {name:<16} {utilization(entry)}")
    lines.append(f"  {len(report['populations'])} populations, {len(report['projections'])} projections, "
                 f"{len(report['partitions'])} partition{'s' if len(report['partitions']) != 1 else ''}")
    if training_summary(report):
        lines.append(f"  {training_summary(report)}")
    return "\n".join(lines)


def render_report_files(program, files: list[str] | tuple[str, ...] = ()) -> dict[str, bytes]:
    """report.json, report.md and the target's renderer's files; `files`: the directory's other files."""
    report = build_report(program, files)
    files = {
        "report.json": json.dumps(report, indent=1, allow_nan=False).encode("utf-8"),
        "report.md": render_markdown(report).encode("utf-8"),
    }
    renderer = program.target.family.renderer  # "module:function", imported on first use (matplotlib)
    if renderer is not None:
        module, function = renderer.split(":")
        files.update(getattr(importlib.import_module(module), function)(program, report))
    else:  # the page without pictures
        files["report.html"] = importlib.import_module("snnc.compiler.backend.html").render_html(report, [])
    return files
