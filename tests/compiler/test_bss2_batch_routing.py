"""The batch router (bss2_batch: hemispheres of host sources over sparse projections, all at once) routes as
route_hemisphere would, hemisphere for hemisphere: the same label groups, drivers, rows and labels; and what
it leaves to route_hemisphere (on-chip sources, dense projections, few sources) is still routed validly."""

from __future__ import annotations

import numpy as np
import pytest

from snnc.compiler.passes import route_synapses
from snnc.compiler.targets import bss2_batch
from tests.compiler.test_bss2_placement import LIF, compile_text, placement_problems
from tests.conftest import network

# Two sparse inputs (one excitatory only) onto 700 neurons on two chips (three hemispheres); in MIXED, g's
# chip also takes the dense x -> g and the on-chip sources of h -> g: route_hemisphere's.
BATCHED = network(f"""
    input x[300] : latency(t_max = 10 ms)
    input y[90] : latency(t_max = 10 ms)
    pop h[700] : {LIF}
    proj x -> h : sparse(p = 0.05, init = normal(0, 0.2))
    proj y -> h : sparse(p = 0.1, init = normal(0, 0.2)) positive
    output h : spike_count""")
MIXED = BATCHED.replace("    output h", f"""    pop g[20] : {LIF}
    proj x -> g : dense(init = normal(0, 0.1))
    proj h -> g : sparse(p = 0.02, init = normal(0, 0.1))
    output g""").replace("    output h : spike_count", "")


def routed(text: str, batch: bool, monkeypatch, calls: list[int], chips: int):
    """The program compiled with the batch router on or off; `calls` counts the hemispheres it routed."""
    original = route_synapses.route_batch

    def counting(*args, **kwargs):
        result = original(*args, **kwargs)
        calls.append(int(result.routed.sum()))
        return result

    monkeypatch.setattr(route_synapses, "route_batch", counting)
    monkeypatch.setattr(route_synapses, "available", lambda: batch)
    return compile_text(text, chips=chips)


def routing_of(program):
    ir = program.ir
    tables = []
    for table in ir.graph.graph["routing"]:
        entries = np.stack([table.chip, table.hemisphere, table.bus, table.group, table.source, table.neuron,
                            table.label], axis=1).astype(np.int64)
        tables.append((table.buses, entries[np.lexsort(entries.T[::-1])]))
    rows = {key: (a["synapse_rows"].exc_row, a["synapse_rows"].inh_row) for _, _, key, a in ir.edges()}
    return tables, rows


@pytest.mark.skipif(not bss2_batch.available(), reason="numba is missing: every hemisphere takes route_hemisphere")
@pytest.mark.parametrize("text, chips, batched", [(BATCHED, 2, [3]), (MIXED, 2, [2]), (BATCHED, 1, [2, 1])],
                         ids=["all_batched", "mixed", "two_partitions"])
def test_the_batch_routes_as_route_hemisphere_does(text, chips, batched, monkeypatch):
    with_batch, without = [], []
    fast = routed(text, True, monkeypatch, with_batch, chips)
    slow = routed(text, False, monkeypatch, without, chips)
    assert with_batch == batched and without == []  # hemispheres of host sources only, per partition
    assert placement_problems(fast) == [] and placement_problems(slow) == []
    (tables, rows), (tables_slow, rows_slow) = routing_of(fast), routing_of(slow)
    assert len(tables) == len(batched)
    for (buses, entries), (buses_slow, entries_slow) in zip(tables, tables_slow):
        assert buses == buses_slow and np.array_equal(entries, entries_slow)
    for key, (exc, inh) in rows.items():
        assert np.array_equal(exc, rows_slow[key][0]) and np.array_equal(inh, rows_slow[key][1]), key
    assert sum(g.sources for r in tables[0][0] for g in r.groups) > 2 * 64  # more sources than a group's labels
