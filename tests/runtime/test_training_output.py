"""The training output directory: refused before training if snnc did not write it; a checkpoint left
half-swapped by a killed run is recovered by the resume."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import snnc
from snnc.diagnostics import SnncError

QUICK = dict(train_samples=64, test_samples=32, epochs=2)


class Stop(Exception):
    pass


def test_training_into_a_users_directory_is_refused_before_the_first_epoch(small_digits_file, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "data.csv").write_text("1,2,3")
    epochs = []
    with pytest.raises(SnncError) as info:
        snnc.train(small_digits_file, out=mine, on_epoch=epochs.append, **QUICK)
    assert info.value.render() == (
        f"error[E300]: output '{mine}' is a directory that snnc did not write (it has no .snnc-output file); snnc "
        "replaces only its own outputs: choose another directory")
    assert epochs == [] and sorted(p.name for p in mine.iterdir()) == ["data.csv"]


def test_a_checkpoint_left_under_its_old_name_is_recovered_by_resume(small_digits_file, tmp_path):
    out = tmp_path / "cut"

    def stop_after_first(row):
        if row["epoch"] == 1:
            raise Stop

    with pytest.raises(Stop):
        snnc.train(small_digits_file, out=out, on_epoch=stop_after_first, **QUICK)
    first = json.loads((out / "checkpoint" / "metrics.json").read_text())["epochs"]
    assert json.loads((out / "checkpoint" / "state.json").read_text())["epoch"] == 1  # the epochs it holds
    # what a run killed between the checkpoint swap's two renames leaves: no checkpoint/, the old one aside
    dead = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True).stdout)
    os.rename(out / "checkpoint", out / f".checkpoint.old-{dead}-0a1b2c3d")
    resumed = snnc.train(small_digits_file, out=out, resume=True, **QUICK)
    assert [r["epoch"] for r in resumed.metrics["epochs"]] == [1, 2]
    assert resumed.metrics["epochs"][0]["loss"] == first[0]["loss"]  # continued from the recovered state
    assert not list(out.glob(".checkpoint.*"))
    assert json.loads((out / "checkpoint" / "state.json").read_text())["epoch"] == 2
