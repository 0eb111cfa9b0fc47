"""The batch router's kernels by hand (bss2_batch_kernels, bss2_batch.route_batch): what a source's pattern
is, and a chip with more columns than the table of pattern codes."""

from __future__ import annotations

import dataclasses

import numpy as np

from snnc.compiler.families import load_target
from snnc.compiler.targets import bss2_batch
from snnc.compiler.targets.bss2_batch import Pairs, route_batch
from snnc.compiler.targets.bss2_batch_kernels import hosts_of

# Three codes whose float64 sums depend on the order they are added in (their int64 sums do not): a hash
# kept in floats would tell the same multiset of columns apart by the order its synapses come in.
CODES = np.array([234567922200494677, 302426691140665310, 865111567372464495, 11, 13, 17], np.int64)


def test_a_sources_pattern_is_its_multiset_of_columns_and_signs_in_any_order():
    # hemisphere 0: sources 0 and 1 on columns {0, 1, 2} (excitatory), added in other orders; source 2 on
    # columns 0 and 1 excitatory and 2 inhibitory. Hemisphere 1: sources 2 and 0, ranked afresh, each on
    # column 0: one pattern.
    start = np.array([0, 9, 11])
    gid = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 0])
    column = np.array([0, 1, 2, 1, 2, 0, 0, 1, 2, 0, 0])
    exc = np.array([1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1], np.bool_)
    inh = ~exc
    assert float(CODES[1]) + float(CODES[2]) + float(CODES[0]) != float(CODES[0]) + float(CODES[1]) + float(CODES[2])
    host, hosts, patterns = hosts_of(start, gid, column, exc, inh, CODES, 3, 3)
    assert host.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2, 0, 1]
    assert hosts.tolist() == [3, 2]
    assert patterns.tolist() == [2, 1]


def test_a_chip_wider_than_the_code_table_routes_as_the_shipped_one():
    # 200 sources, each onto three of the first 256 columns: more sources and patterns than a label group's
    # 64 labels, so the hemisphere is the batch router's. A chip of 70,000 columns per hemisphere needs
    # 140,000 codes, more than the table's 131,072: drawn for it, they route the same.
    chip = load_target("bss2").substrate
    wide = dataclasses.replace(chip, columns=70_000)
    assert 2 * wide.columns > len(bss2_batch._CODES) >= 2 * chip.columns
    rng = np.random.default_rng(3)
    sources = 200
    gid = np.repeat(np.arange(sources), 3)
    column = np.concatenate([rng.choice(256, 3, replace=False) for _ in range(sources)])
    pairs = Pairs(hemisphere=np.zeros(3 * sources, np.int64), column=column, gid=gid,
                  projection=np.zeros(3 * sources, np.int64), exc=np.array([True]), inh=np.array([False]))
    shipped, drawn = route_batch(pairs, 1, sources, chip), route_batch(pairs, 1, sources, wide)
    assert shipped.routed.tolist() == [True] and shipped.host_gid.tolist() == list(range(sources))
    for field in dataclasses.fields(shipped):
        assert np.array_equal(getattr(shipped, field.name), getattr(drawn, field.name)), field.name
