"""Starting or joining the processes of data-parallel training (distributed.py): under torchrun
(RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT in the environment) a process joins that group, so the same
command runs across machines; with `workers=N` (`--workers N`) the process starts N - 1 workers on this
machine (torch.multiprocessing, spawn; they meet at a TCPStore on localhost) and is rank 0 itself.
Each worker's fast kernels get its share of the machine's cores; torch keeps the threads it was given."""

from __future__ import annotations

import functools
import multiprocessing.util
import os
import pickle
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

from snnc.diagnostics import SnncError, UsageError, error
from snnc.runtime import memory
from snnc.runtime.distributed import SINGLE, Group, WorkerStopped, exit_status
from snnc.runtime.emulators import fast_threads

MARKERS = ("RANK", "WORLD_SIZE", "LOCAL_RANK")  # any of these: a launcher started this process as a worker
REQUIRED = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")  # what torchrun sets and joining needs
HOST = "127.0.0.1"  # workers started by `--workers N` meet on this machine
JOIN_SECONDS = 300.0  # local workers must join within this (each imports torch and snnc first: seconds)


@dataclass(frozen=True)
class Launch:
    """The worker a launcher (torchrun) started: its place in the group and where the group meets."""

    rank: int
    size: int
    local_size: int  # workers on this machine (LOCAL_WORLD_SIZE): they share its cores
    address: str
    port: int


def launch_environment(environ: dict[str, str] | None = None) -> Launch | None:
    """The torchrun worker this process is (None when no launcher started it); UsageError when the
    variables are incomplete or wrong."""
    environ = dict(os.environ if environ is None else environ)
    if not any(key in environ for key in MARKERS):
        return None
    missing = [key for key in REQUIRED if not environ.get(key)]
    if missing:
        present = ", ".join(f"{key}={environ[key]}" for key in MARKERS if key in environ)
        raise UsageError(f"this process was started as a worker ({present}) but {', '.join(missing)} "
                         f"{'is' if len(missing) == 1 else 'are'} not set: torchrun sets {', '.join(REQUIRED)}; "
                         "to start N workers on this machine instead, unset them and pass --workers N")
    values = {}
    for key in ("RANK", "WORLD_SIZE", "MASTER_PORT", "LOCAL_WORLD_SIZE"):
        try:
            values[key] = int(environ.get(key, "1"))
        except ValueError:
            raise UsageError(f"{key}={environ[key]!r} in the environment is not an integer") from None
    rank, size, port = values["RANK"], values["WORLD_SIZE"], values["MASTER_PORT"]
    if size < 1 or not 0 <= rank < size:
        raise UsageError(f"RANK={rank} and WORLD_SIZE={size} in the environment: a rank is 0 .. WORLD_SIZE - 1")
    if not 1 <= port <= 65535:
        raise UsageError(f"MASTER_PORT={port} in the environment is not a port (1 .. 65535)")
    return Launch(rank, size, max(1, values["LOCAL_WORLD_SIZE"]), environ["MASTER_ADDR"], port)




_joined: Group | None = None  # set in a worker that `--workers N` started, before it calls the function
took_part_in_group = False  # this process trained in a group of several (see end_process)


@dataclass(frozen=True)
class _Settings:
    """What a started worker takes over from the process that starts it."""

    torch_threads: int
    fast_threads: int
    memory_tuned: bool


def _fast_threads_per_worker(local_size: int) -> int:
    """The fast kernels' threads of each of `local_size` workers on this machine: its share of the cores
    (SNNC_THREADS, when set, is kept)."""
    if os.environ.get("SNNC_THREADS"):
        return fast_threads.THREADS
    return max(1, len(os.sched_getaffinity(0)) // local_size)


def _child(rank: int, size: int, port: int, settings: _Settings, function: Callable[..., Any],
           args: tuple, kwargs: dict[str, Any]) -> None:
    """A worker started by `--workers N`: joins rank 0's group and runs the function; exit code 0, or 1
    when the run failed (rank 0 reports), 130 when interrupted."""
    global _joined
    torch.set_num_threads(settings.torch_threads)
    fast_threads.set_threads(settings.fast_threads)
    if settings.memory_tuned:
        memory.tune_memory()
    code = 0
    try:
        store = dist.TCPStore(HOST, port, size, is_master=False)
        store.set(f"snnc/ready/{rank}", "1")
        dist.init_process_group("gloo", store=store, rank=rank, world_size=size)
        _joined = Group(rank, size, spawned=True)
        function(*args, **kwargs)
    except KeyboardInterrupt:
        code = 130
    except WorkerStopped:
        code = 1
    except BaseException as exc:  # noqa: BLE001 - a worker prints one line, never a traceback
        print(f"snnc: worker {rank}: {type(exc).__name__}: {exc}", file=sys.stderr)
        code = 1
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
    end_process(code)


def end_process(code: int) -> None:
    """Ends a process that trained in a group without the interpreter's teardown: there a native thread of
    the group (gloo, c10d's store) is sometimes destroyed unjoined, and the process that had finished,
    its outputs written, dies by SIGABRT ("terminate called without an active exception"; 1 run in 12 of a
    torchrun pair, and a spawned worker, whose rank 0 then reported E491)."""
    multiprocessing.util._exit_function()  # what atexit would run: releases semaphores (tqdm's lock) it tracks
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _start_local(workers: int, function: Callable[..., Any], args: tuple, kwargs: dict[str, Any]) -> Group:
    """Rank 0 of `workers` on this machine: starts ranks 1 .. workers - 1 and waits until they joined."""
    store = dist.TCPStore(HOST, 0, workers, is_master=True, wait_for_workers=False)  # port 0: a free one
    settings = _Settings(torch.get_num_threads(), _fast_threads_per_worker(workers), memory.memory_tuned())
    context = torch.multiprocessing.get_context("spawn")
    children = [context.Process(target=_child, args=(rank, workers, store.port, settings, function, args, kwargs),
                                name=f"snnc-worker-{rank}", daemon=True) for rank in range(1, workers)]
    group = Group(0, workers, children=children)
    try:
        for child in children:
            child.start()  # pickles the arguments
    except (pickle.PicklingError, AttributeError, TypeError) as exc:
        group.close(failed=True)
        raise UsageError(f"workers={workers} sends the arguments to the other processes, but they cannot be "
                         f"pickled: {exc}") from None
    deadline, ready = time.monotonic() + JOIN_SECONDS, [f"snnc/ready/{rank}" for rank in range(1, workers)]
    while not store.check(ready):
        dead = [f"worker {rank} of {workers} stopped before it joined ({exit_status(child.exitcode)})"
                for rank, child in enumerate(children, 1) if child.exitcode is not None]
        if dead or time.monotonic() > deadline:
            group.close(failed=True)
            raise SnncError([error("E490", "; ".join(dead) or f"the workers did not join within {JOIN_SECONDS:.0f} s")])
        time.sleep(0.05)
    dist.init_process_group("gloo", store=store, rank=0, world_size=workers)
    return group


def _join(launch: Launch) -> Group:
    try:
        dist.init_process_group("gloo", init_method="env://", rank=launch.rank, world_size=launch.size)
    except (RuntimeError, ValueError) as exc:
        raise SnncError([error("E490", f"worker {launch.rank} could not join the group at {launch.address}:"
                               f"{launch.port}: {str(exc).splitlines()[0]}")]) from None
    return Group(launch.rank, launch.size)


@contextmanager
def open_group(workers: int | None, function: Callable[..., Any], args: tuple,
               kwargs: dict[str, Any]) -> Iterator[Group]:
    """The group this process trains in: the one it was started into, torchrun's, `workers` on this
    machine (started here, each running function(*args, **kwargs)), or SINGLE."""
    if workers is not None and (isinstance(workers, bool) or int(workers) < 1):
        raise UsageError(f"--workers must be at least 1, not {workers}")
    if _joined is not None:
        yield _joined
        return
    launch = launch_environment()
    if launch is not None and workers is not None and workers != launch.size:
        raise UsageError(f"--workers {workers} disagrees with the launcher's WORLD_SIZE={launch.size} (under "
                         "torchrun, leave --workers out)")
    size = launch.size if launch is not None else workers or 1
    if size == 1:
        yield SINGLE
        return
    global took_part_in_group
    took_part_in_group = True
    threads = fast_threads.THREADS  # this process's again afterwards, however the run ends
    fast_threads.set_threads(_fast_threads_per_worker(launch.local_size if launch else size))
    try:
        group = _join(launch) if launch is not None else _start_local(size, function, args, kwargs)
        try:
            yield group
        except BaseException:
            group.close(failed=True)
            raise
        group.close(failed=False)
    finally:
        fast_threads.set_threads(threads)


RANK0_ONLY = {"on_epoch": None, "notify": None, "progress": False}  # callbacks and progress stay with rank 0


def data_parallel(function: Callable[..., Any]) -> Callable[..., Any]:
    """`function(*args, group=..., **kwargs)` run data-parallel: the wrapper takes `workers` (see
    open_group) and passes the group. Workers it starts get the same arguments, less RANK0_ONLY's."""

    @functools.wraps(function)
    def run(*args: Any, workers: int | None = None, **kwargs: Any) -> Any:
        with open_group(workers, run, args, {k: RANK0_ONLY.get(k, v) for k, v in kwargs.items()}) as group:
            return function(*args, group=group, **kwargs)

    return run
