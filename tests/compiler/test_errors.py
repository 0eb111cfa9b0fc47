"""Every error class of the frontend, with its exact rendered text (file:line:col, source line, carets)."""

from __future__ import annotations

import pytest

from tests.conftest import MINIMAL, errors_of, network

TRAIN_ERRORS = network(MINIMAL) + "train { epoch 3\n loss crossentropy\n batch 2.5 }\n"
SPLIT = "    input x[4] : latency(t_max = 10)\n    pop y[3] : LIF(tau_mem = 5 ms, tau_syn = 5 ms)\n"

# name: (program body, or None for TRAIN_ERRORS; the exact rendering, one list item per line)
CASES = {
    "unknown_pop": (MINIMAL + "\n    proj hiden -> y : dense", [
        "net.snn:6:10: error[E100]: unknown population 'hiden'",
        '        proj hiden -> y : dense',
        '             ^^^^^',
    ]),
    "time_no_unit": (SPLIT + "    proj x -> y : dense\n    output y : spike_count", [
        "net.snn:2:34: error[E110]: 't_max' of latency is a time and needs a unit, e.g. 5 ms",
        '        input x[4] : latency(t_max = 10)',
        '                                     ^^',
    ]),
    "time_rate": (MINIMAL.replace("tau_syn = 5 ms", "tau_syn = 5 Hz"), [
        "net.snn:3:49: error[E110]: 'tau_syn' of LIF is a time, got a rate",
        '        pop    y[3] : LIF(tau_mem = 5 ms, tau_syn = 5 Hz)',
        '                                                    ^^^^',
    ]),
    "none_time": (MINIMAL.replace("tau_syn = 5 ms", "tau_syn = 5 ms, v_th = 1 ms"), [
        "net.snn:3:62: error[E110]: 'v_th' of LIF is a plain number, got a time",
        '        pop    y[3] : LIF(tau_mem = 5 ms, tau_syn = 5 ms, v_th = 1 ms)',
        '                                                                 ^^^^',
    ]),
    "p_range": (MINIMAL.replace("dense", "sparse(p = 1.5)"), [
        "net.snn:4:30: error[E111]: 'p' of sparse must be <= 1, got 1.5",
        '        proj x -> y : sparse(p = 1.5)',
        '                                 ^^^',
    ]),
    "tau_neg": (MINIMAL.replace("tau_mem = 5 ms", "tau_mem = -5 ms"), [
        "net.snn:3:33: error[E111]: 'tau_mem' of LIF must be > 0, got -5 ms",
        '        pop    y[3] : LIF(tau_mem = -5 ms, tau_syn = 5 ms)',
        '                                    ^^^^^',
    ]),
    "unknown_param": (MINIMAL.replace("tau_mem", "tau_m"), [
        "net.snn:3:23: error[E104]: 'LIF' has no parameter 'tau_m' (did you mean 'tau_mem'?)",
        '        pop    y[3] : LIF(tau_m = 5 ms, tau_syn = 5 ms)',
        '                          ^^^^^^^^^^^^',
    ]),
    "missing_param": (MINIMAL.replace("tau_mem = 5 ms, ", ""), [
        "net.snn:3:19: error[E106]: 'LIF' needs parameter 'tau_mem' (a time, e.g. tau_mem = 5 ms)",
        '        pop    y[3] : LIF(tau_syn = 5 ms)',
        '                      ^^^^^^^^^^^^^^^^^^^',
    ]),
    "dup_param": (MINIMAL.replace("tau_mem = 5 ms, ", "tau_mem = 5 ms, tau_mem = 5 ms, "), [
        "net.snn:3:39: error[E105]: parameter 'tau_mem' of 'LIF' is given twice",
        '        pop    y[3] : LIF(tau_mem = 5 ms, tau_mem = 5 ms, tau_syn = 5 ms)',
        '                                          ^^^^^^^^^^^^^^',
    ]),
    "too_many_pos": (MINIMAL.replace("dense", "dense(normal(0, 1), 3)"), [
        "net.snn:4:39: error[E107]: 'dense' takes at most 1 argument",
        '        proj x -> y : dense(normal(0, 1), 3)',
        '                                          ^',
    ]),
    "unknown_model": (MINIMAL.replace("LIF(", "LFI("), [
        "net.snn:3:19: error[E100]: unknown neuron 'LFI' (did you mean 'LI'?)",
        '        pop    y[3] : LFI(tau_mem = 5 ms, tau_syn = 5 ms)',
        '                      ^^^',
    ]),
    "unknown_encoder": (MINIMAL.replace("latency", "latncy"), [
        "net.snn:2:19: error[E100]: unknown encoder 'latncy' (did you mean 'latency'?)",
        '        input  x[4] : latncy(t_max = 10 ms)',
        '                      ^^^^^^',
    ]),
    "unknown_readout": (MINIMAL.replace("spike_count", "spike_cout"), [
        "net.snn:5:16: error[E100]: unknown readout 'spike_cout' (did you mean 'spike_count'?)",
        '        output y : spike_cout',
        '                   ^^^^^^^^^^',
    ]),
    "unknown_name": ("    param a = b\n" + MINIMAL, [
        "net.snn:2:15: error[E100]: unknown name 'b'",
        '        param a = b',
        '                  ^',
    ]),
    "dup_def": (MINIMAL + "\n    pop y[2] : linear", [
        "net.snn:6:9: error[E102]: 'y' is defined twice",
        '        pop y[2] : linear',
        '            ^',
        'net.snn:3:12: note: first defined here',
        '        pop    y[3] : LIF(tau_mem = 5 ms, tau_syn = 5 ms)',
        '               ^',
    ]),
    "no_output": (MINIMAL.replace("    output y : spike_count", ""), [
        "net.snn:1:9: error[E130]: network 'n' has no output; add `output POP : READOUT`",
        '    network n {',
        '            ^',
    ]),
    "readout_mismatch": (MINIMAL.replace("LIF(tau_mem = 5 ms, tau_syn = 5 ms)", "LI(tau_mem = 5 ms, tau_syn = 5 ms)"), [
        "net.snn:5:5: error[E131]: readout 'spike_count' needs spikes, but 'y' (LI) gives only membrane",
        '        output y : spike_count',
        '        ^^^^^^^^^^^^^^^^^^^^^^',
    ]),
    "output_input": (MINIMAL.replace("output y", "output x"), [
        "net.snn:5:12: error[E120]: 'x' is an input; an output must be a population",
        '        output x : spike_count',
        '               ^',
    ]),
    "into_input": (MINIMAL + "\n    proj y -> x : dense", [
        "net.snn:6:5: error[E132]: cannot project into input 'x'",
        '        proj y -> x : dense',
        '        ^^^^^^^^^^^^^^^^^^^',
    ]),
    "unreachable": (MINIMAL + "\n    pop z[2] : linear", [
        "net.snn:6:5: error[E133]: population 'z' is not reachable from any input",
        '        pop z[2] : linear',
        '        ^^^^^^^^^^^^^^^^^',
    ]),
    "no_input": ("    pop y[3] : linear\n    output y : value", [
        "net.snn:1:1: error[E134]: network 'n' has no input",
        '    network n {',
        '    ^',
    ]),
    "one_to_one": (MINIMAL.replace("dense", "one_to_one"), [
        "net.snn:4:5: error[E140]: one_to_one needs equal sizes, but 'x' has 4 neurons and 'y' has 3",
        '        proj x -> y : one_to_one',
        '        ^^^^^^^^^^^^^^^^^^^^^^^^',
    ]),
    "from_file": (MINIMAL.replace("dense", 'from_file("nope.npy")'), [
        "net.snn:4:5: error[E141]: weight file 'nope.npy' does not exist",
        '        proj x -> y : from_file("nope.npy")',
        '        ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^',
    ]),
    "shape_float": (MINIMAL.replace("y[3]", "y[2.5]"), [
        "net.snn:3:14: error[E111]: size of 'y' must be a whole number, got 2.5",
        '        pop    y[2.5] : LIF(tau_mem = 5 ms, tau_syn = 5 ms)',
        '                 ^^^',
    ]),
    "shape_zero": (MINIMAL.replace("y[3]", "y[0]"), [
        "net.snn:3:14: error[E111]: size of 'y' must be > 0, got 0",
        '        pop    y[0] : LIF(tau_mem = 5 ms, tau_syn = 5 ms)',
        '                 ^',
    ]),
    "latency_after": (MINIMAL.replace("t_max = 10 ms", "t_max = 100 ms"), [
        'net.snn:2:5: error[E135]: latency t_max (100 ms) is after the end of the sample (duration 50 ms)',
        '        input  x[4] : latency(t_max = 100 ms)',
        '        ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^',
    ]),
    "add_dims": ("    param a = 1 ms + 2\n" + MINIMAL, [
        'net.snn:2:15: error[E110]: cannot add a time and a plain number',
        '        param a = 1 ms + 2',
        '                  ^^^^^^^^',
    ]),
    "div_zero": ("    param a = 1 / 0\n" + MINIMAL, [
        'net.snn:2:15: error[E113]: division by zero',
        '        param a = 1 / 0',
        '                  ^^^^^',
    ]),
    "string_number": (MINIMAL.replace("tau_mem = 5 ms", 'tau_mem = "5"'), [
        'net.snn:3:33: error[E112]: expected a number, got a string',
        '        pop    y[3] : LIF(tau_mem = "5", tau_syn = 5 ms)',
        '                                    ^^^',
    ]),
    "init_number": (MINIMAL.replace("dense", "dense(init = 3)"), [
        "net.snn:4:32: error[E112]: expected an init, e.g. 'constant'",
        '        proj x -> y : dense(init = 3)',
        '                                   ^',
    ]),
    "timestep_twice": ("    timestep 1 ms\n    timestep 2 ms\n" + MINIMAL, [
        "net.snn:3:5: error[E102]: 'timestep' is set twice",
        '        timestep 2 ms',
        '        ^^^^^^^^^^^^^',
        'net.snn:2:5: note: first set here',
        '        timestep 1 ms',
        '        ^^^^^^^^^^^^^',
    ]),
    "timestep_gt_duration": ("    timestep 100 ms\n" + MINIMAL, [
        "net.snn:2:5: error[E135]: timestep (100 ms) is longer than the sample's duration (50 ms)",
        '        timestep 100 ms',
        '        ^^^^^^^^^^^^^^^',
    ]),
    "train_unknown": (None, [
        "net.snn:7:9: error[E104]: unknown train setting 'epoch' (did you mean 'epochs'?)",
        '    train { epoch 3',
        '            ^^^^^',
        "net.snn:8:7: error[E100]: 'loss' of train must be one of cross_entropy, mse, got 'crossentropy' "
        "(did you mean 'cross_entropy'?)",
        '     loss crossentropy',
        '          ^^^^^^^^^^^^',
        "net.snn:9:8: error[E111]: 'batch' of train must be a whole number, got 2.5",
        '     batch 2.5 }',
        '           ^^^',
        '3 errors',
    ]),
    "huge_pop": (MINIMAL.replace("y[3]", "y[100000, 100000]"), [
        "net.snn:3:12: error[E142]: 'y' has 10000000000 neurons; at most 2147483647 are supported",
        '        pop    y[100000, 100000] : LIF(tau_mem = 5 ms, tau_syn = 5 ms)',
        '               ^',
    ]),
    "not_pop_proj": ("    param k = 2\n" + MINIMAL + "\n    proj k -> y : dense", [
        "net.snn:2:11: warning[W201]: param 'k' is never used",
        '        param k = 2',
        '              ^',
        "net.snn:7:10: error[E100]: 'k' is not an input or a population",
        '        proj k -> y : dense',
        '             ^',
    ]),
    "uniform_order": (MINIMAL.replace("dense", "dense(init = uniform(1, 0))"), [
        'net.snn:4:5: error[E136]: uniform init needs lo <= hi',
        '        proj x -> y : dense(init = uniform(1, 0))',
        '        ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^',
    ]),
    "li_source": (MINIMAL + "\n    pop m[2] : LI(tau_mem = 5 ms, tau_syn = 5 ms)\n    proj x -> m : dense"
                  "\n    proj m -> y : dense", [
        "net.snn:8:5: error[E139]: projection 'm->y': 'm' (LI) never spikes and gives no value, so the "
        "projection would carry nothing; project from a spiking population (e.g. LIF) instead",
        '        proj m -> y : dense',
        '        ^^^^^^^^^^^^^^^^^^^',
    ]),
    "threshold_at_rest": (MINIMAL.replace("tau_syn = 5 ms", "tau_syn = 5 ms, v_th = 0.5, v_leak = 0.5"), [
        "net.snn:3:5: error[E143]: 'y': v_th (0.5) must be above v_leak (0.5): the neuron would fire at rest, "
        "without input",
        '        pop    y[3] : LIF(tau_mem = 5 ms, tau_syn = 5 ms, v_th = 0.5, v_leak = 0.5)',
        '        ' + '^' * 75,
    ]),
    "delay_neg": (MINIMAL.replace(": dense", ": dense delay -1 ms"), [
        'net.snn:4:31: error[E111]: delay must be >= 0, got -1 ms',
        '        proj x -> y : dense delay -1 ms',
        '                                  ^^^^^',
    ]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_error_renders_exactly(name):
    body, expected = CASES[name]
    text = network(body) if body is not None else TRAIN_ERRORS
    assert errors_of(text) == "\n".join(expected)


def test_did_you_mean_for_a_misspelt_population():
    text = network("    input x[4] : latency(t_max = 10 ms)\n"
                   "    pop hidden[3] : LIF(tau_mem = 5 ms, tau_syn = 5 ms)\n"
                   "    proj x -> hidden : dense\n"
                   "    output hidden : spike_count\n"
                   "    proj hiden -> hidden : dense")
    assert errors_of(text) == (
        "net.snn:6:10: error[E100]: unknown population 'hiden' (did you mean 'hidden'?)\n"
        "        proj hiden -> hidden : dense\n"
        "             ^^^^^")


def test_three_distinct_mistakes_are_reported_together_in_source_order():
    text = (
        "network three {\n"
        "    input  x[4] : latency(t_max = 10)\n"              # a time without a unit
        "    pop    hidden[8] : LIF(tau_mem = 5 ms, tau_syn = 5 ms)\n"
        "    proj x -> hiden : dense\n"                         # an unknown population
        "    proj x -> hidden : sparse(p = 2)\n"                # p out of range
        "    output hidden : spike_count\n"
        "}\n")
    rendered = errors_of(text)
    heads = [line for line in rendered.splitlines() if ": error[" in line]
    assert heads == [
        "net.snn:2:35: error[E110]: 't_max' of latency is a time and needs a unit, e.g. 5 ms",
        "net.snn:4:15: error[E100]: unknown population 'hiden' (did you mean 'hidden'?)",
        "net.snn:5:35: error[E111]: 'p' of sparse must be <= 1, got 2",
    ]
    assert rendered.endswith("3 errors")


def test_errors_in_two_networks_of_one_file_are_reported_together():
    text = network(MINIMAL.replace("5 ms", "5"), "a") + network(MINIMAL.replace("dense", "dens"), "b")
    rendered = errors_of(text)
    assert "'tau_mem' of LIF is a time" in rendered and "unknown connectivity 'dens'" in rendered


def test_many_diagnostics_of_one_code_at_one_place_are_counted_past_five():
    from snnc.diagnostics import FOLD_AFTER, SnncError, Span, error

    here, there = Span("net.snn", 8, 5), Span("net.snn", 9, 5)
    failure = SnncError([error("E407", f"bus {i}", here) for i in range(7)] + [error("E406", "rows", here),
                                                                              error("E407", "other", there)])
    lines = failure.render().splitlines()
    assert FOLD_AFTER == 5
    assert lines == [f"net.snn:8:5: error[E407]: bus {i}" for i in range(5)] + [
        "net.snn:8:5: error[E406]: rows", "net.snn:9:5: error[E407]: other",
        "net.snn:8:5: note: 2 more error[E407] like these here (--json lists every one)", "9 errors"]
    assert len(failure.diagnostics) == 9  # all kept for --json and callers
    unplaced = SnncError([error("E202", f"key {i}") for i in range(7)])  # a file's own problems: all shown
    assert unplaced.render().splitlines() == [f"error[E202]: key {i}" for i in range(7)] + ["7 errors"]
