"""bss2 placement and routing: the published 256-246-10 figures, and, over random layer sizes, that every
placement is valid (checked from the IR alone, independently of the passes) or a DRC error names the
resource that ran out."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import snnc
from snnc.compiler.ir.synapses import is_sparse
from snnc.diagnostics import SnncError
from tests.conftest import REPO, network

LATENCY_DIGITS = (REPO / "dsl_examples" / "latency_digits.snn").read_text()
RECURRENT_PROJECTION = "    proj hidden -> hidden : sparse(p = 0.1, init = normal(0, 0.02)) delay 1 ms\n"
FEED_FORWARD = LATENCY_DIGITS.replace(RECURRENT_PROJECTION, "")
NO_DELAY = LATENCY_DIGITS.replace(" delay 1 ms", "")
BSS2_YAML = (REPO / "snnc" / "compiler" / "targets" / "bss2.yaml").read_text()
LIF = "LIF(tau_mem = 6 ms, tau_syn = 6 ms, refractory = 1 ms)"


def placement_problems(program) -> list[str]:
    """Everything wrong with a compiled bss2 program's placement and routing, from its IR and target spec
    alone: weights, rows against their signs, one synapse per (circuit, row), and the event-routing rules
    (every synapse's row belongs to a label group that relays its source under a label no other source of
    the group has; an on-chip source reaches only the bus of its event output, under one label per chip;
    no bus has more drivers or label groups than the chip, no group more sources than labels)."""
    ir, resources = program.ir, program.target.spec["resources"]
    columns, hemispheres, rows = (resources["columns_per_hemisphere"], resources["hemispheres"],
                                  resources["rows_per_hemisphere"])
    buses = resources["padi_buses_per_hemisphere"]
    per_bus = resources["synapse_drivers_per_hemisphere"] // buses
    per_output = columns // resources["neuron_event_outputs"]
    per_chip = columns * hemispheres
    largest = (1 << resources["weight_bits"]) - 1
    chips = ir.graph.graph["chips"]
    nodes = list(ir.graph.nodes)
    problems = []
    matrices = {}
    for _, _, key, attrs in ir.edges():
        hw, sign = attrs["legalization"].hw_weights, attrs["decl"].sign
        weights = attrs["weights"]
        synapses = weights.indices.shape if is_sparse(weights) else weights.shape
        if hw.dtype != np.int16 or hw.shape != synapses:
            problems.append(f"{key}: hw_weights {hw.dtype} {hw.shape}")
            continue
        if np.abs(hw.astype(np.int64)).max(initial=0) > largest:
            problems.append(f"{key}: a hardware weight beyond {largest}")
        if (sign == "positive" and (hw < 0).any()) or (sign == "negative" and (hw > 0).any()):
            problems.append(f"{key}: a weight against the projection's sign")
        layout = attrs["synapse_rows"]
        if layout.exc_row.shape != synapses or layout.inh_row.shape != synapses:
            problems.append(f"{key}: synapse rows of shape {layout.exc_row.shape}")
            continue
        matrices[key] = hw, exc_row, inh_row, exists = as_matrices(weights, hw, layout)
        for row, needed in ((exc_row, sign != "negative"), (inh_row, sign != "positive")):
            if ((row >= 0) != (exists & needed)).any():
                problems.append(f"{key}: a synapse without its row, or a row without a synapse")
            if (row >= rows).any():
                problems.append(f"{key}: a row beyond the array")
    where = {}
    for partition in ir.graph.graph["partitions"]:
        for chunk in partition.chunks:
            where.setdefault(chunk.population, np.full((ir.size(chunk.population), 2), -1))[
                chunk.start:chunk.stop] = (partition.index, chunk.chip)
    covered = {p.name: np.zeros(p.size, np.int64) for p in ir.populations()}
    for partition, table in zip(ir.graph.graph["partitions"], ir.graph.graph["routing"]):
        owner, labels = {}, {}
        for route in table.buses:
            if route.drivers > per_bus or len(route.groups) > 1 << resources["row_select_bits"]:
                problems.append(f"partition {partition.index}: bus {route.bus} has {route.drivers} drivers")
            for index, group in enumerate(route.groups):
                if group.sources > 1 << resources["address_bits"]:
                    problems.append(f"partition {partition.index}: a label group of {group.sources} sources")
                for driver in group.drivers:
                    if driver % buses != route.bus or (route.chip, route.hemisphere, driver) in owner:
                        problems.append(f"partition {partition.index}: driver {driver} misallocated")
                    owner[(route.chip, route.hemisphere, driver)] = (route.bus, index)
        owner_array = np.full((chips, hemispheres, rows // 2, 2), -1, np.int64)
        for (c, h, d), bus_group in owner.items():
            owner_array[c, h, d] = bus_group
        relayed = _entry_key(table.chip, table.hemisphere, table.bus, table.group, table.source, table.neuron)
        entries = list(zip(table.chip.tolist(), table.hemisphere.tolist(), table.bus.tolist(), table.group.tolist(),
                           [nodes[s] for s in table.source.tolist()], table.neuron.tolist(), table.label.tolist()))
        for c, h, b, g, node, neuron, label in entries:
            labels.setdefault((c, h, b, g), {})[(node, neuron)] = label
        for group_labels in labels.values():
            if len(set(group_labels.values())) != len(group_labels):
                problems.append(f"partition {partition.index}: two sources share a label in one group")
        on_chip_label = {}
        for c, _, _, _, node, neuron, label in entries:
            if node in where and tuple(where[node][neuron]) == (partition.index, c):
                if on_chip_label.setdefault((c, node, neuron), label) != label:
                    problems.append(f"{node}[{neuron}]: two labels on chip {c}")
        circuit_keys, synapse_keys = [], []
        for chunk in partition.chunks:
            name, start, stop = chunk.population, chunk.start, chunk.stop
            covered[name][start:stop] += 1
            placed = ir.node_attrs(name)["placement"].circuits[start:stop].astype(np.int64)
            c = ir.node_attrs(name)["merge"].circuits_per_neuron
            on_chip = placed // per_chip == chunk.chip
            if placed.shape != (stop - start, c) or not on_chip.all() or chunk.chip >= chips:
                problems.append(f"{name}: circuits off chip {chunk.chip} of {chips}")
            column = placed % columns
            if c > 1 and (column.max(axis=1) - column.min(axis=1) + 1 > -(-c // hemispheres)).any():
                problems.append(f"{name}: merged circuits are not adjacent columns")
            circuit_keys.append(placed.ravel())
            for source, _, key, attrs in ir.graph.in_edges(name, keys=True, data=True):
                layout = attrs["synapse_rows"]
                _, exc_row, inh_row, _ = matrices[key]
                for row_of, mode in ((exc_row, 1), (inh_row, -1)):
                    i, j = np.nonzero(row_of[:, start:stop] >= 0)
                    row = row_of[:, start:stop][i, j].astype(np.int64)
                    circuit = placed[j, layout.slot[i].astype(np.int64)]
                    hemisphere = circuit % per_chip // columns
                    synapse_keys.append(circuit * rows + row)
                    internal = None
                    if source in where:
                        home = where[source][i]
                        internal = (home[:, 0] == partition.index) & (home[:, 1] == chunk.chip)
                        first = ir.node_attrs(source)["placement"].circuits[i, 0].astype(np.int64)
                        home_bus = first % per_chip % columns // per_output % buses
                    modes = np.stack([table.row_modes(chunk.chip, h, rows) for h in range(hemispheres)])
                    if (modes[hemisphere, row] != mode).any():
                        problems.append(f"{name}: a row used against its sign mode")
                    bus_group = owner_array[chunk.chip, hemisphere, row // 2]  # (k, 2), -1 where no group
                    key = _entry_key(chunk.chip, hemisphere, bus_group[:, 0], bus_group[:, 1], nodes.index(source), i)
                    if (bus_group[:, 0] < 0).any() or not np.isin(key, relayed).all():
                        problems.append(f"{name}: a synapse whose row does not relay its source {source}")
                    if internal is not None and (internal & (bus_group[:, 0] != home_bus)).any():
                        problems.append(f"{name}: an on-chip source of {source} off its event output's bus")
        circuits = np.concatenate(circuit_keys)
        if len(np.unique(circuits)) != len(circuits):
            problems.append(f"partition {partition.index}: a neuron circuit used twice")
        synapses = np.concatenate(synapse_keys) if synapse_keys else np.zeros(0, np.int64)
        if len(np.unique(synapses)) != len(synapses):
            problems.append(f"partition {partition.index}: a synapse used twice")
    for name, count in covered.items():
        if (count != 1).any():
            problems.append(f"{name}: a neuron placed in {set(count.tolist())} partitions")
    return problems


def as_matrices(weights, hw: np.ndarray, layout) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(hw_weights, exc_row, inh_row, exists) as (pre, post) matrices (0, -1, -1, False where no synapse),
    from a sparse projection's per-synapse vectors or a dense one's matrices."""
    if not is_sparse(weights):
        return hw, layout.exc_row, layout.inh_row, np.ones(hw.shape, bool)
    matrices = []
    for values, fill in ((hw, 0), (layout.exc_row, -1), (layout.inh_row, -1)):
        matrix = np.full(weights.shape, fill, values.dtype)
        matrix[weights.sources, weights.indices] = values
        matrices.append(matrix)
    return (*matrices, weights.mask())


def _entry_key(chip, hemisphere, bus, group, node, neuron) -> np.ndarray:
    """One int64 per (chip, hemisphere, bus, group, node, neuron) routing entry."""
    parts = [np.asarray(x, np.int64) for x in (chip, hemisphere, bus, group, node, neuron)]
    key = np.zeros(np.broadcast(*parts).shape, np.int64)
    for part, width in zip(parts, (1 << 6, 1 << 2, 1 << 4, 1 << 8, 1 << 8, 1 << 20)):
        key = key * width + part
    return key


def compile_text(text: str, **kwargs):
    return snnc.compile("net.snn", text=text, target="bss2", **kwargs)


def error_lines(text: str, count: int, **kwargs) -> list[str]:
    """The first `count` lines of the rendered errors of compiling `text` for bss2 (which must fail)."""
    with pytest.raises(SnncError) as info:
        compile_text(text, **kwargs)
    return info.value.render().splitlines()[:count]


def three_layers(inputs: int, hidden: int, outputs: int = 10) -> str:
    """x[inputs] -> h[hidden] (LIF) -> o[outputs] (LI), dense and signed."""
    return network(f"""
    input x[{inputs}] : latency(t_max = 10 ms)
    pop h[{hidden}] : {LIF}
    pop o[{outputs}] : LI(tau_mem = 6 ms, tau_syn = 6 ms)
    proj x -> h : dense
    proj h -> o : dense
    output o : max_membrane""")


def test_256_246_10_fills_the_chip_exactly():
    program = compile_text(FEED_FORWARD)
    ir = program.ir
    assert [ir.node_attrs(n)["merge"].circuits_per_neuron for n in ("hidden", "out")] == [2, 2]
    assert ir.node_attrs("hidden")["placement"].circuits.shape == (246, 2)
    resources = ir.graph.graph["resources"]
    assert resources["neuron_circuits"] == {"used": 512, "available": 512}
    assert resources["synapse_rows"] == {"used": 512, "available": 512}
    assert resources["synapse_drivers"] == {"used": 256, "available": 256}
    assert resources["synapses"]["used"] == 2 * (256 * 246 + 246 * 10)
    assert len(ir.graph.graph["partitions"]) == 1
    # A merged neuron is the top and the bottom circuit of one column: rows from both synapse arrays.
    circuits = ir.node_attrs("hidden")["placement"].circuits
    assert (circuits[:, 1] - circuits[:, 0] == 256).all()
    # As hxtorch's own 256-246-10 routing: on every bus one label group, its 32 drivers shared by 32
    # pixels (for the hidden columns) and 32 hidden neurons of the bus's two event outputs (for the output
    # columns), each under its own label; event output 7 (bus 3) holds 246 - 224 = 22 hidden neurons.
    [table] = ir.graph.graph["routing"]
    assert [(b.hemisphere, b.bus, len(b.groups), b.drivers, b.sources) for b in table.buses] == [
        (h, bus, 1, 32, 64 if bus != 3 else 59) for h in (0, 1) for bus in range(4)]
    assert all(b.groups[0].exc_rows == b.groups[0].inh_rows == 32 for b in table.buses)
    assert placement_problems(program) == []


def test_latency_digits_has_a_delay_the_chip_cannot_program():
    assert error_lines(LATENCY_DIGITS, 3) == [
        "net.snn:15:5: error[E161]: target 'bss2' has no programmable synaptic delays: its spikes reach their "
        "synapses after a fixed latency, and 'hidden->hidden' has delay 1 ms",
        "        proj hidden -> hidden : sparse(p = 0.1, init = normal(0, 0.02)) delay 1 ms",
        "        " + "^" * 74,
    ]


def test_recurrent_latency_digits_without_delay_takes_three_packed_circuits_and_two_chips():
    # The 10% recurrence adds at most 36 signed synapses to a hidden neuron's 256 inputs (584 of 592
    # rows, packed per column), not 246: 3 circuits instead of 4, but still more than one chip has.
    assert error_lines(NO_DELAY, 5) == [
        "net.snn:11:5: error[E404]: population 'hidden' does not fit: needs 738 neuron circuits (3 per neuron for "
        "502 signed inputs (584 synapses on the busiest neuron)), bss2 has 512",
        "        pop    hidden[246]    : hw",
        "        ^^^^^^^^^^^^^^^^^^^^^^^^^^",
        "note: it is recurrent (projection 'hidden->hidden'), so it cannot be split into partitions run one "
        "after another",
        "note: it fits on 2 chips at once: compile with --chips 2",
    ]
    program = compile_text(NO_DELAY, chips=2)
    ir = program.ir
    assert ir.node_attrs("hidden")["merge"].circuits_per_neuron == 3
    [partition] = ir.graph.graph["partitions"]
    assert partition.chips == 2
    assert ir.graph.graph["resources"]["neuron_circuits"] == {"used": 758, "available": 1024}
    hidden_chips = ir.node_attrs("hidden")["placement"].circuits[:, 0] // 512
    assert set(hidden_chips.tolist()) == {0, 1}
    links = partition.chip_links
    assert 0 < links.crossing_sources <= 246 and links.event_copies >= links.crossing_sources
    assert placement_problems(program) == []


def test_hundred_inputs_take_one_circuit_per_neuron_in_one_hemisphere():
    program = compile_text(three_layers(100, 50))
    ir = program.ir
    assert [ir.node_attrs(n)["merge"].circuits_per_neuron for n in ("h", "o")] == [1, 1]
    assert (ir.node_attrs("h")["placement"].circuits < 256).all()  # single circuits fill one hemisphere first
    assert ir.graph.graph["resources"]["synapse_rows"]["used"] == 200
    assert placement_problems(program) == []


def test_sign_constrained_projections_take_one_row_per_source():
    program = compile_text(network(f"""
    input x[256] : latency(t_max = 10 ms)
    pop h[20] : {LIF}
    proj x -> h : dense(init = uniform(0, 1)) positive
    output h : spike_count"""))
    ir = program.ir
    assert ir.node_attrs("h")["merge"].circuits_per_neuron == 1  # 256 excitatory rows in one circuit
    assert ir.edge_attrs("x->h")["report"]["rows"] == 256
    assert ir.graph.graph["resources"]["synapse_drivers"]["used"] == 128
    assert (ir.graph.graph["routing"][0].row_modes(0, 0, 256) == 1).all()
    assert placement_problems(program) == []


def test_large_feed_forward_layer_runs_in_partitions():
    program = compile_text(three_layers(300, 400))
    partitions = program.ir.graph.graph["partitions"]
    assert len(partitions) == 4  # 3 circuits per hidden neuron take 2 columns: 128 per chip
    # The last partition holds the last 16 hidden neurons and the output layer, which listens to the
    # 384 hidden neurons of the earlier partitions through recorded and replayed spikes.
    assert partitions[-1].populations == ("h", "o") and partitions[-1].chunks[0].start == 384
    assert partitions[-1].replayed_sources == 384
    assert any(d["code"] == "W402" and "4 partitions" in d["message"] for d in program.diagnostics)
    assert placement_problems(program) == []


def test_placement_is_deterministic():
    first, second = compile_text(FEED_FORWARD, seed=3), compile_text(FEED_FORWARD, seed=3)
    for name in ("hidden", "out"):
        assert np.array_equal(first.ir.node_attrs(name)["placement"].circuits,
                              second.ir.node_attrs(name)["placement"].circuits)
    assert np.array_equal(first.ir.edge_attrs("pixels->hidden")["legalization"].hw_weights,
                          second.ir.edge_attrs("pixels->hidden")["legalization"].hw_weights)
    assert np.array_equal(first.ir.edge_attrs("hidden->out")["synapse_rows"].exc_row,
                          second.ir.edge_attrs("hidden->out")["synapse_rows"].exc_row)


@pytest.mark.parametrize("name, value, text", [
    ("tau_mem", "60 ms", None), ("tau_mem", "61 ms", "tau_mem = 61 ms"),
    ("tau_mem", "0.5 ms", None), ("tau_mem", "0.49 ms", "tau_mem = 490 us"),
    ("tau_syn", "30 ms", None), ("tau_syn", "31 ms", "tau_syn = 31 ms"),
    ("tau_syn", "0.3 ms", None), ("tau_syn", "0.29 ms", "tau_syn = 290 us"),
    ("refractory", "32 ms", None), ("refractory", "33 ms", "refractory = 33 ms"),
    ("refractory", "0.04 ms", None), ("refractory", "0.039 ms", "refractory = 39 us"),
])
def test_parameter_ranges_from_calix_at_the_limit_and_one_past(name, value, text):
    params = {"tau_mem": "6 ms", "tau_syn": "6 ms", "refractory": "1 ms", name: value}
    body = network(f"""
    input x[4] : latency(t_max = 10 ms)
    pop y[3] : LIF({", ".join(f"{k} = {v}" for k, v in params.items())})
    proj x -> y : dense
    output y : spike_count""")
    if text is None:
        assert placement_problems(compile_text(body)) == []
        return
    ranges = {"tau_mem": "500 us .. 60 ms in model time (500 ns .. 60 us on the chip",
              "tau_syn": "300 us .. 30 ms in model time (300 ns .. 30 us on the chip",
              "refractory": "40 us .. 32 ms in model time (40 ns .. 32 us on the chip"}
    with pytest.raises(SnncError) as info:
        compile_text(body)
    assert info.value.render().splitlines()[0] == (
        f"net.snn:4:5: error[E401]: population 'y': {text} is outside the range bss2 calibrates: {ranges[name]}, "
        "1000x faster)")


def test_a_refractory_period_of_zero_runs_as_the_chips_shortest():
    # refractory = 0 (the default) asks for none: the chip's shortest, 40 ns, is 0.04 ms in model time, below
    # the step; anything between 0 and that is out of range (the parametrized test above).
    program = compile_text(network("""
    input x[4] : latency(t_max = 10 ms)
    pop y[3] : LIF(tau_mem = 6 ms, tau_syn = 6 ms)
    proj x -> y : dense
    output y : spike_count"""))
    assert program.diagnostics == [] and placement_problems(program) == []


def test_projection_from_a_non_spiking_population_is_an_error():
    with pytest.raises(SnncError) as info:
        compile_text(network(f"""
    input x[4] : latency(t_max = 10 ms)
    pop m[3] : LI(tau_mem = 5 ms, tau_syn = 5 ms)
    pop y[3] : {LIF}
    proj x -> m : dense
    proj m -> y : dense
    output y : spike_count"""))
    rendered = info.value.render()
    assert ("error[E139]: projection 'm->y': 'm' (LI) never spikes and gives no value, so the projection would "
            "carry nothing") in rendered
    assert "E402" not in rendered  # reported once, by the target-independent rule


def test_a_neuron_wider_than_the_chip_names_the_circuits():
    with pytest.raises(SnncError) as info:
        compile_text(network(f"""
    input x[70000] : rate(max_rate = 10 Hz)
    pop y[1] : {LIF}
    proj x -> y : dense
    output y : spike_count"""))
    assert ("population 'y' does not fit: one neuron needs 547 merged neuron circuits for 70,000 signed "
            "inputs, a bss2 chip has 512") in info.value.render()


# Populations a (columns 0..31: event output 0) and b (column 128: event output 4) both send their spikes
# over PADI bus 0; f fills the columns between them.
ON_BUS_0 = f"""
    input x[1] : rate(max_rate = 10 Hz)
    pop a[32] : {LIF}
    pop f[96] : {LIF}
    pop b[1] : {LIF}
    pop y[1] : {LIF}
    proj x -> a : dense
    proj x -> f : dense
    proj x -> b : dense
    output y : spike_count"""


def test_a_circuit_takes_at_most_64_rows_from_one_padi_bus():
    # bss2.yaml: 32 drivers per bus (128 / 4), 2 rows each. a's 32 signed sources take all 64 rows of a
    # y circuit on bus 0; one excitatory row more from b is one past.
    limit = compile_text(network(ON_BUS_0 + "\n    proj a -> y : dense"))
    assert placement_problems(limit) == []
    [bus] = [b for b in limit.ir.graph.graph["routing"][0].buses if (b.hemisphere, b.bus) == (0, 0)]
    assert (bus.drivers, bus.groups[0].exc_rows, bus.groups[0].inh_rows) == (32, 32, 32)
    assert error_lines(network(ON_BUS_0 + "\n    proj a -> y : dense\n    proj b -> y : dense positive"), 3) == [
        "net.snn:13:5: error[E406]: projection 'b->y' oversubscribes PADI bus 0: the spikes of its on-chip sources "
        "(event outputs 0 and 4) reach 'y' only over that bus, whose 32 synapse drivers give a neuron circuit "
        "64 rows; a neuron of 'y' (1 circuit) needs 65 there",
        "        proj b -> y : dense positive",
        "        ^^^^^^^^^^^^^^^^^^^^^^^^^^^^",
    ]


def test_a_padi_bus_has_32_drivers_at_the_limit_and_one_past():
    # y takes a's 32 sources on excitatory rows, z on inhibitory ones: one label group of 64 rows on bus 0,
    # its 32 drivers. b's source on another excitatory row makes 65 rows: 33 drivers.
    body = ON_BUS_0 + f"\n    pop z[1] : {LIF}\n    proj a -> y : dense positive\n    proj a -> z : dense negative"
    limit = compile_text(network(body))
    assert placement_problems(limit) == []
    [bus] = [b for b in limit.ir.graph.graph["routing"][0].buses if (b.hemisphere, b.bus) == (0, 0)]
    assert (bus.drivers, len(bus.groups)) == (32, 1)
    assert error_lines(network(body + "\n    proj b -> y : dense positive"), 4) == [
        "net.snn:14:5: error[E407]: partition 0, chip 0: PADI bus 0 of hemisphere 0 carries 34 sources and needs 33 "
        "synapse drivers, it has 32; projection 'a->z' brings the most (32)",
        "        proj a -> z : dense negative",
        "        ^^^^^^^^^^^^^^^^^^^^^^^^^^^^",
        "note: sources it carries from the other projections: 'a->y' 32, 'b->y' 1, 'x->b' 1, 'x->f' 1, 'x->a' 1",
    ]


@pytest.mark.parametrize("targets, connectivity, busiest", [(1, "dense positive", 9), (20, "sparse(p = 0.5)", None)])
def test_label_groups_per_bus_at_the_limit_and_one_past(tmp_path, targets, connectivity, busiest):
    # A variant with a 1-bit row-select address (2 label groups per bus) and 2-bit labels (4 sources per
    # group): a hemisphere's 4 buses tell 4 * 2 * 4 = 32 host sources apart, 33 is one past. Dense sources
    # share one pattern and every neuron hears them all: E407 (the busiest bus gets 9). Sparse ones each
    # reach some neurons, so one past, the population is spread thinner instead.
    path = tmp_path / "narrow.yaml"
    path.write_text(BSS2_YAML.replace("row_select_bits: 5", "row_select_bits: 1").replace(
        "address_bits: 6", "address_bits: 2"))

    def body(inputs: int) -> str:
        return network(f"""
    input x[{inputs}] : rate(max_rate = 10 Hz)
    pop y[{targets}] : {LIF}
    proj x -> y : {connectivity}
    output y : spike_count""")

    limit = snnc.compile("net.snn", text=body(32), target=str(path))
    assert placement_problems(limit) == []
    assert [(len(b.groups), b.sources) for b in limit.ir.graph.graph["routing"][0].buses] == [(2, 8)] * 4
    if connectivity.startswith("sparse"):
        # One past, sparse: fewer neurons per hemisphere receive fewer sources, so y is spread thinner
        # (bss2_spread: 2 per chip, one per hemisphere, at most 24 = 75% of 32 sources) over 10 partitions
        # of the one chip; test_bss2_spread.py tests the spreading.
        spread = snnc.compile("net.snn", text=body(33), target=str(path))
        assert placement_problems(spread) == []
        assert [d["code"] for d in spread.diagnostics] == ["W402", "W403"]
        assert len(spread.ir.graph.graph["partitions"]) == 10
        return
    with pytest.raises(SnncError) as info:
        snnc.compile("net.snn", text=body(33), target=str(path))
    assert info.value.render().splitlines()[0] == (
        f"net.snn:5:5: error[E407]: partition 0, chip 0: PADI bus 0 of hemisphere 0 carries {busiest} sources and "
        f"needs 3 label groups, its 1-bit row-select address tells 2 apart; projection 'x->y' brings the most "
        f"({busiest})")


def _layered_network(sizes: list[int], signs: list[str], recurrent: bool) -> str:
    lines = [f"    input l0[{sizes[0]}] : rate(max_rate = 20 Hz)"]
    for i, size in enumerate(sizes[1:], start=1):
        model = LIF if i < len(sizes) - 1 else "LIF(tau_mem = 6 ms, tau_syn = 6 ms, refractory = 2 ms)"
        lines.append(f"    pop l{i}[{size}] : {model}")
        init = "uniform(0, 0.5)" if signs[i - 1] != "signed" else "normal(0, 0.3)"
        suffix = "" if signs[i - 1] == "signed" else f" {signs[i - 1]}"
        lines.append(f"    proj l{i - 1} -> l{i} : dense(init = {init}){suffix}")
    if recurrent:
        lines.append("    proj l1 -> l1 : sparse(p = 0.2, init = normal(0, 0.1))")
    lines.append(f"    output l{len(sizes) - 1} : spike_count")
    return network("\n".join(lines))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sizes=st.lists(st.integers(1, 700), min_size=2, max_size=4),
       signs=st.lists(st.sampled_from(["signed", "signed", "positive", "negative"]), min_size=3, max_size=3),
       recurrent=st.booleans(), chips=st.integers(1, 3), seed=st.integers(0, 3))
def test_every_placement_is_valid_or_names_the_resource(sizes, signs, recurrent, chips, seed):
    text = _layered_network(sizes, signs, recurrent)
    try:
        program = compile_text(text, chips=chips, seed=seed)
    except SnncError as exc:
        rendered = exc.render()
        assert ("does not fit" in rendered and "neuron circuits" in rendered) or "PADI bus" in rendered, rendered
        event("DRC error")
        return
    event(f"placed in {len(program.ir.graph.graph['partitions'])} partition(s)")
    assert placement_problems(program) == []
    ir = program.ir
    for population in ir.populations():
        c = ir.node_attrs(population.name)["merge"].circuits_per_neuron
        assert ir.node_attrs(population.name)["placement"].circuits.shape == (population.size, c)
    used = ir.graph.graph["resources"]["neuron_circuits"]
    assert used["used"] <= used["available"] == 512 * chips


def test_every_example_places_validly_or_says_what_bss2_lacks():
    from tests.conftest import EXAMPLES

    expected_errors = {"latency_digits": "E161", "deep_recurrent": "E161", "onn_digits": "E160",
                       "sequential_digits": "E404"}  # 256 recurrent neurons: two chips (--chips 2)
    for path in EXAMPLES:
        for name in [result.ir.name for result in snnc.check(path)]:
            code = expected_errors.get(name)
            try:
                program = snnc.compile(path, target="bss2", network=name)
            except SnncError as exc:
                assert code is not None and code in {d.code for d in exc.diagnostics}, exc.render()
                continue
            assert code is None, f"{name} compiled for bss2"
            assert placement_problems(program) == [], name
