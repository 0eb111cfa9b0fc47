"""Shared helpers for the test suite."""

from __future__ import annotations

from pathlib import Path

import pytest

import snnc
from snnc.diagnostics import SnncError

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((REPO / "dsl_examples").glob("*.snn"))


def home_target(path: Path) -> str:
    """The target an example is written for: optical examples run on onn only, the rest on reference."""
    return "onn" if path.stem.startswith("onn_") else "reference"


def errors_of(text: str, path: str = "net.snn", **kwargs) -> str:
    """The rendered diagnostics of checking `text`; fails the test if it checks cleanly."""
    with pytest.raises(SnncError) as info:
        snnc.check(path, text=text, **kwargs)
    return info.value.render()


def network(body: str, name: str = "n") -> str:
    """A program with one network around `body` (statements, one per line)."""
    return f"network {name} {{\n{body}\n}}\n"


def timed_network(name: str, duration: str, body: str, timestep: str = "1 ms") -> str:
    """network(body, name) stepping `timestep` for `duration` (body: the rest of its statements)."""
    return network(f"    timestep {timestep}\n    duration {duration}\n{body}", name)


def train_block(*statements: str) -> str:
    """A `train { ... }` block of `statements`, one a line."""
    return "train {\n" + "".join(f"    {s}\n" for s in statements) + "}\n"


MINIMAL = """\
    input  x[4] : latency(t_max = 10 ms)
    pop    y[3] : LIF(tau_mem = 5 ms, tau_syn = 5 ms)
    proj x -> y : dense
    output y : spike_count"""
