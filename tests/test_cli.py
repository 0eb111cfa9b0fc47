"""The command line: exit codes, output, and no traceback for bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from snnc import __version__
from snnc.cli import run
from tests.conftest import EXAMPLES, MINIMAL, REPO, network


@pytest.fixture()
def program(tmp_path):
    path = tmp_path / "net.snn"
    path.write_text(network(MINIMAL))
    return path


def test_check_examples_exit_zero(capsys):
    for path in EXAMPLES:
        assert run(["check", str(path)]) == 0
    assert "network 'latency_digits' ok" in capsys.readouterr().out


def test_check_reports_all_errors_and_exits_one(tmp_path, capsys):
    path = tmp_path / "bad.snn"
    path.write_text(network(MINIMAL.replace("10 ms", "10").replace("dense", "sparse(p = 3)")))
    assert run(["check", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:2:35: error[E110]: 't_max' of latency is a time" in err
    assert f"{path}:4:30: error[E111]: 'p' of sparse must be <= 1, got 3" in err
    assert err.rstrip().endswith("2 errors") and "Traceback" not in err


def test_missing_file_and_bad_usage(tmp_path, capsys):
    assert run(["check", str(tmp_path / "nope.snn")]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert run(["compile"]) == 2
    assert run(["frobnicate"]) == 2
    assert run(["compile", str(tmp_path / "x.snn"), "--seed", "abc"]) == 2
    assert "argument --seed: invalid seed value: 'abc'" in capsys.readouterr().err
    for command in (["compile", "x.snn"], ["train", "x.snn"], ["run", "dir"]):
        assert run([*command, "--seed", "-1"]) == 2
        assert "argument --seed: a seed is an integer >= 0, not -1" in capsys.readouterr().err
    assert run(["train", "x.snn", "--chip-seed", "-3"]) == 2
    assert "argument --chip-seed: a seed is an integer >= 0, not -3" in capsys.readouterr().err


def test_not_utf8_is_an_input_error(tmp_path, capsys):
    path = tmp_path / "bin.snn"
    path.write_bytes(b"\xff\xfe\x00network")
    assert run(["check", str(path)]) == 1
    assert "is not UTF-8 text" in capsys.readouterr().err


def test_version_and_help(capsys):
    assert run(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"snnc {__version__}"
    for command in ([], ["check"], ["compile"], ["report"], ["targets"]):
        assert run([*command, "--help"]) == 0
        assert "usage: snnc" in capsys.readouterr().out


def test_compile_writes_program_and_prints_summary(program, tmp_path, capsys):
    out = tmp_path / "out"
    assert run(["compile", str(program), "--target", "reference", "-o", str(out), "--seed", "7"]) == 0
    text = capsys.readouterr().out
    assert "n on reference" in text and f"wrote {out}/" in text
    assert json.loads((out / "program.json").read_text())["seed"] == 7
    assert run(["report", str(out)]) == 0
    assert "neurons" in capsys.readouterr().out
    assert run(["report", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["target"] == "reference"
    assert run(["report", str(out), "--markdown"]) == 0
    assert capsys.readouterr().out.startswith("# Placement report")


def test_compile_default_output_directory(program, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert run(["compile", str(program)]) == 0
    assert (tmp_path / "build" / "n.reference" / "program.json").exists()


def test_unknown_target_is_an_input_error(program, capsys):
    assert run(["compile", str(program), "--target", "bs2"]) == 1
    assert "unknown target 'bs2'" in capsys.readouterr().err


def test_dump_ir_after_prints_json_of_that_pass(program, capsys):
    assert run(["check", str(program), "--dump-ir-after", "canonicalize"]) == 0
    dumped = json.loads(capsys.readouterr().out)
    assert dumped["header"]["name"] == "n" and [n["name"] for n in dumped["nodes"]] == ["x", "y"]
    assert run(["check", str(program), "--dump-ir-after", "canonicalise"]) == 2
    assert "did you mean 'canonicalize'" in capsys.readouterr().err


def test_check_json_output(program, capsys):
    assert run(["check", str(program), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"ok": True, "networks": ["n"], "diagnostics": []}


def test_targets_lists_reference(capsys):
    assert run(["targets"]) == 0
    assert "reference" in capsys.readouterr().out
    assert run(["targets", "--json"]) == 0
    listed = {t["name"]: t["family"] for t in json.loads(capsys.readouterr().out)}
    assert listed == {"bss2": "bss2", "onn": "onn", "reference": "digital"}


def test_console_entry_point_has_no_traceback_for_bad_input(tmp_path):
    path = tmp_path / "bad.snn"
    path.write_text("network n { pop a[3] : LIF( }")
    result = subprocess.run([sys.executable, "-m", "snnc", "check", str(path)], capture_output=True, text=True,
                            cwd=REPO)
    assert result.returncode == 1
    assert "error[E001]: unexpected '}'" in result.stderr and "Traceback" not in result.stderr
