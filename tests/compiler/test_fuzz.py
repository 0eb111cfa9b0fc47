"""Mutated programs never crash the compiler: `check` either succeeds or raises SnncError."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import snnc
from snnc.diagnostics import SnncError
from tests.conftest import EXAMPLES

TOKEN = re.compile(r'"[^"\n]*"|[A-Za-z_][A-Za-z0-9_]*|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|->|//|\S|\s+')
SOURCES = [path.read_text() for path in EXAMPLES]
INSERTIONS = ["(", ")", "[", "]", "{", "}", ",", ":", "=", "->", "-", "*", "/", "ms", "Hz", "pop", "proj",
              "network", "train", "delay", "positive", "1e308", "1e999", "-0", "0", "99999999999",
              '"', '"x.npy"', "#", "\n", "LIF", "dense", "x", "∑", "\x00", "\t"]
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def tokens(text: str) -> list[str]:
    return TOKEN.findall(text)


def check_never_crashes(text: str) -> None:
    try:
        snnc.check("fuzz.snn", text=text, target="reference")
    except SnncError as exc:
        assert exc.diagnostics, "SnncError without diagnostics"
        exc.render()


@st.composite
def mutated(draw) -> str:
    parts = tokens(draw(st.sampled_from(SOURCES)))
    for _ in range(draw(st.integers(1, 4))):
        index = draw(st.integers(0, len(parts) - 1))
        action = draw(st.sampled_from(["delete", "insert", "swap", "duplicate", "number"]))
        if action == "delete":
            del parts[index]
        elif action == "insert":
            parts.insert(index, " " + draw(st.sampled_from(INSERTIONS)) + " ")
        elif action == "swap":
            other = draw(st.integers(0, len(parts) - 1))
            parts[index], parts[other] = parts[other], parts[index]
        elif action == "duplicate":
            parts.insert(index, parts[index])
        else:
            parts.insert(index, str(draw(st.one_of(st.integers(-10**30, 10**30),
                                                   st.floats(allow_nan=False)))))
    return "".join(parts)


@FUZZ
@given(mutated())
def test_token_mutations_only_raise_snnc_errors(text):
    check_never_crashes(text)


@FUZZ
@given(st.sampled_from(SOURCES), st.binary(max_size=40), st.integers(0, 4000))
def test_random_bytes_only_raise_snnc_errors(source, noise, position):
    position = min(position, len(source))
    text = source[:position] + noise.decode("utf-8", errors="replace") + source[position:]
    check_never_crashes(text)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 3000), st.sampled_from(["(", "[", "-", "+ 1 ", "* 2 "]))
def test_deep_nesting_and_long_chains_only_raise_snnc_errors(depth, piece):
    if piece in "([":
        closing = ")" if piece == "(" else "]"
        value = piece * depth + "1" + closing * depth
    elif piece == "-":
        value = "-" * depth + "1"
    else:
        value = "1 " + piece * depth
    check_never_crashes(f"network n {{\n  param p = {value}\n  input x[4] : current\n"
                        "  pop y[2] : linear\n  proj x -> y : dense\n  output y : value\n}\n")


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(["pop y[{}] : linear", "input x[{}] : current", "param p = {}",
                        "proj x -> y : sparse(p = {})", "timestep {} ms", "proj x -> y : dense delay {} s"]),
       st.one_of(st.integers(-10**40, 10**40), st.floats(allow_nan=True, allow_infinity=True)))
def test_huge_and_odd_numbers_only_raise_snnc_errors(template, number):
    line = template.format(number)
    check_never_crashes(f"network n {{\n  input x[4] : current\n  pop y[2] : linear\n  {line}\n"
                        "  proj x -> y : dense\n  output y : value\n}\n")
