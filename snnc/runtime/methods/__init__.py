"""Training methods beyond a substrate's own twin: each gives the Twin whose replay carries its backward."""

from __future__ import annotations

from snnc.runtime.emulators.base import Emulator, Twin


def twin_for(emulator: Emulator, method: str, kind: str | None = None) -> Twin:
    """The twin of `method` on `emulator` (a method's own, or the substrate's for its native methods, of
    `kind`: one of emulator.twins, None for its default)."""
    from snnc.runtime.methods import st_rsbp

    if method == st_rsbp.NAME:
        return st_rsbp.SpikeTrainTwin(emulator)
    return emulator.make_twin(kind)
