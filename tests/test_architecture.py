"""The shape of the code: the commands that need no runtime start without torch; no source file over 400
lines (test_import_cycles.py: no import circle; make lint checks the layer contracts)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def imported_by_a_command(args: list[str], cwd) -> set[str]:
    code = ("import sys\nfrom snnc.cli import run\ncode = run(sys.argv[1:])\n"
            "print(code, *sorted(m for m in ('torch', 'numba', 'snnc.runtime.training') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=cwd, check=True)
    code, *modules = result.stdout.split("\n")[-2].split()
    assert code == "0", result.stderr
    return set(modules)


def test_commands_without_the_runtime_start_without_torch(tmp_path):
    example = str(REPO / "dsl_examples" / "latency_digits_ff.snn")
    out = str(tmp_path / "program")
    for args in (["--help"], ["check", example], ["-q", "compile", example, "-o", out], ["report", out],
                 ["targets"]):
        assert imported_by_a_command(args, tmp_path) == set(), args
    assert imported_by_a_command(["train", "--help"], tmp_path) == set()  # a handler imports it when it runs


def test_no_source_file_is_over_400_lines(tmp_path):
    check = [sys.executable, str(REPO / "tools" / "check_file_sizes.py")]
    result = subprocess.run(check, capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    (tmp_path / "long.py").write_text("x = 1\n" * 401)
    (tmp_path / "limit.py").write_text("x = 1\n" * 400)
    result = subprocess.run([*check, str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stdout == f"{tmp_path / 'long.py'}: 401 lines (the limit is 400): split it by job\n"
