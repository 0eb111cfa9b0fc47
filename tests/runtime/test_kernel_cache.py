"""The emulator kernels' numba cache is dropped when any source file of the package changes, not only the
file that defines a kernel (numba's own check)."""

from pathlib import Path

from snnc.runtime.emulators.kernel_cache import STAMP, drop_stale_kernels, sources_digest


def package_with_cache(root: Path) -> Path:
    package = root / "emulators"
    (package / "__pycache__").mkdir(parents=True)
    (package / "fast_kernels.py").write_text("from .philox import TABLE\n")
    (package / "philox.py").write_text("TABLE = (0.5, 1.5)\n")
    return package


def cached_kernels(package: Path) -> list[str]:
    return sorted(p.name for p in (package / "__pycache__").iterdir() if p.suffix in (".nbi", ".nbc"))


def compile_kernel(package: Path) -> None:
    for suffix in (".nbi", ".nbc"):
        (package / "__pycache__" / f"fast_kernels.step-10.py311{suffix}").write_bytes(b"machine code")


def test_cache_survives_unchanged_sources_and_is_dropped_when_a_neighbour_changes(tmp_path):
    package = package_with_cache(tmp_path)
    compile_kernel(package)
    (package / "__pycache__" / "fast_kernels.cpython-311.pyc").write_bytes(b"bytecode")
    assert drop_stale_kernels(package)  # no stamp yet: compiled from unknown sources
    assert cached_kernels(package) == []
    assert (package / "__pycache__" / STAMP).read_text() == sources_digest(package)
    compile_kernel(package)
    assert not drop_stale_kernels(package)
    assert cached_kernels(package) == ["fast_kernels.step-10.py311.nbc", "fast_kernels.step-10.py311.nbi"]
    (package / "philox.py").write_text("TABLE = (0.5, 1.25)\n")  # only the inlined neighbour changes
    assert drop_stale_kernels(package)
    assert cached_kernels(package) == []
    assert (package / "__pycache__" / "fast_kernels.cpython-311.pyc").exists()  # Python's own cache stays


def test_digest_covers_names_and_contents(tmp_path):
    package = package_with_cache(tmp_path)
    before = sources_digest(package)
    (package / "philox.py").rename(package / "philox2.py")
    renamed = sources_digest(package)
    (package / "philox2.py").write_text("TABLE = (0.5, 1.5)\n\n")
    assert len({before, renamed, sources_digest(package)}) == 3


def test_missing_cache_directory_is_created_with_its_stamp(tmp_path):
    package = package_with_cache(tmp_path)
    (package / "__pycache__").rmdir()
    assert not drop_stale_kernels(package)
    assert (package / "__pycache__" / STAMP).read_text() == sources_digest(package)
    assert not drop_stale_kernels(package)


def test_the_shipped_package_is_stamped_with_its_sources():
    import snnc.runtime.emulators as emulators

    package = Path(emulators.__file__).parent
    assert (package / "__pycache__" / STAMP).read_text() == sources_digest(package)
