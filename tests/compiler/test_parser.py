"""The grammar: every statement of the language parses into the AST it means."""

from __future__ import annotations

import pytest

from snnc.compiler.frontend import ast
from snnc.compiler.frontend.parser import parse
from tests.conftest import EXAMPLES, errors_of, network


def statements(body: str):
    return parse(network(body), "t.snn").networks[0].statements


def test_every_example_parses():
    assert EXAMPLES, "dsl_examples/ is empty"
    for path in EXAMPLES:
        module = parse(path.read_text(), str(path))
        assert module.networks


def test_timestep_duration_and_units():
    timestep, duration = statements("timestep 0.5 ms\nduration 2 s")
    assert isinstance(timestep, ast.Timestep) and timestep.value.value == 0.5 and timestep.value.unit == "ms"
    assert isinstance(duration, ast.Duration) and duration.value.unit == "s"


@pytest.mark.parametrize("unit", ["ns", "us", "ms", "s", "Hz", "kHz", "MHz"])
def test_every_unit_lexes(unit):
    (param,) = statements(f"param p = 3 {unit}")
    assert param.value.unit == unit


def test_param_with_arithmetic_and_references():
    (param,) = statements("param t = -(2 * tau + 1 ms) / 3")
    assert isinstance(param.value, ast.BinOp) and param.value.op == "/"
    assert isinstance(param.value.left, ast.Neg)


def test_neuron_definition_and_populations():
    neuron, pop = statements("neuron hw = LIF(tau_mem = 6 ms, tau_syn = 6 ms)\npop h[2, 3] : hw")
    assert isinstance(neuron, ast.NeuronDef) and neuron.model.name == "LIF"
    assert [a.name for a in neuron.model.args] == ["tau_mem", "tau_syn"]
    assert isinstance(pop, ast.PopDecl) and len(pop.shape) == 2 and pop.model.args is None


def test_input_with_encoder():
    (inp,) = statements("input pixels[16, 16] : latency(t_max = 20 ms)")
    assert isinstance(inp, ast.InputDecl) and inp.encoder.name == "latency"


def test_projection_forms():
    a, b, c, d = statements(
        "proj x -> y : dense\n"
        "proj x -> y : sparse(p = 0.1, init = normal(0, 0.02)) delay 1 ms\n"
        "proj y -> y : one_to_one(init = constant(1)) negative\n"
        'proj x -> y : from_file("w.npy") positive delay 2 ms')
    assert (a.sign, a.delay, a.connectivity.args) == ("signed", None, None)
    assert b.delay.unit == "ms" and b.connectivity.args[1].value.name == "normal"
    assert c.sign == "negative" and c.source == c.target == "y"
    assert d.sign == "positive" and d.connectivity.args[0].value.value == "w.npy"


def test_output_and_linear_without_parentheses():
    pop, output = statements("pop out[10] : linear\noutput out : value")
    assert pop.model.name == "linear" and output.readout.name == "value"


def test_comments_both_styles():
    (pop,) = statements("# a comment\npop a[1] : linear // another\n# last")
    assert pop.name == "a"


def test_train_block_attaches_to_network_above_and_by_name():
    text = network("pop a[1] : linear", "one") + "train { epochs 3 }\n" + network("pop b[1] : linear", "two")
    text += "train two { batch 8\n optimizer adam(lr = 2e-3)\n data \"my.npz\" }\n"
    one, two = parse(text, "t.snn").networks
    assert one.train.entries[0].key == "epochs"
    assert [e.key for e in two.train.entries] == ["batch", "optimizer", "data"]


def test_several_networks_per_file():
    module = parse(network("pop a[1] : linear", "a") + network("pop a[1] : linear", "b"), "t.snn")
    assert [n.name for n in module.networks] == ["a", "b"]


def test_spans_are_one_based_line_and_column():
    (pop,) = statements("  pop hidden[3] : linear")
    assert (pop.name_span.line, pop.name_span.column) == (2, 7)
    assert pop.name_span.end_column - pop.name_span.column == len("hidden")


SYNTAX_ERRORS = [
    ("network n { pop a[3] : LIF( }",
     "net.snn:1:29: error[E001]: unexpected '}'; expected one of '(', ')', '+', '-', a name, a number, a string\n"
     "    network n { pop a[3] : LIF( }\n"
     "                                ^"),
    ("network n { pop a[3] $ }",
     "net.snn:1:22: error[E001]: unexpected character '$'; expected ':'\n"
     "    network n { pop a[3] $ }\n"
     "                         ^"),
    ("network n {\n  pop a[3] : linear\n",
     "net.snn:2:20: error[E001]: unexpected end of file; expected one of '(', 'duration', 'input', 'neuron', "
     "'output', 'param', 'pop', 'proj', 'timestep', '}'\n"
     "      pop a[3] : linear\n"
     "                       ^"),
    ("network n { pop a[3] : x(v = 1e999) }",
     "net.snn:1:30: error[E003]: number '1e999' is too large; numbers are limited to ±3.4e38 (float32)\n"
     "    network n { pop a[3] : x(v = 1e999) }\n"
     "                                 ^^^^^"),
    ("train { epochs 1 }",
     "net.snn:1:1: error[E101]: train block comes before any network; name the network it belongs to "
     "(`train NAME { ... }`)\n"
     "    train { epochs 1 }\n"
     "    ^^^^^^^^^^^^^^^^^^"),
    ("network a {}\nnetwork a {}",
     "net.snn:2:9: error[E102]: network 'a' is defined twice\n"
     "    network a {}\n"
     "            ^"),
    ("network n {}\ntrain m { }",
     "net.snn:2:1: error[E101]: train block names unknown network 'm'\n"
     "    train m { }\n"
     "    ^^^^^^^^^^^"),
    ("network n {}\ntrain { }\ntrain { }",
     "net.snn:3:1: error[E102]: network 'n' has two train blocks\n"
     "    train { }\n"
     "    ^^^^^^^^^"),
    ("network n { param x = " + "(" * 70 + "1" + ")" * 70 + " }",
     "net.snn:1:86: error[E002]: brackets nested more than 64 deep\n"),
]


@pytest.mark.parametrize("text,expected", SYNTAX_ERRORS)
def test_syntax_errors_render_exactly(text, expected):
    rendered = errors_of(text)
    assert rendered.startswith(expected), rendered


def test_left_deep_expression_is_refused_before_parsing():
    rendered = errors_of(network("param p = " + "1 + " * 20000 + "1"))
    assert rendered.startswith("net.snn:2:1037: error[E002]: expression with more than 256 operators; split it "
                               "into `param`s\n"), rendered
