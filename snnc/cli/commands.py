"""The handlers of the `snnc` commands: each takes the parsed arguments, calls the Python API (import
and export: snnc.interop), prints the result and returns the exit code. `train` and `run` import the
runtime (and torch) when they run, `import` and `export` the nir package, so the others start without."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import snnc
from snnc.diagnostics import UsageError
from snnc.interop.nir_source import is_nir
from snnc.interop.options import ImportOptions

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


def _nir_options(args: argparse.Namespace) -> ImportOptions:
    """How to read a .nir FILE, as the flags say."""
    options = ImportOptions(dt=args.dt, steps=args.steps, readout=args.readout, reset=args.reset)
    if options.problem():
        raise UsageError(options.problem())
    return options


def _nir(args: argparse.Namespace, path: str) -> dict:
    """The `nir=` option of snnc.compile/train/run for a .nir `path` (none for a .snn program)."""
    return {"nir": _nir_options(args)} if is_nir(path) else {}


def cmd_check(args: argparse.Namespace) -> int:
    results = snnc.check(args.file, network=args.network, target=args.target, after_pass=_dump_callback(args),
                         chips=args.chips, seed=args.seed, **_nir(args, args.file))
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


def _wall(args: argparse.Namespace) -> float:
    """Seconds since the command started (what the commands print as their time)."""
    return time.perf_counter() - args.started


def cmd_compile(args: argparse.Namespace) -> int:
    from snnc.compiler.backend.artifact import DEFAULT_OUTPUT, output_directory, save_program
    from snnc.compiler.backend.report import build_report, render_summary

    program = snnc.compile(args.file, target=args.target, network=args.network, seed=args.seed,
                           after_pass=_dump_callback(args), out=None, chips=args.chips,
                           **_nir(args, args.file))
    out = output_directory(args.output or DEFAULT_OUTPUT, program)
    save_program(program, out)
    report = build_report(program)
    if args.json:
        print(json.dumps({"ok": True, "output": str(out), "report": report}, indent=1))
    elif not args.quiet:
        for d in program.diagnostics:
            print(f"{d['severity']}[{d['code']}]: {d['message']}", file=sys.stderr)
        print(render_summary(report))
        print(f"wrote {out}/ ({', '.join(sorted(f.name for f in out.iterdir()))}) in {_wall(args):.1f} s")
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
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


def cmd_targets(args: argparse.Namespace) -> int:
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


def _prepare_runtime(args: argparse.Namespace) -> None:
    """The process settings of a training or inference run (the library leaves them alone)."""
    import torch

    from snnc.runtime import tune_memory

    # One thread by default: the time loop works on small (batch, neurons) tensors where threads gain
    # little, and OpenMP threads on cores shared with other work slow each op by orders of magnitude
    # (measured: an elementwise op on 256x246 floats took 15 ms with 2 threads on 2 busy cores, 22 us with 1).
    torch.set_num_threads(args.threads or 1)
    tune_memory()  # the emulators' outputs reuse freed memory: docs/runtime.md, "The fast path"


def _notify(args: argparse.Namespace) -> Callable[[str], None] | None:
    """Where the runtime's notices of long waits go: stderr, unless -q or --json."""
    if args.quiet or args.json:
        return None
    return lambda message: print(message, file=sys.stderr, flush=True)


def _source_text(path: str) -> dict[str, str]:
    """A .snn source's text for the excerpts under warnings (none for a program directory or a NIR file)."""
    file = Path(path)
    if file.suffix != ".snn" or not file.is_file():
        return {}
    return {path: file.read_text(encoding="utf-8", errors="replace")}


def _print_notes(notes: list[str]) -> None:
    """What the runtime did that the user did not ask for in so many words (the digits resized)."""
    for note in notes:
        print(f"note: {note}", file=sys.stderr)


def cmd_train(args: argparse.Namespace) -> int:
    from snnc.compiler.backend.artifact import DEFAULT_OUTPUT

    _prepare_runtime(args)
    result = snnc.train(args.file, target=args.target, network=args.network, out=args.output or
                        f"{DEFAULT_OUTPUT}.trained", data=args.data, epochs=args.epochs, batch=args.batch,
                        lr=args.lr, seed=args.seed, chip_seed=args.chip_seed, method=args.method, chips=args.chips,
                        twin=args.twin, resume=args.resume, force=args.force, train_samples=args.train_samples,
                        test_samples=args.test_samples, progress=not (args.quiet or args.json),
                        notify=_notify(args), workers=args.workers, **_nir(args, args.file))
    metrics = result.metrics
    if result.rank != 0:  # another worker of a data-parallel run: rank 0 reports
        return EXIT_OK
    if args.json:
        print(json.dumps({"ok": True, "output": str(result.output), "wall_seconds": _wall(args),
                          "notes": result.notes, **metrics}, indent=1))
    elif not args.quiet:
        _print_warnings(result.diagnostics, _source_text(args.file), args)
        rows = metrics["epochs"]
        _print_notes(result.notes)
        print(f"{metrics['network']} trained on {metrics['target']} ({metrics['config']['method']}, "
              f"{len(rows)} epoch{'s' if len(rows) != 1 else ''}, {_wall(args):.1f} s in all, "
              f"{metrics['train_seconds']:.1f} s of it in training steps): test accuracy "
              f"{100 * metrics['test_accuracy']:.2f}%, "
              f"{metrics['spikes_per_sample']:.1f} spikes/sample")
        print(f"wrote {result.output}/ (trained program, report.html, metrics.json, metrics.csv, plots, checkpoint)")
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    _prepare_runtime(args)
    result = snnc.run(args.directory, data=args.data, target=args.target, chips=args.chips,
                      chip_seed=args.chip_seed, seed=args.seed, split=args.split, samples=args.samples,
                      notify=_notify(args), **_nir(args, args.directory))
    if args.json:
        print(json.dumps({"ok": True, "wall_seconds": _wall(args), **result.to_dict()}, indent=1))
    elif not args.quiet:
        _print_notes(result.notes)
        print(f"{result.network} on {result.target} (chip seed {result.chip_seed}, seed {result.seed}), "
              f"{result.data} {result.split} split, {result.samples} samples: accuracy "
              f"{100 * result.accuracy:.2f}%, {result.spikes_per_sample:.1f} spikes/sample, "
              f"{result.samples_per_second:.0f} samples/s, {_wall(args):.1f} s"
              + "".join(f", {key} {value:.4g}" for key, value in result.energy.items()))
        if result.trained_accuracy is not None:
            print(reproduction(result))
        if result.chip_estimates:
            print(f"on the chip (estimated, docs/targets.md): {result.chip_estimates['samples_per_second']:,.0f} "
                  f"samples/s, {1e6 * result.chip_estimates['energy_per_sample_j']:.3g} uJ/sample")
    return EXIT_OK


def reproduction(result) -> str:
    """Whether a run of a trained program reproduced the training's final test accuracy, or why not."""
    trained = f"{100 * result.trained_accuracy:.2f}%"
    if not result.differences:
        same = "the same as" if result.accuracy == result.trained_accuracy else "NOT the same as"
        return f"{same} the training's final test accuracy ({trained}): same chip, seed, data and samples"
    return f"the training's final test accuracy was {trained}; this run differs: {'; '.join(result.differences)}"


def _print_interop_warnings(diagnostics, args: argparse.Namespace) -> None:
    if not (args.quiet or args.json):
        for d in diagnostics:
            print(d.render(), file=sys.stderr)


def cmd_import(args: argparse.Namespace) -> int:
    from snnc.interop.nir_import import import_nir

    options = _nir_options(args)
    out = Path(args.output) if args.output else Path(args.file).with_suffix(".snn")
    if out.suffix != ".snn":
        raise UsageError(f"the output must be a .snn file, not '{out}'")
    imported = import_nir(args.file, out, options)
    files = [str(out.parent / name) for name in imported.arrays]
    if args.json:
        print(json.dumps({"ok": True, "output": str(out), "network": imported.name, "weight_files": files,
                          "diagnostics": [d.to_dict() for d in imported.diagnostics]}, indent=1))
        return EXIT_OK
    _print_interop_warnings(imported.diagnostics, args)
    if not args.quiet:
        print(f"wrote {out} (network '{imported.name}') and {len(files)} weight file{'s' * (len(files) != 1)} "
              f"beside it; `snnc check {out}` reads it")
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from snnc.interop.nir_export import export_nir

    out = Path(args.nir)
    exported = export_nir(args.directory, out)
    graph = exported.graph
    if args.json:
        print(json.dumps({"ok": True, "output": str(out), "nodes": sorted(graph.nodes),
                          "diagnostics": [d.to_dict() for d in exported.diagnostics]}, indent=1))
        return EXIT_OK
    _print_interop_warnings(exported.diagnostics, args)
    if not args.quiet:
        print(f"wrote {out} (NIR graph of {len(graph.nodes)} nodes, {len(graph.edges)} edges)")
    return EXIT_OK
