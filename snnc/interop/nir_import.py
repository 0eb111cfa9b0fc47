"""`snnc import`: a NIR graph becomes a readable .snn program with its weights in .npy files beside it.

Each neuron node becomes a population (nir_neurons says how), each weighted path between two of them
a `from_file` projection of shape (pre, post), Delay nodes its `delay`, Affine biases projections from
an `always_on` population; the graph's Input becomes a `spikes` input, its Output the `output`."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import nir
import numpy as np

from snnc.compiler.ir import catalogue
from snnc.compiler.ir.encoders import Spikes
from snnc.compiler.ir.fields import param_fields
from snnc.compiler.ir.neurons import AlwaysOn
from snnc.diagnostics import Diagnostic, warning
from snnc.interop import snn_text
from snnc.interop.nir_graph import FlatGraph, analyse, fail, plain_metadata, read_graph
from snnc.interop.nir_neurons import Mapped, from_nir, to_nir
from snnc.interop.options import DEFAULT_DT, DEFAULT_STEPS, ImportOptions

META = "snnc."  # metadata keys snnc writes on export and reads back (docs/interop.md)


@dataclass
class Imported:
    """The .snn program of a NIR file, its weight files and the warnings on the way."""

    name: str
    text: str
    arrays: dict[str, np.ndarray]  # file name -> (pre, post) float32
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def write(self, out: str | Path) -> None:
        snn_text.write_files(Path(out), self.text, self.arrays)


def import_nir(path: str | Path, out: str | Path | None = None, options: ImportOptions | None = None) -> Imported:
    """Convert the NIR file `path`; with `out`, write the .snn there (and the .npy files beside it)."""
    out_stem = Path(out).stem if out is not None else Path(path).stem
    if out is not None:
        snn_text.check_program_output(Path(out))  # refused now, not after the conversion
    imported = convert(path, out_stem, options or ImportOptions())
    if out is not None:
        imported.write(out)
    return imported


def _meta(metadata: dict) -> dict:
    """The snnc entries of a node's or graph's metadata, without the prefix."""
    return {k[len(META):]: v for k, v in plain_metadata(metadata or {}).items() if k.startswith(META)}


def _snntorch_convention(flat: FlatGraph, dt: float) -> bool:
    """Whether every spiking node is written the way snnTorch writes its Leaky and Synaptic neurons:
    r = tau / dt (and w_in = tau_syn / dt), v_leak = 0, v_reset = 0."""
    spiking = [flat.nodes[n] for n in flat.neurons if isinstance(flat.nodes[n], (nir.LIF, nir.CubaLIF))]

    def close(a, b) -> bool:
        return bool(np.allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=1e-4, atol=0))

    def written_so(node) -> bool:
        tau = node.tau if isinstance(node, nir.LIF) else node.tau_mem
        synapse = isinstance(node, nir.LIF) or close(node.w_in, np.asarray(node.tau_syn) / dt)
        return (close(node.r, np.asarray(tau) / dt) and synapse and not np.any(node.v_leak)
                and not np.any(node.v_reset) and not _meta(node.metadata))
    return bool(spiking) and all(written_so(node) for node in spiking)


class _Converter:
    def __init__(self, flat: FlatGraph, stem: str, options: ImportOptions):
        self.flat, self.stem, self.options = flat, stem, options
        self.where = f"'{flat.path}'"
        self.meta = _meta(flat.metadata)
        self.dt = float(options.dt or self.meta.get("timestep") or DEFAULT_DT)
        self.steps = int(options.steps or self.meta.get("steps") or DEFAULT_STEPS)
        self.diagnostics: list[Diagnostic] = []
        self.names: dict[str, str] = {}
        taken: set[str] = set()
        for node in [flat.input] + flat.neurons:
            self.names[node] = snn_text.identifier(node, taken)
        self.bias_name = snn_text.identifier("bias", taken)
        self.reset = options.reset
        if self.reset == "auto":
            self.reset = "to_v_reset"
            if _snntorch_convention(flat, self.dt):
                self.reset = "subtract"
                self.diagnostics.append(warning(
                    "W501", f"{self.where} is written the way snnTorch writes Leaky and Synaptic neurons (r = tau / "
                    "dt, v_reset = 0): its spiking neurons are read with snnTorch's default reset, which subtracts "
                    "the threshold (NIR cannot say so); `--reset to_v_reset` reads v_reset = 0 as written "
                    "(snnTorch's reset_mechanism = 'zero')"))

    def mapped(self, name: str) -> Mapped:
        node, n = self.flat.nodes[name], self.flat.sizes[name]
        mapped = from_nir(name, node, n, self.dt, self._reset_of(node), self.where)
        saved = _meta(node.metadata)
        if "model" in saved:  # snnc's own export: its exact values, if they still describe this node
            restored = self._restore(name, node, n, saved)
            if restored is not None:
                return restored
        return mapped

    def _reset_of(self, node) -> str:
        if self.options.reset == "auto" and "reset" in _meta(node.metadata):
            return _meta(node.metadata)["reset"]
        return self.reset

    def _restore(self, name: str, node, n: int, saved: dict) -> Mapped | None:
        cls = catalogue.lookup("neuron", saved["model"])
        try:
            model = cls(**{f.name: saved[f.name] for f in param_fields(cls) if f.name in saved})
            again, factor, _ = to_nir(model, self.dt, n)
        except (TypeError, ValueError, ZeroDivisionError, AttributeError):
            again = None
        if type(again) is not type(node) or not all(
                np.allclose(np.asarray(getattr(again, k), float), np.asarray(getattr(node, k), float), rtol=1e-6)
                for k in vars(again) if k not in ("input_type", "output_type", "metadata")):
            self.diagnostics.append(warning("W502", f"{self.where}: node '{name}' carries snnc metadata that no "
                                            "longer matches its parameters; it is read from the parameters"))
            return None
        return Mapped(model, np.full(n, 1.0 / factor))

    def convert(self) -> Imported:
        flat, names = self.flat, self.names
        models = {n: self.mapped(n) for n in flat.neurons}
        arrays: dict[str, np.ndarray] = {}
        lines = [f"    timestep {snn_text.quantity(self.dt, snn_text.Dim.TIME)}",
                 f"    duration {snn_text.quantity(self.steps * self.dt, snn_text.Dim.TIME)}    # {self.steps} steps"
                 + ("" if self.meta.get("encoder") else ": spike data must have as many"),
                 f"    input {names[flat.input]}[{', '.join(map(str, self._input_shape()))}] : "
                 f"{self.meta.get('encoder') or snn_text.call(Spikes())}    # NIR '{flat.input}'"]
        for n in flat.neurons:
            notes = "; ".join(models[n].notes)
            lines.append(f"    pop {names[n]}[{flat.sizes[n]}] : {snn_text.call(models[n].model)}    "
                         f"# NIR '{n}' ({type(flat.nodes[n]).__name__}){'; ' + notes if notes else ''}")
        if flat.biases:
            lines.append(f"    pop {self.bias_name}[1] : {snn_text.call(AlwaysOn())}    # the Affine biases")
        for c in flat.connections:
            weights = (c.weight * models[c.target].gain[:, None]).T
            lines.append(self._projection(names[c.source], names[c.target], weights, c.via, c.delay, arrays))
        for target, (bias, via) in flat.biases.items():
            weights = (bias * models[target].gain)[None, :]
            lines.append(self._projection(self.bias_name, names[target], weights, via, 0.0, arrays))
        output = flat.output
        readout = self.options.readout or self.meta.get("readout") or (
            "spike_count" if "spikes" in type(models[output].model).observables else "max_membrane")
        lines.append(f"    output {names[output]} : {readout}")
        digest = hashlib.sha256(Path(flat.path).read_bytes()).hexdigest()[:16]
        name = snn_text.identifier(self.meta.get("network") or self.stem, set())
        header = [f"# Imported by `snnc import` from NIR file '{Path(flat.path).name}' (sha256 {digest}...).",
                  f"# NIR read as Euler steps of dt = {self.dt:g} s, spiking resets: {self.reset} (docs/interop.md).",
                  f"network {name} {{"]
        text = "\n".join(header + lines + ["}", ""])
        return Imported(name=name, text=text, arrays=arrays, diagnostics=self.diagnostics)

    def _input_shape(self) -> tuple[int, ...]:
        saved = tuple(int(v) for v in np.asarray(self.meta.get("input_shape", ())).reshape(-1))
        return saved if saved and np.prod(saved) == np.prod(self.flat.input_shape) else self.flat.input_shape

    def _projection(self, source: str, target: str, weights: np.ndarray, via: tuple, delay: float,
                    arrays: dict) -> str:
        file = f"{self.stem}.{source}.{target}" + (f".{len(arrays)}" if f"{self.stem}.{source}.{target}.npy"
                                                    in arrays else "") + ".npy"
        arrays[file] = np.ascontiguousarray(weights, dtype=np.float32)
        delayed = f" delay {snn_text.quantity(delay, snn_text.Dim.TIME)}" if delay else ""
        through = f"    # through {', '.join(via)}" if via else ""
        return f'    proj {source} -> {target} : from_file("{file}"){delayed}{through}'


def convert(path: str | Path, stem: str, options: ImportOptions | None = None) -> Imported:
    """The .snn program of NIR file `path`, its weight files named `stem`.SOURCE.TARGET.npy."""
    options = options or ImportOptions()
    if options.problem():
        raise ValueError(options.problem())
    flat = analyse(read_graph(path), str(path))
    if options.readout is not None and catalogue.lookup("readout", options.readout) is None:
        raise fail("E100", f"unknown readout '{options.readout}'; readouts: {', '.join(catalogue.names('readout'))}")
    return _Converter(flat, stem, options).convert()

