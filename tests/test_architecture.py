"""The shape of the code: no import circles in the runtime, the API and the CLI; the commands that need
no runtime start without torch; no source file over 400 lines (make lint checks the layer contracts)."""

from __future__ import annotations

import subprocess
import sys

import grimp
import networkx as nx

from tests.conftest import REPO

LAYERS_ABOVE_THE_COMPILER = ("snnc.runtime", "snnc.api", "snnc.cli")


def import_graph() -> nx.DiGraph:
    """snnc's modules and who imports whom (imports inside functions too)."""
    found = grimp.build_graph("snnc", include_external_packages=False, cache_dir=None)  # a cache can be stale
    graph = nx.DiGraph()
    for module in found.modules:
        graph.add_node(module)
        graph.add_edges_from((module, imported) for imported in found.find_modules_directly_imported_by(module))
    return graph


def test_no_import_circle_in_the_runtime_the_api_or_the_cli():
    graph = import_graph()
    assert "snnc.runtime.training" in graph and "snnc.cli.commands" in graph  # the graph is snnc's
    circles = [sorted(c) for c in nx.strongly_connected_components(graph)
               if len(c) > 1 and any(m.startswith(LAYERS_ABOVE_THE_COMPILER) for m in c)]
    assert circles == []


def test_the_runtime_imports_neither_the_api_nor_the_cli():
    graph = import_graph()
    runtime = [m for m in graph if m.startswith("snnc.runtime")]
    for module in runtime:
        above = [m for m in graph.successors(module) if m == "snnc.api" or m.startswith("snnc.cli")]
        assert above == [], module


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
