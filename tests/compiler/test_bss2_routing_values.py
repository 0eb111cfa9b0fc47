"""bss2 limits and routing figures at the limit and one past (issue 16), beside what
test_bss2_placement.py's checker verifies: synapse labels 0..k-1 in each label group, a neuron of exactly a
chip's circuits (no E403) and one circuit more (E403), W402 from two partitions on, and W401 at its
budget of events between chips and one past."""

from __future__ import annotations

import numpy as np
import pytest

import snnc
from snnc.diagnostics import SnncError
from tests.compiler.test_bss2_placement import (
    BSS2_YAML,
    FEED_FORWARD,
    LIF,
    ON_BUS_0,
    placement_problems,
    three_layers,
)
from tests.conftest import network


def variant(tmp_path, name: str, **changes: str):
    """bss2.yaml with `key: old` lines replaced (changes: key -> new value)."""
    text = BSS2_YAML
    for key, new in changes.items():
        line = next(x for x in text.splitlines() if x.strip().startswith(f"{key}:"))
        text = text.replace(line, f"  {key}: {new}")
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return str(path)


def codes(program) -> list[str]:
    return [d["code"] for d in program.diagnostics]


def into_one(inputs: int, sign: str = "positive") -> str:
    return network(f"""
    input x[{inputs}] : rate(max_rate = 10 Hz)
    pop y[1] : {LIF}
    proj x -> y : dense {sign}
    output y : spike_count""")


def test_labels_of_a_host_label_group_are_0_to_k_minus_1(tmp_path):
    narrow = variant(tmp_path, "narrow", row_select_bits="1", address_bits="2")  # 2 groups a bus, 4 labels
    program = snnc.compile("net.snn", text=into_one(29), target=narrow)
    table = program.ir.graph.graph["routing"][0]
    groups = set(zip(table.chip.tolist(), table.hemisphere.tolist(), table.bus.tolist(), table.group.tolist()))
    assert len(groups) == 8  # 29 sources over the 4 buses' 2 groups of a hemisphere
    for key in groups:
        chosen = ((table.chip == key[0]) & (table.hemisphere == key[1]) & (table.bus == key[2])
                  & (table.group == key[3]))
        assert sorted(table.label[chosen].tolist()) == list(range(int(chosen.sum()))), key
    assert len(table.label) == 29 and table.label.max() == 3


def test_labels_of_the_256_246_10_network_fit_the_six_bit_address():
    program = snnc.compile("net.snn", text=FEED_FORWARD, target="bss2")
    assert placement_problems(program) == []
    table = program.ir.graph.graph["routing"][0]
    assert int(table.label.min()) == 0 and int(table.label.max()) == 63
    for route in table.buses:  # every bus carries one full group: 64 sources on labels 0..63
        chosen = (table.chip == route.chip) & (table.hemisphere == route.hemisphere) & (table.bus == route.bus)
        labels = sorted(set(table.label[chosen].tolist()))
        assert labels == list(range(len(labels))), (route.hemisphere, route.bus)


def test_a_neuron_of_exactly_a_chip_s_circuits_fits_the_rule_and_one_more_does_not(tmp_path):
    # 4 columns per hemisphere: 8 circuits a chip, 256 rows each; a positive synapse takes one row
    small = variant(tmp_path, "small", columns_per_hemisphere="4", neuron_event_outputs="4")

    def errors(inputs: int) -> str:
        try:
            snnc.compile("net.snn", text=into_one(inputs), target=small)
        except SnncError as problem:
            return problem.render()
        return ""

    assert "E403" not in errors(8 * 256)  # 2,048 rows: 8 merged circuits (what else fails is not this rule)
    assert ("error[E403]: population 'y' does not fit: one neuron needs 9 merged neuron circuits for 2,049 "
            "excitatory inputs, a bss2 chip has 8") in errors(8 * 256 + 1)


def test_w402_from_the_second_partition_on():
    # h[504] on 504 circuits, o[2] on 4 merged circuits each (504 signed inputs: 1,008 rows): 512, one chip
    one = snnc.compile("net.snn", text=three_layers(4, 504, 2), target="bss2")
    assert len(one.ir.graph.graph["partitions"]) == 1 and "W402" not in codes(one)
    two = snnc.compile("net.snn", text=three_layers(4, 505, 2), target="bss2")  # 513 circuits
    assert [p.populations for p in two.ir.graph.graph["partitions"]] == [("h", "o"), ("o",)]  # o's second neuron
    assert [d["message"] for d in two.diagnostics if d["code"] == "W402"] == [
        "the network does not fit on 1 chip at once: it runs as 2 partitions one after another, spikes between "
        "them recorded and replayed; split: 'o'"]
    assert placement_problems(two) == []


# a fills chip 0 (512 circuits); b sits on chip 1 and hears all of a: 512 sources cross, each at most one
# spike per refractory period of 2 ms model time = 2 us on the chip: 512 x 5e5 = 2.56e8 events/s.
CROSSING = network(f"""
    input x[1] : rate(max_rate = 10 Hz)
    pop a[512] : LIF(tau_mem = 6 ms, tau_syn = 6 ms, refractory = 2 ms)
    pop b[1] : {LIF}
    proj x -> a : dense
    proj a -> b : dense positive
    output b : spike_count""")


@pytest.mark.parametrize("budget, warned", [("2.56e+8", False), ("2.55e+8", True)])
def test_w401_at_the_budget_of_events_between_chips_and_one_past(tmp_path, budget, warned):
    target = variant(tmp_path, "link", events_per_second_between_chips=budget)
    program = snnc.compile("net.snn", text=CROSSING, target=target, chips=2)
    [partition] = program.ir.graph.graph["partitions"]
    assert [(c.population, c.chip) for c in partition.chunks] == [("a", 0), ("b", 1)]
    links = partition.chip_links
    assert (links.crossing_sources, links.event_copies) == (512, 512)
    assert links.peak_events_per_second == pytest.approx(2.56e8)
    assert links.budget_events_per_second == float(budget)
    w401 = [d["message"] for d in program.diagnostics if d["code"] == "W401"]
    assert w401 == (["partition 0: at peak firing one chip sends up to 2.56e+08 events/s to other chips, its link "
                     "carries 2.55e+08 events/s; events may be dropped"] if warned else [])
    assert np.isclose(links.peak_events_per_second, 512 / 2e-6)


def test_e406_counts_the_rows_of_the_oversubscribed_bus_only():
    # ON_BUS_0 with e between a and f: a (columns 0..31) sends over bus 0, e (32..63, event output 1) and b
    # (160, event output 5) over bus 1: y's circuit takes 64 rows from each bus; b's excitatory row is the
    # 65th of bus 1 (bus 0's 64 apart)
    body = ON_BUS_0.replace("    pop f[96]", f"    pop e[32] : {LIF}\n    pop f[96]").replace(
        "    proj x -> f", "    proj x -> e : dense\n    proj x -> f")
    body += "\n    proj a -> y : dense\n    proj e -> y : dense"
    limit = snnc.compile("net.snn", text=network(body), target="bss2")
    assert placement_problems(limit) == []
    assert [(r.hemisphere, r.bus, r.drivers) for r in limit.ir.graph.graph["routing"][0].buses] == [(0, 0, 32),
                                                                                                    (0, 1, 32)]
    with pytest.raises(SnncError) as info:
        snnc.compile("net.snn", text=network(body + "\n    proj b -> y : dense positive"), target="bss2")
    assert info.value.render().splitlines()[0] == (
        "net.snn:16:5: error[E406]: projection 'b->y' oversubscribes PADI bus 1: the spikes of its on-chip sources "
        "(event outputs 1 and 5) reach 'y' only over that bus, whose 32 synapse drivers give a neuron circuit 64 rows; "
        "a neuron of 'y' (1 circuit) needs 65 there")


def into_a_cycle(first: str, second: str, loop: str) -> str:
    """x[4] -> first -> second (populations `name[size]` of LIF), the cycle closed by the projection `loop`;
    second read out."""
    a, b = first.split("[")[0], second.split("[")[0]
    return network(f"""
    input x[4] : latency(t_max = 10 ms)
    pop {first} : {LIF}
    pop {second} : {LIF}
    proj x -> {a} : dense
    proj {a} -> {b} : dense
    proj {loop} : dense
    output {b} : spike_count""")


def test_a_recurrent_population_that_does_not_fit_beside_the_others_starts_a_partition():
    # h: 500 circuits; r: 20 neurons of 5 circuits (500 + 20 signed inputs: 1,040 rows) must run at once,
    # and 100 do not fit beside h's 500 on the chip's 512: r opens partition 1
    program = snnc.compile("net.snn", target="bss2", text=into_a_cycle("h[500]", "r[20]", "r -> r"))
    assert program.ir.node_attrs("r")["merge"].circuits_per_neuron == 5
    assert [(p.index, [(c.population, c.start, c.stop, c.chip) for c in p.chunks])
            for p in program.ir.graph.graph["partitions"]] == [(0, [("h", 0, 500, 0)]), (1, [("r", 0, 20, 0)])]
    assert codes(program) == ["W402"] and placement_problems(program) == []


def test_e404_names_every_population_of_a_recurrent_unit_and_its_circuits():
    # a and b form one cycle of 200 + 200 neurons of 2 circuits each: 800 at once, a chip has 512
    with pytest.raises(SnncError) as info:
        snnc.compile("net.snn", target="bss2", text=into_a_cycle("a[200]", "b[200]", "b -> a"))
    rendered = info.value.render()
    # plural subject, plural verbs and pronouns (the singular case: test_bss2_placement, population 'hidden')
    assert ("error[E404]: recurrent populations 'a', 'b' do not fit: needs 800 neuron circuits (2 per neuron "
            "for 204 signed inputs in 'a'; 2 per neuron for 200 signed inputs in 'b'), bss2 has 512") in rendered
    assert ("note: they are recurrent (projections 'a->b', 'b->a'), so they cannot be split into partitions run "
            "one after another") in rendered
    assert "note: they fit on 2 chips at once: compile with --chips 2" in rendered
    assert "does not fit" not in rendered and "it fits" not in rendered
