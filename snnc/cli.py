"""The `snnc` command line: `build_parser()` and `run(argv)`, so every command is callable in-process.

Exit codes: 0 success, 1 bad input (diagnostics printed), 2 bad usage, 3 internal error."""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

import snnc
from snnc.diagnostics import SnncError, UsageError

EXIT_OK, EXIT_INPUT, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


def _print_warnings(diagnostics, sources, args) -> None:
    if args.quiet:
        return
    for d in diagnostics:
        print(d.render(sources), file=sys.stderr)


def _dump_callback(args) -> Callable | None:
    from snnc.compiler.driver import check_dump_pass

    if not getattr(args, "dump_ir_after", None):
        return None
    try:
        check_dump_pass(args.dump_ir_after)
    except ValueError as exc:
        raise UsageError(str(exc)) from None

    def after_pass(p, ir) -> None:
        if p.name == args.dump_ir_after:
            print(json.dumps(ir.to_dict(), indent=1))
    return after_pass


def cmd_check(args) -> int:
    results = snnc.check(args.file, network=args.network, target=args.target, after_pass=_dump_callback(args),
                         chips=args.chips)
    if args.json:
        print(json.dumps({"ok": True, "networks": [r.ir.name for r in results],
                          "diagnostics": [d.to_dict() for r in results for d in r.diagnostics]}, indent=1))
        return EXIT_OK
    for result in results:
        _print_warnings(result.diagnostics, {result.source.path: result.source.text}, args)
        if not args.quiet and not args.dump_ir_after:
            ir, warnings = result.ir, len(result.diagnostics)
            print(f"{args.file}: network '{ir.name}' ok: {len(ir.inputs())} inputs, "
                  f"{len(ir.populations())} populations, {len(ir.projections())} projections"
                  + (f", {warnings} warning{'s' if warnings != 1 else ''}" if warnings else ""))
    return EXIT_OK


def cmd_compile(args) -> int:
    from snnc.compiler.backend.report import build_report, render_summary

    target_name = Path(args.target).stem
    program = snnc.compile(args.file, target=args.target, network=args.network, seed=args.seed,
                           after_pass=_dump_callback(args), out=None, chips=args.chips)
    out = Path(args.output) if args.output else Path("build") / f"{program.name}.{target_name}"
    from snnc.compiler.backend.artifact import save_program

    save_program(program, out)
    report = build_report(program)
    if args.json:
        print(json.dumps({"ok": True, "output": str(out), "report": report}, indent=1))
    elif not args.quiet:
        for d in program.diagnostics:
            print(f"{d['severity']}: {d['message']}", file=sys.stderr)
        print(render_summary(report))
        print(f"wrote {out}/ ({', '.join(sorted(f.name for f in out.iterdir()))})")
    return EXIT_OK


def cmd_report(args) -> int:
    from snnc.compiler.backend.report import build_report, render_markdown, render_summary

    program = snnc.load(args.directory)
    report = build_report(program)
    if args.json:
        print(json.dumps(report, indent=1))
    elif args.markdown:
        print(render_markdown(report))
    else:
        print(render_summary(report))
    return EXIT_OK


def cmd_targets(args) -> int:
    targets = snnc.targets()
    if args.json:
        print(json.dumps([{"name": t.name, "family": t.family.name, "description": t.description,
                           "resources": t.spec.get("resources", {})} for t in targets], indent=1))
        return EXIT_OK
    for target in targets:
        print(f"{target.name:<12} {target.description}")
        for key, value in target.spec.get("resources", {}).items():
            print(f"    {key}: {value}")
    return EXIT_OK


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON on stdout")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="snnc", description="Compile, train and run spiking and physical neural networks on "
        "neuromorphic and physical substrates (emulated).")
    parser.add_argument("--version", action="version", version=f"snnc {snnc.__version__}")
    parser.add_argument("--quiet", "-q", action="store_true", help="print only errors")
    parser.add_argument("--debug", action="store_true", help="show Python tracebacks (for snnc developers)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = commands.add_parser("check", help="parse and validate a program; report all errors at once",
                            description="Parse and validate FILE; all errors of the run are reported "
                            "together. With --target, also run that target's whole pipeline.")
    p.add_argument("file", metavar="FILE", help="a .snn program")
    p.add_argument("--network", metavar="NAME", help="which network of the file (default: the only one)")
    p.add_argument("--target", metavar="T", help="also check against a target (name or .yaml path)")
    p.add_argument("--chips", type=int, metavar="N", help="with --target bss2: check the placement over N chips")
    p.add_argument("--dump-ir-after", metavar="PASS", help="print the IR as JSON after this pass")
    _add_common(p)
    p.set_defaults(handler=cmd_check)

    p = commands.add_parser("compile", help="compile a program for a target",
                            description="Compile FILE for a target and write the program directory "
                            "(program.json, weights.npz, report.*) atomically.")
    p.add_argument("file", metavar="FILE", help="a .snn program")
    p.add_argument("--target", "-t", metavar="T", default="reference",
                   help="target name (see `snnc targets`) or a .yaml path (default: reference)")
    p.add_argument("--output", "-o", metavar="DIR", help="output directory (default: build/NETWORK.TARGET)")
    p.add_argument("--network", metavar="NAME", help="which network of the file (default: the only one)")
    p.add_argument("--seed", type=int, default=0, help="seed for weight initialization (default: 0)")
    p.add_argument("--chips", type=int, metavar="N",
                   help="spread a multi-chip target (bss2) over N chips (default: the target's own count)")
    p.add_argument("--dump-ir-after", metavar="PASS", help="print the IR as JSON after this pass")
    _add_common(p)
    p.set_defaults(handler=cmd_compile)

    p = commands.add_parser("report", help="show the placement report of a compiled program",
                            description="Print a compact summary of DIR's placement report.")
    p.add_argument("directory", metavar="DIR", help="a compiled program directory")
    p.add_argument("--markdown", action="store_true", help="print the full Markdown report")
    _add_common(p)
    p.set_defaults(handler=cmd_report)

    p = commands.add_parser("targets", help="list the substrates and their resources")
    _add_common(p)
    p.set_defaults(handler=cmd_targets)

    for register in EXTRA_COMMANDS:
        register(commands)
    return parser


# Runtime commands (run, train) add themselves here, keeping this module free of torch imports.
EXTRA_COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = []
import snnc.runtime.commands  # noqa: E402,F401 - registers `train` and `run` (imports no torch)


def run(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help, --version (0) or a usage error (2)
        return int(exc.code or 0)
    try:
        return args.handler(args)
    except SnncError as exc:
        print(exc.render(), file=sys.stderr)
        return EXIT_INPUT
    except UsageError as exc:
        print(f"snnc {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # `snnc ... | head`: the reader left; not an error of ours
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps the interpreter's final flush quiet
        return EXIT_OK
    except KeyboardInterrupt:
        print("snnc: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence against tracebacks
        if args.debug:
            traceback.print_exc()
        else:
            print(f"snnc: internal error: {type(exc).__name__}: {exc}\n"
                  "This is a bug in snnc; rerun with --debug for the traceback and report it.", file=sys.stderr)
        return EXIT_INTERNAL


def main() -> None:
    sys.exit(run())
