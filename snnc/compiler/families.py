"""The substrate families and their pass pipelines, all in one place.

A target's YAML names its family (`family: bss2`); the family's record says everything that differs
between substrates: the YAML's schema and value checks, the passes that compile for it, the typed
substrate model (built once, here, when the target is loaded, with `--chips` applied), the renderer of
its extra report files and its emulator (a "module:Class" path the runtime imports)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from snnc.compiler.passes.account_bss2_resources import AccountBss2Resources
from snnc.compiler.passes.account_resources import AccountResources
from snnc.compiler.passes.base import Pass
from snnc.compiler.passes.canonicalize import Canonicalize
from snnc.compiler.passes.check_bss2_rules import CheckBss2Rules
from snnc.compiler.passes.check_photon_budget import CheckPhotonBudget
from snnc.compiler.passes.check_target_support import CheckTargetSupport
from snnc.compiler.passes.infer_shapes import InferShapes
from snnc.compiler.passes.initialize_weights import InitializeWeights
from snnc.compiler.passes.legalize_transmissions import LegalizeTransmissions
from snnc.compiler.passes.legalize_weights import LegalizeWeights
from snnc.compiler.passes.merge_circuits import MergeCircuits
from snnc.compiler.passes.partition_network import PartitionNetwork
from snnc.compiler.passes.place_channels import PlaceChannels
from snnc.compiler.passes.place_neurons import PlaceNeurons
from snnc.compiler.passes.resolve_names_and_units import ResolveNamesAndUnits
from snnc.compiler.passes.route_synapses import RouteSynapses
from snnc.compiler.passes.split_signs import SplitSigns
from snnc.compiler.passes.validate_models import ValidateModels
from snnc.compiler.targets import BASE_SCHEMA, Family, Target, bss2, onn, read_target
from snnc.compiler.targets.schema import Choice
from snnc.diagnostics import UsageError

# Target-independent: what `snnc check` runs, and every family's pipeline starts with.
FRONTEND: tuple[Pass, ...] = (
    ResolveNamesAndUnits(),
    InferShapes(),
    ValidateModels(),
    Canonicalize(),
)

DIGITAL = Family(
    name="digital",
    schema={**BASE_SCHEMA, "family": Choice(("digital",))},
    passes=FRONTEND + (
        CheckTargetSupport(),
        InitializeWeights(),
        AccountResources(),
    ),
    build_substrate=lambda spec, chips: None,  # float weights, no resource model
    emulator="snnc.runtime.emulators.reference:ReferenceEmulator",
)

# BrainScaleS-2: legalize, merge, check, partition, place, route (docs/targets.md).
BSS2 = Family(
    name="bss2",
    schema=bss2.BSS2_SCHEMA,
    value_problems=bss2.value_problems,
    passes=FRONTEND + (
        CheckTargetSupport(),
        InitializeWeights(),
        SplitSigns(),
        LegalizeWeights(),
        MergeCircuits(),
        CheckBss2Rules(),
        PartitionNetwork(),
        PlaceNeurons(),
        RouteSynapses(),
        AccountBss2Resources(),
    ),
    build_substrate=bss2.Chip.from_spec,
    renderer="snnc.compiler.backend.bss2_report:render_bss2_report",
    emulator="snnc.runtime.emulators.bss2:BSS2Emulator",
)

# The optical family: weights as transmissions, layers on channel blocks (docs/onn.md).
ONN = Family(
    name="onn",
    schema=onn.ONN_SCHEMA,
    value_problems=onn.value_problems,
    passes=FRONTEND + (
        CheckTargetSupport(),
        InitializeWeights(),
        LegalizeTransmissions(),
        CheckPhotonBudget(),
        PlaceChannels(),
    ),
    build_substrate=lambda spec, chips: onn.Optics.from_spec(spec),  # one device: --chips does not apply
    renderer="snnc.compiler.backend.onn_report:render_onn_report",
    emulator="snnc.runtime.emulators.onn:OnnEmulator",
)

FAMILIES: dict[str, Family] = {family.name: family for family in (DIGITAL, BSS2, ONN)}


def all_pass_names() -> list[str]:
    return sorted({name for family in FAMILIES.values() for name in family.pass_names})


def check_chips(chips: Any) -> None:
    """UsageError unless `chips` (`--chips`) is None or an integer >= 1."""
    if chips is not None and (isinstance(chips, bool) or not isinstance(chips, int) or chips < 1):
        raise UsageError(f"--chips must be an integer >= 1, got {chips!r}")


def load_target(target: str | Path | Target, chips: int | None = None) -> Target:
    """A shipped target by name (`bss2`), a YAML file by path, or a loaded Target, with `chips` applied to
    its substrate model (None: the target's own count). SnncError on a bad target, UsageError on bad chips."""
    check_chips(chips)
    if isinstance(target, Target):
        if chips is None or chips == target.chips:
            return target
        return Target(name=target.name, family=target.family, description=target.description, spec=target.spec,
                      path=target.path, sha256=target.sha256, chips=chips,
                      substrate=target.family.build_substrate(target.spec, chips))
    return read_target(str(target), FAMILIES, chips)


def restore_target(record: dict[str, Any]) -> Target:
    """A Target from program.json's target record (Target.to_dict); KeyError/ValueError when malformed."""
    name = record["family"]
    if name not in FAMILIES:
        raise ValueError(f"unknown substrate family '{name}'")
    family, spec, chips = FAMILIES[name], record["spec"], record.get("chips")
    return Target(name=record["name"], family=family, description=spec["description"], spec=spec,
                  path=record["path"], sha256=record["sha256"], chips=chips,
                  substrate=family.build_substrate(spec, chips))
