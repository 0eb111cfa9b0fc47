"""Syntax tree of one network -> the first, unresolved graph IR.

Nodes and edges are made from the declarations, still holding their AST statements as "decl";
`resolve_names_and_units` then replaces them with typed IR records. Lowering reports only what
stops a graph from being built: duplicate names and projections between unknown names."""

from __future__ import annotations

from snnc.compiler.frontend import ast
from snnc.compiler.ir.graph import NetworkIR
from snnc.compiler.ir.nodes import NetworkHeader
from snnc.diagnostics import DiagnosticBag, Note, did_you_mean, error


def lower(network: ast.Network, bag: DiagnosticBag) -> NetworkIR:
    ir = NetworkIR()
    ir.header = NetworkHeader(name=network.name, span=network.span)
    ir.graph.graph["ast"] = network
    first_definition: dict[str, ast.Statement] = {}
    for stmt in network.statements:
        if isinstance(stmt, (ast.InputDecl, ast.PopDecl, ast.NeuronDef, ast.Param)):
            if stmt.name in first_definition:
                earlier = first_definition[stmt.name]
                bag.add(error("E102", f"'{stmt.name}' is defined twice", stmt.name_span,
                              Note("first defined here", earlier.name_span)))
                continue
            first_definition[stmt.name] = stmt
        if isinstance(stmt, (ast.InputDecl, ast.PopDecl)):
            ir.add_node(stmt.name, stmt)
    nodes = [n for n in first_definition if n in ir.graph]
    pair_count: dict[tuple[str, str], int] = {}
    for stmt in network.statements:
        if not isinstance(stmt, ast.ProjDecl):
            continue
        missing = False
        for name, span in ((stmt.source, stmt.source_span), (stmt.target, stmt.target_span)):
            if name in ir.graph:
                continue
            if name in first_definition:
                message = f"'{name}' is not an input or a population"
            else:
                message = f"unknown population '{name}'{did_you_mean(name, nodes)}"
            bag.add(error("E100", message, span))
            missing = True
        if missing:
            continue
        count = pair_count.get((stmt.source, stmt.target), 0) + 1
        pair_count[(stmt.source, stmt.target)] = count
        key = f"{stmt.source}->{stmt.target}" + (f"#{count}" if count > 1 else "")
        ir.add_projection(stmt.source, stmt.target, key, stmt)
    return ir
