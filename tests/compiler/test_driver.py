"""driver.compile_program: the one way api, training and inference compile; a checked (frontend) result
continues through a target's passes to the same program as compiling the file."""

from __future__ import annotations

import pytest

from snnc.compiler import driver
from snnc.compiler.backend.artifact import emit
from snnc.diagnostics import SnncError
from tests.conftest import REPO

EXAMPLE = REPO / "dsl_examples" / "latency_digits_ff.snn"


@pytest.mark.parametrize("target", ["reference", "bss2"])
def test_a_checked_result_compiles_to_the_program_of_the_file(target):
    whole = driver.compile_program(EXAMPLE, target=target, seed=3)
    [checked] = driver.run_pipeline(driver.read_source(EXAMPLE), target=None)
    continued = driver.compile_program(checked, target=target, seed=3)
    assert emit(continued) == emit(whole)  # every file of the program directory, byte for byte
    assert continued.source == whole.source and continued.seed == 3


def test_compile_program_reports_bad_arguments_and_input():
    with pytest.raises(ValueError, match="chips must be an integer from 1 to 16,384, got 0"):
        driver.compile_program(EXAMPLE, chips=0)
    with pytest.raises(ValueError, match="seed must be an integer >= 0, got -1"):
        driver.compile_program(EXAMPLE, seed=-1)
    [compiled] = driver.run_pipeline(driver.read_source(EXAMPLE), target="reference")
    with pytest.raises(ValueError, match="continues a frontend result"):
        driver.compile_program(compiled, target="bss2")
    [checked] = driver.run_pipeline(driver.read_source(EXAMPLE), target=None)
    with pytest.raises(SnncError, match="unknown target 'bs2'"):
        driver.compile_program(checked, target="bs2")
