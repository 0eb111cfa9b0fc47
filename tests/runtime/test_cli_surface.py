"""One consistent command line (issue 13, item 5): the same flags wherever they apply, failures in --json,
error codes on the human line, one rule for default output names, no silent overwrite of a training run,
`snnc run` reproducing a training's final test accuracy, progress a line per epoch off a terminal, a
notice while kernels compile, and the command's wall time."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time

import pytest

import snnc
from snnc.cli import build_parser
from snnc.cli import run as cli
from tests.conftest import REPO

QUICK = ["--epochs", "2", "--train-samples", "64", "--test-samples", "32"]


@pytest.mark.parametrize("command, extra", [("check", []), ("compile", ["-o", "D"]), ("train", ["-o", "D"]),
                                            ("run", [])])
def test_shared_flags_have_one_spelling_wherever_they_apply(command, extra):
    parser = build_parser()
    short = parser.parse_args([command, "f.snn", "-t", "bss2", "-q", "--chips", "2", "--seed", "3", "--json",
                               *extra])
    long = parser.parse_args([command, "f.snn", "--target", "bss2", "--quiet", "--chips", "2", "--seed", "3",
                              "--json", *(["--output", "D"] if extra else [])])
    for args in (short, long):
        assert (args.target, args.quiet, args.chips, args.seed, args.json) == ("bss2", True, 2, 3, True)
        assert getattr(args, "output", "D") == "D"


def test_json_reports_failures_with_code_and_place(tmp_path, capsys):
    bad = tmp_path / "bad.snn"
    bad.write_text("network n {\n    input x[4] : latency(t_max = 10)\n}\n")
    assert cli(["check", str(bad), "--json"]) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out) == {"ok": False, "exit_code": 1, "diagnostics": [
        {"severity": "error", "code": "E130", "message": "network 'n' has no output; add `output POP : READOUT`",
         "file": str(bad), "line": 1, "column": 9, "notes": []},
        {"severity": "error", "code": "E110", "message": "'t_max' of latency is a time and needs a unit, e.g. 5 ms",
         "file": str(bad), "line": 2, "column": 34, "notes": []}]}
    assert f"{bad}:2:34: error[E110]: 't_max' of latency is a time" in captured.err  # the human line too
    assert cli(["compile", str(bad), "--chips", "0", "--json"]) == 2
    assert json.loads(capsys.readouterr().out)["diagnostics"] == [
        {"severity": "error", "code": "usage",
         "message": "snnc compile: --chips must be an integer from 1 to 16,384, got 0",
         "file": None, "line": None, "column": None, "notes": []}]
    assert cli(["compile", str(bad), "--seed", "abc", "--json"]) == 2
    assert json.loads(capsys.readouterr().out)["diagnostics"][0]["message"] == (
        "snnc compile: argument --seed: invalid seed value: 'abc'")


def test_default_output_names_follow_one_rule(small_digits_file, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli(["compile", str(small_digits_file), "-t", "bss2", "-q"]) == 0
    assert (tmp_path / "build" / "small_digits.bss2" / "program.json").is_file()
    assert cli(["train", str(small_digits_file), "-q", "--epochs", "1", "--train-samples", "16",
                "--test-samples", "8"]) == 0  # named after the network too, not the file
    assert (tmp_path / "build" / "small_digits.reference.trained" / "metrics.json").is_file()
    assert cli(["compile", str(small_digits_file), "-q", "-o", "out/{network}-{target}"]) == 0
    assert (tmp_path / "out" / "small_digits-reference" / "program.json").is_file()
    assert cli(["compile", str(small_digits_file), "-q", "-o", "out/{net}"]) == 2
    assert capsys.readouterr().err == ("snnc compile: error: output 'out/{net}': only {network} and {target} are "
                                       "replaced in it (KeyError: 'net')\n")


def test_train_never_writes_over_a_run_silently(small_digits_file, tmp_path, capsys):
    out = tmp_path / "run"
    args = ["train", str(small_digits_file), "-o", str(out), "-q", *QUICK]
    assert cli(args) == 0
    accuracy = json.loads((out / "metrics.json").read_text())["test_accuracy"]
    assert cli(args) == 1
    assert capsys.readouterr().err == (
        f"error[E443]: '{out}' holds a finished run of 2 epochs, test accuracy {100 * accuracy:.2f}%; --resume "
        "continues it (with more --epochs), --force replaces it, or choose another -o DIR\n")
    assert cli([*args, "--resume"]) == 1
    assert capsys.readouterr().err == (
        f"error[E444]: nothing to resume: the run in '{out}' has trained 2 epochs and --epochs asks for 2; give "
        "--epochs 3 or more to train on\n")
    assert cli([*args, "--resume", "--force"]) == 1
    assert "give one of them" in capsys.readouterr().err
    assert cli([*args, "--force", "--lr", "0.02"]) == 0
    assert json.loads((out / "metrics.json").read_text())["config"]["lr"] == 0.02
    (out / "notes.txt").write_text("the user's")  # --force replaces snnc's outputs only
    assert cli([*args, "--force"]) == 1
    assert "holds what snnc did not write (notes.txt)" in capsys.readouterr().err
    (out / "notes.txt").unlink()
    assert cli([*args[:-6], "--epochs", "3", "--train-samples", "64", "--test-samples", "32", "--lr", "0.02",
                "--resume"]) == 0
    assert len(json.loads((out / "metrics.json").read_text())["epochs"]) == 3


def test_run_after_train_reproduces_the_final_test_accuracy_or_says_why_not(small_digits_file, tmp_path, capsys):
    # bss2 has temporal noise: training's evaluation and `snnc run` start the same noise stream from the seed
    out = tmp_path / "trained"
    assert cli(["train", str(small_digits_file), "-t", "bss2", "--chip-seed", "2", "-o", str(out), "-q",
                *QUICK]) == 0
    trained = json.loads((out / "metrics.json").read_text())["test_accuracy"]
    assert cli(["run", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert f"32 samples: accuracy {100 * trained:.2f}%" in lines[0] and "(chip seed 2, seed 0)" in lines[0]
    assert lines[1] == (f"the same as the training's final test accuracy ({100 * trained:.2f}%): same chip, seed, "
                        "data and samples")
    ran = snnc.run(out)
    assert ran.accuracy == trained and ran.differences == []
    again = snnc.run(out, seed=5, samples=20, chip_seed=1)
    assert again.differences == ["chip seed 1 (trained with 2)", "seed 5 (trained with 0)",
                                 "20 test samples (the training evaluated 32)"]
    assert cli(["run", str(out), "-t", "reference", "--split", "train", "--samples", "8"]) == 0
    assert capsys.readouterr().out.splitlines()[1] == (
        f"the training's final test accuracy was {100 * trained:.2f}%; this run differs: deployed onto reference "
        "(trained on bss2); the train split (the training evaluated the test split)")


def test_train_and_run_take_chips(tmp_path, capsys):
    source = tmp_path / "latency_digits.snn"  # without its delay (bss2 has none): needs two chips, E404 says so
    source.write_text((REPO / "dsl_examples" / "latency_digits.snn").read_text().replace(" delay 1 ms", ""))
    source = str(source)
    assert cli(["compile", source, "-t", "bss2"]) == 1
    assert "compile with --chips 2" in capsys.readouterr().err
    assert cli(["run", source, "-t", "bss2", "--chips", "2", "--samples", "4", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["samples"] == 4
    out = tmp_path / "two"
    assert cli(["train", source, "-t", "bss2", "--chips", "2", "-o", str(out), "-q", "--epochs", "1",
                "--train-samples", "8", "--test-samples", "4", "--batch", "8"]) == 0
    assert snnc.load(out).target.chips == 2


def test_progress_is_one_line_per_epoch_off_a_terminal(small_digits_file, tmp_path):
    result = subprocess.run([sys.executable, "-m", "snnc", "train", str(small_digits_file), "-o",
                             str(tmp_path / "p"), *QUICK], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0 and "\r" not in result.stderr
    from snnc.runtime import notices

    # a cold numba cache (or a loaded machine) adds the kernel notice before the first epoch
    lines = [line for line in result.stderr.splitlines() if line != notices.KERNELS]
    pattern = (r"epoch {}/2: loss \d+\.\d{{4}}, train accuracy \d+\.\d\d%, test accuracy \d+\.\d\d%, "
               r"\d+\.\d spikes/sample, \d+\.\d s")
    assert len(lines) == 2  # the summary goes to stdout; no bar, no carriage returns
    assert [re.fullmatch(pattern.format(i), line) is not None for i, line in enumerate(lines, 1)] == [True, True]


def test_a_notice_while_the_kernels_compile(small_digits_file, tmp_path, monkeypatch, capsys):
    from snnc.runtime import notices, training

    calls = []
    with notices.notice_if_slow(calls.append, "slow", after=0.01):
        time.sleep(0.2)
    with notices.notice_if_slow(calls.append, "quick", after=5.0):
        pass
    assert calls == ["slow"]
    monkeypatch.setattr(notices, "AFTER", 0.01)  # as if numba compiled the kernels (cold cache: ~14 s)
    warm_up = training.warm_up
    monkeypatch.setattr(training, "warm_up", lambda *args: time.sleep(0.2) or warm_up(*args))
    assert cli(["train", str(small_digits_file), "-o", str(tmp_path / "n"), "--epochs", "1"]) == 0
    assert capsys.readouterr().err.splitlines()[0] == notices.KERNELS
    assert cli(["train", str(small_digits_file), "-o", str(tmp_path / "m"), "--epochs", "1", "-q"]) == 0
    assert capsys.readouterr().err == ""


def test_printed_time_is_the_commands_wall_time(small_digits_file, tmp_path, capsys):
    start = time.perf_counter()
    assert cli(["train", str(small_digits_file), "-o", str(tmp_path / "w"), *QUICK]) == 0
    elapsed = time.perf_counter() - start
    printed = float(re.search(r", (\d+\.\d) s in all, ", capsys.readouterr().out).group(1))
    steps = json.loads((tmp_path / "w" / "metrics.json").read_text())["train_seconds"]
    assert steps <= printed + 0.05 and printed <= elapsed + 0.05  # the whole command, not its training steps


def test_every_target_compiles_only_models_its_emulator_runs(capsys):
    from snnc.runtime.emulators import core

    runs = {"digital": {m.dsl_name for m in core.MODELS}, "bss2": {m.dsl_name for m in core.MODELS},
            "onn": {"photon_detector", "linear"}}  # OnnEmulator refuses any other (E430)
    for target in snnc.targets():
        supported = target.spec["supports"]["neuron_models"]
        assert supported != "all" and set(supported) <= runs[target.family.name], target.name
    assert cli(["compile", str(REPO / "dsl_examples" / "onn_digits.snn"), "-t", "reference"]) == 1
    assert "error[E160]: target 'reference' does not support neuron model 'photon_detector'" in \
        capsys.readouterr().err
