"""The BrainScaleS-2 substrate (pipeline `bss2`): the simulation core on what the chip holds.

- Weights: the integer hardware weights hw = quantize_weights(w, scale, weight_bits, sign) of the compiled
  program (edge attr `legalization`), applied as hw / scale times (1 + per-synapse mismatch); an excitatory and
  an inhibitory row reach a neuron through different synapses, so each sign has its own mismatch.
- Neurons: per-circuit fixed-pattern mismatch of tau_mem, tau_syn (relative), threshold and leak (in
  units of v_th - v_leak), drawn once per chip seed for every circuit of the chip and looked up through
  the placement (node attr `placement`); merged circuits share one membrane, so a logical neuron has
  the mean of its circuits' deviations.
- Temporal noise on the membrane every step; the membrane is read out by the CADC at `readout_bits`
  over the YAML's `readout_range`, one sample every `cadc_interval` of chip time (model time: divided by
  `time_scale`), mapped onto the simulation grid by linear interpolation between samples and held after
  the last one, as hxtorch's `to_dense` does (`cadc.py`).
- No programmable delays: every projection takes the chip's fixed event latency (`event_latency`, chip
  seconds), divided by `time_scale` and rounded to the time grid (0 steps for timesteps above 0.16 ms).
The figures come from the target's `noise:` and `resources:` sections."""

from __future__ import annotations

from dataclasses import replace
from functools import cached_property

import numpy as np
import torch

from snnc.compiler.targets.bss2 import legalize, quantize_weights
from snnc.diagnostics import SnncError, error
from snnc.runtime import seeds
from snnc.runtime.emulators import cadc, core
from snnc.runtime.emulators.membrane_noise import MembraneNoise
from snnc.runtime.emulators.spiking import SpikingEmulator

Tensor = torch.Tensor

NEURON_MISMATCH_KEYS = ("tau_mem_mismatch", "tau_syn_mismatch", "threshold_mismatch", "leak_mismatch")


class BSS2Emulator(SpikingEmulator):
    """An emulated BrainScaleS-2 chip; `imperfections=False` keeps only the quantization of weights and
    readout (an ideal chip)."""

    def __init__(self, program, *, imperfections: bool = True, **options):
        super().__init__(program, **options)
        spec = program.target.spec
        resources = spec["resources"]
        self.weight_bits = int(resources["weight_bits"])
        self.readout_bits = int(resources["readout_bits"])
        # in units of (v_th - v_leak) around v_leak (1 for models without threshold)
        self.readout_range = tuple(float(x) for x in resources["readout_range"])
        # model seconds between two CADC samples of a neuron
        self.cadc_interval = float(resources["cadc_interval"]) / float(spec["time_scale"])
        self.circuits_per_chip = int(resources["hemispheres"]) * int(resources["columns_per_hemisphere"])
        self.noise = {k: float(v) if imperfections else 0.0 for k, v in spec["noise"].items()}
        missing = [f"node '{p.name}' attr 'placement'" for p in self.ir.populations()
                   if "placement" not in self.ir.node_attrs(p.name)]
        missing += [f"edge '{k}' attr 'legalization'" for k, a in self.ir.edge_attrs_by_name().items()
                    if "legalization" not in a]
        if missing:
            raise SnncError([error("E483", f"program '{self.ir.name}' was not placed for bss2 (missing "
                                   f"{', '.join(missing)}); compile it with --target bss2")])
        self.scales = {k: float(a["legalization"].scale) for k, a in self.ir.edge_attrs_by_name().items()}
        self.signs = {p.name: p.sign for p in self.ir.projections()}
        self.latency = float(resources["event_latency"]) / float(spec["time_scale"])  # model seconds
        self._last_deployed: dict[str, tuple[Tensor, Tensor]] = {}  # projection -> (weights, deployed)

    @cached_property
    def plan(self) -> core.Plan:
        """The network's plan with every projection delayed by the chip's fixed event latency, rounded to
        the time grid (the compiler refuses programmed delays on bss2)."""
        plan = core.build_plan(self.ir)
        steps = int(round(self.latency / plan.dt))
        return replace(plan, edges=tuple(replace(edge, delay_steps=steps) for edge in plan.edges))

    # --- the chip's identity ---------------------------------------------------------------------
    def circuit_deviations(self, chip: int) -> np.ndarray:
        """(circuits per chip, 4) standard normal deviations of tau_mem, tau_syn, threshold, leak."""
        rng = seeds.rng(self.chip_seed, "chip", "neurons", chip)
        return rng.standard_normal((self.circuits_per_chip, len(NEURON_MISMATCH_KEYS)))

    @cached_property
    def actual(self) -> dict[str, core.NeuronParams]:
        circuits = {p.name: np.asarray(self.ir.node_attrs(p.name)["placement"].circuits).reshape(p.size, -1)
                    for p in self.ir.populations()}
        chips = max(int(c.max()) for c in circuits.values()) // self.circuits_per_chip + 1
        table = np.concatenate([self.circuit_deviations(chip) for chip in range(chips)])
        sigma = np.array([self.noise[k] for k in NEURON_MISMATCH_KEYS])
        params = {}
        for name, nominal in self.nominal.items():
            deviation = torch.as_tensor(table[circuits[name]].mean(axis=1) * sigma, dtype=self.dtype)  # (N, 4)
            params[name] = core.with_mismatch(nominal, 1 + deviation[:, 0], 1 + deviation[:, 1], deviation[:, 2],
                                              deviation[:, 3])
        return params

    @cached_property
    def synapse_gain(self) -> dict[str, Tensor]:
        """Per projection (2, *its weights' shape): 1 + mismatch of the excitatory and of the inhibitory synapse
        (2, pre, post) for a dense projection, (2, nnz) for a sparse one, one per existing synapse."""
        gains = {}
        for name in self.weight_names():
            weights = self.ir.edge_attrs(name)["weights"]
            shape = weights.indices.shape if name in self.synapses else weights.shape
            rng = seeds.rng(self.chip_seed, "chip", "synapses", name)
            gains[name] = torch.as_tensor(1 + self.noise["weight_mismatch"] * rng.standard_normal((2, *shape)),
                                          dtype=self.dtype)
        return gains

    def neuron_params(self) -> dict[str, core.NeuronParams]:
        return self.actual

    # --- weights ---------------------------------------------------------------------------------
    def limit(self, name: str) -> float:
        """The largest weight magnitude the projection's synapses hold, in model units."""
        return ((1 << self.weight_bits) - 1) / self.scales[name]

    def clip_(self, name: str, w: Tensor) -> None:
        w.clamp_(-self.limit(name), self.limit(name))

    def hw_weights(self, name: str, w: Tensor | np.ndarray) -> np.ndarray:
        """The integer weights the synapses hold (int16, sign = the row's mode)."""
        w = w.detach().cpu().numpy() if isinstance(w, Tensor) else np.asarray(w)
        return quantize_weights(w, self.scales[name], self.weight_bits, self.signs[name])

    def quantized(self, name: str, w: Tensor) -> Tensor:
        """hw / scale, rounded once to w's dtype (torch's float32 division of a vector may round differently)."""
        return torch.as_tensor(self.hw_weights(name, w) / self.scales[name], dtype=w.dtype)

    def deploy(self, weights: dict[str, Tensor]) -> dict[str, Tensor]:
        """Quantized and scaled by the synapses' gains. Weights equal to the last ones deployed for that
        projection (compared by value: an optimizer step, a checkpoint restore or a write through `.data`
        makes them differ) give the last result again: `snnc run` deploys the same weights for every batch,
        and quantizing them cost 1.9 us a sample on the benchmark's network, the comparison 0.03."""
        return {name: self._deployed(name, w) for name, w in weights.items()}

    def _deployed(self, name: str, w: Tensor) -> Tensor:
        last = self._last_deployed.get(name)
        if last is not None and last[0].dtype == w.dtype and last[0].shape == w.shape and torch.equal(last[0], w):
            return last[1]
        q = self.quantized(name, w)
        gain = torch.where(q >= 0, self.synapse_gain[name][0], self.synapse_gain[name][1]).to(w.dtype)
        self._last_deployed[name] = (w.detach().clone(), q * gain)
        return self._last_deployed[name][1]

    def twin_weights(self, weights: dict[str, Tensor]) -> dict[str, Tensor]:
        # The twin knows the quantization but not the mismatch; the gradient passes straight through.
        return {name: w + (self.quantized(name, w) - w).detach() for name, w in weights.items()}

    def deployed_attrs(self, name: str, w: np.ndarray) -> dict:
        attrs = self.ir.edge_attrs(name)
        legal = legalize(w, self.scales[name], self.weight_bits, self.signs[name])
        report = dict(attrs.get("report", {}), quant_rmse=legal.quant_rmse, quant_max=legal.quant_max)
        return {"weights": self.weights_attr(name, w), "legalization": legal, "report": report}

    # --- noise and readout -----------------------------------------------------------------------
    def noise_stream(self, seed: int) -> seeds.Counter:
        return seeds.Counter(seed, "noise")

    @cached_property
    def noise_scales(self) -> dict[str, np.ndarray]:
        """Per population (N,) float32: the standard deviation of the membrane noise per step."""
        sigma = self.noise["membrane_noise"]
        return {name: (sigma * p.threshold_unit()).to(torch.float32).numpy() for name, p in self.nominal.items()}

    def membrane_noise(self, batch: int) -> MembraneNoise | None:
        """This batch call's membrane noise: drawn by counters (call, step, sample, neuron), so reproducible
        by seed whatever the threads or the split of the batch (philox.py); the call moves the stream on."""
        if self.noise["membrane_noise"] == 0.0:
            return None
        stream = self.generator
        return MembraneNoise(self.plan.steps, batch, stream.next_call(),
                             {name: stream.philox_key(name) for name in self.noise_scales}, self.noise_scales)

    @cached_property
    def cadc(self) -> cadc.Sampling:
        return cadc.Sampling.of(self.plan.steps, self.plan.dt, self.cadc_interval)

    def sample_membrane(self, v: Tensor) -> Tensor:
        return self.cadc.resample(v)

    def read_membrane(self, name: str, v: Tensor) -> Tensor:
        # codes of the samples, interpolated (quantizing is per element: only the samples need it)
        return self.cadc.interpolate(self.quantize_membrane(name, self.cadc.sampled(v)))

    def quantize_membrane(self, name: str, v: Tensor) -> Tensor:
        """The CADC's code of `v` (readout_bits over readout_range), in model units."""
        low, lsb = self.readout_grid[name]
        code = torch.clamp_((v - low).div_(lsb).round_(), 0, (1 << self.readout_bits) - 1)
        return code.mul_(lsb).add_(low)

    @cached_property
    def readout_grid(self) -> dict[str, tuple[Tensor, Tensor]]:
        """Per population, the CADC's lowest level and its step (N,), in model units."""
        grid = {}
        for name, p in self.nominal.items():
            unit = p.threshold_unit()
            low = p.v_leak + self.readout_range[0] * unit
            grid[name] = low, (self.readout_range[1] - self.readout_range[0]) * unit / ((1 << self.readout_bits) - 1)
        return grid
