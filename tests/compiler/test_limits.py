"""Values and limits of the language: strings and their escapes, the size and depth of a source, the
range of numbers, time steps and synapse counts. Each limit is tested at its value and one past it."""

from __future__ import annotations

import inspect
import sys

import numpy as np
import pytest

import snnc
from snnc.compiler.frontend import ast
from snnc.compiler.frontend.limits import (
    MAX_NESTING,
    MAX_OPERATORS,
    MAX_SOURCE_BYTES,
    MAX_STRING_LENGTH,
    MAX_TOKEN_LENGTH,
)
from snnc.compiler.frontend.parser import parse
from snnc.diagnostics import SnncError
from tests.conftest import MINIMAL, errors_of, network

LINEAR = "    input x[4] : current\n    pop y[4] : linear\n    proj x -> y : {conn}\n    output y : value"


def linear(conn: str = "dense") -> str:
    return network(LINEAR.format(conn=conn))


def runnable(text: str) -> str:
    """The network on a model the reference target runs (it refuses the optical `linear` at compile time)."""
    return text.replace(": linear", ": integrator").replace(": value", ": max_membrane")


def compile_errors(text: str, target: str = "reference") -> str:
    with pytest.raises(SnncError) as info:
        snnc.compile("net.snn", text=text, target=target)
    return info.value.render()


def first_line(rendered: str) -> str:
    return rendered.splitlines()[0]


# --- strings -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("literal,message", [
    (r'"\x"', "unknown escape '\\x' in a string"),
    (r'"\u12"', "unknown escape '\\u' in a string"),
    (r'"\N{foo}"', "unknown escape '\\N' in a string"),
    (r'"w\"', None),  # the closing quote is escaped: the string never ends (a syntax error)
    (r'"a\'"', "unknown escape '\\'' in a string"),
])
def test_unknown_escapes_are_diagnostics_at_the_backslash(literal, message):
    rendered = errors_of(linear(f"from_file({literal})"))
    if message is None:
        assert first_line(rendered).startswith("net.snn:4:"), rendered
        assert "error[E001]: unexpected" in rendered
        return
    assert rendered == (
        f"net.snn:4:{30 + literal.index(chr(92)) - 1}: error[E005]: {message}; the only escapes are \\\" and \\\\ "
        "(in a path, write a backslash as \\\\ or use '/')\n"
        f"        proj x -> y : from_file({literal})\n"
        + " " * (4 + 29 + literal.index(chr(92)) - 1) + "^^")


def test_a_control_character_in_a_string_is_refused():
    rendered = errors_of(linear('from_file("a\tb.npy")'))
    assert first_line(rendered) == "net.snn:4:31: error[E005]: a string may not hold the control character U+0009"


def string_value(text: str) -> str:
    module = parse(network(f'    proj x -> y : from_file({text})'), "net.snn")
    [proj] = [s for s in module.networks[0].statements if isinstance(s, ast.ProjDecl)]
    return proj.connectivity.args[0].value.value


def test_the_two_escapes_and_non_ascii_characters_are_kept_exactly():
    assert string_value(r'"a\"b\\c"') == 'a"b\\c'
    assert string_value('"wü.npy"') == "wü.npy"
    assert string_value('"日本/ω.npy"') == "日本/ω.npy"


def test_a_non_ascii_weight_file_is_found(tmp_path):
    np.save(tmp_path / "wü.npy", np.full((4, 4), 0.5, dtype=np.float32))
    (tmp_path / "net.snn").write_text(runnable(linear('from_file("wü.npy")')), encoding="utf-8")
    program = snnc.compile(tmp_path / "net.snn")
    assert program.ir.edge_attrs("x->y")["weights"][0, 0] == 0.5


# --- the size and depth of a source --------------------------------------------------------------------
def test_source_size_at_the_limit_and_one_byte_past(tmp_path):
    base = linear() + "# "
    padded = base + "ü" * ((MAX_SOURCE_BYTES - len(base.encode())) // 2)
    padded += "x" * (MAX_SOURCE_BYTES - len(padded.encode()))
    assert len(padded.encode()) == MAX_SOURCE_BYTES
    snnc.check("net.snn", text=padded)
    over = padded + "y"
    line, column = over.count("\n") + 1, len(padded.splitlines()[-1]) + 1
    assert first_line(errors_of(over)) == (
        f"net.snn:{line}:{column}: error[E006]: the source is larger than 1,048,576 bytes (the most snnc reads); "
        "split it into several files")
    path = tmp_path / "big.snn"
    path.write_text(over + "z" * 10_000_000, encoding="utf-8")  # read no further than the limit
    with pytest.raises(SnncError) as info:
        snnc.check(path)
    assert first_line(info.value.render()) == (
        f"{path}:{line}:{column}: error[E006]: the source is larger than 1,048,576 bytes (the most snnc reads); "
        "split it into several files")


def test_brackets_nested_at_the_limit_and_one_past():
    def program(depth: int) -> str:
        return network(f"    param p = {'(' * depth}4{')' * depth}\n    input x[p] : current\n"
                       "    pop y[4] : linear\n    proj x -> y : dense\n    output y : value")

    snnc.check("net.snn", text=program(MAX_NESTING - 1))  # + the network's own braces = 64
    assert first_line(errors_of(program(MAX_NESTING))) == \
        "net.snn:2:78: error[E002]: brackets nested more than 64 deep"


def sum_of_ones(terms: int) -> str:
    return network(f"    param p = {' + '.join(['1'] * terms)}\n    input x[p] : current\n"
                   "    pop y[4] : linear\n    proj x -> y : dense\n    output y : value")


def test_operators_in_one_expression_at_the_limit_and_one_past():
    [result] = snnc.check("net.snn", text=sum_of_ones(MAX_OPERATORS + 1))
    assert result.ir.size("x") == MAX_OPERATORS + 1
    assert errors_of(sum_of_ones(MAX_OPERATORS + 2)).splitlines()[0] == (
        f"net.snn:2:{17 + 4 * MAX_OPERATORS}: error[E002]: expression with more than 256 operators; "
        "split it into `param`s")


def test_operators_inside_brackets_count_for_the_expression_around_them():
    def chain(operators: int) -> str:
        return "(" + " + ".join(["0.001"] * (operators + 1)) + ")"

    # the arguments of a call stand side by side: the longer one counts
    snnc.check("net.snn", text=linear(f"dense(normal({chain(255)} * 0, {chain(128)} + {chain(127)}))"))
    rendered = errors_of(linear(f"dense(normal(0, {chain(128)} + {chain(128)}))"))
    at_128th_plus_of_the_second_chain = 35 + len(chain(128)) + 3 + 8 * 128 - 1
    assert first_line(rendered) == (f"net.snn:4:{at_128th_plus_of_the_second_chain}: error[E002]: expression with more "
                                    "than 256 operators; split it into `param`s")


def test_the_deepest_allowed_expression_needs_no_deep_python_stack():
    depth = MAX_NESTING - 3  # inside `network n {`, `dense(` and `normal(`
    chain = "(" * depth + " + ".join(["0.001"] * (MAX_OPERATORS + 1)) + ")" * depth
    text = linear(f"dense(normal(0, {chain}))")
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack()) + 250)  # far below the expression's 320 levels
    try:
        [result] = snnc.check("net.snn", text=text)
    finally:
        sys.setrecursionlimit(limit)
    assert result.ir.edge_attrs("x->y")["decl"].connectivity.init.sigma == pytest.approx(0.257)


def test_names_and_numbers_at_the_length_limit_and_one_past():
    name = "n" * MAX_TOKEN_LENGTH
    snnc.check("net.snn", text=linear().replace("y", name))
    assert first_line(errors_of(linear().replace("y", name + "n"))) == \
        "net.snn:3:9: error[E006]: name of 129 characters; at most 128 are allowed"
    number = "0." + "0" * (MAX_TOKEN_LENGTH - 3) + "1"
    snnc.check("net.snn", text=linear(f"dense(normal(0, {number}))"))
    assert first_line(errors_of(linear(f"dense(normal(0, {number}1))"))) == \
        "net.snn:4:35: error[E006]: number of 129 characters; at most 128 are allowed"


def test_a_70000_character_name_is_refused_before_anything_is_written(tmp_path):
    with pytest.raises(SnncError) as info:
        snnc.compile("net.snn", text=linear().replace("y", "y" * 70_000), out=tmp_path / "out")
    assert first_line(info.value.render()) == \
        "net.snn:3:9: error[E006]: name of 70,000 characters; at most 128 are allowed"
    assert not (tmp_path / "out").exists()


def test_strings_at_the_length_limit_and_one_past():
    path = "a" * MAX_STRING_LENGTH
    assert errors_of(linear(f'from_file("{path}")')).startswith(f"net.snn:4:5: error[E141]: weight file '{path}' ")
    assert first_line(errors_of(linear(f'from_file("{path}a")'))) == \
        "net.snn:4:29: error[E006]: string of 4,097 characters; at most 4,096 are allowed"


# --- numbers -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value,where,message", [
    ("1e39", 35, "number '1e39' is too large; numbers are limited to ±3.4e38 (float32)"),
    ("1e38 MHz", 35, "number is too large; numbers are limited to ±3.4e38 (float32)"),
    ("3e38 * 2", 35, "number is too large; numbers are limited to ±3.4e38 (float32)"),
    ("-3e38 - 1e38", 35, "number is too large; numbers are limited to ±3.4e38 (float32)"),
    ("1e999", 35, "number '1e999' is too large; numbers are limited to ±3.4e38 (float32)"),
])
def test_numbers_beyond_float32_are_errors_where_they_are_written(value, where, message):
    rendered = errors_of(linear(f"dense(normal(0, {value}))").replace("0, ", "0,"))
    assert first_line(rendered) == f"net.snn:4:{where - 1}: error[E003]: {message}"


def test_the_largest_float32_is_a_valid_value():
    [result] = snnc.check("net.snn", text=linear("dense(normal(0, 3.4028234e38))"))
    assert result.ir.edge_attrs("x->y")["decl"].connectivity.init.sigma == 3.4028234e38


@pytest.mark.parametrize("target", ["reference", "onn"])
def test_weights_that_overflow_float32_are_an_error_on_every_target(target):
    text = linear("dense(normal(0, 3e38))")
    if target == "onn":
        text = text.replace("current", "intensity(photons = 10)")
    else:
        text = runnable(text)
    assert first_line(compile_errors(text, target)) == (
        "net.snn:4:5: error[E151]: initial weights of projection 'x->y' overflow float32 (beyond ±3.4e38); "
        "draw them from a narrower init")


def test_a_weight_file_beyond_float32_is_refused(tmp_path):
    np.save(tmp_path / "w.npy", np.full((4, 4), 1e300))
    (tmp_path / "net.snn").write_text(linear('from_file("w.npy")'))
    with pytest.raises(SnncError) as info:
        snnc.check(tmp_path / "net.snn")
    assert "weight file 'w.npy' holds NaN or infinite weights, or weights beyond ±3.4e38 (float32)" in \
        first_line(info.value.render())


# --- time steps and synapses ---------------------------------------------------------------------------
def test_time_steps_at_the_limit_and_one_past():
    snnc.check("net.snn", text=network("    duration 100 s\n" + LINEAR.format(conn="dense")))
    assert first_line(errors_of(network("    duration 100.001 s\n" + LINEAR.format(conn="dense")))) == (
        "net.snn:2:5: error[E137]: a sample of 100.001 s at a timestep of 1 ms has 100,001 time steps; "
        "at most 100,000 are supported")
    assert first_line(errors_of(network("    duration 1e4 s\n" + LINEAR.format(conn="dense")))) == (
        "net.snn:2:5: error[E137]: a sample of 10000 s at a timestep of 1 ms has 10,000,000 time steps; "
        "at most 100,000 are supported")
    assert first_line(errors_of(network("    timestep 1e-30 s\n    duration 1 s\n" + LINEAR.format(conn="dense")))) \
        == ("net.snn:3:5: error[E137]: a sample of 1 s at a timestep of 1e-21 ns has 1e+30 time steps; "
            "at most 100,000 are supported")


def sized(pre: int, post: int, conn: str) -> str:
    return runnable(network(f"    input x[{pre}] : current\n    pop y[{post}] : linear\n    proj x -> y : {conn}\n"
                            "    output y : value"))


@pytest.mark.parametrize("pre,post,conn,message", [
    # Sparse projections are stored as their synapses (ir/synapses.py): an entry per synapse and per source.
    (2**27 + 1, 2**27 + 1, "one_to_one", "projection 'x->y' has 134,217,729 synapses (one_to_one) from 134,217,729 "
     "source neurons; stored sparse, each synapse and each source neuron takes an entry, and at most 268,435,456 "
     "fit in memory"),
    (2**15, 2**15, "sparse(p = 0.25)", "projection 'x->y' has about 268,435,456 synapses (sparse, p = 0.25) from "
     "32,768 source neurons; stored sparse, each synapse and each source neuron takes an entry, and at most "
     "268,435,456 fit in memory"),
    (2**14, 2**14 + 1, "dense", "projection 'x->y' has 268,451,840 synapses; at most 268,435,456 fit in memory"),
])
def test_synapse_counts_are_those_of_the_connectivity(pre, post, conn, message):
    assert first_line(compile_errors(sized(pre, post, conn))) == f"net.snn:4:5: error[E150]: {message}"


def test_minimal_program_still_compiles():
    snnc.compile("net.snn", text=network(MINIMAL))


def test_negative_zero_is_zero():  # make fuzz found normal(0, -0) raising numpy's "scale < 0"
    program = snnc.compile("net.snn", text=runnable(linear("dense(normal(0, -0))")))
    assert not np.signbit(program.ir.edge_attrs("x->y")["decl"].connectivity.init.sigma)
    assert np.all(program.ir.edge_attrs("x->y")["weights"] == 0)


@pytest.mark.parametrize("pops,suggestion", [(62, " (did you mean 'pop_13'?)"), (63, "")])
def test_suggestions_are_searched_among_at_most_64_names(pops, suggestion):  # x, y and the pops
    body = "".join(f"    pop pop_{i}[1] : linear\n    proj x -> pop_{i} : dense\n" for i in range(pops))
    text = network(f"{body}    input x[4] : current\n    pop y[4] : linear\n    proj x -> y : dense\n"
                   "    proj x -> pop_13x : dense\n    output y : value")
    assert f"error[E100]: unknown population 'pop_13x'{suggestion}\n" in errors_of(text)


def test_excerpts_count_lines_as_the_parser_does():
    comment = "    # a form feed \x0c and a line separator \u2028 in a comment\n"
    text = network(comment + MINIMAL.replace("dense", "dens"))
    assert errors_of(text).splitlines()[:2] == [
        "net.snn:5:19: error[E100]: unknown connectivity 'dens' (did you mean 'dense'?)",
        "        proj x -> y : dens"]
