"""The substrate emulators. Importing the package first drops numba-cached kernels compiled from other
sources than these (kernel_cache says why)."""

from pathlib import Path

from snnc.runtime.emulators.kernel_cache import drop_stale_kernels

drop_stale_kernels(Path(__file__).parent)
