"""Golden IR dumps (xdsl's filecheck style): `snnc check PROGRAM --target T --dump-ir-after PASS` must print
exactly tests/compiler/golden/PROGRAM.PASS.json, so a change to what a pass adds to the IR (its records'
fields, their order, an attribute key) shows as a readable diff. After an intended change, rewrite the
files with `SNNC_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/compiler/test_golden.py` and review the
diff before committing it."""

from __future__ import annotations

import os

import pytest

from snnc.cli import run
from tests.conftest import REPO

GOLDEN = REPO / "tests" / "compiler" / "golden"
CASES = [("small_bss2", "bss2", "legalize_weights"), ("small_bss2", "bss2", "merge_circuits"),
         ("small_bss2", "bss2", "route_synapses"), ("small_bss2", "bss2", "account_bss2_resources"),
         ("small_onn", "onn", "legalize_transmissions"), ("small_onn", "onn", "place_channels")]


@pytest.mark.parametrize("program, target, after", CASES, ids=lambda c: str(c))
def test_the_ir_after_a_pass_is_the_golden_dump(program, target, after, monkeypatch, capsys):
    monkeypatch.chdir(REPO)  # spans name the program by the path it was given
    source = f"tests/compiler/golden/{program}.snn"
    assert run(["check", source, "--target", target, "--dump-ir-after", after]) == 0
    dump = capsys.readouterr().out
    expected = GOLDEN / f"{program}.{after}.json"
    if os.environ.get("SNNC_UPDATE_GOLDEN"):
        expected.write_text(dump)
    assert dump == expected.read_text()
