"""What a compiled program would deliver on BrainScaleS-2: samples per second and energy per sample
(report.json `estimates`; docs/targets.md states the model and compares it with the published figures).

Per sample, each partition runs for the network's duration in chip time (duration * time_scale) plus the
gap between samples; the spikes the host plays into that partition (its inputs and the recorded spikes of
earlier partitions, counted at most) stream in meanwhile at `input_events_per_second`, so a partition
takes the longer of the two. Several partitions reload the chip's configuration once per partition and
batch of `samples_per_configuration` samples. Energy is the chip's power over that time."""

from __future__ import annotations

from snnc.compiler.ir.bss2_records import ChipPartition, Estimates
from snnc.compiler.ir.encoders import Latency, Rate, Spikes
from snnc.compiler.ir.graph import NetworkIR
from snnc.compiler.ir.nodes import Population


def input_events(ir: NetworkIR, partition: ChipPartition) -> int:
    """At most how many spikes the host plays into one partition per sample: one per latency-coded input,
    the mean count of a rate-coded input at full intensity, one per step of a spike raster's channel, and
    for each replayed source one per refractory period (or step). A current input is no events."""
    header = ir.header
    fed = {source for chunk in partition.chunks for source, _, _ in ir.population_inputs(chunk.population)}
    events = 0.0
    for node in ir.inputs():
        if node.name not in fed:
            continue
        encoder = node.encoder
        if isinstance(encoder, Latency):
            events += node.size
        elif isinstance(encoder, Rate):
            events += node.size * encoder.max_rate * header.duration
        elif isinstance(encoder, Spikes):
            events += node.size * header.steps
    replayed = partition.replayed_sources
    if replayed:
        refractory = min((p.model.refractory for p in ir.populations()
                          if isinstance(p, Population) and hasattr(p.model, "refractory")), default=0.0)
        events += replayed * header.duration / max(refractory, header.timestep)
    return int(round(events))


def estimate(ir: NetworkIR, partitions: list[ChipPartition], spec: dict) -> Estimates:
    """The program's estimates from its partitions and the target's `estimates` section."""
    figures, time_scale = spec["estimates"], float(spec["time_scale"])
    run = ir.header.duration * time_scale + figures["sample_gap"]
    per_partition = [(run, input_events(ir, p)) for p in partitions]
    events = sum(e for _, e in per_partition)
    io = [e / figures["input_events_per_second"] for _, e in per_partition]
    reconfiguration = (len(partitions) * figures["reconfiguration_time"] / figures["samples_per_configuration"]
                       if len(partitions) > 1 else 0.0)
    seconds = sum(max(r, t) for (r, _), t in zip(per_partition, io)) + reconfiguration
    return Estimates(samples_per_second=1.0 / seconds, energy_per_sample_j=figures["chip_power"] * seconds,
                     seconds_per_sample=seconds, run_seconds=run * len(partitions), io_seconds=sum(io),
                     reconfiguration_seconds=reconfiguration, input_events=events, partitions=len(partitions),
                     chip_power_w=float(figures["chip_power"]))
