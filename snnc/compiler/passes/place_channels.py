"""Pass: layers onto blocks of modulator channels and detectors, tiled over time-multiplexed passes.

A projection pre -> post with k channels per weight is cut into tiles of r input rows x c output
columns, c <= detectors / k and r * c * k <= channels, so that any one tile fits the device. Tiles are
packed in layer order into passes (modulator configurations); a pass holds tiles whose channels and
detectors add up to at most what the device has. Partial sums of a neuron split over several tiles
are combined electronically: photon counts add, and a photon detector fires if any of its tiles
clicked, which is the same event as a click of the summed light (P(no click) = prod exp(-lambda_t)).

Within a tile, weight (i, j), channel s of k sits on channel offset + ((i - r0) * c + (j - c0)) * k + s
and column j's detector s on detector offset + (j - c0) * k + s."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import networkx as nx

from snnc.compiler.ir.graph import NetworkIR
from snnc.compiler.ir.onn_records import ModulatorPass, Tile
from snnc.compiler.passes.base import Pass, PassContext
from snnc.compiler.targets.onn import Optics, channels_per_weight, photons_per_mac, tile_shape
from snnc.diagnostics import error


@dataclass
class Block:
    """One block of a projection while it is being placed (the IR records it as a Tile)."""

    projection: str
    rows: tuple[int, int]
    cols: tuple[int, int]
    k: int  # channels per weight
    pass_index: int = 0
    channel_offset: int = 0
    detector_offset: int = 0

    @property
    def channels(self) -> int:
        return (self.rows[1] - self.rows[0]) * (self.cols[1] - self.cols[0]) * self.k

    @property
    def detectors(self) -> int:
        return (self.cols[1] - self.cols[0]) * self.k

    def record(self) -> Tile:
        return Tile(pass_index=self.pass_index, rows=self.rows, cols=self.cols,
                    channels=(self.channel_offset, self.channel_offset + self.channels),
                    detectors=(self.detector_offset, self.detector_offset + self.detectors))


@dataclass
class Configuration:
    """One pass: what the modulator and the detectors hold at once."""

    tiles: list[Block] = field(default_factory=list)
    channels: int = 0
    detectors: int = 0


class PlaceChannels(Pass):
    """Edge attr `tiles` (Tile records); node attrs `detectors` and `report`; graph attrs `partitions`
    (a ModulatorPass per pass) and `resources.{channels,detectors,passes}` (channels and detectors: the
    peak of any one pass)."""

    name: ClassVar[str] = "place_channels"

    def apply(self, ir: NetworkIR, ctx: PassContext) -> NetworkIR:
        optics: Optics = ctx.target.substrate
        order = self._layer_order(ir, ctx)
        if order is None:
            return ir
        passes: list[Configuration] = []
        tiles: dict[str, list[Block]] = {}
        for key, attrs in order:
            projection = attrs["decl"]
            k = channels_per_weight(attrs["transmissions"].encoding)
            pre, post = ir.size(projection.source), ir.size(projection.target)
            shape = tile_shape(pre, post, k, optics)
            if shape is None:
                ctx.diagnostics.add(error(
                    "E605", f"'{key}' needs {k} channels and {k} detectors per weight; the device has "
                    f"{optics.channels} channels and {optics.detectors} detectors", projection.span))
                return ir
            rows, cols = shape
            tiles[key] = [Block(key, (r, min(r + rows, pre)), (c, min(c + cols, post)), k)
                          for r in range(0, pre, rows) for c in range(0, post, cols)]
            for tile in tiles[key]:
                if not passes or (passes[-1].channels + tile.channels > optics.channels
                                  or passes[-1].detectors + tile.detectors > optics.detectors):
                    passes.append(Configuration())
                    if len(passes) > optics.max_passes:
                        self._too_large(ir, ctx, optics, key)
                        return ir
                current = passes[-1]
                tile.pass_index, tile.channel_offset, tile.detector_offset = (
                    len(passes) - 1, current.channels, current.detectors)
                current.tiles.append(tile)
                current.channels += tile.channels
                current.detectors += tile.detectors
        self._record(ir, optics, passes, tiles)
        return ir

    def _layer_order(self, ir: NetworkIR, ctx: PassContext) -> list[tuple[str, dict]] | None:
        """Projections in the order light passes through the layers; None (and an error) on a cycle."""
        graph = nx.DiGraph(ir.graph.edges())
        try:
            rank = {name: i for i, name in enumerate(nx.topological_sort(graph))}
        except nx.NetworkXUnfeasible:
            source, target = nx.find_cycle(graph)[0][:2]
            key = next(k for s, t, k, _ in ir.edges() if (s, t) == (source, target))
            ctx.diagnostics.add(error(
                "E604", f"'{key}' closes a cycle; an optical network runs its layers one after another, "
                "so it must be feed-forward", ir.edge_attrs(key)["decl"].span))
            return None
        edges = sorted(ir.edges(), key=lambda e: (rank[e[1]], rank[e[0]]))
        return [(key, attrs) for _, _, key, attrs in edges]

    @staticmethod
    def _too_large(ir: NetworkIR, ctx: PassContext, optics: Optics, key: str) -> None:
        k = {key: channels_per_weight(a["transmissions"].encoding) for _, _, key, a in ir.edges()}
        channels = sum(k[key] * ir.size(s) * ir.size(t) for s, t, key, _ in ir.edges())
        detectors = sum(k[key] * ir.size(t) for _, t, key, _ in ir.edges())
        needs = f"the network needs {channels:,} channels and {detectors:,} detectors"
        has = f"the device has {optics.channels:,} channels and {optics.detectors:,} detectors"
        if optics.max_passes == 1:
            message = f"{needs}, {has} (resources 'channels', 'detectors'), and time multiplexing is " \
                      "disabled (max_passes: 1)"
        else:
            message = f"{needs}, more than {optics.max_passes} passes (resource 'max_passes') of the " \
                      f"modulator hold ({has}); '{key}' does not fit"
        ctx.diagnostics.add(error("E606", message, ir.edge_attrs(key)["decl"].span))

    @staticmethod
    def _record(ir: NetworkIR, optics: Optics, passes: list[Configuration], tiles: dict[str, list[Block]]) -> None:
        detectors = {p.name: 0 for p in ir.populations()}
        for _, target, key, attrs in ir.edges():
            attrs["tiles"] = [t.record() for t in tiles[key]]
            attrs["report"].update(channels=sum(t.channels for t in tiles[key]), tiles=len(tiles[key]))
            detectors[target] += sum(t.detectors for t in tiles[key])
        for population in ir.populations():
            ir.node_attrs(population.name)["detectors"] = detectors[population.name]
            ir.node_attrs(population.name)["report"] = {
                "neurons": population.size, "model": population.model.dsl_name,
                "detectors": detectors[population.name],
                "photons_per_mac": photons_per_mac(population.model, optics)}
        ir.graph.graph["resources"] = {
            "channels": {"used": max((p.channels for p in passes), default=0), "available": optics.channels},
            "detectors": {"used": max((p.detectors for p in passes), default=0), "available": optics.detectors},
            "passes": {"used": len(passes), "available": optics.max_passes},
            **ir.graph.graph.get("resources", {}),
        }
        targets = {key: attrs["decl"].target for _, _, key, attrs in ir.edges()}
        ir.graph.graph["partitions"] = [
            ModulatorPass(index=i, populations=tuple(sorted({targets[t.projection] for t in p.tiles})),
                          projections=tuple(sorted({t.projection for t in p.tiles})), channels=p.channels,
                          detectors=p.detectors)
            for i, p in enumerate(passes)]
