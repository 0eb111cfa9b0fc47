"""`make mutate`: mutation testing of the compiler's passes and substrate maths, the emulators, the twin and
training (issue 16), with mutmut 3 (pinned in the Makefile).

Each group below is one mutmut run in its own directory, build/mutate/GROUP/: its modules are mutated,
only its tests run (the fast ones: `-m "not slow"`), and mutmut runs for each mutant only those of them
that call the mutated function (its stats run finds them). Results: a table of mutation scores per
module and every surviving mutant as a diff; build/mutate/GROUP/results.json keeps them, so groups may be
run one at a time (`python tools/mutate.py training`) and the table of all (`--summary`) read later.

Two things mutmut does not do on its own, done here (`patch_mutmut`):
- mutmut skips every decorated function; here a function whose decorators are all in TRANSPARENT (kept
  on the original and on each mutant: `torch.no_grad()`, numba's `njit`) or DESCRIPTORS (kept on the
  trampoline only: `property`, `cached_property`) is mutated too: `legalize_`, `observe`, `evaluate`, the
  chip's mismatch tables and the numba kernels are where the bugs of issue 16 were.
- numba cannot compile mutmut's trampolines, so a group that mutates numba kernels runs with
  NUMBA_DISABLE_JIT=1: its kernels run as Python (its tests are small), and a mutant is killed by a
  test's assertion, never by a typing error of numba. Other groups run the kernels compiled (cached in
  the group's copy after the first test).
Before any mutant, mutmut runs the group's tests on the unmutated copy (every trampoline and copy of an
original function in the path) and stops if one fails, and a forced-fail check proves a failing mutant
is seen. A collection error (pytest exit code 2) is not a kill: it is reported as `error`.

Equivalent mutants (no test can tell them apart from the original) are listed in
tools/mutate_equivalent.txt, one a line: `MODULE:FUNCTION: ORIGINAL LINE => MUTATED LINE || why`, the
fingerprint this script prints for a survivor. They are left out of the score and listed apart.
Score = killed / (mutants - equivalent); "no tests" (no selected test calls the function), survivors and
errors count against it; a timeout counts as killed (the mutant hung the test)."""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EQUIVALENT = REPO / "tools" / "mutate_equivalent.txt"
MUTMUT_VERSION = "3.8.1"


@dataclass(frozen=True)
class Group:
    """Modules mutated together and the fast tests that guard them."""

    name: str
    modules: tuple[str, ...]
    tests: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)


RT, EM, CT, CP = "snnc/runtime", "snnc/runtime/emulators", "snnc/compiler/targets", "snnc/compiler/passes"
TR, TC = "tests/runtime", "tests/compiler"
# In priority order (issue 16): training, the bss2 emulator and the core, routing, readouts and encoders first.
GROUPS = (
    Group("training", (f"{RT}/training.py", f"{RT}/in_the_loop.py", f"{RT}/evaluation.py", f"{RT}/methods/*.py"),
          (f"{TR}/test_training_values.py", f"{TR}/test_evaluation.py", f"{TR}/test_gradients.py",
           f"{TR}/test_training.py", f"{TR}/test_training_output.py", f"{TR}/test_python_surface.py",
           f"{TR}/test_seeds.py", f"{TR}/test_limits.py", f"{TR}/test_st_rsbp.py",
           f"--deselect={TR}/test_training.py::test_killed_process_resumes_bit_exactly")),
    Group("bss2-emulator", (f"{EM}/bss2.py", f"{EM}/spiking.py", f"{EM}/base.py", f"{EM}/membrane_noise.py",
                            f"{EM}/philox.py"),
          (f"{TR}/test_bss2.py", f"{TR}/test_bss2_values.py", f"{TR}/test_core.py", f"{TR}/test_seeds.py",
           f"{TR}/test_training_values.py", f"{TR}/test_noise.py")),
    Group("core", (f"{EM}/core.py", f"{RT}/twin.py"),
          (f"{TR}/test_core.py", f"{TR}/test_core_extensions.py", f"{TR}/test_core_values.py",
           f"{TR}/test_gradients.py", f"{TR}/test_fast_lif.py")),
    Group("routing", (f"{CT}/bss2_routing.py", f"{CP}/route_synapses.py"),
          (f"{TC}/test_bss2_placement.py", f"{TC}/test_bss2_routing_values.py", f"{TC}/test_records.py")),
    Group("readouts-encoders", (f"{RT}/readouts.py", f"{RT}/encoders.py", f"{EM}/analog.py"),
          (f"{TR}/test_encoders_readouts.py", f"{TR}/test_encoder_values.py", f"{TR}/test_core_values.py",
           f"{TR}/test_core.py")),
    Group("bss2-target", (f"{CT}/bss2.py", f"{CT}/bss2_layout.py", f"{CT}/bss2_estimates.py"),
          (f"{TC}/test_bss2_target.py", f"{TC}/test_bss2_placement.py", f"{TC}/test_legalize_weights.py",
           f"{TC}/test_bss2_estimates.py", f"{TC}/test_bss2_routing_values.py", f"{TC}/test_targets.py")),
    Group("fast-kernels", (f"{EM}/fast_kernels.py", f"{EM}/fast_adjoint.py", f"{EM}/fast_lif.py",
                           f"{EM}/fast_groups.py", f"{EM}/fast_events.py", f"{EM}/fast_buffers.py",
                           f"{EM}/fast_threads.py"),
          (f"{TR}/test_fast_lif.py", f"{TR}/test_fast_recurrent.py", f"{TR}/test_core_values.py"),
          {"NUMBA_DISABLE_JIT": "1"}),
    Group("onn", (f"{CT}/onn.py", f"{EM}/onn.py"),
          (f"{TC}/test_onn_target.py", f"{TC}/test_onn_legalize.py", f"{TC}/test_onn_place.py",
           f"{TR}/test_onn_emulator.py", f"{TR}/test_onn_values.py")),
    Group("passes", (f"{CP}/*.py",),
          (f"{TC}/test_errors.py", f"{TC}/test_limits.py", f"{TC}/test_bss2_placement.py", f"{TC}/test_golden.py",
           f"{TC}/test_legalize_weights.py", f"{TC}/test_onn_legalize.py", f"{TC}/test_onn_place.py",
           f"{TC}/test_bss2_estimates.py", f"{TC}/test_families.py", f"{TC}/test_driver.py",
           f"{TC}/test_bss2_routing_values.py", f"{TC}/test_pass_values.py", f"{TR}/test_core_extensions.py")),
    # the batch router's kernels are numba's: run as Python, as the fast kernels are
    Group("bss2-batch", (f"{CT}/bss2_batch.py", f"{CT}/bss2_batch_kernels.py", f"{CT}/bss2_demand.py"),
          (f"{TC}/test_bss2_batch_routing.py", f"{TC}/test_bss2_placement.py", f"{TC}/test_bss2_routing_values.py",
           f"{TC}/test_bss2_batch_kernels.py"),
          {"NUMBA_DISABLE_JIT": "1"}),
    Group("sparse", ("snnc/compiler/ir/synapses.py", f"{EM}/sparse.py"),
          (f"{TC}/test_ir.py", f"{TR}/test_sparse_dense.py", f"{TC}/test_bss2_placement.py",
           f"{TC}/test_legalize_weights.py")),
    # the Philox kernels as Python (numba's LLVM overloads of philox's uint32 helpers are not run then: the
    # fast kernels' tests compare the compiled draws with philox.normals, outside mutmut)
    Group("fast-noise", (f"{EM}/fast_noise.py",), (f"{TR}/test_noise.py",), {"NUMBA_DISABLE_JIT": "1"}),
)
# route_synapses is the routing group's
EXCLUDED_FROM = {"passes": (f"{CP}/route_synapses.py",)}

# Expressions starting on these lines are not mutated: the text of diagnostics, exceptions and progress
# lines (the error tests pin the texts users read; here it would double the run for no maths).
MESSAGES = (r"\berror\(", r"\bwarning\(", r"\bNote\(", r"\bprint\(", r"^\s*raise ", r"\bInternalError\(")
# One thread per process: mutmut runs max_children processes side by side on 2 shared cores.
QUIET_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1", "SNNC_THREADS": "1",
             "PYTHONHASHSEED": "0"}


def mutmut_config(group: Group, tree: Path) -> str:
    """The [tool.mutmut] section of the group's pyproject.toml (tests the tree does not have are left out)."""
    tests = [t for t in group.tests if t.startswith("-") or (tree / t).exists()]
    config = {"source_paths": ["snnc"], "only_mutate": list(group.modules),
              "do_not_mutate": list(EXCLUDED_FROM.get(group.name, ())),
              "also_copy": ["dsl_examples"], "pytest_add_cli_args_test_selection": tests,
              "pytest_add_cli_args": ["-m", "not slow", "-p", "no:cacheprovider"],
              "do_not_mutate_patterns": list(MESSAGES), "process_isolation": "forkserver",
              "use_setproctitle": False, "use_git_change_detection": False}
    return "\n[tool.mutmut]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in config.items())


def prepare(workdir: Path, tree: Path, group: Group) -> None:
    """A fresh directory whose snnc, tests and examples are the tree's (mutmut copies them to mutants/)."""
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    for name in ("snnc", "tests", "dsl_examples"):
        (workdir / name).symlink_to(tree / name)
    text = (tree / "pyproject.toml").read_text()
    (workdir / "pyproject.toml").write_text(text.split("\n[tool.mutmut]")[0] + mutmut_config(group, tree))


def run_group(group: Group, tree: Path, children: int, root: Path, sample: int = 0) -> dict:
    workdir = root / group.name
    prepare(workdir, tree, group)
    env = {**os.environ, **QUIET_ENV, **group.env, "SNNC_MUTATE_SAMPLE": str(sample)}
    start = time.time()
    log = (workdir / "mutmut.log").open("w")
    print(f"== {group.name}: mutmut on {', '.join(group.modules)} (log: {workdir / 'mutmut.log'})", flush=True)
    code = subprocess.call([sys.executable, str(Path(__file__).resolve()), "_mutmut", "run", "--max-children",
                            str(children)], cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    if code != 0:
        tail = (workdir / "mutmut.log").read_text()[-3000:]
        raise SystemExit(f"mutmut failed on group {group.name} (exit code {code}):\n{tail}")
    subprocess.check_call([sys.executable, str(Path(__file__).resolve()), "_report"], cwd=workdir, env=env)
    results = json.loads((workdir / "results.json").read_text())
    results["seconds"] = round(time.time() - start)
    results["group"], results["sample"] = group.name, sample
    (workdir / "results.json").write_text(json.dumps(results, indent=1))
    return results


# --- inside mutmut's process ----------------------------------------------------------------------------
TRANSPARENT = ("torch.no_grad()", "njit(")  # stay on the original and on every mutant
DESCRIPTORS = ("property", "cached_property", "functools.cached_property")  # on the trampoline only


def patch_mutmut() -> None:
    import libcst as cst
    from libcst.metadata import PositionProvider
    from mutmut.mutation import file_mutation as fm

    def source(decorator) -> str:
        return cst.Module([]).code_for_node(decorator.decorator).strip()

    def allowed(decorator) -> bool:
        text = source(decorator)
        return text in DESCRIPTORS or text.startswith(TRANSPARENT)

    skip = fm.MutationVisitor._skip_node_and_children

    def skip_node_and_children(self, node):
        if isinstance(node, cst.FunctionDef) and node.decorators and all(map(allowed, node.decorators)):
            if node.name.value in fm.NEVER_MUTATE_FUNCTION_NAMES:
                return True
            position = self.get_metadata(PositionProvider, node, None)
            if position and position.start.line in self._ignored_node_lines:
                self.ignored_functions.add(node.name.value)
                return True
            return False
        return skip(self, node)

    arrange = fm.function_trampoline_arrangement

    def function_trampoline_arrangement(function, mutants, class_name):
        declarations, nodes, assignments, names = arrange(function, mutants, class_name)
        copies = [n.with_changes(decorators=[d for d in n.decorators if source(d) not in DESCRIPTORS])
                  for n in nodes[1:]]
        return declarations, [nodes[0], *copies], assignments, names

    fm.MutationVisitor._skip_node_and_children = skip_node_and_children
    fm.function_trampoline_arrangement = function_trampoline_arrangement
    sample = int(os.environ.get("SNNC_MUTATE_SAMPLE", "0"))
    if sample:
        import mutmut.__main__ as main

        collect = main.collect_source_file_mutation_data

        def collect_a_sample(*, mutant_names):
            """At most `sample` mutants per module, the same ones on every tree with the same functions."""
            mutants, by_path = collect(mutant_names=mutant_names)
            chosen = []
            for path in sorted({str(m.path) for m, _, _ in mutants}):
                names = sorted(name for m, name, _ in mutants if str(m.path) == path)
                chosen += random.Random(f"{path}:{sample}").sample(names, min(sample, len(names)))
            keep = set(chosen)
            return [entry for entry in mutants if entry[1] in keep], by_path

        main.collect_source_file_mutation_data = collect_a_sample


def report() -> None:
    """results.json in the group's directory: every mutant's status, and the diff of those not killed."""
    from mutmut.__main__ import SourceFileMutationData, get_diff_for_mutant, walk_mutatable_files
    from mutmut.stats import status_by_exit_code

    mutants = []
    for path in walk_mutatable_files():
        data = SourceFileMutationData(path=path)
        data.load()
        for name, code in sorted(data.exit_code_by_key.items()):
            status = status_by_exit_code[code]
            if code is None:  # not in the sample
                continue
            if status == "check was interrupted by user":
                status = "error"
            entry = {"name": name, "module": str(path), "status": status}
            if status not in ("killed", "timeout"):
                entry["diff"] = get_diff_for_mutant(name, path=path)
            mutants.append(entry)
    Path("results.json").write_text(json.dumps({"mutants": mutants}, indent=1))


# --- the table ----------------------------------------------------------------------------------------
def fingerprint(entry: dict) -> str:
    """MODULE:FUNCTION: ORIGINAL => MUTATED, from the mutant's diff (stable when mutants are renumbered)."""
    function = entry["name"].rpartition(".")[2].split("__mutmut_")[0]
    function = function[2:] if function.startswith("x_") else function.replace("xǁ", "").replace("ǁ", ".")
    lines = entry.get("diff", "").splitlines()
    old = " / ".join(x[1:].strip() for x in lines if x.startswith("-") and not x.startswith("---"))
    new = " / ".join(x[1:].strip() for x in lines if x.startswith("+") and not x.startswith("+++"))
    return f"{entry['module']}:{function}: {old} => {new}"


def equivalents() -> dict[str, str]:
    table = {}
    if EQUIVALENT.exists():
        for line in EQUIVALENT.read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                key, _, why = line.partition(" || ")
                table[key.strip()] = why.strip()
    return table


def summarize(results: list[dict], show_survivors: bool = True) -> float:
    known = equivalents()
    rows: dict[str, dict[str, int]] = {}
    survivors, used = [], set()
    for group in results:
        for entry in group["mutants"]:
            row = rows.setdefault(entry["module"], {})
            status = entry["status"]
            if status not in ("killed", "timeout"):
                key = fingerprint(entry)
                if key in known:
                    status = "equivalent"
                    used.add(key)
                else:
                    survivors.append((entry, key))
            row[status] = row.get(status, 0) + 1
    total_killed = total_counted = 0
    print(f"\n{'module':55} {'mutants':>7} {'killed':>6} {'surv.':>5} {'no test':>7} {'equiv.':>6} {'other':>5} "
          f"{'score':>6}")
    for module in sorted(rows):
        row = rows[module]
        killed = row.get("killed", 0) + row.get("timeout", 0)
        total = sum(row.values())
        counted = total - row.get("equivalent", 0)
        other = counted - killed - row.get("survived", 0) - row.get("no tests", 0)
        total_killed, total_counted = total_killed + killed, total_counted + counted
        score = 100.0 * killed / counted if counted else 100.0
        print(f"{module:55} {total:7} {killed:6} {row.get('survived', 0):5} {row.get('no tests', 0):7} "
              f"{row.get('equivalent', 0):6} {other:5} {score:5.1f}%")
    score = 100.0 * total_killed / total_counted if total_counted else 100.0
    print(f"{'all':55} {total_counted:7} {total_killed:6} {'':5} {'':7} {'':6} {'':5} {score:5.1f}%")
    if show_survivors and survivors:
        print(f"\n{len(survivors)} mutants not killed (status, fingerprint for {EQUIVALENT.name}, diff):")
        for entry, key in survivors:
            print(f"\n[{entry['status']}] {entry['name']}\n  {key}")
            print("".join(f"    {line}\n" for line in entry.get("diff", "").splitlines()[2:]))
    stale = sorted(set(known) - used)
    if stale and results:
        print(f"\n{len(stale)} lines of {EQUIVALENT.name} matched no surviving mutant of the groups run")
    return score


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_mutmut"]:
        patch_mutmut()
        from mutmut.__main__ import cli
        sys.argv = ["mutmut", *argv[1:]]
        return cli()
    if argv[:1] == ["_report"]:
        patch_mutmut()
        report()
        return 0
    names = [g.name for g in GROUPS]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("groups", nargs="*", metavar="GROUP", help=f"groups to run (default all): {', '.join(names)}")
    parser.add_argument("--tree", type=Path, default=REPO, help="the source tree to measure (default: this one)")
    parser.add_argument("--out", type=Path, default=REPO / "build" / "mutate", help="where runs and results go")
    parser.add_argument("--children", type=int, default=2, help="mutants tested at once (default 2)")
    parser.add_argument("--sample", type=int, default=0, metavar="N",
                        help="test a seeded random sample of N mutants per module (default: all)")
    parser.add_argument("--summary", action="store_true", help="only print the table of the results saved in --out")
    parser.add_argument("--list", action="store_true", help="list the groups, their modules and tests")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.groups) - set(names))
    if unknown:
        parser.error(f"unknown group(s) {', '.join(unknown)}; groups: {', '.join(names)}")
    if args.list:
        for g in GROUPS:
            print(f"{g.name}: {' '.join(g.modules)}\n  tests: {' '.join(g.tests)}"
                  + (f"\n  env: {g.env}" if g.env else ""))
        return 0
    selected = [g for g in GROUPS if g.name in args.groups] if args.groups else list(GROUPS)
    if not args.summary:
        for group in selected:
            result = run_group(group, args.tree.resolve(), args.children, args.out.resolve(), args.sample)
            print(f"   {len(result['mutants'])} mutants in {result['seconds']} s", flush=True)
    results = [json.loads(p.read_text()) for g in GROUPS if (p := args.out / g.name / "results.json").exists()]
    summarize(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
