"""A NIR graph as snnc sees it: one input, neuron nodes, and the weighted paths between them.

Nested graphs (snnTorch writes an `RLeaky` as one) are flattened, their inner node names prefixed with
the subgraph's ("lif1.lif"); an edge to a subgraph enters through its Input node, an edge from it leaves
through its Output node. Between two neuron nodes (or from the input) every path through weight nodes
(Linear, Affine, Scale, Delay) and shape nodes (Flatten, inner Input/Output) becomes one connection: the
product of its matrices and the sum of its delays; paths between the same pair with the same delay add
up. The bias of an Affine node reaches each neuron downstream through the matrices after it. NIR sums
everything that arrives at a node, and so does snnc."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import nir
import numpy as np

from snnc.diagnostics import SnncError, error

NEURONS = (nir.LIF, nir.CubaLIF, nir.LI, nir.CubaLI, nir.IF, nir.I)
WEIGHTS = (nir.Linear, nir.Affine, nir.Scale, nir.Delay)
SHAPES = (nir.Flatten, nir.Input, nir.Output)  # inside the graph they pass values through unchanged


def fail(code: str, message: str) -> SnncError:
    return SnncError([error(code, message)])


@dataclass
class Connection:
    """The weighted paths from `source` (a neuron node or the input) to the neuron node `target`."""

    source: str
    target: str
    weight: np.ndarray  # (target size, source size): NIR's (post, pre)
    delay: float  # s
    via: tuple[str, ...]  # the weight nodes on the way


@dataclass
class FlatGraph:
    """What snnc builds a network from."""

    path: str
    nodes: dict[str, nir.NIRNode]
    input: str
    input_shape: tuple[int, ...]
    output: str  # the neuron node the graph's Output reads
    neurons: list[str]  # in the file's order
    sizes: dict[str, int]
    connections: list[Connection] = field(default_factory=list)
    biases: dict[str, tuple[np.ndarray, tuple[str, ...]]] = field(default_factory=dict)  # neuron -> (b, via)
    metadata: dict = field(default_factory=dict)

    def describe(self, name: str) -> str:
        return f"node '{name}' ({type(self.nodes[name]).__name__})"


def read_graph(path: str | Path) -> nir.NIRGraph:
    """The NIR graph in `path`; SnncError (E500) when it is missing or not a NIR file."""
    path = Path(path)
    if not path.is_file():
        raise fail("E500", f"NIR file '{path}' does not exist")
    try:
        graph = nir.read(path, type_check=False)
    except Exception as exc:  # noqa: BLE001 - h5py and nir raise many kinds; all mean "not a NIR file"
        raise fail("E500", f"cannot read '{path}' as a NIR graph: {type(exc).__name__}: {exc}") from None
    if not isinstance(graph, nir.NIRGraph):
        raise fail("E500", f"'{path}' holds a single {type(graph).__name__} node, not a NIR graph")
    return graph


def _flatten(graph: nir.NIRGraph, prefix: str, nodes: dict, edges: list, top: set) -> None:
    ports: dict[str, tuple[list[str], list[str]]] = {}  # subgraph -> (its Input nodes, its Output nodes)
    for name, node in graph.nodes.items():
        full = prefix + name
        if isinstance(node, nir.NIRGraph):
            _flatten(node, full + ".", nodes, edges, top)
            ports[full] = ([f"{full}.{n}" for n, m in node.nodes.items() if isinstance(m, nir.Input)],
                           [f"{full}.{n}" for n, m in node.nodes.items() if isinstance(m, nir.Output)])
        else:
            nodes[full] = node
            if not prefix:
                top.add(full)

    def port(name: str, side: int) -> str:
        full = prefix + name
        if full in ports:
            found = ports[full][side]
            if len(found) != 1:
                kind = ("Input", "Output")[side]
                raise fail("E503", f"subgraph '{full}' has {len(found)} {kind} nodes; an edge to it needs one")
            return found[0]
        if full not in nodes:
            raise fail("E503", f"an edge names node '{full}', which the graph does not have")
        return full

    edges += [(port(a, 1), port(b, 0)) for a, b in graph.edges]


def _shape(node: nir.NIRNode, key: str) -> tuple[int, ...]:
    types = node.input_type if key == "input" else node.output_type
    value = next(iter(types.values()), None) if types else None
    return tuple(int(v) for v in np.asarray(value).reshape(-1)) if value is not None else ()


def _param_size(node: nir.NIRNode) -> int | None:
    for key in ("v_threshold", "tau", "tau_mem", "r"):
        value = getattr(node, key, None)
        if value is not None and np.ndim(value) >= 1:
            return int(np.size(value))
    return None


def analyse(graph: nir.NIRGraph, path: str) -> FlatGraph:
    """The neurons and connections of `graph`, or SnncError naming the node snnc cannot take."""
    nodes: dict[str, nir.NIRNode] = {}
    edges: list[tuple[str, str]] = []
    top: set[str] = set()
    _flatten(graph, "", nodes, edges, top)
    where = f"'{path}'"
    unsupported = [f"node '{n}' ({type(v).__name__})" for n, v in nodes.items()
                   if not isinstance(v, NEURONS + WEIGHTS + SHAPES)]
    if unsupported:
        raise fail("E501", f"{where}: {', '.join(unsupported)} {'has' if len(unsupported) == 1 else 'have'} no "
                   "equivalent in snnc (it maps Input, Output, Affine, Linear, Scale, Delay, Flatten, LIF, CubaLIF, "
                   "LI, CubaLI, IF and Integrator nodes)")
    inputs = [n for n in nodes if n in top and isinstance(nodes[n], nir.Input)]
    outputs = [n for n in nodes if n in top and isinstance(nodes[n], nir.Output)]
    chosen = plain_metadata(getattr(graph, "metadata", {}) or {}).get("snnc.output")
    if chosen in outputs:  # snnc's own export names its output (nir.read may add one per leaf node)
        outputs = [chosen]
    if len(inputs) != 1 or len(outputs) != 1:
        raise fail("E503", f"{where} has {len(inputs)} Input and {len(outputs)} Output nodes "
                   f"({', '.join(inputs + outputs)}); snnc takes graphs with one of each")
    successors: dict[str, list[str]] = {n: [] for n in nodes}
    predecessors: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in edges:
        successors[a].append(b)
        predecessors[b].append(a)
    neurons = [n for n, v in nodes.items() if isinstance(v, NEURONS)]
    sizes = {n: _neuron_size(n, nodes, predecessors, successors) for n in neurons}
    [inp] = inputs
    input_shape = _shape(nodes[inp], "input")
    if not input_shape:
        raise fail("E503", f"{where}: the Input node '{inp}' has no shape")
    sizes[inp] = int(np.prod(input_shape))
    flat = FlatGraph(path=path, nodes=nodes, input=inp, input_shape=input_shape,
                     output=_output_neuron(outputs[0], nodes, predecessors, where), neurons=neurons, sizes=sizes,
                     metadata=plain_metadata(getattr(graph, "metadata", {}) or {}))
    walker = _Walker(flat, successors, top, where)
    for source in [inp] + neurons:
        for target, matrix, delay, via in walker.walk(source, np.eye(sizes[source]), 0.0, (), {source}):
            _add(flat, source, target, matrix, delay, via)
    for name, node in nodes.items():
        if isinstance(node, nir.Affine) and np.any(np.asarray(node.bias) != 0):
            bias = np.asarray(node.bias, dtype=np.float64).reshape(-1, 1)
            for target, vector, _, via in walker.walk(name, bias, 0.0, (name,), {name}):
                old, names = flat.biases.get(target, (0.0, ()))
                flat.biases[target] = (old + vector[:, 0], names + tuple(v for v in via if v not in names))
    return flat


def plain_metadata(metadata: dict) -> dict:
    """Metadata as Python values (h5py gives bytes and numpy scalars)."""
    def plain(value):
        value = value.decode() if isinstance(value, bytes) else value
        return value.item() if isinstance(value, np.generic) else value
    return {str(k): plain(v) for k, v in metadata.items()}


def _add(flat: FlatGraph, source: str, target: str, matrix: np.ndarray, delay: float, via: tuple) -> None:
    for c in flat.connections:
        if (c.source, c.target, c.delay) == (source, target, delay):
            c.weight, c.via = c.weight + matrix, c.via + via
            return
    flat.connections.append(Connection(source, target, matrix, delay, via))


def _neuron_size(name, nodes, predecessors, successors) -> int:
    size = _param_size(nodes[name])
    if size is not None:
        return size
    # scalar parameters: the size comes from a neighbouring weight matrix or the node's declared type
    for other in predecessors[name]:
        if isinstance(nodes[other], (nir.Linear, nir.Affine)):
            return int(np.shape(nodes[other].weight)[0])
    for other in successors[name]:
        if isinstance(nodes[other], (nir.Linear, nir.Affine)):
            return int(np.shape(nodes[other].weight)[1])
    shape = _shape(nodes[name], "input")
    if shape:
        return int(np.prod(shape))
    raise fail("E503", f"cannot tell how many neurons node '{name}' ({type(nodes[name]).__name__}) has: its "
               "parameters are scalars and no weight matrix touches it")


def _output_neuron(output: str, nodes, predecessors, where: str) -> str:
    found, seen, todo = [], set(), list(predecessors[output])
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        if isinstance(nodes[name], NEURONS):
            found.append(name)
        elif isinstance(nodes[name], SHAPES):
            todo += predecessors[name]
        else:
            raise fail("E503", f"{where}: the Output node '{output}' is fed by node '{name}' "
                       f"({type(nodes[name]).__name__}); snnc reads its answer from neurons, so the graph must "
                       "end in a neuron node")
    if len(found) != 1:
        raise fail("E503", f"{where}: the Output node '{output}' reads {len(found)} neuron nodes; snnc needs one")
    return found[0]


class _Walker:
    """Follows the paths from a node through weight and shape nodes to the neurons they reach."""

    def __init__(self, flat: FlatGraph, successors: dict[str, list[str]], top: set[str], where: str):
        self.flat, self.successors, self.top, self.where = flat, successors, top, where

    def walk(self, name: str, matrix: np.ndarray, delay: float, via: tuple, visiting: set):
        for succ in self.successors[name]:
            node = self.flat.nodes[succ]
            if isinstance(node, NEURONS):
                if matrix.shape[0] != self.flat.sizes[succ]:
                    raise self._mismatch(succ, matrix.shape[0], self.flat.sizes[succ])
                yield succ, matrix, delay, via
            elif isinstance(node, nir.Output) and succ in self.top:
                continue  # the graph's answer: read from the neuron feeding it
            elif isinstance(node, nir.Input) and succ in self.top:
                raise fail("E503", f"{self.where}: an edge leads into the graph's Input node '{succ}'")
            else:
                if succ in visiting:
                    raise fail("E503", f"{self.where}: the loop through node '{succ}' passes no neuron (NIR "
                               "recurrence must go through a neuron node)")
                step_matrix, step_delay = self._apply(succ, node, matrix)
                yield from self.walk(succ, step_matrix, delay + step_delay,
                                     via + ((succ,) if isinstance(node, WEIGHTS) else ()), visiting | {succ})

    def _apply(self, name: str, node: nir.NIRNode, matrix: np.ndarray) -> tuple[np.ndarray, float]:
        if isinstance(node, (nir.Linear, nir.Affine)):
            weight = np.asarray(node.weight, dtype=np.float64)
            if weight.ndim != 2 or weight.shape[1] != matrix.shape[0]:
                raise self._mismatch(name, matrix.shape[0], weight.shape[1] if weight.ndim == 2 else weight.shape)
            return weight @ matrix, 0.0
        if isinstance(node, nir.Scale):
            scale = np.asarray(node.scale, dtype=np.float64).reshape(-1, 1)
            if scale.shape[0] not in (1, matrix.shape[0]):
                raise self._mismatch(name, matrix.shape[0], scale.shape[0])
            return scale * matrix, 0.0
        if isinstance(node, nir.Delay):
            delays = np.unique(np.asarray(node.delay, dtype=np.float64))
            if delays.size != 1 or delays[0] < 0:
                raise fail("E502", f"{self.where}: Delay node '{name}' has delays {delays.tolist()}; snnc delays a "
                           "whole projection by one non-negative time")
            return matrix, float(delays[0])
        return matrix, 0.0  # Flatten and the inner Input/Output nodes: row-major, as snnc flattens

    def _mismatch(self, name: str, arriving: int, expected) -> SnncError:
        return fail("E503", f"{self.where}: {self.flat.describe(name)} expects {expected} values but {arriving} "
                    "arrive")
