"""Fuzzing the compiled-program surface: programs compiled from the examples for every family (and one with
a training record) are corrupted (program.json fields replaced, deleted, scaled, made NaN; weights.npz
arrays of another dtype or shape, NaN, out of range, missing; files truncated, deleted, replaced) and go
through `snnc.load`, the report and the emulator, and through `snnc report` and `snnc run`; the only
exception that may escape is SnncError, and the command line never exits 3. Counts and settings:
fuzzing.py."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
import tempfile
from functools import cache
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import event, given
from hypothesis import strategies as st

import snnc
from snnc.cli import run as cli
from snnc.compiler.backend.artifact import emit
from snnc.compiler.backend.report import build_report, render_markdown, render_summary
from snnc.diagnostics import SnncError
from snnc.runtime.emulators.base import emulator_for
from snnc.runtime.encoders import encode
from tests.compiler.fuzzing import fuzz, key_paths
from tests.conftest import REPO

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

SOURCES = [("reference", "latency_digits_small.snn"), ("reference", "adex_adaptation.snn"),
           ("bss2", "latency_digits_small.snn"), ("bss2", "rate_coded.snn"), ("onn", "onn_digits.snn"),
           ("trained", "latency_digits_small.snn")]
ODD = [0, -1, 1, 2, 63, 64, 255, 256, 2**15, 2**31, 2**63, 10**30, -10**12, 0.5, -0.5, 1e-300, 1e300, math.nan,
       math.inf, -math.inf, "", "x", "LIF", "signed", "exc", None, True, False, [], {}, [1, 2], {"$array": "x"},
       {"$type": "LIF"}, {"$type": "Nope"}]
JSON_VALUES = st.one_of(st.sampled_from(ODD), st.integers(-10**20, 10**20), st.floats(), st.text(max_size=6))


@cache
def compiled() -> list[tuple[str, dict[str, bytes]]]:
    """(name, files) of each compiled program: program.json and weights.npz as written."""
    programs = []
    for target, source in SOURCES:
        program = snnc.compile(REPO / "dsl_examples" / source, target="bss2" if target == "trained" else target)
        if target == "trained":  # what training's export adds: a training record, weights re-legalized
            emulator = emulator_for(program)
            program = emulator.export(emulator.initial_weights(), training={
                "method": "surrogate", "epochs": 1, "chip_seed": 3, "seed": 0, "data": "digits", "test_accuracy": 0.5})
        files = emit(program)
        programs.append((f"{target}:{source}", {k: files[k] for k in ("program.json", "weights.npz")}))
    return programs


class Corrupted(dict):
    """A program's files (name -> bytes, None: deleted) that shows as what was done to them: a failing
    example prints as its recipe, not as kilobytes of JSON."""

    def __init__(self, files: dict[str, bytes | None], recipe: list[str]):
        super().__init__(files)
        self.recipe = recipe

    def __repr__(self) -> str:
        return f"Corrupted({'; '.join(self.recipe)})"


def arrays_of(data: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        return {key: archive[key] for key in archive.files}


def npz(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def only_snnc_errors(files: dict[str, bytes | None], run_it: bool = True) -> None:
    """Load the program these files make: it loads (and then reports and runs) or raises SnncError."""
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder) / "program"
        directory.mkdir()
        for name, data in files.items():
            if data is not None:
                (directory / name).write_bytes(data)
        try:
            program = snnc.load(directory)
            event("loaded")
            report = build_report(program)
            render_markdown(report), render_summary(report)
            if run_it:
                emulator = emulator_for(program)
                x = torch.rand(2, *program.ir.inputs()[0].shape, generator=torch.Generator().manual_seed(0))
                emulator.observe(encode(program.ir, x, torch.Generator().manual_seed(1)), emulator.initial_weights())
                event("ran")
        except SnncError as exc:
            assert exc.diagnostics, "SnncError without diagnostics"
            exc.render()
            event(f"error {exc.diagnostics[0].code}")


@st.composite
def corrupted_json(draw) -> dict[str, bytes]:
    """A program whose program.json has a few values replaced, deleted, scaled or swapped."""
    name, files = draw(st.sampled_from(compiled()))
    document = copy.deepcopy(json.loads(files["program.json"]))
    recipe = [name]
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(key_paths(document)[1:]))
        parent = document
        for key in path[:-1]:
            parent = parent[key]
        key, value = path[-1], parent[path[-1]]
        action = draw(st.sampled_from(["replace", "replace", "delete", "scale", "negate", "duplicate", "bump"]))
        before = json.dumps(value)[:60]
        if action == "delete":
            del parent[key]
        elif action == "scale" and isinstance(value, (int, float)) and not isinstance(value, bool):
            parent[key] = value * draw(st.sampled_from([10**6, 10**12, 1e300, 0, 0.5, -1, math.nan]))
        elif action in ("negate", "bump") and isinstance(value, (int, float)) and not isinstance(value, bool):
            parent[key] = -value if action == "negate" else value + draw(st.sampled_from([1, -1, 0.5, 1000]))
        elif action == "duplicate" and isinstance(parent, list):
            parent.insert(key, copy.deepcopy(value))
        else:
            parent[key] = copy.deepcopy(draw(JSON_VALUES))  # (a later edit must not change the constant)
        after = json.dumps(parent[key])[:60] if (isinstance(parent, dict) and key in parent) or (
            isinstance(parent, list) and isinstance(key, int) and key < len(parent)) else "(deleted)"
        recipe.append(f"{'.'.join(map(str, path))} {action}: {before} -> {after}")
        if len(key_paths(document)) < 2:
            break
    return Corrupted({"program.json": json.dumps(document).encode(), "weights.npz": files["weights.npz"]}, recipe)


ARRAY_CHANGES = ["float64", "int64", "uint8", "int16", "int32", "bool", "str", "complex", "float16", "transpose",
                 "flatten", "drop_row", "drop_col", "add_dim", "nan", "inf", "huge", "negate", "plus_one", "random",
                 "delete", "empty", "extra"]


@st.composite
def corrupted_arrays(draw) -> dict[str, bytes]:
    """A program whose weights.npz has a few arrays changed in dtype, shape or values, or missing."""
    name, files = draw(st.sampled_from(compiled()))
    arrays = arrays_of(files["weights.npz"])
    recipe = [name]
    for _ in range(draw(st.integers(1, 2))):
        key = draw(st.sampled_from(sorted(arrays)))
        change = draw(st.sampled_from(ARRAY_CHANGES))
        recipe.append(f"{key} {change}")
        a = arrays[key]
        if change == "delete":
            del arrays[key]
        elif change == "extra":
            arrays["extra.array"] = np.zeros(3)
        elif change in ("float64", "int64", "uint8", "int16", "int32", "bool", "complex", "float16") and (
                a.dtype.kind in "biuf"):
            with np.errstate(all="ignore"):
                arrays[key] = a.astype(change)
        elif change == "str":
            arrays[key] = a.astype(str)
        elif change == "transpose":
            arrays[key] = a.T
        elif change == "flatten":
            arrays[key] = a.reshape(-1)
        elif change == "drop_row" and a.ndim and len(a):
            arrays[key] = a[:-1]
        elif change == "drop_col" and a.ndim > 1:
            arrays[key] = a[:, :-1]
        elif change == "add_dim":
            arrays[key] = a[None]
        elif change == "empty":
            arrays[key] = a[:0]
        elif change in ("nan", "inf", "huge") and a.size and a.dtype.kind in "biuf":
            b = a.astype(a.dtype if a.dtype.kind == "f" and a.dtype.itemsize >= 4 else np.float64)
            b.flat[draw(st.integers(0, a.size - 1))] = {"nan": np.nan, "inf": np.inf, "huge": 1e30}[change]
            arrays[key] = b
        elif change in ("negate", "plus_one") and a.dtype.kind in "iuf":
            with np.errstate(all="ignore"):
                arrays[key] = (-a if change == "negate" else a + 1).astype(a.dtype)
        elif change == "random" and a.size and a.dtype.kind in "iu":
            rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
            info = np.iinfo(a.dtype)
            arrays[key] = rng.integers(info.min, info.max, a.shape, dtype=a.dtype, endpoint=True)
    return Corrupted({"program.json": files["program.json"], "weights.npz": npz(arrays)}, recipe)


@fuzz("compiled_program", "json")
@given(corrupted_json())
def test_corrupted_program_json_only_raises_snnc_errors(files):
    only_snnc_errors(files)


@fuzz("compiled_program", "arrays")
@given(corrupted_arrays())
def test_corrupted_weights_only_raise_snnc_errors(files):
    only_snnc_errors(files)


@fuzz("compiled_program", "files")
@given(st.sampled_from(range(len(SOURCES))), st.sampled_from(["program.json", "weights.npz"]),
       st.sampled_from(["truncate", "delete", "bytes", "flip"]), st.integers(0, 10**7), st.binary(max_size=64))
def test_truncated_deleted_or_garbled_files_only_raise_snnc_errors(index, name, action, position, noise):
    files = dict(compiled()[index][1])
    data = files[name]
    position %= len(data)
    if action == "truncate":
        files[name] = data[:position]
    elif action == "delete":
        files[name] = None
    elif action == "bytes":
        files[name] = data[:position] + noise + data[position + len(noise):]
    else:
        files[name] = data[:position] + bytes([data[position] ^ 0xFF]) + data[position + 1:]
    only_snnc_errors(files)


@fuzz("compiled_program", "cli")
@given(st.one_of(corrupted_json(), corrupted_arrays()), st.sampled_from(["report", "run"]))
def test_the_command_line_never_exits_with_an_internal_error_on_a_program(files, command):
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder) / "program"
        directory.mkdir()
        for name, data in files.items():
            (directory / name).write_bytes(data)
        extra = ["--samples", "2", "--data", "digits"] if command == "run" else []
        output = io.StringIO()
        with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
            code = cli(["-q", command, str(directory), *extra])
        assert code in (0, 1), output.getvalue()
