"""The optical substrate (pipeline `onn`): a compiled program run as light through a modulator onto
photon detectors, and its twin for physics-aware training (docs/onn.md).

Forward (`OnnEmulator.observe`, layer by layer in the order light passes them):
  x_j in [0, 1]      the intensity of source j (an input: value / photons; a photon detector: its 0/1
                     click re-emitted; a linear population: its value, clipped to [0, 1])
  t_ij               the deployed transmission (quantized at the modulator's bits, the chip's fixed
                     pattern error added), per channel of the projection's encoding
  lambda_i           = g * sum_j t_ij x_j photons arrive per exposure, g the source power (photons per
                     modulator pixel at full input): for a photon detector layer set per batch so that
                     its detectors receive `photons_per_mac` photons per MAC and inference on average
                     (the budget; physics.source_power), for a linear layer the target's
                     `linear_photons_per_mac` (an operating point at full transmission and input)
  photon_detector    fires with probability 1 - exp(-mu), mu = efficiency * lambda + dark counts, in
                     each of `shots` exposures; its output is the mean of the clicks
  linear             counts Poisson(mu) per detector, saturating at 2**readout_bits - 1 per tile; the
                     electronics turn counts into model units and combine the channels of the encoding
Twin (`OnnTwin.replay`): the same layers on the nominal deployed weights with each detector replaced by
its physics-based probabilistic model: a photon detector's expected activation 1 - exp(-mu), whose
derivative efficiency * exp(-mu) carries the gradient; the value of every activation is the one the
substrate produced (y = y_obs + E[y] - E[y].detach()), so the gradient is taken where the stochastic
optics actually were (physics-aware training, Wright et al. 2022; Ma et al. 2023)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import networkx as nx
import numpy as np
import torch

from snnc.compiler.ir.encoders import Intensity
from snnc.compiler.ir.neurons import Linear, PhotonDetector
from snnc.compiler.ir.nodes import Input
from snnc.compiler.targets.onn import (
    Optics,
    choose_scale,
    deploy_transmissions,
    deployed_weights,
    quantize_transmissions,
)
from snnc.diagnostics import SnncError, error
from snnc.runtime import physics, seeds
from snnc.runtime.emulators.base import Emulator, Observation, Stimulus, Twin

Tensor = torch.Tensor


@dataclass(frozen=True)
class Layer:
    """One projection as light sees it."""

    name: str
    source: str
    target: str
    encoding: str
    row_blocks: tuple[tuple[int, int], ...]  # input rows of its tiles: each block has its own detectors


@dataclass
class Deployed:
    """A projection's weights as the modulator holds them."""

    transmission: Tensor  # (k, pre, post) in [0, 1]
    scale: float  # transmission per model unit


class OnnEmulator(Emulator):
    """Stochastic optics: Poisson photons, single-photon clicks, quantized transmissions with a fixed
    pattern error. `shot_noise=False` gives every detector its expected output instead of a sample (the
    deterministic model that ignores shot noise: for comparisons, not a substrate)."""

    methods = ("pat",)  # what `snnc train --method` accepts on this substrate

    def __init__(self, program, *, shot_noise: bool = True, **options):
        super().__init__(program, **options)
        self.optics: Optics = program.target.substrate
        self.shot_noise = shot_noise
        self.photons_per_mac: dict[str, float] = {}  # measured in the last `observe`, per detector population
        for population in self.ir.populations():
            if not isinstance(population.model, (PhotonDetector, Linear)):
                raise SnncError([error("E430", f"population '{population.name}': the optical emulator runs "
                                       f"photon_detector and linear neurons, not '{population.model.dsl_name}'",
                                       population.span)])

    # --- structure -----------------------------------------------------------------------------
    @cached_property
    def order(self) -> list[str]:
        """Populations in the order light passes through them."""
        graph = nx.DiGraph(self.ir.graph.edges())
        graph.add_nodes_from(self.ir.graph.nodes)
        return [n for n in nx.lexicographical_topological_sort(graph) if not isinstance(self.ir.decl(n), Input)]

    @cached_property
    def layers(self) -> dict[str, list[Layer]]:
        """Population -> its incoming projections."""
        layers: dict[str, list[Layer]] = {name: [] for name in self.order}
        for source, target, key, attrs in self.ir.edges():
            blocks = tuple(sorted({tuple(t.rows) for t in attrs["tiles"]}))
            layers[target].append(Layer(key, source, target, attrs["transmissions"].encoding, blocks))
        return layers

    def fan_in(self, population: str) -> int:
        return sum(self.ir.size(layer.source) for layer in self.layers[population])

    def source_limit(self, population: str) -> float:
        """The most photons per modulator pixel and exposure the sources of a photon detector layer emit at
        full input: an `intensity` input's `photons` per pixel and sample, spread over the post * k pixels
        it lights in each of `shots` exposures (no limit for light re-emitted from detectors)."""
        shots, post = self.ir.decl(population).model.shots, self.ir.size(population)
        limits = []
        for layer in self.layers[population]:
            node = self.ir.decl(layer.source)
            if isinstance(node, Input) and isinstance(node.encoder, Intensity):
                k = self.ir.edge_attrs(layer.name)["transmissions"].levels.shape[0]
                limits.append(node.encoder.photons / (post * k * shots))
        return min(limits, default=float("inf"))

    def source_power(self, population: str, drive: Tensor) -> Tensor:
        """g of a photon detector layer for a batch whose light at unit power is `drive` (B, N)."""
        model = self.ir.decl(population).model
        return physics.source_power(drive, model.photons_per_mac, self.fan_in(population), model.shots,
                                    self.source_limit(population))

    @cached_property
    def fixed_pattern(self) -> dict[str, Tensor]:
        """Each pixel's transmission error, drawn once per emulated device (`chip_seed`)."""
        errors = {}
        for _, _, key, attrs in self.ir.edges():
            rng = seeds.rng(self.chip_seed, "chip", "transmissions", key)
            errors[key] = torch.as_tensor(rng.normal(0.0, self.optics.transmission_mismatch,
                                                     attrs["transmissions"].levels.shape),
                                          dtype=self.dtype)
        return errors

    # --- weights -------------------------------------------------------------------------------
    def into_detector(self, name: str) -> bool:
        return isinstance(self.ir.decl(self.ir.edge_attrs(name)["decl"].target).model, PhotonDetector)

    def clip_(self, name: str, w: Tensor) -> None:
        """Into a photon detector the weight is a transmission: [0, 1]. Linear layers are not clipped: their
        scale is an electronic gain, re-chosen at each deployment without moving any tile."""
        if self.into_detector(name):
            w.clamp_(0.0, 1.0)

    def deploy(self, name: str, w: Tensor) -> Deployed:
        """Quantize one projection's weights (model units) to transmission levels, as the modulator holds them."""
        weights = self.dense(name, w).detach().cpu().numpy()
        scale = choose_scale(weights, self.into_detector(name))
        levels = quantize_transmissions(weights, scale, self.optics.modulator_bits,
                                        self.ir.edge_attrs(name)["transmissions"].encoding)
        return Deployed(torch.as_tensor(levels.astype(np.float32) / self.optics.levels, dtype=self.dtype), scale)

    def nominal_weights(self, name: str, w: Tensor) -> Tensor:
        """What the deployed levels realize in model units, differentiable in `w` (straight through the
        quantization): what the twin assumes."""
        d = self.deploy(name, w)
        realized = torch.as_tensor(deployed_weights(d.transmission.numpy() * self.optics.levels, d.scale,
                                                    self.optics.modulator_bits,
                                                    self.ir.edge_attrs(name)["transmissions"].encoding),
                                    dtype=self.dtype)
        dense = self.dense(name, w)
        return dense + (realized - dense).detach()

    def deployed_attrs(self, name: str, w: np.ndarray) -> dict[str, Any]:
        """Trained weights deployed: levels, scale and the weights they realize; placement unchanged."""
        attrs = self.ir.edge_attrs(name)
        synapses = self.synapses.get(name)
        dense, mask = (w, None) if synapses is None else (synapses.to_dense(w), synapses.mask())
        scale = choose_scale(dense, self.into_detector(name))
        legal, realized = deploy_transmissions(dense, mask, scale, self.optics.modulator_bits,
                                               attrs["transmissions"].encoding)
        report = {**attrs.get("report", {}), "scale": legal.scale, "quant_rmse": legal.quant_rmse,
                  "quant_max": legal.quant_max}
        realized = realized if synapses is None else realized[synapses.sources, synapses.indices]
        return {"weights": self.weights_attr(name, realized), "transmissions": legal, "report": report}

    # --- running -------------------------------------------------------------------------------
    def input_light(self, stimulus: Stimulus) -> dict[str, Tensor]:
        """Each input's intensities in [0, 1] (the encoder gives expected photons, value * photons)."""
        light = {}
        for node in self.ir.inputs():
            if node.name not in stimulus.values:
                raise SnncError([error("E431", f"input '{node.name}': the optical emulator needs an "
                                       "`intensity` input", node.span)])
            if stimulus.values[node.name].dim() != 2:
                raise SnncError([error("E431", f"input '{node.name}': optical layers have no time, so the optical "
                                       "emulator takes one value per input, not a sequence of windows", node.span)])
            light[node.name] = (stimulus.values[node.name] / node.encoder.photons).clamp(0.0, 1.0)
        return light

    def detector_output(self, population: str, layers: list[Layer], light: dict[str, Tensor],
                        transmissions: dict[str, Deployed]) -> Tensor:
        """The sampled (or, without shot noise, expected) output of one population, (B, N)."""
        o = self.optics
        if isinstance(self.ir.decl(population).model, PhotonDetector):
            drive = sum(light[layer.source] @ transmissions[layer.name].transmission[0] for layer in layers)
            arriving = self.source_power(population, drive) * drive
            dark = o.dark_counts * sum(len(layer.row_blocks) for layer in layers)
            mu = physics.detected_mean(arriving, o.detector_efficiency, dark)
            shots = self.ir.decl(population).model.shots
            self.photons_per_mac[population] = shots * physics.photons_per_mac(arriving, self.fan_in(population))
            if not self.shot_noise:
                return physics.click_probability(mu)
            return physics.sample_clicks(mu, shots, self.generator)
        p = o.linear_photons_per_mac
        value = 0.0
        for layer in layers:
            deployed = transmissions[layer.name]
            x = light[layer.source]
            estimates = []
            for t in deployed.transmission:  # one detector (set) per channel of the encoding
                estimate = 0.0
                for r0, r1 in layer.row_blocks:
                    mu = physics.detected_mean(p * x[:, r0:r1] @ t[r0:r1], o.detector_efficiency, o.dark_counts)
                    counts = physics.sample_counts(mu, self.generator) if self.shot_noise else mu
                    estimate = estimate + (counts.clamp(max=o.max_count) - o.dark_counts)
                estimates.append(estimate / (o.detector_efficiency * p))  # sum_j t_ij x_j, measured
            value = value + combine(layer.encoding, estimates, x) / deployed.scale
        return value

    @torch.no_grad()
    def observe(self, stimulus: Stimulus, weights: dict[str, Tensor], *, membranes: str = "all") -> Observation:
        transmissions = {}
        for name in self.weight_names():
            deployed = self.deploy(name, weights[name])
            deployed.transmission = (deployed.transmission + self.fixed_pattern[name]).clamp(0.0, 1.0)
            transmissions[name] = deployed
        light = self.input_light(stimulus)
        values = {}
        for population in self.order:
            values[population] = self.detector_output(population, self.layers[population], light, transmissions)
            light[population] = values[population].clamp(0.0, 1.0)
        spikes = {p: values[p][None] for p in self.order if isinstance(self.ir.decl(p).model, PhotonDetector)}
        return Observation(scores=values[self.output.population], activity=clicks(self, values, stimulus.batch),
                           spikes=spikes, values=values)

    def energy(self) -> dict[str, float]:
        """Optical energy of the last `observe`: photons per MAC reaching each detector population."""
        return {f"photons_per_mac.{name}": value for name, value in self.photons_per_mac.items()}

    def make_twin(self, kind: str | None = None) -> Twin:
        return OnnTwin(self)


def clicks(emulator: OnnEmulator, values: dict[str, Tensor], batch: int) -> Tensor:
    """Detector clicks per sample, (B,): the activity a spike budget regularizes."""
    total = torch.zeros(batch, dtype=emulator.dtype)
    for population in emulator.order:
        if isinstance(emulator.ir.decl(population).model, PhotonDetector):
            total = total + values[population].sum(dim=1)
    return total


def combine(encoding: str, estimates: list[Tensor], x: Tensor) -> Tensor:
    """sum_j t_ij x_j per channel of an encoding -> the signed dot product in transmission units."""
    if encoding == "positive":
        return estimates[0]
    if encoding == "negative":
        return -estimates[0]
    if encoding == "differential":
        return estimates[0] - estimates[1]
    return 2.0 * estimates[0] - x.sum(dim=1, keepdim=True)  # offset: t = (1 + w s) / 2


class OnnTwin(Twin):
    """The probabilistic model of the optics (no sampling). With `use_observed`, every activation takes the
    substrate's value and only its gradient from the model (physics-aware training)."""

    def __init__(self, emulator: OnnEmulator, *, use_observed: bool = True,
                 detector: Callable[[Tensor], Tensor] = physics.click_probability):
        self.emulator = emulator
        self.use_observed = use_observed
        self.detector = detector

    def replay(self, stimulus: Stimulus, weights: dict[str, Tensor],
               observation: Observation | None = None) -> tuple[Tensor, Tensor]:
        em, o = self.emulator, self.emulator.optics
        light = em.input_light(stimulus)
        values: dict[str, Tensor] = {}
        w = {name: em.nominal_weights(name, weights[name]) for name in em.weight_names()}
        for population in em.order:
            layers = em.layers[population]
            drive = sum(light[layer.source] @ w[layer.name] for layer in layers)
            if isinstance(em.ir.decl(population).model, PhotonDetector):
                dark = o.dark_counts * sum(len(layer.row_blocks) for layer in layers)
                # the source power follows the light as on the device (here from the nominal transmissions:
                # the twin does not know the fixed pattern), differentiably: the budget is held
                mu = physics.detected_mean(em.source_power(population, drive) * drive, o.detector_efficiency, dark)
                expected = self.detector(mu)
            else:
                expected = drive
            if self.use_observed and observation is not None and population in observation.values:
                expected = observation.values[population] + (expected - expected.detach())
            values[population] = expected
            light[population] = expected.clamp(0.0, 1.0)
        return values[em.output.population], clicks(em, values, stimulus.batch)
