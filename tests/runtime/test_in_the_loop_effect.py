"""The in-the-loop effect, measured on a small network: trained on the ideal reference and deployed to a
mismatched chip without retraining it loses accuracy; trained in the loop on that chip it does not lose
as much. docs/in_the_loop.md has the numbers for more chips and for the 256-246-10 network."""

from __future__ import annotations

import pytest

import snnc
from tests.conftest import REPO

UNCALIBRATED = str(REPO / "dsl_examples" / "targets" / "bss2_uncalibrated.yaml")


@pytest.mark.slow
def test_training_in_the_loop_recovers_what_mismatch_costs_a_reference_trained_network(tmp_path):
    program = REPO / "dsl_examples" / "latency_digits_small.snn"  # 64-40-10, 5 epochs
    reference = snnc.train(program, out=tmp_path / "reference")
    on_reference = reference.metrics["test_accuracy"]
    deployed = snnc.run(tmp_path / "reference", target=UNCALIBRATED, chip_seed=1).accuracy
    snnc.train(program, target=UNCALIBRATED, chip_seed=1, out=tmp_path / "itl")
    on_chip = snnc.run(tmp_path / "itl").accuracy  # the chip it was trained on, fresh noise
    print(f"reference {on_reference:.3f}, reference deployed to the chip {deployed:.3f}, "
          f"in the loop on the chip {on_chip:.3f}")
    assert on_reference > 0.85
    assert deployed < on_reference - 0.03  # mismatch costs the reference-trained network
    assert on_chip > deployed + 0.03  # training in the loop wins it back
