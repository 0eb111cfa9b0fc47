"""bss2 placement and routing: the published 256-246-10 figures, and, over random layer sizes, that every
placement is valid (checked from the IR alone, independently of the passes) or a DRC error names the
resource that ran out."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import snnc
from snnc.compiler.ir.bss2_records import DriverPlan
from snnc.diagnostics import SnncError
from tests.conftest import REPO, network

LATENCY_DIGITS = (REPO / "dsl_examples" / "latency_digits.snn").read_text()
RECURRENT_PROJECTION = "    proj hidden -> hidden : sparse(p = 0.1, init = normal(0, 0.02)) delay 1 ms\n"
FEED_FORWARD = LATENCY_DIGITS.replace(RECURRENT_PROJECTION, "")
LIF = "LIF(tau_mem = 6 ms, tau_syn = 6 ms, refractory = 1 ms)"


def placement_problems(program) -> list[str]:
    """Everything wrong with a compiled bss2 program's placement, from its IR and target spec alone."""
    ir, resources = program.ir, program.target.spec["resources"]
    columns, hemispheres, rows = (resources["columns_per_hemisphere"], resources["hemispheres"],
                                  resources["rows_per_hemisphere"])
    per_chip = columns * hemispheres
    largest = (1 << resources["weight_bits"]) - 1
    modes = ir.graph.graph["driver_plan"].row_modes()
    chips = ir.graph.graph["chips"]
    problems = []
    for _, _, key, attrs in ir.edges():
        hw, sign = attrs["legalization"].hw_weights, attrs["decl"].sign
        if hw.dtype != np.int16 or hw.shape != attrs["weights"].shape:
            problems.append(f"{key}: hw_weights {hw.dtype} {hw.shape}")
        if np.abs(hw.astype(np.int64)).max(initial=0) > largest:
            problems.append(f"{key}: a hardware weight beyond {largest}")
        if (sign == "positive" and (hw < 0).any()) or (sign == "negative" and (hw > 0).any()):
            problems.append(f"{key}: a weight against the projection's sign")
        if attrs.get("mask") is not None and (hw[~attrs["mask"]] != 0).any():
            problems.append(f"{key}: a weight where there is no synapse")
        exc, inh = attrs["synapse_rows"].exc_row.astype(np.int64), attrs["synapse_rows"].inh_row.astype(np.int64)
        if (modes[exc[exc >= 0]] != 1).any() or (modes[inh[inh >= 0]] != -1).any():
            problems.append(f"{key}: a row used against its sign mode")
        if ((hw > 0) & (exc[:, None] < 0)).any() or ((hw < 0) & (inh[:, None] < 0)).any():
            problems.append(f"{key}: a weight whose sign has no row")
    covered = {p.name: np.zeros(p.size, np.int64) for p in ir.populations()}
    for partition in ir.graph.graph["partitions"]:
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
            for _, _, attrs in ir.graph.in_edges(name, data=True):
                layout = attrs["synapse_rows"]
                mask = attrs.get("mask")
                exists = np.ones((len(layout.slot), stop - start), bool) if mask is None else mask[:, start:stop]
                i, j = np.nonzero(exists)
                circuit = placed[j, layout.slot[i].astype(np.int64)]
                for row in (layout.exc_row[i].astype(np.int64), layout.inh_row[i].astype(np.int64)):
                    keep = row >= 0
                    if (row[keep] >= rows).any():
                        problems.append(f"{name}: a row beyond the array")
                    synapse_keys.append(circuit[keep] * rows + row[keep])
        circuits = np.concatenate(circuit_keys)
        if len(np.unique(circuits)) != len(circuits):
            problems.append(f"partition {partition.index}: a neuron circuit used twice")
        synapses = np.concatenate(synapse_keys) if synapse_keys else np.zeros(0, np.int64)
        if len(np.unique(synapses)) != len(synapses):
            problems.append(f"partition {partition.index}: a synapse used twice")
    for table in ir.graph.graph["routing"]:
        driver = (table.chip.astype(np.int64) * hemispheres + table.hemisphere) * 1000 + table.driver
        labelled = driver * 100_000 + table.label
        if len(np.unique(labelled)) != len(labelled) or (table.label >= 1 << resources["address_bits"]).any():
            problems.append("two sources share an address label on one driver, or a label is too wide")
    for name, count in covered.items():
        if (count != 1).any():
            problems.append(f"{name}: a neuron placed in {set(count.tolist())} partitions")
    return problems


def compile_text(text: str, **kwargs):
    return snnc.compile("net.snn", text=text, target="bss2", **kwargs)


def three_layers(inputs: int, hidden: int) -> str:
    """x[inputs] -> h[hidden] (LIF) -> o[10] (LI), dense and signed."""
    return network(f"""
    input x[{inputs}] : latency(t_max = 10 ms)
    pop h[{hidden}] : {LIF}
    pop o[10] : LI(tau_mem = 6 ms, tau_syn = 6 ms)
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
    assert resources["synapses"]["used"] == 2 * (256 * 246 + 246 * 10)
    assert len(ir.graph.graph["partitions"]) == 1
    # A merged neuron is the top and the bottom circuit of one column: rows from both synapse arrays.
    circuits = ir.node_attrs("hidden")["placement"].circuits
    assert (circuits[:, 1] - circuits[:, 0] == 256).all()
    assert placement_problems(program) == []


def test_recurrent_latency_digits_does_not_fit_one_chip_and_says_why():
    with pytest.raises(SnncError) as info:
        compile_text(LATENCY_DIGITS)
    assert info.value.render().splitlines()[:5] == [
        "net.snn:10:5: error: population 'hidden' does not fit: needs 984 neuron circuits "
        "(4 per neuron for 502 signed inputs), bss2 has 512",
        "        pop    hidden[246]    : hw",
        "        ^^^^^^^^^^^^^^^^^^^^^^^^^^",
        "note: it is recurrent (projection 'hidden->hidden'), so it cannot be split into partitions run one "
        "after another",
        "note: it fits on 2 chips at once: compile with --chips 2",
    ]


def test_recurrent_latency_digits_on_two_chips_accounts_crossing_events():
    program = compile_text(LATENCY_DIGITS, chips=2)
    ir = program.ir
    assert ir.node_attrs("hidden")["merge"].circuits_per_neuron == 4
    [partition] = ir.graph.graph["partitions"]
    assert partition.chips == 2
    hidden_chips = ir.node_attrs("hidden")["placement"].circuits[:, 0] // 512
    # Hidden neurons on chip 0 reach the hidden and output neurons on chip 1 (one copy each), and
    # the hidden neurons on chip 1 reach their recurrent partners on chip 0.
    assert set(hidden_chips.tolist()) == {0, 1}
    links = partition.chip_links
    assert 0 < links.crossing_sources <= 246 and links.event_copies >= links.crossing_sources
    assert links.peak_events_per_second > 0
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
    assert ir.graph.graph["driver_plan"] == DriverPlan(signed=0, exc=128, inh=0)
    assert ir.node_attrs("h")["merge"].circuits_per_neuron == 1  # 256 excitatory rows in one circuit
    assert ir.edge_attrs("x->h")["report"]["rows"] == 256
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


def test_parameters_out_of_range_after_time_scaling_point_at_the_population():
    with pytest.raises(SnncError) as info:
        compile_text(network("""
    input x[4] : latency(t_max = 10 ms)
    pop y[3] : LIF(tau_mem = 200 ms, tau_syn = 5 ms)
    proj x -> y : dense
    output y : spike_count"""))
    assert ("net.snn:4:5: error: population 'y': tau_mem = 200 ms is 200 us on the chip (1000x faster), "
            "outside the range bss2 reaches (500 ns .. 100 us)") in info.value.render()


def test_projection_from_a_non_spiking_population_is_an_error():
    with pytest.raises(SnncError) as info:
        compile_text(network(f"""
    input x[4] : latency(t_max = 10 ms)
    pop m[3] : LI(tau_mem = 5 ms, tau_syn = 5 ms)
    pop y[3] : {LIF}
    proj x -> m : dense
    proj m -> y : dense
    output y : spike_count"""))
    assert "projection 'm->y': bss2 carries spikes between neurons, and 'm' (LI) never spikes" in info.value.render()


def test_a_neuron_wider_than_the_chip_names_the_circuits():
    with pytest.raises(SnncError) as info:
        compile_text(network(f"""
    input x[70000] : rate(max_rate = 10 Hz)
    pop y[1] : {LIF}
    proj x -> y : dense
    output y : spike_count"""))
    assert ("population 'y' does not fit: one neuron needs 547 merged neuron circuits for 70,000 signed "
            "inputs, a bss2 chip has 512") in info.value.render()


def test_too_many_sources_on_one_driver_names_the_address_labels(tmp_path):
    # 12 merged circuits per neuron in a 4-bit-label variant: 6 per hemisphere, i.e. 6 sources for each
    # driver per population; three such populations with different inputs side by side need 18 labels,
    # 16 exist. (Populations fed by the same source share its label.)
    variant = (REPO / "snnc" / "compiler" / "targets" / "bss2.yaml").read_text().replace(
        "address_bits: 6", "address_bits: 4")
    path = tmp_path / "narrow.yaml"
    path.write_text(variant)
    body = "".join(f"    input x{i}[1500] : rate(max_rate = 10 Hz)\n    pop y{i}[8] : {LIF}\n"
                   f"    proj x{i} -> y{i} : dense\n" for i in range(3)) + "    output y0 : spike_count"
    with pytest.raises(SnncError) as info:
        snnc.compile("net.snn", text=network(body), target=str(path))
    assert "a 4-bit address label tells only 16 apart" in info.value.render()


def _layered_network(sizes: list[int], signs: list[str], recurrent: bool) -> str:
    lines = [f"    input l0[{sizes[0]}] : rate(max_rate = 20 Hz)"]
    for i, size in enumerate(sizes[1:], start=1):
        model = LIF if i < len(sizes) - 1 else "LIF(tau_mem = 6 ms, tau_syn = 6 ms)"
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
        assert ("does not fit" in rendered and "neuron circuits" in rendered) or "address label" in rendered, rendered
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

    expected_errors = {"latency_digits": "E404", "deep_recurrent": "E161", "onn_digits": "E160"}
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
