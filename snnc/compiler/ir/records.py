"""What the digital family's passes add to the IR: the one partition of a target without hard limits.
The other families' records: bss2_records.py and onn_records.py. Graph attr `partitions` holds a list of
a family's partition records; `dataclasses.asdict` of each is its entry in report.json."""

from __future__ import annotations

from dataclasses import dataclass

from snnc.compiler.ir.checks import Problem, at_least
from snnc.compiler.ir.serialize import serializable


@serializable
@dataclass(frozen=True)
class Partition:
    """The whole network, run at once (account_resources: graph attr `partitions` = [Partition(0, ...)])."""

    index: int
    populations: tuple[str, ...]

    def problems(self) -> list[Problem]:
        return at_least(self, ("index",), 0)
