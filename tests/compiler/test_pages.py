"""numpy's huge-page advice is off while the compiler's passes run and while a program is loaded (the many
short-lived large arrays made the kernel compact memory: snnc/compiler/pages.py), and as it was after."""

import pytest
from numpy._core import multiarray

import snnc
from snnc.compiler import pages

NETWORK = """network tiny {
    timestep 1 ms
    duration 5 ms
    input x[4] : rate(max_rate = 100 Hz)
    pop h[3] : LIF(tau_mem = 10 ms, tau_syn = 5 ms)
    proj x -> h : dense(init = normal(0, 0.5))
    output h : spike_count
}
"""


@pytest.fixture
def advice(monkeypatch):
    """The advice's history: every value it was switched to (starting on)."""
    state = [True]

    def switch(on: bool) -> bool:
        previous = state[-1]
        state.append(on)
        return previous

    monkeypatch.setattr(multiarray, "_set_madvise_hugepage", switch, raising=False)
    return state


def test_the_advice_is_off_inside_and_restored_after_even_on_an_error(advice):
    with pages.without_huge_pages():
        assert advice[-1] is False
    assert advice == [True, False, True]
    with pytest.raises(KeyError), pages.without_huge_pages():
        raise KeyError("x")
    assert advice[-1] is True


def test_compiling_writing_and_loading_run_without_the_advice(advice, tmp_path):
    source = tmp_path / "tiny.snn"
    source.write_text(NETWORK)
    snnc.compile(source, target="bss2", out=tmp_path / "out")
    compiled = len(advice)
    assert compiled >= 5  # the passes, then writing the program directory
    assert advice[1:] == [False, True] * (compiled // 2)
    snnc.load(tmp_path / "out")
    assert advice[compiled:] == [False, True]
