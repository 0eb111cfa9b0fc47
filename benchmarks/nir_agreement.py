"""Agreement with a peer through NIR: networks built and trained in snnTorch, exported by snnTorch to NIR,
imported and run by snnc on the same input spike trains, against snnTorch's own predictions.

Data: the embedded 8x8 digits (snnc's fixed train/test split), rate-coded by snnTorch's spikegen.rate
(p = pixel value per step, T steps, one fixed seed; or --coding latency: spikegen.latency, linear,
normalized) into spike trains (N, T, 64); both simulators get these
same arrays (for snnc as an .npz of `spikes()` data). Networks (snnTorch defaults: reset by subtraction,
reset_delay=True, per-neuron beta and threshold as its NIR export needs):
    ff:  Linear(64, H) -> Leaky -> Linear(H, 10) -> Leaky
    rnn: Linear(64, H) -> RLeaky(all-to-all H x H) -> Linear(H, 10) -> Leaky
trained with Adam on cross-entropy of the output spike counts (snntorch.functional.ce_count_loss), batch
64. Prediction: argmax of the output spike counts (the first maximum, in both). snnc imports the exported
file with `snnc import` defaults (dt = 1e-4 s, the snnTorch reset; docs/interop.md) and runs it on the
reference target; the last columns read the same file with --reset to_v_reset (the file's literal reset).

    .venv/bin/python benchmarks/nir_agreement.py [--epochs 8] [--steps 25] [--hidden 64]
        [--coding rate|latency] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

import snnc
from snnc.interop.nir_import import import_nir
from snnc.interop.options import ImportOptions
from snnc.runtime.data import digits
from snnc.runtime.emulators.base import emulator_for
from snnc.runtime.encoders import encode


def spike_data(steps: int, seed: int = 0, coding: str = "rate") -> dict[str, np.ndarray]:
    """The digits split, rate- or latency-coded by snnTorch into (N, T, 64) spike trains."""
    from snntorch import spikegen

    x_train, y_train, x_test, y_test = digits()
    torch.manual_seed(seed)

    def encode_(x: np.ndarray) -> torch.Tensor:
        x = torch.as_tensor(x.reshape(len(x), -1))
        if coding == "latency":  # one spike per pixel, brighter = earlier; dark pixels at the last step
            return spikegen.latency(x, num_steps=steps, normalize=True, linear=True)
        return spikegen.rate(x, num_steps=steps)
    return {"x_train": encode_(x_train).transpose(0, 1).numpy(), "y_train": y_train,
            "x_test": encode_(x_test).transpose(0, 1).numpy(), "y_test": y_test}


def build(kind: str, hidden: int, seed: int) -> torch.nn.Module:
    import snntorch as snn

    torch.manual_seed(seed)
    ones = torch.ones

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = torch.nn.Linear(64, hidden)
            self.lif1 = (snn.RLeaky(beta=0.9 * ones(hidden), threshold=ones(hidden), linear_features=hidden,
                                    init_hidden=True) if kind == "rnn"
                         else snn.Leaky(beta=0.9 * ones(hidden), threshold=ones(hidden), init_hidden=True))
            self.fc2 = torch.nn.Linear(hidden, 10)
            self.lif2 = snn.Leaky(beta=0.9 * ones(10), threshold=ones(10), init_hidden=True, output=True)

        def forward(self, x):
            return self.lif2(self.fc2(self.lif1(self.fc1(x))))

    return Net()


def snntorch_counts(net: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """(B, 10) output spike counts of x (B, T, 64)."""
    from snntorch import utils

    utils.reset(net)
    return torch.stack([net(x[:, t])[0] for t in range(x.shape[1])]).sum(0)


def train(net: torch.nn.Module, data: dict, epochs: int, seed: int) -> None:
    from snntorch import functional

    loss_fn = functional.ce_count_loss()
    optimizer = torch.optim.Adam(net.parameters(), lr=5e-3)
    x, y = torch.as_tensor(data["x_train"]), torch.as_tensor(data["y_train"])
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for batch in torch.randperm(len(x), generator=generator).split(64):
            from snntorch import utils

            utils.reset(net)
            spikes = torch.stack([net(x[batch, t])[0] for t in range(x.shape[1])])
            loss = loss_fn(spikes, y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def export(net: torch.nn.Module, path: Path) -> None:
    import nir
    from snntorch.export_nir import export_to_nir

    nir.write(path, export_to_nir(net, torch.zeros(1, 64), ignore_dims=[0]))


def snnc_counts(nir_path: Path, x: np.ndarray, reset: str = "auto") -> tuple[torch.Tensor, str]:
    """(B, 10) output spike counts of snnc running the imported graph, and the .snn text."""
    snn = nir_path.with_name(f"{nir_path.stem}_{reset}.snn")
    imported = import_nir(nir_path, snn, ImportOptions(steps=x.shape[1], reset=reset))
    program = snnc.compile(snn)
    emulator = emulator_for(program)
    output = program.ir.header.outputs[0].population
    counts = []
    for batch in torch.as_tensor(x).split(256):
        observation = emulator.observe(encode(program.ir, batch), emulator.initial_weights(), membranes="output")
        counts.append(observation.spikes[output].sum(0))
    return torch.cat(counts), imported.text


def compare(kind: str, data: dict, epochs: int, hidden: int, seed: int, folder: Path) -> dict:
    net = build(kind, hidden, seed)
    start = time.perf_counter()
    train(net, data, epochs, seed)
    train_seconds = time.perf_counter() - start
    x, y = torch.as_tensor(data["x_test"]), torch.as_tensor(data["y_test"])
    with torch.no_grad():
        theirs = snntorch_counts(net, x)
    path = folder / f"{kind}.nir"
    export(net, path)
    ours, _ = snnc_counts(path, data["x_test"])
    literal, _ = snnc_counts(path, data["x_test"], reset="to_v_reset")
    p_theirs, p_ours, p_literal = theirs.argmax(1), ours.argmax(1), literal.argmax(1)
    return {"network": kind, "coding": data["coding"], "hidden": hidden, "epochs": epochs, "steps": x.shape[1],
            "test_samples": len(y),
            "snntorch_train_seconds": round(train_seconds, 1),
            "snntorch_accuracy": float((p_theirs == y).float().mean()),
            "snnc_accuracy": float((p_ours == y).float().mean()),
            "same_prediction": float((p_ours == p_theirs).float().mean()),
            "same_output_spike_counts": float((ours == theirs).all(1).float().mean()),
            "literal_reset_accuracy": float((p_literal == y).float().mean()),
            "literal_reset_same_prediction": float((p_literal == p_theirs).float().mean())}


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--coding", choices=("rate", "latency"), default="rate")
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    data = {**spike_data(args.steps, args.seed, args.coding), "coding": args.coding}
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for kind in ("ff", "rnn"):
            rows.append(compare(kind, data, args.epochs, args.hidden, args.seed, Path(folder)))
            print(json.dumps(rows[-1]))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return rows


if __name__ == "__main__":
    main()
