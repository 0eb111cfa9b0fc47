"""Fuzzing the source surface: whatever the input, the only exception that leaves `snnc.check` /
`snnc.compile` is SnncError (with diagnostics that point into the file), and the command line never exits 3
(internal error). The other surfaces: test_fuzz_targets.py, test_fuzz_programs.py; example counts and
settings: fuzzing.py (the suite runs the same 2,500 of this surface each time, about 15 s; `make fuzz`
10,000 per surface, drawn afresh)."""

from __future__ import annotations

import contextlib
import io
import re
import tempfile
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

import snnc
from snnc.cli import run as cli
from snnc.compiler.backend.artifact import emit
from snnc.compiler.passes import initialize_weights
from snnc.diagnostics import SnncError
from tests.compiler.fuzzing import fuzz
from tests.conftest import EXAMPLES

# An overflow or invalid value in numpy is a result silently wrong: it fails the example.
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")


TOKEN = re.compile(r'"[^"\n]*"|[A-Za-z_][A-Za-z0-9_]*|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|->|//|\S|\s+')
SOURCES = [path.read_text() for path in EXAMPLES]
INSERTIONS = ["(", ")", "[", "]", "{", "}", ",", ":", "=", "->", "-", "+", "*", "/", "ms", "Hz", "s", "pop",
              "proj", "input", "output", "param", "neuron", "network", "train", "delay", "positive",
              "negative", "timestep", "duration", "1e308", "1e999", "3.5e38", "1e-320", "-0", "0", "0.0",
              "99999999999", "65536", '"', '"x.npy"', '"\\x"', '"\\u12"', '"\\N{foo}"', '"wü.npy"', "#", "//",
              "\n", "LIF", "LI", "AdEx", "linear", "photon_detector", "dense", "sparse", "one_to_one",
              "from_file", "normal", "uniform", "constant", "latency", "rate", "current", "spikes",
              "intensity", "max_membrane", "spike_count", "first_spike", "value", "x", "∑", "\x00", "\t",
              "\r", "\u00a0", "\ufeff", "\\"]
TARGETS = ["reference", "bss2", "onn"]
# A small network each target compiles; `{line}` adds one statement, which may declare population `z`
# of model MODEL (fed from x, so it is reachable).
PROGRAMS = {
    "reference": ("current", "linear", "value"),
    "bss2": ("latency(t_max = 10 ms)", "LIF(tau_mem = 5 ms, tau_syn = 5 ms)", "spike_count"),
    "onn": ("intensity(photons = 100)", "linear", "value"),
}


def program(line: str, target: str = "reference") -> str:
    encoder, model, readout = PROGRAMS[target]
    feed = "\n  proj x -> z : dense" if " z[" in line else ""
    return (f"network n {{\n  {line.replace('MODEL', model)}{feed}\n  input x[4] : {encoder}\n"
            f"  pop y[2] : {model}\n  proj x -> y : dense\n  output y : {readout}\n}}\n")

SMALL_SYNAPSE_BUDGET = 1 << 20  # keeps each example's weight matrices small; the limit's code runs as ever


def tokens(text: str) -> list[str]:
    return TOKEN.findall(text)


def only_snnc_errors(text: str, target: str | None = "reference", compile_it: bool = False) -> None:
    """Run the compiler on `text` (and with `compile_it`, render the program's files): it succeeds or
    raises SnncError whose diagnostics point into it."""
    lines = text.count("\n") + 1
    try:
        with mock.patch.object(initialize_weights, "MAX_SYNAPSES", SMALL_SYNAPSE_BUDGET):
            if compile_it:
                for result in snnc.check("fuzz.snn", text=text):
                    emit(snnc.compile("fuzz.snn", text=text, target=target, network=result.ir.name))
            else:
                snnc.check("fuzz.snn", text=text, target=target)
        event("compiled")
    except SnncError as exc:
        assert exc.diagnostics, "SnncError without diagnostics"
        exc.render()
        event(f"error {exc.diagnostics[0].code}")  # (--hypothesis-show-statistics: how deep inputs got)
        for diagnostic in exc.diagnostics:
            span = diagnostic.span
            if span is not None:
                assert span.file == "fuzz.snn" and 1 <= span.line <= lines and span.column >= 1, diagnostic


NUMBERS = st.one_of(st.integers(-10**30, 10**30), st.integers(0, 5000), st.floats(allow_nan=False),
                    st.sampled_from(["0", "1e-45", "3.4e38", "2147483647", "65535", "100000", "1e5"]))


@st.composite
def mutated(draw) -> str:
    """An example program with a few token-level edits, or two examples spliced together."""
    parts = tokens(draw(st.sampled_from(SOURCES)))
    if draw(st.integers(0, 9)) == 0:
        other = tokens(draw(st.sampled_from(SOURCES)))
        parts = parts[:draw(st.integers(0, len(parts)))] + other[draw(st.integers(0, len(other))):] or [""]
    for _ in range(draw(st.integers(1, 5))):
        index = draw(st.integers(0, len(parts) - 1))
        action = draw(st.sampled_from(["delete", "insert", "swap", "duplicate", "number", "replace",
                                       "renumber"]))
        if action == "delete":
            del parts[index]
        elif action == "insert":
            parts.insert(index, " " + draw(st.sampled_from(INSERTIONS)) + " ")
        elif action == "replace":
            parts[index] = draw(st.sampled_from(INSERTIONS))
        elif action == "swap":
            other = draw(st.integers(0, len(parts) - 1))
            parts[index], parts[other] = parts[other], parts[index]
        elif action == "duplicate":
            parts.insert(index, parts[index])
        elif action == "renumber":  # the next number of the program takes another value
            numbers = [i for i, part in enumerate(parts) if part[:1].isdigit()]
            later = [i for i in numbers if i >= index] or numbers or [index]
            parts[later[0]] = str(draw(NUMBERS))
        else:
            parts.insert(index, " " + str(draw(NUMBERS)) + " ")
        if not parts:
            parts = [""]
    return "".join(parts)


@fuzz("source", "mutations")
@given(mutated())
def test_token_mutations_only_raise_snnc_errors(text):
    only_snnc_errors(text)


@fuzz("source", "targets")
@given(mutated(), st.sampled_from(TARGETS))
def test_mutations_compiled_for_every_target_only_raise_snnc_errors(text, target):
    only_snnc_errors(text, target, compile_it=True)


@fuzz("source", "bytes")
@given(st.sampled_from(SOURCES), st.binary(max_size=60), st.integers(0, 4000))
def test_random_bytes_only_raise_snnc_errors(source, noise, position):
    position = min(position, len(source))
    text = source[:position] + noise.decode("utf-8", errors="replace") + source[position:]
    only_snnc_errors(text)


@fuzz("source", "nesting")
@given(st.integers(1, 3000), st.sampled_from(["(", "[", "-", "+ 1 ", "* 2 ", "/ 3 ", "- -1 ", "f("]))
def test_deep_nesting_and_long_chains_only_raise_snnc_errors(depth, piece):
    if piece in ("(", "[", "f("):
        closing = "]" if piece == "[" else ")"
        value = piece * depth + "1" + closing * depth
    elif piece == "-":
        value = "-" * depth + "1"
    else:
        value = "1 " + piece * depth
    only_snnc_errors(program(f"param p = {value}\n  pop z[p] : MODEL"))


NUMBER_LINES = ["pop z[{}] : MODEL", "input w[{}] : current", "param p = {}", "timestep {} ms", "duration {} s",
                "proj x -> y : sparse(p = {})", "proj x -> y : dense delay {} s",
                "proj x -> y : dense(init = normal(0, {}))", "proj x -> y : dense(init = uniform(-{0}, {0}))",
                "proj x -> y : dense(init = constant({}))", "pop z[2] : LIF(tau_mem = {} ms, tau_syn = 1 ms)",
                "pop z[2] : LIF(tau_mem = 5 ms, tau_syn = 5 ms, v_th = {})", "pop z[2, {}] : MODEL",
                "input w[4] : latency(t_max = {} ms)", "input w[4] : rate({} MHz)",
                "pop z[2] : photon_detector(photons_per_mac = {})", "pop z[2] : photon_detector(1, shots = {})",
                "pop z[2] : AdEx({0} ms, 1 ms, 1, 0, 0, 1, {0}, {0}, {0}, {0} ms)",
                "proj x -> y : dense delay {} ms\n  timestep 0.1 ms"]


@fuzz("source", "numbers")
@given(st.sampled_from(NUMBER_LINES),
       st.one_of(st.integers(-10**40, 10**40), st.integers(0, 70000), st.floats(allow_nan=True, allow_infinity=True),
                 st.sampled_from(["1e38", "3.4028235e38", "1e-45", "2147483647", "2147483648", "1e5", "0"])),
       st.sampled_from(TARGETS))
def test_huge_and_odd_numbers_only_raise_snnc_errors(template, number, target):
    only_snnc_errors(program(template.format(number), target), target, compile_it=True)


@fuzz("source", "strings")
@given(st.text(max_size=30), st.sampled_from(['proj x -> y : from_file("{}")', 'train {{ data "{}" }}',
                                              'pop z[2] : linear("{}")']))
def test_strings_and_escapes_only_raise_snnc_errors(body, template):
    text = program(template.format(body))
    if template.startswith("train"):
        text = program("") + template.format(body)
    only_snnc_errors(text)


@fuzz("source", "cli")
@given(mutated(), st.sampled_from(TARGETS), st.sampled_from(["check", "compile"]))
def test_the_command_line_never_exits_with_an_internal_error(text, target, command):
    with tempfile.TemporaryDirectory() as folder, mock.patch.object(
            initialize_weights, "MAX_SYNAPSES", SMALL_SYNAPSE_BUDGET):
        path = Path(folder) / "fuzz.snn"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        extra = ["-o", str(Path(folder) / "out")] if command == "compile" else []
        output = io.StringIO()
        with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
            code = cli(["-q", command, str(path), "--target", target, *extra])
        assert code in (0, 1), output.getvalue()
