"""Allocator tuning is opt-in: a library call or SNNC_KEEP_MEMORY=1; `snnc train` and `snnc run` ask.
Each case runs in a fresh interpreter, since the tuning is for the whole process."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import snnc

from .conftest import SMALL_DIGITS

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt: Linux only")

OBSERVE = """
import sys, torch
import snnc
from snnc.runtime import memory_tuned
from snnc.runtime.emulators.base import emulator_for
from snnc.runtime.encoders import encode
program = snnc.load(sys.argv[1])
emulator = emulator_for(program)
assert emulator.fast_path()
emulator.observe(encode(program.ir, torch.rand(4, 8, 8)), emulator.initial_weights())
print(memory_tuned())
"""


def tuned_after(code: str, *args: str, keep_memory: str | None = None) -> bool:
    env = {k: v for k, v in os.environ.items() if k != "SNNC_KEEP_MEMORY"}
    if keep_memory is not None:
        env["SNNC_KEEP_MEMORY"] = keep_memory
    result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    return {"True": True, "False": False}[result.stdout.split()[-1]]


@pytest.fixture(scope="module")
def program_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("memory") / "program"
    snnc.compile("small.snn", text=SMALL_DIGITS, out=out)
    return str(out)


def test_the_library_leaves_the_allocator_alone_unless_asked(program_dir):
    assert not tuned_after(OBSERVE, program_dir)
    assert not tuned_after(OBSERVE, program_dir, keep_memory="0")
    assert tuned_after(OBSERVE, program_dir, keep_memory="1")
    asked = OBSERVE.replace("assert emulator.fast_path()", "from snnc.runtime import tune_memory\n"
                            "assert tune_memory() and emulator.fast_path()")
    assert tuned_after(asked, program_dir)


def test_the_run_command_asks(program_dir):
    code = ("import sys\nfrom snnc.cli import run\nfrom snnc.runtime import memory_tuned\n"
            "assert memory_tuned() is False\nassert run(['-q', 'run', sys.argv[1], '--samples', '4']) == 0\n"
            "print(memory_tuned())")
    assert tuned_after(code, program_dir)
