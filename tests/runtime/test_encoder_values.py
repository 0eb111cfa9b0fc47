"""Encoders against hand-computed rasters and values (issue 16): latency times and their rounding and
clipping onto the grid, rate probabilities at their bounds, spike data clipped and transposed, analog
values scaled, and the inputs encode refuses."""

from __future__ import annotations

import pytest
import torch

from snnc.compiler.ir.encoders import Latency, Rate
from snnc.diagnostics import SnncError
from snnc.runtime import encoders
from snnc.runtime.encoders import encode
from tests.runtime.conftest import compile_text


def one_input(encoder: str, shape: str = "4", duration: str = "10 ms") -> str:
    return f"""network e {{
        timestep 1 ms
        duration {duration}
        input x[{shape}] : {encoder}
        pop   o[2] : LI(tau_mem = 5 ms, tau_syn = 5 ms)
        proj x -> o : dense
        output o : max_membrane
    }}"""


def spike_steps(raster: torch.Tensor) -> list[int | None]:
    """The step of each input's spike in sample 0 (None: silent)."""
    return [int(raster[:, 0, n].argmax()) if raster[:, 0, n].any() else None for n in range(raster.shape[2])]


def test_latency_times_round_to_the_grid_and_clip_to_the_run():
    encoder = Latency(t_max=12e-3, t_min=2e-3)
    x = torch.tensor([[1.0, 0.5, 0.26, 0.24, 0.04, 0.0]])
    raster = encoders.latency(encoder, x, 10, 1e-3, None)
    # t = 12 ms - 10 ms x: 2, 7, 9.4 -> 9, 9.6 -> 10 -> clipped to the last step 9, 11.6 -> 9; x = 0 never
    assert spike_steps(raster) == [2, 7, 9, 9, 9, None]
    assert raster.sum().item() == 5.0 and raster.shape == (10, 1, 6)
    half_ms = encoders.latency(encoder, torch.tensor([[0.55]]), 40, 0.5e-3, None)
    assert spike_steps(half_ms) == [13]  # 6.5 ms on a 0.5 ms grid


def test_rate_probability_is_max_rate_times_dt_times_x_clipped_to_one():
    g = torch.Generator().manual_seed(0)
    certain = encoders.rate(Rate(max_rate=2000.0), torch.tensor([[1.0, 0.5, 0.0]]), 50, 1e-3, g)
    assert certain[:, 0].sum(0).tolist() == [50.0, 50.0, 0.0]  # p = 2 and 1 (clipped to 1), and 0
    x = torch.full((4000, 1), 0.25)
    sparse = encoders.rate(Rate(max_rate=400.0), x, 5, 1e-3, torch.Generator().manual_seed(1))
    assert float(sparse.mean()) == pytest.approx(0.1, rel=0.05)  # 400 Hz x 1 ms x 0.25
    uniform = torch.rand((5, 4000, 1), generator=torch.Generator().manual_seed(1))
    assert torch.equal(sparse, (uniform < 0.1).float())  # a spike where the draw is below p


def test_spike_data_are_clipped_to_one_per_step_and_put_time_first():
    program = compile_text(one_input("spikes()", "3"))
    data = torch.zeros(2, 10, 3)
    data[0, 4, 1] = 3.0
    data[1, 9, 2] = 1.0
    data[1, 0, 0] = -1.0
    raster = encode(program.ir, data).events["x"]
    assert raster.shape == (10, 2, 3)
    assert raster[4, 0, 1] == 1.0 and raster[9, 1, 2] == 1.0 and raster.sum() == 2.0
    with pytest.raises(SnncError, match="spike data have 4 channels; input 'x' has 3 neurons"):
        encode(program.ir, torch.zeros(2, 10, 4))
    with pytest.raises(SnncError, match=r"must have shape \(samples, 10 steps, channels\); got \(2, 9, 3\)"):
        encode(program.ir, torch.zeros(2, 9, 3))


def test_analog_inputs_are_scaled_values():
    program = compile_text(one_input("current(scale = 0.5)", "2, 2"))
    current = encode(program.ir, torch.tensor([[[1.0, 0.5], [0.25, 0.0]]]))
    assert current.values["x"].tolist() == [[0.5, 0.25, 0.125, 0.0]] and current.events == {}
    assert current.batch == 1 and current.steps == 10
    optical = encoders.intensity(encoders.Intensity(photons=200.0), torch.tensor([[0.5, 1.0]]))
    assert optical.tolist() == [[100.0, 200.0]]


def test_latency_inputs_are_flattened_and_encoded_with_the_header_s_grid():
    program = compile_text(one_input("latency(t_max = 8 ms)", "2, 2", duration="10 ms"))
    stimulus = encode(program.ir, torch.tensor([[[1.0, 0.5], [0.25, 0.0]]]))
    assert stimulus.values == {} and stimulus.steps == 10 and stimulus.batch == 1
    assert spike_steps(stimulus.events["x"]) == [0, 4, 6, None]  # 8 ms - 8 ms x, row-major


def test_a_network_of_two_inputs_is_refused():
    text = """network two {
        timestep 1 ms
        duration 10 ms
        input a[2] : latency(t_max = 8 ms)
        input b[2] : latency(t_max = 8 ms)
        pop   o[2] : LI(tau_mem = 5 ms, tau_syn = 5 ms)
        proj a -> o : dense
        proj b -> o : dense
        output o : max_membrane
    }"""
    with pytest.raises(SnncError, match="network 'two' has 2 inputs; training and running on a data set need "
                                        "exactly one"):
        encode(compile_text(text).ir, torch.zeros(1, 2))
