"""NetworkIR: a thin typed view over a networkx.MultiDiGraph.

Nodes are named by their input/population name and carry {"decl": Input | Population, ...};
edges are keyed by projection name and carry {"decl": Projection, ...}; graph.graph holds
{"header": NetworkHeader, ...}. Passes add further attributes next to "decl": the weights (`weights`: a
dense array or a SparseWeights record, ir/synapses.py), report entries (`report`, `resources`: what
report.json shows) and the typed records of what a family's passes decide (ir/records.py,
bss2_records.py, onn_records.py); nothing about the network is kept anywhere else."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import networkx as nx
import numpy as np

from snnc.compiler.ir import bss2_records, catalogue, onn_records, records, synapses  # noqa: F401 - deserializer
from snnc.compiler.ir.nodes import Input, NetworkHeader, Population, Projection
from snnc.compiler.ir.serialize import from_jsonable, to_jsonable

# 2: what passes add are typed records (ir/*records.py), not free keys; 3: bss2 routing (RoutingTable per
# bus, per-synapse SynapseRows, no DriverPlan); 4: sparse projections hold SparseWeights (no `mask`), their
# per-synapse arrays (hw_weights, synapse rows) are vectors aligned with the synapses
SCHEMA_VERSION = 4


class NetworkIR:
    """The graph IR of one network."""

    def __init__(self, graph: nx.MultiDiGraph | None = None):
        self.graph = graph if graph is not None else nx.MultiDiGraph()

    # --- reading -------------------------------------------------------------------------------
    @property
    def header(self) -> NetworkHeader:
        return self.graph.graph["header"]

    @header.setter
    def header(self, header: NetworkHeader) -> None:
        self.graph.graph["header"] = header

    @property
    def name(self) -> str:
        return getattr(self.header, "name", "")

    def decl(self, name: str) -> Input | Population:
        return self.graph.nodes[name]["decl"]

    def node_attrs(self, name: str) -> dict[str, Any]:
        return self.graph.nodes[name]

    def inputs(self) -> list[Input]:
        return [d for _, d in self.graph.nodes(data="decl") if isinstance(d, Input)]

    def populations(self) -> list[Population]:
        return [d for _, d in self.graph.nodes(data="decl") if isinstance(d, Population)]

    def projections(self) -> list[Projection]:
        return [d for _, _, d in self.graph.edges(data="decl") if isinstance(d, Projection)]

    def edges(self) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
        """(source, target, projection name, attributes) for every projection."""
        return iter(self.graph.edges(keys=True, data=True))

    def edge_attrs(self, projection: str) -> dict[str, Any]:
        for _, _, key, attrs in self.graph.edges(keys=True, data=True):
            if key == projection:
                return attrs
        raise KeyError(projection)

    def edge_attrs_by_name(self) -> dict[str, dict[str, Any]]:
        return {key: attrs for _, _, key, attrs in self.graph.edges(keys=True, data=True)}

    def population_inputs(self, population: str) -> list[tuple[str, str, dict[str, Any]]]:
        """(source, projection, attributes) of the projections into a population, in a fixed order: the
        order its inputs are laid out in (a bss2 neuron's rows)."""
        return [(source, key, attrs) for source, _, key, attrs in self.graph.in_edges(population, keys=True, data=True)]

    def size(self, name: str) -> int:
        return self.decl(name).size

    # --- building ------------------------------------------------------------------------------
    def add_node(self, name: str, decl: Any, **attrs: Any) -> None:
        self.graph.add_node(name, decl=decl, **attrs)

    def add_projection(self, source: str, target: str, key: str, decl: Any, **attrs: Any) -> None:
        self.graph.add_edge(source, target, key=key, decl=decl, **attrs)

    def copy(self) -> NetworkIR:
        """A copy whose attribute dicts may be changed freely (values are shared, never mutated)."""
        return NetworkIR(self.graph.copy())

    # --- invariants ----------------------------------------------------------------------------
    def verify(self) -> list[str]:
        """Internal invariants of a resolved IR; an empty list when all hold."""
        problems = []
        if not isinstance(self.graph.graph.get("header"), NetworkHeader):
            problems.append("graph has no NetworkHeader")
        for name, decl in self.graph.nodes(data="decl"):
            if not isinstance(decl, (Input, Population)):
                problems.append(f"node '{name}' has no Input/Population decl")
            elif decl.name != name:
                problems.append(f"node '{name}' holds the decl of '{decl.name}'")
        for source, target, key, attrs in self.edges():
            decl = attrs.get("decl")
            if not isinstance(decl, Projection):
                problems.append(f"edge '{key}' has no Projection decl")
                continue
            if (decl.name, decl.source, decl.target) != (key, source, target):
                problems.append(f"edge '{key}' ({source}->{target}) holds the decl of '{decl.name}'")
            weights = attrs.get("weights")
            if weights is not None and weights.shape != (self.size(source), self.size(target)):
                problems.append(f"edge '{key}' weights have shape {weights.shape}")
        if isinstance(self.graph.graph.get("header"), NetworkHeader):
            for output in self.header.outputs:
                if not isinstance(self.graph.nodes.get(output.population, {}).get("decl"), Population):
                    problems.append(f"output '{output.population}' is not a population")
        return problems

    # --- serialization -------------------------------------------------------------------------
    def to_dict(self, arrays: dict[str, np.ndarray] | None = None) -> dict[str, Any]:
        """JSON-compatible form. Arrays go into `arrays` when given, else are summarized."""
        graph_attrs = {k: v for k, v in self.graph.graph.items() if k != "header"}
        return {
            "schema_version": SCHEMA_VERSION,
            "header": to_jsonable(self.graph.graph.get("header"), arrays, "header"),
            "attrs": to_jsonable(graph_attrs, arrays, "graph"),
            "nodes": [
                {"name": name, **to_jsonable(attrs, arrays, f"{name}")}
                for name, attrs in self.graph.nodes(data=True)
            ],
            "edges": [
                {"source": s, "target": t, "key": k, **to_jsonable(attrs, arrays, f"{k}")}
                for s, t, k, attrs in self.edges()
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], arrays: dict[str, np.ndarray] | None = None) -> NetworkIR:
        """Inverse of to_dict; raises ValueError on malformed data."""
        if not isinstance(data, dict) or data.get("schema_version") != SCHEMA_VERSION:
            raise ValueError(f"IR schema version {data.get('schema_version') if isinstance(data, dict) else '?'}"
                             f" is not {SCHEMA_VERSION}")
        ir = cls()
        ir.graph.graph.update(from_jsonable(data["attrs"], arrays))
        ir.graph.graph["header"] = from_jsonable(data["header"], arrays)
        for node in data["nodes"]:
            attrs = {k: from_jsonable(v, arrays, k == "decl") for k, v in node.items() if k != "name"}
            ir.graph.add_node(node["name"], **attrs)
        for edge in data["edges"]:
            attrs = {k: from_jsonable(v, arrays, k == "decl") for k, v in edge.items()
                     if k not in ("source", "target", "key")}
            ir.graph.add_edge(edge["source"], edge["target"], key=edge["key"], **attrs)
        return ir

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, NetworkIR):
            return NotImplemented
        mine: dict[str, np.ndarray] = {}
        theirs: dict[str, np.ndarray] = {}
        if self.to_dict(mine) != other.to_dict(theirs) or mine.keys() != theirs.keys():
            return False
        return all(np.array_equal(mine[k], theirs[k]) and mine[k].dtype == theirs[k].dtype for k in mine)

    __hash__ = None  # mutable
