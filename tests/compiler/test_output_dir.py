"""Output directories: never replace what snnc did not write, never leave no valid directory, fsync,
clean up after crashed runs. The kill between the two renames is simulated in-process and for real."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from snnc.cli import run as cli
from snnc.compiler.backend import output_dir
from snnc.compiler.backend.artifact import load_program
from snnc.compiler.backend.output_dir import MARKER, recover_interrupted_swap, write_directory_atomically
from snnc.diagnostics import SnncError
from tests.conftest import MINIMAL, REPO, network


@pytest.fixture()
def source(tmp_path):
    path = tmp_path / "net.snn"
    path.write_text(network(MINIMAL))
    return path


def listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def message_of(call) -> str:
    with pytest.raises(SnncError) as info:
        call()
    return info.value.render()


def test_replaces_a_directory_whole_and_leaves_nothing_beside_it(tmp_path):
    target = tmp_path / "out"
    write_directory_atomically(target, {"a.txt": b"1", "sub/b.txt": b"2"})
    assert listing(target) == [MARKER, "a.txt", "sub"] and listing(target / "sub") == [MARKER, "b.txt"]
    assert json.loads((target / MARKER).read_text()) == {"format": "snnc-output", "entries": ["a.txt", "sub"]}
    write_directory_atomically(target, {"c.txt": b"3"})
    assert listing(target) == [MARKER, "c.txt"]
    assert listing(tmp_path) == ["out"]  # no staging or backup left
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(target).st_mode & 0o777 == 0o777 & ~umask  # an ordinary directory, not a private one


def test_compile_onto_a_directory_of_the_user_is_refused_and_keeps_it(source, tmp_path, capsys):
    mine = tmp_path / "thesis"
    mine.mkdir()
    (mine / "chapter1.tex").write_text("precious")
    assert cli(["-q", "compile", str(source), "-o", str(mine)]) == 1
    assert capsys.readouterr().err == (
        f"error[E300]: output '{mine}' is a directory that snnc did not write (it has no .snnc-output file); snnc "
        "replaces only its own outputs: choose another directory\n")
    assert listing(mine) == ["chapter1.tex"] and (mine / "chapter1.tex").read_text() == "precious"
    assert listing(tmp_path) == ["net.snn", "thesis"]


def test_a_file_added_to_a_program_directory_blocks_its_replacement(source, tmp_path, capsys):
    out = tmp_path / "out"
    assert cli(["-q", "compile", str(source), "-o", str(out)]) == 0
    (out / "notes.txt").write_text("mine")
    (out / "plots").mkdir()
    assert cli(["-q", "compile", str(source), "-o", str(out)]) == 1
    assert capsys.readouterr().err == (
        f"error[E300]: output '{out}' holds what snnc did not write (notes.txt, plots); snnc replaces only its "
        "own outputs: move them or choose another directory\n")
    assert (out / "notes.txt").read_text() == "mine"
    (out / "notes.txt").unlink()
    (out / "plots").rmdir()
    assert cli(["-q", "compile", str(source), "-o", str(out)]) == 0


def test_outputs_of_snnc_before_markers_are_replaced_but_not_with_foreign_files(tmp_path):
    legacy = tmp_path / "legacy"
    (legacy / "checkpoint").mkdir(parents=True)
    (legacy / "program.json").write_text('{"format": "snnc-program"}')
    (legacy / "report.md").write_text("")
    (legacy / "checkpoint" / "state.json").write_text('{"format": "snnc-checkpoint"}')
    (legacy / "checkpoint" / "state.npz").write_bytes(b"")
    (legacy / "notes.md").write_text("mine")
    assert "holds what snnc did not write (notes.md)" in message_of(lambda: write_directory_atomically(legacy, {}))
    (legacy / "notes.md").unlink()
    write_directory_atomically(legacy, {"a": b"1"})
    assert listing(legacy) == [MARKER, "a"]
    look_alike = tmp_path / "look_alike"
    look_alike.mkdir()
    (look_alike / "program.json").write_text('{"format": "mine"}')
    assert "is a directory that snnc did not write" in message_of(
        lambda: write_directory_atomically(look_alike, {}))


def test_an_empty_directory_is_written_into(source, tmp_path):
    out = tmp_path / "empty"
    out.mkdir()
    assert cli(["-q", "compile", str(source), "-o", str(out)]) == 0
    assert "program.json" in listing(out)


@pytest.mark.parametrize("where", [".", "..", "./"])
def test_output_onto_the_current_directory_is_a_clear_error(source, tmp_path, monkeypatch, capsys, where):
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    assert cli(["-q", "compile", str(source), "-o", where]) == 1
    assert capsys.readouterr().err == (
        f"error[E300]: output '{Path(where)}' is the current directory or one above it; choose a new directory "
        "(e.g. -o build/NAME)\n")
    assert listing(tmp_path) == ["net.snn", "work"] and listing(tmp_path / "work") == []


def test_output_onto_a_file_is_an_error(source, tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    assert cli(["-q", "compile", str(source), "-o", str(tmp_path / "file")]) == 1
    assert capsys.readouterr().err == f"error[E300]: output '{tmp_path / 'file'}' exists and is not a directory\n"


def test_a_symbolic_link_is_written_through_and_stays_a_link(source, tmp_path):
    real, link = tmp_path / "real", tmp_path / "link"
    assert cli(["-q", "compile", str(source), "-o", str(real)]) == 0
    before = (real / "program.json").stat().st_ino
    link.symlink_to(real)
    assert cli(["-q", "compile", str(source), "-o", str(link), "--seed", "5"]) == 0
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert (real / "program.json").stat().st_ino != before  # the directory it points to was replaced
    assert load_program(link).seed == 5
    assert listing(tmp_path) == ["link", "net.snn", "real"]


def test_links_to_nothing_or_to_a_users_directory_are_refused(tmp_path):
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    assert message_of(lambda: write_directory_atomically(dangling, {})) == (
        f"error[E300]: output '{dangling}' is a symbolic link to '{tmp_path / 'nowhere'}', which does not exist; "
        "snnc writes through a link only to an existing directory")
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "keep").write_text("x")
    (tmp_path / "to_home").symlink_to(tmp_path / "home")
    assert "is a directory that snnc did not write" in \
        message_of(lambda: write_directory_atomically(tmp_path / "to_home", {}))
    assert listing(tmp_path / "home") == ["keep"] and (tmp_path / "to_home").is_symlink()


def test_an_unwritable_place_is_an_error_not_a_crash(tmp_path):
    (tmp_path / "file").write_text("x")
    assert message_of(lambda: write_directory_atomically(tmp_path / "file" / "out", {"a": b""})) == (
        f"error[E300]: cannot write output '{tmp_path / 'file' / 'out'}': '{tmp_path / 'file'}' is not a directory")


def old_versions(parent: Path, name: str = "out") -> list[Path]:
    return sorted(parent.glob(f".{name}.old-*"))


def test_killed_between_the_renames_the_old_version_survives_and_comes_back(tmp_path, monkeypatch):
    target = tmp_path / "out"
    write_directory_atomically(target, {"v": b"1"})
    real_rename, calls = os.rename, []

    def rename_then_die(source, destination):  # the first rename happens, then nothing more can
        calls.append(source)
        if len(calls) > 1:
            raise OSError(5, "Input/output error")
        real_rename(source, destination)

    monkeypatch.setattr(os, "rename", rename_then_die)
    assert message_of(lambda: write_directory_atomically(target, {"v": b"2"})) == \
        f"error[E300]: cannot write output '{target}': Input/output error"
    monkeypatch.undo()
    [old] = old_versions(tmp_path)
    assert not target.exists() and (old / "v").read_bytes() == b"1"  # never without a complete version
    recover_interrupted_swap(target)  # what every later write or read of `out` does first
    assert (target / "v").read_bytes() == b"1" and listing(tmp_path) == ["out"]


CHILD = """
import os, sys
from snnc.compiler.backend.output_dir import write_directory_atomically
target = sys.argv[1]
write_directory_atomically(target, {"program.json": b"old", "weights.npz": b"w1"})
real_rename, calls = os.rename, []
def rename(source, destination):
    calls.append(source)
    if len(calls) == 2:
        os._exit(9)  # killed: no handler, no finally
    real_rename(source, destination)
os.rename = rename
write_directory_atomically(target, {"program.json": b"new", "weights.npz": b"w2"})
"""


def test_a_real_kill_between_the_renames_is_recovered_by_the_next_run(tmp_path):
    target = tmp_path / "out"
    child = subprocess.run([sys.executable, "-c", textwrap.dedent(CHILD), str(target)], cwd=REPO)
    assert child.returncode == 9
    assert not target.exists()
    [old] = old_versions(tmp_path)
    [staging] = sorted(tmp_path.glob(".out.tmp-*"))
    assert (old / "program.json").read_bytes() == b"old" and (staging / "program.json").read_bytes() == b"new"
    write_directory_atomically(target, {"program.json": b"newest"})
    assert (target / "program.json").read_bytes() == b"newest" and listing(tmp_path) == ["out"]


def test_stale_staging_is_removed_only_if_snnc_made_it_and_its_process_is_gone(tmp_path):
    target = tmp_path / "out"
    write_directory_atomically(target, {"a": b"1"})
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid, live_pid = int(dead.stdout), os.getppid()
    marked = json.dumps({"format": "snnc-output", "entries": []})
    for name, marker in [(f".out.tmp-{dead_pid}-aa", marked), (f".out.old-{dead_pid}-bb", marked),
                         (f".out.tmp-{dead_pid}-cc", None), (f".out.tmp-{live_pid}-dd", marked),
                         (f".other.tmp-{dead_pid}-ee", marked)]:
        (tmp_path / name).mkdir()
        if marker is not None:
            (tmp_path / name / MARKER).write_text(marker)
    (tmp_path / f".out.tmp-{dead_pid}-ff").mkdir()
    (tmp_path / f".out.tmp-{dead_pid}-ff" / "user-file").write_text("not snnc's")
    write_directory_atomically(target, {"a": b"2"})
    assert set(listing(tmp_path)) == {f".other.tmp-{dead_pid}-ee", f".out.tmp-{dead_pid}-ff",
                                      f".out.tmp-{live_pid}-dd", "out"}


def test_files_and_directories_are_fsynced(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync

    def record(descriptor):
        synced.append(os.readlink(f"/proc/self/fd/{descriptor}"))
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", record)
    write_directory_atomically(tmp_path / "out", {"a": b"1", "sub/b": b"2"})
    staging = Path(synced[0]).parent
    assert staging.name.startswith(".out.tmp-")
    names = [str(Path(p).relative_to(tmp_path)).replace(staging.name, "STAGING") for p in synced]
    assert names == ["STAGING/.snnc-output", "STAGING/sub/.snnc-output", "STAGING/a", "STAGING/sub/b",
                     "STAGING/sub", "STAGING", "."]
    synced.clear()
    write_directory_atomically(tmp_path / "out", {"a": b"3"})
    assert [Path(p) for p in synced[-2:]] == [tmp_path, tmp_path]  # after each of the two renames


def test_a_failure_inside_this_process_puts_the_old_version_back(tmp_path, monkeypatch):
    target = tmp_path / "out"
    write_directory_atomically(target, {"a.txt": b"old"})

    class Boom(Exception):
        pass

    real_rename = os.rename

    def fail_on_second(source, destination):
        if Path(source).name.startswith(".out.tmp-"):
            raise Boom
        real_rename(source, destination)

    monkeypatch.setattr(os, "rename", fail_on_second)
    with pytest.raises(Boom):
        write_directory_atomically(target, {"a.txt": b"new"})
    monkeypatch.undo()
    assert (target / "a.txt").read_bytes() == b"old" and listing(tmp_path) == ["out"]
    assert output_dir._IN_PROGRESS == set()
