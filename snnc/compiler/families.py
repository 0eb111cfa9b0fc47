"""The substrate families and their pass pipelines, all in one place.

A target's YAML names its family (`family: bss2`); the family's record says everything that differs
between substrates: the YAML's schema and value checks, the passes that compile for it, the typed
substrate model (built once, here, when the target is loaded, with `--chips` applied), the renderer of
its extra report files and its emulator (a "module:Class" path the runtime imports)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from snnc.compiler.ir.graph import NetworkIR
from snnc.compiler.passes.account_bss2_resources import AccountBss2Resources
from snnc.compiler.passes.account_resources import AccountResources
from snnc.compiler.passes.base import Pass, PassContext
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
from snnc.compiler.targets import DigitalTarget, Family, Target, bss2, onn, program_checks, read_target, spec_problems
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
    schema=DigitalTarget,
    passes=FRONTEND + (
        CheckTargetSupport(),
        InitializeWeights(),
        AccountResources(),
    ),
    build_substrate=lambda spec, chips: None,  # float weights, no resource model
    program_problems=program_checks.digital,
    emulator="snnc.runtime.emulators.reference:ReferenceEmulator",
)

# BrainScaleS-2: legalize, merge, check, partition, place, route (docs/targets.md).
BSS2 = Family(
    name="bss2",
    schema=bss2.BSS2_SCHEMA,
    value_problems=bss2.value_problems,
    program_problems=program_checks.bss2,
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
    program_problems=program_checks.onn,
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
    """UsageError unless `chips` (`--chips`) is None or an integer from 1 to bss2.MAX_CHIPS."""
    if chips is not None and (isinstance(chips, bool) or not isinstance(chips, int)
                              or not 1 <= chips <= bss2.MAX_CHIPS):
        raise UsageError(f"--chips must be an integer from 1 to {bss2.MAX_CHIPS:,}, got {chips!r}")


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
    """A Target from program.json's target record (Target.to_dict), checked by `target_problems`."""
    family, spec, chips = FAMILIES[record["family"]], record["spec"], record.get("chips")
    return Target(name=record["name"], family=family, description=spec["description"], spec=spec,
                  path=record["path"], sha256=record["sha256"], chips=chips,
                  substrate=family.build_substrate(spec, chips))


def target_problems(record: dict[str, Any]) -> list[tuple[str, str]]:
    """What keeps program.json's target record from being restored: its spec checked as a target file
    is (schema and values), its family the spec's. (key path, phrase) pairs."""
    problems = []
    for problem in spec_problems(record["spec"], FAMILIES):
        key, _, phrase = problem.partition(": ")
        problems.append(("target.spec" if key == "(top level)" else f"target.spec.{key}", phrase))
    if not problems and record["family"] != record["spec"]["family"]:
        problems.append(("target.family", f"'{record['family']}' differs from its spec's family, "
                         f"'{record['spec']['family']}'"))
    return problems


# The language's checks that need more than one element, asked again of a program read back from a file.
LOAD_CHECKS: tuple[Pass, ...] = (ValidateModels(), CheckTargetSupport())


def program_problems(ir: NetworkIR, target: Target) -> list[tuple[str, str]]:
    """What is wrong with a compiled program's IR, read back from a file, for its target: the checking
    passes' errors, then the family's own checks (targets/program_checks.py). (key path, phrase) pairs."""
    ctx = PassContext(target=target)
    for check in LOAD_CHECKS:  # (they only read the IR)
        check.apply(ir, ctx)
    errors = [("ir", d.message + (f" (at {d.span})" if d.span else "")) for d in ctx.diagnostics.errors]
    return errors or target.family.program_problems(ir, target)
