"""The runtime's commands, `snnc train` and `snnc run`, added to the CLI through EXTRA_COMMANDS.
Importing this module imports no torch: the handlers import the runtime when they run."""

from __future__ import annotations

import argparse
import json
import os

from snnc.cli import EXTRA_COMMANDS
from snnc.compiler.ir.training import METHODS


def _threads(args) -> None:
    import torch

    # One thread by default: the time loop works on small (batch, neurons) tensors where threads gain
    # little, and OpenMP threads on cores shared with other work slow each op by orders of magnitude
    # (measured: an elementwise op on 256x246 floats took 15 ms with 2 threads on 2 busy cores, 22 us with 1).
    torch.set_num_threads(args.threads or 1)


def cmd_train(args) -> int:
    from snnc.runtime.training import train

    _threads(args)
    out = args.output or f"build/{os.path.splitext(os.path.basename(args.file))[0]}.trained"
    result = train(args.file, target=args.target, network=args.network, out=out, data=args.data,
                   epochs=args.epochs, batch=args.batch, lr=args.lr, seed=args.seed, chip_seed=args.chip_seed,
                   method=args.method, resume=args.resume, train_samples=args.train_samples,
                   test_samples=args.test_samples, progress=not (args.quiet or args.json))
    metrics = result.metrics
    if args.json:
        print(json.dumps({"ok": True, "output": str(result.output), **metrics}, indent=1))
    elif not args.quiet:
        rows = metrics["epochs"]
        rate = sum(r["train_samples_per_second"] for r in rows) / max(len(rows), 1)
        print(f"{metrics['network']} trained on {metrics['target']} ({metrics['config']['method']}, "
              f"{len(rows)} epochs, {metrics['train_seconds']:.1f} s, {rate:.0f} samples/s): test accuracy "
              f"{100 * metrics['test_accuracy']:.2f}%, {metrics['spikes_per_sample']:.1f} spikes/sample")
        print(f"wrote {result.output}/ (trained program, metrics.json, metrics.csv, plots, checkpoint)")
    return 0


def cmd_run(args) -> int:
    from snnc.runtime.inference import run

    _threads(args)
    result = run(args.directory, data=args.data, target=args.target, chip_seed=args.chip_seed, seed=args.seed,
                 split=args.split, samples=args.samples)
    if args.json:
        print(json.dumps({"ok": True, **result.to_dict()}, indent=1))
    elif not args.quiet:
        print(f"{result.network} on {result.target} (chip seed {result.chip_seed}), {result.data} {result.split} "
              f"split, {result.samples} samples: accuracy {100 * result.accuracy:.2f}%, "
              f"{result.spikes_per_sample:.1f} spikes/sample, {result.samples_per_second:.0f} samples/s"
              + "".join(f", {key} {value:.4g}" for key, value in result.energy.items()))
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    """Add `train` and `run` to the CLI's subcommands."""
    p = commands.add_parser(
        "train", help="train a program in the loop on a target's emulator",
        description="Train FILE on the emulated target: forward on the substrate, backward through its "
        "digital twin. Defaults come from the program's `train` block; every flag overrides one. Writes the "
        "trained program, metrics.json, metrics.csv, plots and a per-epoch checkpoint to -o DIR.")
    p.add_argument("file", metavar="FILE", help="a .snn program")
    p.add_argument("--target", "-t", metavar="T", default="reference", help="target (default: reference)")
    p.add_argument("--output", "-o", metavar="DIR", help="output directory (default: build/NAME.trained)")
    p.add_argument("--network", metavar="NAME", help="which network of the file (default: the only one)")
    p.add_argument("--data", metavar="DATA", help="digits, an .npz file, or MNIST idx file(s)")
    p.add_argument("--epochs", type=int, metavar="N", help="number of epochs")
    p.add_argument("--batch", type=int, metavar="N", help="batch size")
    p.add_argument("--lr", type=float, help="learning rate")
    p.add_argument("--seed", type=int, metavar="N", help="seed of weights, data order and noise")
    p.add_argument("--chip-seed", type=int, metavar="N", help="which emulated chip (its fixed pattern); default 0")
    p.add_argument("--method", choices=METHODS, help="training method (the target decides which it offers)")
    p.add_argument("--resume", action="store_true", help="continue the run checkpointed in -o DIR")
    p.add_argument("--train-samples", type=int, metavar="N", help="use only the first N training samples")
    p.add_argument("--test-samples", type=int, metavar="N", help="use only the first N test samples")
    p.add_argument("--threads", type=int, metavar="N", help="CPU threads for torch (default: 1)")
    p.add_argument("--quiet", "-q", action="store_true", default=argparse.SUPPRESS, help="no progress output")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON on stdout")
    p.set_defaults(handler=cmd_train)

    p = commands.add_parser(
        "run", help="run a compiled program on its target's emulator and report accuracy",
        description="Inference of the compiled program DIR on a data set. With --target, deploy it onto "
        "another target without retraining first.")
    p.add_argument("directory", metavar="DIR", help="a compiled (or trained) program directory")
    p.add_argument("--data", metavar="DATA", help="digits, an .npz, MNIST idx (default: the train block's data)")
    p.add_argument("--target", "-t", metavar="T", help="deploy onto this target first (no retraining)")
    p.add_argument("--chip-seed", type=int, help="which emulated chip (default: the one it was trained on)")
    p.add_argument("--seed", type=int, default=0, help="seed of temporal noise and stochastic encoders")
    p.add_argument("--split", default="test", choices=("test", "train", "all"), help="data split (default test)")
    p.add_argument("--samples", type=int, metavar="N", help="only the first N samples of the split")
    p.add_argument("--threads", type=int, metavar="N", help="CPU threads for torch (default: 1)")
    p.add_argument("--quiet", "-q", action="store_true", default=argparse.SUPPRESS, help="print only errors")
    p.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    p.set_defaults(handler=cmd_run)


EXTRA_COMMANDS.append(register)
