"""Every error class of the frontend, with its exact rendered text (file:line:col, source line, carets)."""

from __future__ import annotations

import pytest

from tests.conftest import MINIMAL, errors_of, network

TRAIN_ERRORS = network(MINIMAL) + "train { epoch 3\n loss crossentropy\n batch 2.5 }\n"

CASES = {
    "unknown_pop": (
        '    input  x[4] : latency(t_max = 10 ms)\n    pop    y[3] : LIF(tau_mem = 5 ms, tau_syn = 5 ms)\n    proj x -> y : dense\n    output y : spike_count\n    proj hiden -> y : dense',
        "net.snn:6:10: error: unknown population 'hiden'\n"
        '        proj hiden -> y : dense\n'
        '             ^^^^^'
    ),
    "time_no_unit": (
        '    input x[4] : latency(t_max = 10)\n    pop y[3] : LIF(tau_mem = 5 ms, tau_syn = 5 ms)\n    proj x -> y : dense\n    output y : spike_count',
        "net.snn:2:34: error: 't_max' of latency is a time and needs a unit, e.g. 5 ms\n"
        '        input x[4] : latency(t_max = 10)\n'
        '                                     ^^'
    ),
    "time_rate": (
        '    input  x[4] : latency(t_max = 10 ms)\n    pop    y[3] : LIF(tau_mem = 5 ms, tau_syn = 5 Hz)\n    proj x -> y : dense\n    output y : spike_count',
        "net.snn:3:49: error: 'tau_syn' of LIF is a time, got a rate\n"
        '        pop    y[3] : LIF(tau_mem = 5 ms, tau_syn = 5 Hz)\n'
        '                                                    ^^^^'
    ),
    "none_time": (
        '    input  x[4] : latency(t_max = 10 ms)\n    pop    y[3] : LIF(tau_mem = 5 ms, tau_syn = 5 ms, v_th = 1 ms)\n    proj x -> y : dense\n    output y : spike_count',
        "net.snn:3:62: error: 'v_th' of LIF is a plain number, got a time\n"
        '        pop    y[3] : LIF(tau_mem = 5 ms, tau_syn = 5 ms, v_th = 1 ms)\n'
        '                                                                 ^^^^'
    ),
    "p_range": (
        '    input  x[4] : latency(t_max = 10 ms)\n    pop    y[3] : LIF(tau_mem = 5 ms, tau_syn = 5 ms)\n    proj x -> y : sparse(p = 1.5)\n    output y : spike_count',
        "net.snn:4:30: error: 'p' of sparse must be <= 1, got 1.5\n"
        '        proj x -> y : sparse(p = 1.5)\n'
        '                                 ^^^'
    ),
    "tau_neg": (
        '    input  x[4] : latency(t_max = 10 ms)\n    pop    y[3] : LIF(tau_mem = -5 ms, tau_syn = 5 ms)\n    proj x -> y : dense\n    output y : spike_count',
        "net.snn:3:33: error: 'tau_mem' of LIF must be > 0, got -5 ms\n"
        '        pop    y[3] : LIF(tau_mem = -5 ms, tau_syn = 5 ms)\n'
        '                                    ^^^^^'
    ),
    "unknown_param": (
        '    input  x[4] : latency(t_max = 10 ms)\n    pop    y[3] : LIF(tau_m = 5 ms, tau_syn = 5 ms)\n    proj x -> y : dense\n    output y : spike_count',
        "net.snn:3:23: error: 'LIF' has no parameter 'tau_m' (did you mean 'tau_mem'?)\n"
        '        pop    y[3] : LIF(tau_m = 5 ms, tau_syn = 5 ms)\n'
        '                          ^^^^^^^^^^^^'
    ),
    "missing_param": (
        '    input  x[4] : latency(t_max = 10 ms)\n    pop    y[3] : LIF(tau_syn = 5 ms)\n    proj x -> y : dense\n    output y : spike_count',
        "net.snn:3:19: error: 'LIF' needs parameter 'tau_mem' (a time, e.g. tau_mem = 5 ms)\n"
        '        pop    y[3] : LIF(tau_syn = 5 ms)\n'
        '                      ^^^^^^^^^^^^^^^^^^^'
    ),
    "dup_param": (
        '    input  x[4] : latency(t_max = 10 ms)\n    pop    y[3] : LIF(tau_mem = 5 ms, tau_mem = 5 ms, tau_syn = 5 ms)\n    proj x -> y : dense\n    output y : spike_count',
        "net.snn:3:39: error: parameter 'tau_mem' of 'LIF' is given twice\n"
        '        pop    y[3] : LIF(tau_mem = 5 ms, tau_mem = 5 ms, tau_syn = 5 ms)\n'
        '                                          ^^^^^^^^^^^^^^'
    ),
    "too_many_pos": (
        '    input  x[4] : latency(t_max = 10 ms)\n    pop    y[3] : LIF(tau_mem = 5 ms, tau_syn = 5 ms)\n    proj x -> y : dense(normal(0, 1), 3)\n    output y : spike_count',
        "net.snn:4:39: error: 'dense' takes at most 1 argument\n"
        '        proj x -> y : dense(normal(0, 1), 3)\n'
        '                                          ^'
    ),
    "unknown_model": (
        '    input  x[4] : latency(t_max = 10 ms)\n    pop    y[3] : LFI(tau_mem = 5 ms, tau_syn = 5 ms)\n    proj x -> y : dense\n    output y : spike_count',
        "net.snn:3:19: error: unknown neuron 'LFI' (did you mean 'LI'?)\n"
        '        pop    y[3] : LFI(tau_mem = 5 ms, tau_syn = 5 ms)\n'
        '                      ^^^'
    ),
    "unknown_encoder": (
        '    input  x[4] : latncy(t_max = 10 ms)\n    pop    y[3] : LIF(tau_mem = 5 ms, tau_syn = 5 ms)\n    proj x -> y : dense\n    output y : spike_count',
        "net.snn:2:19: error: unknown encoder 'latncy' (did you mean 'latency'?)\n"
        '        input  x[4] : latncy(t_max = 10 ms)\n'
        '                      ^^^^^^'
    ),
    "unknown_readout": (
        '    input  x[4] : latency(t_max = 10 ms)\n    pop    y[3] : LIF(tau_mem = 5 ms, tau_syn = 5 ms)\n    proj x -> y : dense\n    output y : spike_cout',
        "net.snn:5:16: error: unknown readout 'spike_cout' (did you mean 'spike_count'?)\n"
        '        output y : spike_cout\n'
        '                   ^^^^^^^^^^'
    ),
    "unknown_name": (
        '    param a = b\n    input  x[4] : latency(t_max = 10 ms)\n    pop    y[3] : LIF(tau_mem = 5 ms, tau_syn = 5 ms)\n    proj x -> y : dense\n    output y : spike_count',
        "net.snn:2:15: error: unknown name 'b'\n"
        '        param a = b\n'
        '                  ^'
    ),
    "dup_def": (
        '    input  x[4] : latency(t_max = 10 ms)\n    pop    y[3] : LIF(tau_mem = 5 ms, tau_syn = 5 ms)\n    proj x -> y : dense\n    output y : spike_count\n    pop y[2] : linear',
        "net.snn:6:9: error: 'y' is defined twice\n"
        '        pop y[2] : linear\n'
        '            ^\n'
        'net.snn:3:12: note: first defined here\n'
        '        pop    y[3] : LIF(tau_mem = 5 ms, tau_syn = 5 ms)\n'
        '               ^'
    ),
    "no_output": (
        '    input  x[4] : latency(t_max = 10 ms)\n    pop    y[3] : LIF(tau_mem = 5 ms, tau_syn = 5 ms)\n    proj x -> y : dense\n',
        "net.snn:1:9: error: network 'n' has no output; add `output POP : READOUT`\n"
        '    network n {\n'
        '            ^'
    ),
    "readout_mismatch": (
        '    input  x[4] : latency(t_max = 10 ms)\n    pop    y[3] : LI(tau_mem = 5 ms, tau_syn = 5 ms)\n    proj x -> y : dense\n    output y : spike_count',
        "net.snn:5:5: error: readout 'spike_count' needs spikes, but 'y' (LI) gives only membrane\n"
        '        output y : spike_count\n'
        '        ^^^^^^^^^^^^^^^^^^^^^^'
    ),
    "output_input": (
        '    input  x[4] : latency(t_max = 10 ms)\n    pop    y[3] : LIF(tau_mem = 5 ms, tau_syn = 5 ms)\n    proj x -> y : dense\n    output x : spike_count',
        "net.snn:5:12: error: 'x' is an input; an output must be a population\n"
        '        output x : spike_count\n'
        '               ^'
    ),
    "into_input": (
        '    input  x[4] : latency(t_max = 10 ms)\n    pop    y[3] : LIF(tau_mem = 5 ms, tau_syn = 5 ms)\n    proj x -> y : dense\n    output y : spike_count\n    proj y -> x : dense',
        "net.snn:6:5: error: cannot project into input 'x'\n"
        '        proj y -> x : dense\n'
        '        ^^^^^^^^^^^^^^^^^^^'
    ),
    "unreachable": (
        '    input  x[4] : latency(t_max = 10 ms)\n    pop    y[3] : LIF(tau_mem = 5 ms, tau_syn = 5 ms)\n    proj x -> y : dense\n    output y : spike_count\n    pop z[2] : linear',
        "net.snn:6:5: error: population 'z' is not reachable from any input\n"
        '        pop z[2] : linear\n'
        '        ^^^^^^^^^^^^^^^^^'
    ),
    "no_input": (
        '    pop y[3] : linear\n    output y : value',
        "net.snn:1:1: error: network 'n' has no input\n"
        '    network n {\n'
        '    ^'
    ),
    "one_to_one": (
        '    input  x[4] : latency(t_max = 10 ms)\n    pop    y[3] : LIF(tau_mem = 5 ms, tau_syn = 5 ms)\n    proj x -> y : one_to_one\n    output y : spike_count',
        "net.snn:4:5: error: one_to_one needs equal sizes, but 'x' has 4 neurons and 'y' has 3\n"
        '        proj x -> y : one_to_one\n'
        '        ^^^^^^^^^^^^^^^^^^^^^^^^'
    ),
    "from_file": (
        '    input  x[4] : latency(t_max = 10 ms)\n    pop    y[3] : LIF(tau_mem = 5 ms, tau_syn = 5 ms)\n    proj x -> y : from_file("nope.npy")\n    output y : spike_count',
        "net.snn:4:5: error: weight file 'nope.npy' does not exist\n"
        '        proj x -> y : from_file("nope.npy")\n'
        '        ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^'
    ),
    "shape_float": (
        '    input  x[4] : latency(t_max = 10 ms)\n    pop    y[2.5] : LIF(tau_mem = 5 ms, tau_syn = 5 ms)\n    proj x -> y : dense\n    output y : spike_count',
        "net.snn:3:14: error: size of 'y' must be a whole number, got 2.5\n"
        '        pop    y[2.5] : LIF(tau_mem = 5 ms, tau_syn = 5 ms)\n'
        '                 ^^^'
    ),
    "shape_zero": (
        '    input  x[4] : latency(t_max = 10 ms)\n    pop    y[0] : LIF(tau_mem = 5 ms, tau_syn = 5 ms)\n    proj x -> y : dense\n    output y : spike_count',
        "net.snn:3:14: error: size of 'y' must be > 0, got 0\n"
        '        pop    y[0] : LIF(tau_mem = 5 ms, tau_syn = 5 ms)\n'
        '                 ^'
    ),
    "latency_after": (
        '    input  x[4] : latency(t_max = 100 ms)\n    pop    y[3] : LIF(tau_mem = 5 ms, tau_syn = 5 ms)\n    proj x -> y : dense\n    output y : spike_count',
        'net.snn:2:5: error: latency t_max (100 ms) is after the end of the sample (duration 50 ms)\n'
        '        input  x[4] : latency(t_max = 100 ms)\n'
        '        ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^'
    ),
    "add_dims": (
        '    param a = 1 ms + 2\n    input  x[4] : latency(t_max = 10 ms)\n    pop    y[3] : LIF(tau_mem = 5 ms, tau_syn = 5 ms)\n    proj x -> y : dense\n    output y : spike_count',
        'net.snn:2:15: error: cannot add a time and a plain number\n'
        '        param a = 1 ms + 2\n'
        '                  ^^^^^^^^'
    ),
    "div_zero": (
        '    param a = 1 / 0\n    input  x[4] : latency(t_max = 10 ms)\n    pop    y[3] : LIF(tau_mem = 5 ms, tau_syn = 5 ms)\n    proj x -> y : dense\n    output y : spike_count',
        'net.snn:2:15: error: division by zero\n'
        '        param a = 1 / 0\n'
        '                  ^^^^^'
    ),
    "string_number": (
        '    input  x[4] : latency(t_max = 10 ms)\n    pop    y[3] : LIF(tau_mem = "5", tau_syn = 5 ms)\n    proj x -> y : dense\n    output y : spike_count',
        'net.snn:3:33: error: expected a number, got a string\n'
        '        pop    y[3] : LIF(tau_mem = "5", tau_syn = 5 ms)\n'
        '                                    ^^^'
    ),
    "init_number": (
        '    input  x[4] : latency(t_max = 10 ms)\n    pop    y[3] : LIF(tau_mem = 5 ms, tau_syn = 5 ms)\n    proj x -> y : dense(init = 3)\n    output y : spike_count',
        "net.snn:4:32: error: expected an init, e.g. 'constant'\n"
        '        proj x -> y : dense(init = 3)\n'
        '                                   ^'
    ),
    "timestep_twice": (
        '    timestep 1 ms\n    timestep 2 ms\n    input  x[4] : latency(t_max = 10 ms)\n    pop    y[3] : LIF(tau_mem = 5 ms, tau_syn = 5 ms)\n    proj x -> y : dense\n    output y : spike_count',
        "net.snn:3:5: error: 'timestep' is set twice\n"
        '        timestep 2 ms\n'
        '        ^^^^^^^^^^^^^\n'
        'net.snn:2:5: note: first set here\n'
        '        timestep 1 ms\n'
        '        ^^^^^^^^^^^^^'
    ),
    "timestep_gt_duration": (
        '    timestep 100 ms\n    input  x[4] : latency(t_max = 10 ms)\n    pop    y[3] : LIF(tau_mem = 5 ms, tau_syn = 5 ms)\n    proj x -> y : dense\n    output y : spike_count',
        "net.snn:2:5: error: timestep (100 ms) is longer than the sample's duration (50 ms)\n"
        '        timestep 100 ms\n'
        '        ^^^^^^^^^^^^^^^'
    ),
    "train_unknown": (
        None,
        "net.snn:7:9: error: unknown train setting 'epoch' (did you mean 'epochs'?)\n"
        '    train { epoch 3\n'
        '            ^^^^^\n'
        "net.snn:8:7: error: 'loss' of train must be one of cross_entropy, mse, got 'crossentropy' (did you mean 'cross_entropy'?)\n"
        '     loss crossentropy\n'
        '          ^^^^^^^^^^^^\n'
        "net.snn:9:8: error: 'batch' of train must be a whole number, got 2.5\n"
        '     batch 2.5 }\n'
        '           ^^^\n'
        '3 errors'
    ),
    "huge_pop": (
        '    input  x[4] : latency(t_max = 10 ms)\n    pop    y[100000, 100000] : LIF(tau_mem = 5 ms, tau_syn = 5 ms)\n    proj x -> y : dense\n    output y : spike_count',
        "net.snn:3:12: error: 'y' has 10000000000 neurons; at most 2147483647 are supported\n"
        '        pop    y[100000, 100000] : LIF(tau_mem = 5 ms, tau_syn = 5 ms)\n'
        '               ^'
    ),
    "not_pop_proj": (
        '    param k = 2\n    input  x[4] : latency(t_max = 10 ms)\n    pop    y[3] : LIF(tau_mem = 5 ms, tau_syn = 5 ms)\n    proj x -> y : dense\n    output y : spike_count\n    proj k -> y : dense',
        "net.snn:2:11: warning: param 'k' is never used\n"
        '        param k = 2\n'
        '              ^\n'
        "net.snn:7:10: error: 'k' is not an input or a population\n"
        '        proj k -> y : dense\n'
        '             ^'
    ),
    "uniform_order": (
        '    input  x[4] : latency(t_max = 10 ms)\n    pop    y[3] : LIF(tau_mem = 5 ms, tau_syn = 5 ms)\n    proj x -> y : dense(init = uniform(1, 0))\n    output y : spike_count',
        'net.snn:4:5: error: uniform init needs lo <= hi\n'
        '        proj x -> y : dense(init = uniform(1, 0))\n'
        '        ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^'
    ),
    "delay_neg": (
        '    input  x[4] : latency(t_max = 10 ms)\n    pop    y[3] : LIF(tau_mem = 5 ms, tau_syn = 5 ms)\n    proj x -> y : dense delay -1 ms\n    output y : spike_count',
        'net.snn:4:31: error: delay must be >= 0, got -1 ms\n'
        '        proj x -> y : dense delay -1 ms\n'
        '                                  ^^^^^'
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_error_renders_exactly(name):
    body, *expected = CASES[name]
    text = network(body) if body is not None else TRAIN_ERRORS
    assert errors_of(text) == "".join(expected)


def test_did_you_mean_for_a_misspelt_population():
    text = network("    input x[4] : latency(t_max = 10 ms)\n"
                   "    pop hidden[3] : LIF(tau_mem = 5 ms, tau_syn = 5 ms)\n"
                   "    proj x -> hidden : dense\n"
                   "    output hidden : spike_count\n"
                   "    proj hiden -> hidden : dense")
    assert errors_of(text) == (
        "net.snn:6:10: error: unknown population 'hiden' (did you mean 'hidden'?)\n"
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
    heads = [line for line in rendered.splitlines() if ": error: " in line]
    assert heads == [
        "net.snn:2:35: error: 't_max' of latency is a time and needs a unit, e.g. 5 ms",
        "net.snn:4:15: error: unknown population 'hiden' (did you mean 'hidden'?)",
        "net.snn:5:35: error: 'p' of sparse must be <= 1, got 2",
    ]
    assert rendered.endswith("3 errors")


def test_errors_in_two_networks_of_one_file_are_reported_together():
    text = network(MINIMAL.replace("5 ms", "5"), "a") + network(MINIMAL.replace("dense", "dens"), "b")
    rendered = errors_of(text)
    assert "'tau_mem' of LIF is a time" in rendered and "unknown connectivity 'dens'" in rendered
