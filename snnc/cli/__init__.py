"""The `snnc` command line: `build_parser()` and `run(argv)`, so every command is callable in-process.
The parser (parser.py) names every command and its flags; each command's handler (commands.py) calls
the Python API. Start-up imports no torch: train and run import the runtime when they run.

Exit codes: 0 success, 1 bad input (diagnostics printed), 2 bad usage, 3 internal error. A failure is
printed on stderr (`file:line:col: error[E123]: message`) and, with --json, also on stdout as
{"ok": false, "exit_code", "diagnostics": [{"severity", "code", "message", "file", "line", "column", ...}]}."""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from collections.abc import Sequence

from snnc.cli.commands import EXIT_INPUT, EXIT_INTERNAL, EXIT_OK, EXIT_USAGE
from snnc.cli.parser import Parser, build_parser
from snnc.diagnostics import Diagnostic, SnncError, UsageError, error

__all__ = ["EXIT_INPUT", "EXIT_INTERNAL", "EXIT_OK", "EXIT_USAGE", "UsageError", "build_parser", "main", "run"]


def _json_failure(exit_code: int, diagnostics: list[Diagnostic]) -> None:
    print(json.dumps({"ok": False, "exit_code": exit_code, "diagnostics": [d.to_dict() for d in diagnostics]},
                     indent=1))


def run(argv: Sequence[str] | None = None) -> int:
    """Run one `snnc` command line (sys.argv's without `argv`); returns the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    Parser.last_error = None
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help, --version (0) or a usage error (2)
        if exc.code == EXIT_USAGE and "--json" in argv and Parser.last_error:
            _json_failure(EXIT_USAGE, [error("usage", Parser.last_error)])
        return int(exc.code or 0)
    args.started = time.perf_counter()  # the command's wall time, as the handlers report it
    try:
        return args.handler(args)
    except SnncError as exc:
        if exc.diagnostics:  # none: a data-parallel worker that stops because another failed (rank 0 reports)
            print(exc.render(), file=sys.stderr)
            if getattr(args, "json", False):
                _json_failure(EXIT_INPUT, exc.diagnostics)
        return EXIT_INPUT
    except UsageError as exc:
        print(f"snnc {args.command}: error: {exc}", file=sys.stderr)
        if getattr(args, "json", False):
            _json_failure(EXIT_USAGE, [error("usage", f"snnc {args.command}: {exc}")])
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
        if getattr(args, "json", False):
            _json_failure(EXIT_INTERNAL, [error("internal", f"{type(exc).__name__}: {exc}")])
        return EXIT_INTERNAL


def main() -> None:
    code = run()
    launch = sys.modules.get("snnc.runtime.launch")  # imported only by commands that can train in a group
    if launch is not None and launch.took_part_in_group:
        launch.end_process(code)
    sys.exit(code)
