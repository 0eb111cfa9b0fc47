"""The pass pipelines, all in one place. A target's YAML names its pipeline (`pipeline: digital`)."""

from __future__ import annotations

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
from snnc.compiler.targets import PIPELINE_CHECKS, PIPELINE_SCHEMAS
from snnc.compiler.targets.bss2 import BSS2_SCHEMA
from snnc.compiler.targets.bss2 import value_problems as bss2_value_problems
from snnc.compiler.targets.onn import ONN_SCHEMA
from snnc.compiler.targets.onn import value_problems as onn_value_problems

# Target-independent: what `snnc check` runs.
FRONTEND: tuple[Pass, ...] = (
    ResolveNamesAndUnits(),
    InferShapes(),
    ValidateModels(),
    Canonicalize(),
)

PIPELINES: dict[str, tuple[Pass, ...]] = {
    "digital": FRONTEND + (
        CheckTargetSupport(),
        InitializeWeights(),
        AccountResources(),
    ),
    # BrainScaleS-2: legalize, merge, check, partition, place, route (docs/targets.md).
    "bss2": FRONTEND + (
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
}

PIPELINE_SCHEMAS["bss2"] = BSS2_SCHEMA
PIPELINE_CHECKS["bss2"] = bss2_value_problems

# The optical family: weights as transmissions, layers on channel blocks (docs/onn.md).
PIPELINES["onn"] = FRONTEND + (
    CheckTargetSupport(),
    InitializeWeights(),
    LegalizeTransmissions(),
    CheckPhotonBudget(),
    PlaceChannels(),
)
PIPELINE_SCHEMAS["onn"] = ONN_SCHEMA
PIPELINE_CHECKS["onn"] = onn_value_problems


def all_pass_names() -> list[str]:
    return sorted({p.name for passes in PIPELINES.values() for p in passes})
