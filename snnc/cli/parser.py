"""The `snnc` argument parser: every command, its flags and its handler (commands.py), in one place.

One flag, one spelling: wherever an option applies it has the same short and long form (`-t/--target`,
`-o/--output`, `-q/--quiet`, `--chips`, `--seed`, `--json`), added by the helpers below."""

from __future__ import annotations

import argparse

from snnc import defaults
from snnc.cli.commands import (
    cmd_check,
    cmd_compile,
    cmd_export,
    cmd_import,
    cmd_report,
    cmd_run,
    cmd_targets,
    cmd_train,
)
from snnc.compiler.ir.training import METHODS, TWINS
from snnc.interop.options import RESETS
from snnc.version import __version__


class Parser(argparse.ArgumentParser):
    """argparse, remembering the last usage error so that `--json` can report it too."""

    last_error: str | None = None

    def error(self, message: str):
        Parser.last_error = f"{self.prog}: {message}"
        super().error(message)


def seed(text: str) -> int:
    """A seed flag's value: an integer >= 0 (argparse reports anything else as a usage error)."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"a seed is an integer >= 0, not {value}")
    return value


def positive(text: str) -> int:
    """A count flag's value: an integer >= 1 (argparse reports anything else as a usage error)."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _json(p: argparse.ArgumentParser, text: str = "print machine-readable JSON on stdout") -> None:
    p.add_argument("--json", action="store_true", help=text + " (failures too: code, message, file, line, column)")


def _quiet(p: argparse.ArgumentParser, text: str = "print only errors") -> None:
    p.add_argument("--quiet", "-q", action="store_true", default=argparse.SUPPRESS, help=text)


def _target(p: argparse.ArgumentParser, default: str | None, text: str) -> None:
    p.add_argument("--target", "-t", metavar="T", default=default, help=text)


def _output(p: argparse.ArgumentParser, metavar: str, text: str) -> None:
    p.add_argument("--output", "-o", metavar=metavar, help=text)


def _chips(p: argparse.ArgumentParser, text: str) -> None:
    p.add_argument("--chips", type=int, metavar="N", help=text)


def _seed(p: argparse.ArgumentParser, default: int | None, text: str) -> None:
    p.add_argument("--seed", type=seed, metavar="N", default=default, help=text)


def _program(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE", help="a .snn program or a .nir graph")
    p.add_argument("--network", metavar="NAME", help="which network of the file (default: the only one)")


def _nir(parser: argparse.ArgumentParser) -> None:
    """The flags that say how to read a .nir FILE (docs/interop.md)."""
    group = parser.add_argument_group("reading a .nir file (docs/interop.md)")
    group.add_argument("--dt", type=float, metavar="SECONDS",
                       help="time step the graph was written for (default: its snnc metadata, else 1e-4 as "
                       "snnTorch and Norse write)")
    group.add_argument("--steps", type=int, metavar="N", help="time steps per sample (default: the spike data's, "
                       "else 100)")
    group.add_argument("--reset", choices=RESETS, default="auto",
                       help="spiking neurons' reset: to_v_reset as NIR says, subtract as snnTorch's default "
                       "Leaky; auto: subtract for graphs written the way snnTorch writes them")
    group.add_argument("--readout", metavar="R", help="readout of the output (default: spike_count for spiking "
                       "neurons, max_membrane otherwise)")


def _runtime(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", metavar="DATA", help="digits, an .npz file, or MNIST idx file(s) (default: the "
                   "train block's data)")
    p.add_argument("--threads", type=int, metavar="N", help="CPU threads for torch (default: 1)")


CHIPS = "spread a multi-chip target (bss2) over N chips (default: the target's own count)"
OUTPUTS = "build/NETWORK.TARGET"  # artifact.DEFAULT_OUTPUT, as the help says it


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="snnc", description="Compile, train and run spiking and physical neural networks on "
                    "neuromorphic and physical substrates (emulated).")
    parser.add_argument("--version", action="version", version=f"snnc {__version__}")
    parser.add_argument("--quiet", "-q", action="store_true", help="print only errors")
    parser.add_argument("--debug", action="store_true", help="show Python tracebacks (for snnc developers)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = commands.add_parser("check", help="parse and validate a program; report all errors at once",
                            description="Parse and validate FILE; all errors of the run are reported "
                            "together. With --target, also run that target's whole pipeline.")
    _program(p)
    _target(p, None, "also check against a target (name or .yaml path)")
    _chips(p, "with a multi-chip --target (bss2): check the placement over N chips")
    _seed(p, defaults.SEED, f"with --target: seed of the weight initialization (default: {defaults.SEED})")
    p.add_argument("--dump-ir-after", metavar="PASS", help="print the IR as JSON after this pass")
    _quiet(p)
    _json(p)
    _nir(p)
    p.set_defaults(handler=cmd_check)

    p = commands.add_parser("compile", help="compile a program for a target",
                            description="Compile FILE for a target and write the program directory "
                            "(program.json, weights.npz, report.*) atomically.")
    _program(p)
    _target(p, defaults.TARGET, f"target name (see `snnc targets`) or a .yaml path (default: {defaults.TARGET})")
    _output(p, "DIR", f"output directory; {{network}} and {{target}} are replaced (default: {OUTPUTS})")
    _chips(p, CHIPS)
    _seed(p, defaults.SEED, f"seed of the weight initialization (default: {defaults.SEED})")
    p.add_argument("--dump-ir-after", metavar="PASS", help="print the IR as JSON after this pass")
    _quiet(p)
    _json(p)
    _nir(p)
    p.set_defaults(handler=cmd_compile)

    p = commands.add_parser("report", help="show the placement report of a compiled program",
                            description="Print a compact summary of DIR's placement report.")
    p.add_argument("directory", metavar="DIR", help="a compiled program directory")
    p.add_argument("--markdown", action="store_true", help="print the full Markdown report")
    _json(p)
    p.set_defaults(handler=cmd_report)

    p = commands.add_parser("targets", help="list the substrates and their resources")
    _json(p)
    p.set_defaults(handler=cmd_targets)

    p = commands.add_parser(
        "train", help="train a program in the loop on a target's emulator",
        description="Train FILE on the emulated target: forward on the substrate, backward through its "
        "digital twin. Defaults come from the program's `train` block; every flag overrides one. Writes the "
        "trained program, metrics.json, metrics.csv, plots and a per-epoch checkpoint to -o DIR.")
    _program(p)
    _target(p, defaults.TARGET, f"target (default: {defaults.TARGET})")
    _output(p, "DIR", f"output directory; {{network}} and {{target}} are replaced (default: {OUTPUTS}.trained)")
    _chips(p, CHIPS)
    _seed(p, None, "seed of weights, data order, encoding and noise, each its own stream (default: the train "
          f"block's, else {defaults.SEED})")
    p.add_argument("--chip-seed", type=seed, metavar="N",
                   help=f"which emulated chip (its fixed pattern); default {defaults.CHIP_SEED}")
    _runtime(p)
    p.add_argument("--epochs", type=int, metavar="N", help="number of epochs")
    p.add_argument("--batch", type=int, metavar="N", help="batch size")
    p.add_argument("--lr", type=float, help="learning rate")
    p.add_argument("--method", choices=METHODS, help="training method (the target decides which it offers)")
    p.add_argument("--twin", choices=TWINS, help="what the spiking twin takes from the substrate: its spikes, or "
                   "spikes and measured membranes (default: the train block's, else the target's)")
    p.add_argument("--resume", action="store_true", help="continue the run checkpointed in -o DIR")
    p.add_argument("--force", action="store_true", help="replace a training run already in -o DIR")
    p.add_argument("--train-samples", type=int, metavar="N", help="use only the first N training samples")
    p.add_argument("--test-samples", type=int, metavar="N", help="use only the first N test samples")
    p.add_argument("--workers", type=positive, metavar="N",
                   help="train data-parallel in N processes on this machine, each on a shard of every batch "
                   "(under torchrun: the launcher's group; docs/runtime.md)")
    _quiet(p, "no progress output")
    _json(p, "print the metrics as JSON on stdout")
    _nir(p)
    p.set_defaults(handler=cmd_train)

    p = commands.add_parser(
        "run", help="run a compiled program on its target's emulator and report accuracy",
        description="Inference of the compiled program DIR on a data set. With --target or --chips, deploy "
        "it there first (no retraining). By default it runs as its training's final test evaluation did "
        "(same chip, seed and test samples), so it reports the same accuracy; it says so, or why not.")
    p.add_argument("directory", metavar="DIR", help="a compiled (or trained) program directory, a .snn program "
                   "or a .nir graph")
    _target(p, None, "deploy onto this target first (no retraining); for a .snn or .nir file: compile it for "
            f"this target (default: {defaults.TARGET})")
    _chips(p, "deploy over N chips of a multi-chip target first (default: as compiled)")
    _seed(p, None, "seed of temporal noise and stochastic encoders, each its own stream (default: the "
          f"training's, else {defaults.SEED})")
    p.add_argument("--chip-seed", type=seed, metavar="N", help="which emulated chip (default: the one it was "
                   "trained on)")
    _runtime(p)
    p.add_argument("--split", default="test", choices=("test", "train", "all"), help="data split (default test)")
    p.add_argument("--samples", type=int, metavar="N", help="only the first N samples of the split (default: "
                   "as many as the training's test evaluation)")
    _quiet(p)
    _json(p, "print the result as JSON on stdout")
    _nir(p)
    p.set_defaults(handler=cmd_run)

    p = commands.add_parser(
        "import", help="convert a NIR graph (snnTorch, Norse, ...) into a .snn program",
        description="Convert MODEL.nir into a readable .snn program, its weights in .npy files beside it "
        "(docs/interop.md says how each NIR node maps).")
    p.add_argument("file", metavar="MODEL.nir", help="a NIR graph (HDF5)")
    _output(p, "NET.snn", "the program to write (default: MODEL.snn beside MODEL.nir)")
    _quiet(p)
    _json(p, "print what was written as JSON on stdout")
    _nir(p)
    p.set_defaults(handler=cmd_import)

    p = commands.add_parser(
        "export", help="write a compiled or trained program as a NIR graph",
        description="Write the network of the program directory DIR, with the weights its target deploys "
        "(on bss2 the hardware weights / scale), as a NIR graph that nir.read, snnTorch and Norse load.")
    p.add_argument("directory", metavar="DIR", help="a compiled (or trained) program directory")
    p.add_argument("--nir", "--output", "-o", dest="nir", metavar="OUT.nir", required=True,
                   help="the NIR file to write")
    _quiet(p)
    _json(p, "print what was written as JSON on stdout")
    p.set_defaults(handler=cmd_export)
    return parser
