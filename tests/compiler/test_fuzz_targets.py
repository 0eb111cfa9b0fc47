"""Fuzzing the target-file surface: mutated YAML of every shipped target and of dsl_examples/targets/
(keys deleted and duplicated, values of the wrong type, NaN and infinity, huge and negative numbers,
lines dropped or repeated, random bytes) goes through `load_target`, the compiler and the emulator; the
only exception that may escape is SnncError, and `snnc check --target FILE` never exits 3. Counts and
settings: fuzzing.py."""

from __future__ import annotations

import contextlib
import copy
import io
import math
import tempfile
from pathlib import Path

import pytest
import torch
import yaml
from hypothesis import event, given
from hypothesis import strategies as st

import snnc
from snnc.cli import run as cli
from snnc.compiler.families import load_target
from snnc.compiler.targets import TARGET_DIR
from snnc.diagnostics import SnncError
from snnc.runtime.emulators.base import emulator_for
from snnc.runtime.encoders import encode
from tests.compiler.fuzzing import fuzz, key_paths
from tests.conftest import REPO

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

TARGET_FILES = sorted(TARGET_DIR.glob("*.yaml")) + sorted((REPO / "dsl_examples" / "targets").glob("*.yaml"))
TEXTS = [path.read_text() for path in TARGET_FILES]
DATA = [yaml.safe_load(text) for text in TEXTS]
# A network each family compiles and its emulator runs.
PROGRAMS = {
    "digital": ("current", "LI(tau_mem = 5 ms, tau_syn = 5 ms)", "max_membrane"),
    "bss2": ("latency(t_max = 10 ms)", "LIF(tau_mem = 5 ms, tau_syn = 5 ms)", "spike_count"),
    "onn": ("intensity(photons = 1000)", "linear", "value"),
}

ODD_NUMBERS = [0, -1, 1, 2, 15, 16, 17, 31, 63, 64, 2**31, 2**63, 10**12, 10**15, 10**18, 10**30, -10**12, 0.5,
               -0.5, 1e-300, 1e300, -1e300, math.nan, math.inf, -math.inf, 1e15, 3.4e38]
VALUES = st.one_of(
    st.sampled_from(ODD_NUMBERS), st.integers(-10**20, 10**20), st.floats(),
    st.sampled_from(["", "all", "LIF", "auto", "bss2", "digital", "onn", "1e15", ".nan", "yes", "~"]),
    st.text(max_size=8), st.booleans(), st.none(),
    st.lists(st.sampled_from(ODD_NUMBERS + ["LIF", "latency"]), max_size=4),
    st.dictionaries(st.sampled_from(["a", "chips", "tau_mem", "resources"]), st.sampled_from(ODD_NUMBERS), max_size=2),
)


@st.composite
def mutated_data(draw) -> dict:
    """A target's data with a few values replaced, deleted, scaled or copied elsewhere."""
    data = copy.deepcopy(draw(st.sampled_from(DATA)))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(key_paths(data)[1:]))
        parent = data
        for key in path[:-1]:
            parent = parent[key]
        key, action = path[-1], draw(st.sampled_from(["replace", "replace", "delete", "scale", "negate", "move"]))
        if action == "delete":
            del parent[key]
        elif action == "scale" and isinstance(parent[key], (int, float)) and not isinstance(parent[key], bool):
            parent[key] = parent[key] * draw(st.sampled_from([10**6, 10**12, 1e300, 0, 0.5, -1]))
        elif action == "negate" and isinstance(parent[key], (int, float)):
            parent[key] = -parent[key]
        elif action == "move" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["chips", "noise", "resources", "extra", "weight_bits"]))] = parent.pop(key)
        else:
            parent[key] = draw(VALUES)
        if not key_paths(data)[1:]:
            break
    return data


def only_snnc_errors(text: str, compile_and_run: bool = False) -> None:
    """load_target on `text` succeeds or raises SnncError; a target that loads compiles a small network
    (and with `compile_and_run`, emulates it) or raises SnncError."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            target = load_target(str(path))
            event("loaded")
            encoder, model, readout = PROGRAMS[target.family.name]
            program = (f"network n {{\n  input x[4] : {encoder}\n  pop y[2] : {model}\n  proj x -> y : dense"
                       f"{' positive' if target.family.name == 'onn' else ''}\n  output y : {readout}\n}}\n")
            compiled = snnc.compile("fuzz.snn", text=program, target=target)
            event("compiled")
            if compile_and_run:
                emulator = emulator_for(compiled)
                stimulus = encode(compiled.ir, torch.rand(2, 4, generator=torch.Generator().manual_seed(0)),
                                  torch.Generator().manual_seed(0))
                emulator.observe(stimulus, emulator.initial_weights())
                event("ran")
        except SnncError as exc:
            assert exc.diagnostics, "SnncError without diagnostics"
            exc.render()
            event(f"error {exc.diagnostics[0].code}")


@fuzz("target_file", "values")
@given(mutated_data())
def test_mutated_target_values_only_raise_snnc_errors(data):
    only_snnc_errors(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


@fuzz("target_file", "lines")
@given(st.sampled_from(TEXTS), st.lists(st.tuples(st.sampled_from(["delete", "duplicate", "swap", "value"]),
                                                  st.integers(0, 200), st.sampled_from(ODD_NUMBERS + ["[1, 2]", "x"])),
                                        min_size=1, max_size=3))
def test_lines_dropped_repeated_or_rewritten_only_raise_snnc_errors(text, edits):
    lines = text.splitlines()
    for action, index, value in edits:
        i = index % len(lines)
        if action == "delete":
            del lines[i]
        elif action == "duplicate":  # a repeated line is a duplicate key
            lines.insert(i, lines[i])
        elif action == "swap":
            lines[i], lines[-1 - i] = lines[-1 - i], lines[i]
        elif ":" in lines[i]:
            lines[i] = lines[i].split(":")[0] + f": {value}"
        lines = lines or [""]
    only_snnc_errors("\n".join(lines) + "\n")


@fuzz("target_file", "bytes")
@given(st.sampled_from(TEXTS), st.binary(max_size=40), st.integers(0, 3000))
def test_random_bytes_in_target_files_only_raise_snnc_errors(text, noise, position):
    raw = text.encode()
    position = min(position, len(raw))
    mixed = raw[:position] + noise + raw[position:]
    only_snnc_errors(mixed.decode("utf-8", errors="surrogateescape"))


@fuzz("target_file", "compiled")
@given(mutated_data())
def test_targets_that_load_compile_and_run_or_raise_snnc_errors(data):
    only_snnc_errors(yaml.safe_dump(data, sort_keys=False), compile_and_run=True)


@fuzz("target_file", "cli")
@given(mutated_data(), st.sampled_from(["check", "targets"]))
def test_the_command_line_never_exits_with_an_internal_error_on_a_target_file(data, command):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        program = Path(folder) / "n.snn"
        program.write_text("network n {\n  input x[4] : current\n  pop y[2] : LI(tau_mem = 5 ms, tau_syn = 5 ms)\n"
                           "  proj x -> y : dense\n  output y : max_membrane\n}\n")
        output = io.StringIO()
        with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
            code = cli(["-q", "check", str(program), "--target", str(path)])
        assert code in (0, 1), output.getvalue()
