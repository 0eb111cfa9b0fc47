"""No import circles: every import in snnc's source (at module level or inside a function, where a circle
only hides) is an edge; the modules must form no cycle. An AST walk, so nothing is imported to check."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parents[1] / "snnc"


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path = ROOT) -> nx.DiGraph:
    """module -> modules it imports, for every .py file under `root` (only snnc's own modules)."""
    modules = {module_name(p, root): p for p in root.rglob("*.py")}
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # `from pkg import mod` imports the module pkg.mod when it is one, else a name of pkg
                targets = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module
                           for a in node.names]
            else:
                continue
            graph.add_edges_from((name, t) for t in targets if t in modules and t != name)
    return graph


def import_cycles(graph: nx.DiGraph, prefix: str = "snnc") -> list[list[str]]:
    """The strongly connected sets of more than one module among the modules named `prefix...`."""
    sub = graph.subgraph(n for n in graph if n == prefix or n.startswith(prefix + "."))
    return sorted(sorted(c) for c in nx.strongly_connected_components(sub) if len(c) > 1)


def test_the_compiler_has_no_import_circle():
    assert import_cycles(import_graph(), "snnc.compiler") == []


def test_snnc_has_no_import_circle():  # the runtime, the API and the CLI included
    graph = import_graph()
    assert {"snnc.runtime.training", "snnc.api", "snnc.cli.commands"} <= set(graph)
    assert import_cycles(graph, "snnc") == []


def test_the_runtime_imports_neither_the_api_nor_the_cli_nor_interop():
    graph = import_graph()
    for module in (m for m in graph if m.startswith("snnc.runtime")):
        above = [m for m in graph.successors(module) if m == "snnc.api" or m.startswith(("snnc.cli", "snnc.interop"))]
        assert above == [], module


def test_interop_imports_neither_the_api_nor_the_cli():  # its CLI commands live in snnc/cli/
    graph = import_graph()
    for module in (m for m in graph if m.startswith("snnc.interop")):
        above = [m for m in graph.successors(module) if m == "snnc.api" or m.startswith("snnc.cli")]
        assert above == [], module


def test_the_checker_finds_a_circle(tmp_path):
    package = tmp_path / "snnc"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from snnc.b import f\n")
    (package / "b.py").write_text("def f():\n    from snnc import a\n")
    assert import_cycles(import_graph(package)) == [["snnc.a", "snnc.b"]]
