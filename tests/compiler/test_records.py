"""The typed records passes add to the IR: every one round-trips through JSON and weights.npz (arrays with
their dtype), and compiled bss2 and onn programs round-trip whole."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

import snnc
from snnc.compiler.ir import bss2_records, onn_records, records
from snnc.compiler.ir.graph import NetworkIR
from snnc.compiler.ir.serialize import from_jsonable, registered_types, to_jsonable
from tests.conftest import REPO

CHUNK = bss2_records.Chunk(population="h", start=0, stop=5, chip=1)
LINKS = bss2_records.ChipLinks(crossing_sources=3, event_copies=4, peak_events_per_second=2.5e6,
                               budget_events_per_second=1e8)
USAGE = bss2_records.Usage(neuron_circuits=10, synapse_rows=8, synapse_drivers=4, synapses=80)
GROUP = bss2_records.LabelGroup(drivers=(3, 7), exc_rows=3, inh_rows=1, sources=40, internal=32)
BUS = bss2_records.BusRoute(chip=0, hemisphere=1, bus=3, groups=(GROUP,), projections=("x->h",))
SAMPLES = [
    records.Partition(index=0, populations=("h", "o")),
    bss2_records.SignSplit(row_signs=("exc", "inh")),
    bss2_records.Legalization(scale=63.0, hw_weights=np.array([[1, -63]], np.int16), quant_rmse=0.01,
                              quant_max=0.02),
    bss2_records.FanIn(signed=246, exc=0, inh=10, rows=502),
    bss2_records.Merge(fan_in=bss2_records.FanIn(signed=300, exc=0, inh=0, rows=512), circuits_per_neuron=2),
    CHUNK,
    LINKS,
    USAGE,
    bss2_records.ChipPartition(index=1, populations=("h",), chips=2, chunks=(CHUNK, CHUNK), replayed_sources=7,
                               chip_links=LINKS, resources=USAGE),
    bss2_records.Placement(circuits=np.arange(10, dtype=np.int32).reshape(5, 2)),
    bss2_records.SynapseRows(slot=np.array([0, 1], np.int16), exc_row=np.array([[0, -1], [2, 3]], np.int16),
                             inh_row=np.array([[1, -1], [5, 4]], np.int16)),
    GROUP,
    BUS,
    bss2_records.RoutingTable(buses=(BUS,), chip=np.array([0], np.int32), hemisphere=np.array([1], np.int8),
                              bus=np.array([3], np.int8), group=np.array([0], np.int16),
                              source=np.array([0], np.int32), neuron=np.array([4], np.int32),
                              label=np.array([0], np.int16), nodes=("x", "h")),
    bss2_records.Estimates(samples_per_second=3.2e4, energy_per_sample_j=6.2e-6, seconds_per_sample=3.1e-5,
                           run_seconds=3.1e-5, io_seconds=2.0e-6, reconfiguration_seconds=0.0, input_events=256,
                           partitions=1, chip_power_w=0.2),
    onn_records.Transmissions(encoding="differential", scale=2.5, levels=np.zeros((2, 3, 4), np.uint16),
                              quant_rmse=0.001, quant_max=0.002),
    onn_records.Tile(pass_index=1, rows=(0, 31), cols=(0, 32), channels=(0, 992), detectors=(32, 64)),
    onn_records.ModulatorPass(index=0, populations=("h",), projections=("x->h",), channels=992, detectors=32),
]


def same(a, b) -> bool:
    """Field by field, arrays by value and dtype."""
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and np.array_equal(a, b)
    if dataclasses.is_dataclass(a):
        return all(same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    if isinstance(a, tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def test_every_record_has_a_sample_here():
    modules = {m.__name__ for m in (bss2_records, onn_records, records)}
    declared = {cls for cls in registered_types().values() if cls.__module__ in modules}
    assert declared == {type(s) for s in SAMPLES}
    for cls in declared:
        assert cls.__doc__ and cls.__dataclass_params__.frozen, cls


@pytest.mark.parametrize("record", SAMPLES, ids=lambda r: type(r).__name__)
def test_every_record_round_trips_with_its_arrays_kept_apart(record):
    arrays: dict[str, np.ndarray] = {}
    data = json.loads(json.dumps(to_jsonable(record, arrays, "edge")))
    fields = [f.name for f in dataclasses.fields(record) if isinstance(getattr(record, f.name), np.ndarray)]
    assert sorted(arrays) == sorted(f"edge.{name}" for name in fields)  # each array to weights.npz, by its path
    assert same(from_jsonable(data, arrays), record)


def test_record_helpers_say_what_they_hold():
    assert bss2_records.FanIn(signed=246, exc=0, inh=0, rows=492).describe() == "246 signed inputs"
    assert bss2_records.FanIn(signed=0, exc=100, inh=10, rows=110).describe() == (
        "100 excitatory and 10 inhibitory inputs")
    assert bss2_records.FanIn(signed=0, exc=0, inh=0, rows=0).describe() == "no inputs"
    assert bss2_records.SignSplit(("inh",)).rows_per_source == 1
    assert bss2_records.FanIn(signed=502, exc=0, inh=0, rows=584).describe() == (
        "502 signed inputs (584 synapses on the busiest neuron)")
    # drivers 3 and 7 carry rows 6, 7, 14, 15: the group's 3 excitatory rows first, then its inhibitory one
    table = bss2_records.RoutingTable(buses=(BUS,), chip=np.zeros(0, np.int32), hemisphere=np.zeros(0, np.int8),
                                      bus=np.zeros(0, np.int8), group=np.zeros(0, np.int16),
                                      source=np.zeros(0, np.int32), neuron=np.zeros(0, np.int32),
                                      label=np.zeros(0, np.int16), nodes=())
    modes = table.row_modes(0, 1, 16)
    assert modes.tolist() == [0] * 6 + [1, 1] + [0] * 6 + [1, -1]
    assert table.row_modes(0, 0, 16).tolist() == [0] * 16
    assert (BUS.drivers, BUS.sources) == (2, 40)


@pytest.mark.parametrize("example, target, chips", [("latency_digits_ff", "bss2", None),
                                                    ("latency_digits", "bss2", 2),
                                                    ("onn_digits", "onn", None)])
def test_compiled_programs_round_trip_with_their_records(example, target, chips):
    path = REPO / "dsl_examples" / f"{example}.snn"
    text = path.read_text().replace(" delay 1 ms", "")  # bss2 has no programmable delays
    program = snnc.compile(path, text=text, target=target, chips=chips)
    arrays: dict[str, np.ndarray] = {}
    data = json.loads(json.dumps(program.ir.to_dict(arrays)))
    again = NetworkIR.from_dict(data, arrays)
    assert again == program.ir and again.verify() == []
    assert again.graph.graph["partitions"] == program.ir.graph.graph["partitions"]
    for _, _, key, attrs in again.edges():
        record = attrs.get("legalization") or attrs.get("transmissions")
        assert same(record, program.ir.edge_attrs(key)["legalization" if target == "bss2" else "transmissions"])
