"""bss2 spreading (bss2_spread): a population whose hemispheres, packed densely, would receive more distinct
sources than their PADI buses' label groups tell apart is placed fewer neurons per chip, on chips of its own,
or refused fast (E408) naming the resource and the chips it needs; and the first-fit label groups
(bss2_first_fit) route what the other strategies cannot, every synapse valid."""

from __future__ import annotations

import pytest

import snnc
from snnc.compiler.ir.synapses import per_target
from snnc.compiler.targets import bss2_batch, bss2_routing
from snnc.diagnostics import SnncError
from tests.compiler.test_bss2_placement import BSS2_YAML, LIF, compile_text, placement_problems
from tests.conftest import network

# a (on chip 0) -> b (recurrent), sparse: each b neuron hears ~10 of a's sources and ~2 of b's. The narrow
# chip (1-bit row-select address, 2-bit labels) tells 4 buses x 2 groups x 4 labels = 32 sources apart per
# hemisphere; b's 40 neurons in one hemisphere would receive 136, its busiest neuron 24 = 75% of 32 (the
# planned share): so 2 neurons per chip, one per hemisphere, 20 chips of b's own.
RECURRENT = network(f"""
    input x[8] : rate(max_rate = 10 Hz)
    pop a[100] : {LIF}
    pop b[40] : {LIF}
    proj x -> a : dense
    proj a -> b : sparse(p = 0.1)
    proj b -> b : sparse(p = 0.05)
    output b : spike_count""")
needs_numba = pytest.mark.skipif(not bss2_batch.available(), reason="first fit is a numba kernel")


@pytest.fixture
def narrow(tmp_path):
    path = tmp_path / "narrow.yaml"
    path.write_text(BSS2_YAML.replace("row_select_bits: 5", "row_select_bits: 1").replace(
        "address_bits: 6", "address_bits: 2"))
    return str(path)


def chunks_of(program, population: str) -> list[tuple[int, int, int, int]]:
    return [(p.index, c.chip, c.start, c.stop) for p in program.ir.graph.graph["partitions"] for c in p.chunks
            if c.population == population]


def test_a_recurrent_population_is_spread_thinner_given_enough_chips(narrow):
    program = snnc.compile("net.snn", text=RECURRENT, target=narrow, chips=21)
    assert placement_problems(program) == []
    assert chunks_of(program, "a") == [(0, 0, 0, 100)]
    assert chunks_of(program, "b") == [(0, 1 + i, 2 * i, 2 * i + 2) for i in range(20)]
    assert program.ir.node_attrs("b")["report"]["neurons_per_chip"] == 2
    assert "neurons_per_chip" not in program.ir.node_attrs("a")["report"]
    circuits = program.ir.node_attrs("b")["placement"].circuits[:2, 0]
    assert (circuits % 512 // 256).tolist() == [0, 1]  # one neuron in each hemisphere of chip 1
    [w403] = [d for d in program.diagnostics if d["code"] == "W403"]
    assert w403["message"] == (
        "population 'b' is spread over 20 chips, at most 2 of its neurons per chip (a chip holds 40): packed "
        "densely one hemisphere would receive 136 distinct sources and need 34 synapse drivers, it tells apart 32 "
        "and has 128; spread, 24 and about 24")
    # the figures, counted from the synapses: distinct sources of all 40, and of the busiest neuron
    weights = [program.ir.edge_attrs(key)["weights"] for key in ("a->b", "b->b")]
    assert sum(len(set(w.sources.tolist())) for w in weights) == 136
    assert max(sum(per_target(w) for w in weights)) == 24


def test_a_spread_recurrent_population_at_the_chips_it_needs_and_one_fewer(narrow):
    # 20 chips: a's chip leaves too few in the first partition, so b runs in a second one on 20 chips.
    limit = snnc.compile("net.snn", text=RECURRENT, target=narrow, chips=20)
    assert placement_problems(limit) == []
    assert chunks_of(limit, "b") == [(1, i, 2 * i, 2 * i + 2) for i in range(20)]
    with pytest.raises(SnncError) as info:
        snnc.compile("net.snn", text=RECURRENT, target=narrow, chips=19)
    assert info.value.render().splitlines() == [
        "net.snn:5:5: error[E408]: recurrent population 'b' needs 20 chips at once, 19 given: spread so that each "
        "hemisphere's sources fit its PADI buses' label groups ('b' at most 2 neurons per chip (a chip holds 40); "
        "packed densely one hemisphere would receive 136 distinct sources, it tells apart 32)",
        "        pop b[40] : LIF(tau_mem = 6 ms, tau_syn = 6 ms, refractory = 1 ms)",
        "        ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^",
        "note: it fits on 20 chips at once: compile with --chips 20"]


def one_to_one_inputs(k: int) -> str:
    """y[4] hearing k inputs one to one: every neuron k distinct sources, 4k for the four together."""
    inputs = "\n".join(f"    input x{i}[4] : rate(max_rate = 10 Hz)\n    proj x{i} -> y : one_to_one" for i in range(k))
    return network(f"    pop y[4] : {LIF}\n{inputs}\n    output y : spike_count")


def test_one_neuron_per_hemisphere_at_the_limit_and_one_past(narrow):
    # 24 sources per neuron: one neuron per hemisphere (2 per chip) takes the planned 75% of 32; 25 is past it.
    limit = snnc.compile("net.snn", text=one_to_one_inputs(24), target=narrow, chips=2)
    assert placement_problems(limit) == []
    assert chunks_of(limit, "y") == [(0, 0, 0, 2), (0, 1, 2, 4)]
    with pytest.raises(SnncError) as info:
        snnc.compile("net.snn", text=one_to_one_inputs(25), target=narrow, chips=2)
    assert info.value.render().splitlines()[0] == (
        "net.snn:2:5: error[E408]: population 'y' cannot be routed: a hemisphere holding only one of its neurons "
        "receives 25 distinct sources and needs about 25 synapse drivers; it tells apart 32 sources (4 PADI buses x "
        "2 label groups x 4 labels) and has 128 drivers, of which a spread population is planned to use 75%")


# One chip of a sparse recurrent layer: each hemisphere hears the 300 inputs and the layer's own neurons
# (on-chip sources, fixed buses), sparse: every source its own pattern.
ON_CHIP_SPARSE = network(f"""
    input x[300] : rate(max_rate = 10 Hz)
    pop h[400] : {LIF}
    proj x -> h : sparse(p = 0.05, init = normal(0, 0.2))
    proj h -> h : sparse(p = 0.05, init = normal(0, 0.1))
    output h : spike_count""")


@needs_numba
def test_first_fit_routes_on_chip_sourced_sparse_hemispheres_as_validly_as_the_other_strategies(monkeypatch):
    calls = []
    original = bss2_routing.deal_first_fit

    def counting(*args):
        calls.append(1)
        return original(*args)

    monkeypatch.setattr(bss2_routing, "deal_first_fit", counting)
    fast = compile_text(ON_CHIP_SPARSE)
    assert len(calls) == 2 and placement_problems(fast) == []  # both hemispheres, each by first fit
    monkeypatch.setattr(bss2_routing, "available", lambda: False)  # the pattern-by-pattern strategies
    slow = compile_text(ON_CHIP_SPARSE)
    assert len(calls) == 2 and placement_problems(slow) == []
    drivers = [sum(b.drivers for b in p.ir.graph.graph["routing"][0].buses) for p in (fast, slow)]
    assert drivers[0] <= drivers[1]


def test_a_bus_s_rows_bind_only_the_sources_on_the_neuron_s_own_chip():
    # 40 signed sources on event output 0 (PADI bus 0) into one neuron of one circuit: 80 rows from bus 0,
    # past its 32 drivers' 64. On the neuron's chip that is E406's overflow; from another chip the spikes
    # come from the host, on any bus, and the 80 rows fit the circuit's 256.
    import numpy as np

    from snnc.compiler.families import load_target
    from snnc.compiler.ir.synapses import SparseWeights
    from snnc.compiler.targets.bss2 import Chip
    from snnc.compiler.targets.bss2_layout import Input, assign_slots

    chip = Chip.from_spec(load_target("bss2").spec, chips=2)
    weights = SparseWeights(40, 1, np.arange(41, dtype=np.int64), np.zeros(40, np.int32), np.ones(40, np.float32))

    def slots(source_chip: int):
        source = Input(exc=1, inh=1, synapses=weights, event_output=np.zeros(40, np.int64),
                       home=np.full(40, source_chip, np.int64))
        return assign_slots(chip, 1, 1, [source], np.zeros(1, np.int64))

    [slot], overflow = slots(1)
    assert overflow is None and slot.tolist() == [0] * 40
    _, overflow = slots(0)
    assert (overflow.bus, overflow.needed) == (0, 80)



@pytest.mark.parametrize("neurons", [513, 1024, 1025, 5 * 512, 5 * 512 + 1])
def test_fewest_chips_is_the_first_count_that_fits(neurons):
    from snnc.compiler.families import load_target
    from snnc.compiler.targets.bss2 import Chip
    from snnc.compiler.targets.bss2_layout import fewest_chips, fits_at_once

    chip = Chip.from_spec(load_target("bss2").spec, chips=1)
    members = [("h", neurons, 1, None)]  # one circuit each: 512 neurons a chip, so not on the one given
    needed = -(-neurons // 512)
    assert fits_at_once(members, chip, needed) and not fits_at_once(members, chip, needed - 1)
    assert fewest_chips(members, chip, 1) == needed
    assert fewest_chips(members, chip, 1, limit=needed) == needed  # at the limit
    assert fewest_chips(members, chip, 1, limit=needed - 1) is None  # one past it
