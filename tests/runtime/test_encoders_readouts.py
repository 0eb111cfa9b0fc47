"""Encoders (DSL.md semantics) and readouts."""

from __future__ import annotations

import pytest
import torch

from snnc.diagnostics import SnncError
from snnc.runtime.encoders import encode
from snnc.runtime.readouts import first_spike, max_membrane, spike_count
from tests.runtime.conftest import compile_text


def one_input(encoder: str, shape: str = "4") -> str:
    return f"""network e {{
        timestep 1 ms
        duration 20 ms
        input x[{shape}] : {encoder}
        pop   o[2] : LI(tau_mem = 5 ms, tau_syn = 5 ms)
        proj x -> o : dense
        output o : max_membrane
    }}"""


def test_latency_brighter_is_earlier_and_zero_never_spikes():
    program = compile_text(one_input("latency(t_max = 10 ms, t_min = 2 ms)"))
    stimulus = encode(program.ir, torch.tensor([[1.0, 0.5, 0.125, 0.0]]))
    raster = stimulus.events["x"][:, 0]
    assert raster.sum(0).tolist() == [1, 1, 1, 0]  # one spike per nonzero input
    times = raster.argmax(0)[:3].tolist()
    assert times == [2, 6, 9]  # t = t_max - (t_max - t_min) x, in 1 ms steps


def test_rate_is_poisson_with_the_declared_rate_and_reproducible():
    program = compile_text(one_input("rate(max_rate = 100 Hz)"))
    x = torch.full((2000, 4), 0.5)
    first = encode(program.ir, x, torch.Generator().manual_seed(7)).events["x"]
    again = encode(program.ir, x, torch.Generator().manual_seed(7)).events["x"]
    assert torch.equal(first, again)
    rate = first.sum(0).mean() / 20e-3  # spikes per second
    assert rate == pytest.approx(50.0, rel=0.05)


def test_current_and_spike_data():
    program = compile_text(one_input("current(scale = 2.0)", "2, 2"))
    stimulus = encode(program.ir, torch.tensor([[[0.5, 1.0], [0.0, 0.25]]]))
    assert stimulus.values["x"].tolist() == [[1.0, 2.0, 0.0, 0.5]]  # 2-D input flattened row-major
    program = compile_text(one_input("spikes()"))
    events = torch.zeros(3, 20, 4)
    events[1, 5, 2] = 1
    assert encode(program.ir, events).events["x"][5, 1, 2] == 1
    with pytest.raises(SnncError, match=r"spike data must have shape \(samples, 20 steps, channels\)"):
        encode(program.ir, torch.zeros(3, 4))


def test_readouts():
    v = torch.tensor([[[0.0, 1.0]], [[2.0, 0.5]], [[1.0, 0.7]]])  # (T=3, B=1, N=2)
    z = torch.tensor([[[0.0, 0.0]], [[1.0, 0.0]], [[1.0, 0.0]]])
    assert max_membrane(v, None, 1e-3).tolist() == [[2.0, 1.0]]
    assert spike_count(None, z, 1e-3).tolist() == [[2.0, 0.0]]
    assert first_spike(None, z, 1e-3)[0].tolist() == pytest.approx([-1 / 3, -1.0])  # in durations; silent: -1


def test_sequence_windows_for_current_and_rate():
    program = compile_text(one_input("current(scale = 2.0)", "3"))
    x = torch.tensor([[[0.5, 1.0, 0.0], [0.0, 0.25, 1.0]]])  # (B = 1, W = 2, C = 3)
    assert encode(program.ir, x).values["x"].tolist() == [[[1.0, 2.0, 0.0]], [[0.0, 0.5, 2.0]]]  # (W, B, N)
    # 1 kHz at 1 ms steps: p = x, so values 0 and 1 are deterministic; 3 windows cut steps 6 and 13
    program = compile_text(one_input("rate(max_rate = 1 kHz)", "2"))
    x = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]])
    raster = encode(program.ir, x, torch.Generator().manual_seed(0)).events["x"][:, 0]
    assert raster[:6, 0].tolist() == [1] * 6 and raster[:6, 1].tolist() == [0] * 6
    assert raster[7:13, 0].tolist() == [0] * 6 and raster[7:13, 1].tolist() == [1] * 6
    assert raster[14:, 0].tolist() == [1] * 6 and raster[14:, 1].tolist() == [1] * 6
    assert int(raster[:, 1].sum()) >= 12


def test_a_sample_shape_that_fits_no_layout_is_an_error_naming_the_shapes():
    program = compile_text(one_input("current(scale = 2.0)", "3"))
    with pytest.raises(SnncError, match=r"input 'x' \(current, shape \[3\]\) got samples of shape \[2, 4\]; "
                                        r"expected \[3\] or \(windows, channels\) = \(W, 3\) for a sequence"):
        encode(program.ir, torch.zeros(1, 2, 4))
    program = compile_text(one_input("latency(t_max = 10 ms)", "3"))
    with pytest.raises(SnncError, match=r"got samples of shape \[2, 3\]; expected \[3\] \(`latency` codes one "
                                        "value per input"):
        encode(program.ir, torch.zeros(1, 2, 3))
