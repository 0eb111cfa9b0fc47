"""Pass: split every projection into its excitatory and inhibitory parts (edge attr `sign_split`)."""

from __future__ import annotations

from typing import ClassVar

from snnc.compiler.ir.bss2_records import SignSplit
from snnc.compiler.ir.graph import NetworkIR
from snnc.compiler.passes.base import Pass, PassContext

# On BrainScaleS-2 the sign is a property of a synapse row, not of a synapse: a source whose weights
# may take either sign needs an excitatory and an inhibitory row, a sign-constrained one needs one.
ROW_SIGNS: dict[str, tuple[str, ...]] = {"signed": ("exc", "inh"), "positive": ("exc",), "negative": ("inh",)}


class SplitSigns(Pass):
    """A signed projection becomes an excitatory and an inhibitory part (a row pair per source);
    a `positive` or `negative` projection keeps one part (one row per source)."""

    name: ClassVar[str] = "split_signs"

    def apply(self, ir: NetworkIR, ctx: PassContext) -> NetworkIR:
        for _, _, _, attrs in ir.edges():
            attrs["sign_split"] = SignSplit(ROW_SIGNS[attrs["decl"].sign])
        return ir
