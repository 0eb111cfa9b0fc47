"""Data-parallel training on torch.distributed (gloo, CPU): N processes, each on a contiguous shard of
every global batch, the gradients summed by an all-reduce after the backward pass and before the
optimizer step, so every worker takes the same step on the same weights (docs/runtime.md,
"Data-parallel training"). launch.py starts or joins the processes; this is what one of them does.

Not DistributedDataParallel: DDP wraps an nn.Module and hooks its parameters' gradient accumulation,
while training in the loop has dict weights and an autograd Function whose backward is the twin's VJP;
one all-reduce of all gradients per step is what DDP would do here, without a module to wrap.

A `Group` is what one worker sees; SINGLE (one process) runs everything as before. Only rank 0 writes.
A worker that fails stops all of them instead of leaving them waiting: every step and every set-up
block is agreed (failures exchanged in the step's all-reduce or a gather), and rank 0 reports them."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import torch
import torch.distributed as dist

from snnc.diagnostics import Diagnostic, SnncError, error
from snnc.runtime import seeds

Tensor = torch.Tensor
PER_WORKER = ("encode", "noise")  # generators of their own per worker; "shuffle" is shared


class WorkerStopped(SnncError):
    """This worker stops because another failed; rank 0 reports the failure (this renders as nothing)."""

    def __init__(self) -> None:
        super().__init__([])


@dataclass
class Group:
    """The data-parallel group as one worker sees it; SINGLE is one process and changes nothing."""

    rank: int = 0
    size: int = 1
    spawned: bool = False  # started by another worker's `--workers N`: that one reports what goes wrong
    children: list = field(default_factory=list)  # the workers this one started (rank 0 of `--workers N`)

    @property
    def writes(self) -> bool:
        """Only rank 0 writes outputs and prints progress."""
        return self.rank == 0

    def shard(self, indices: Tensor) -> Tensor:
        """This worker's contiguous part of a global batch (sizes differ by one at most; may be empty)."""
        return indices if self.size == 1 else torch.tensor_split(indices, self.size)[self.rank]

    def reseed(self, generators: dict[str, torch.Generator], seed: int, epoch: int) -> None:
        """Per-worker noise and encoding at the start of an epoch, from (seed, purpose, rank, epoch): the
        same in every run with this many workers, and independent of the states a checkpoint holds, so a
        run resumes on any number of workers. One process keeps its streams as they are."""
        if self.size > 1:
            for purpose in PER_WORKER:
                stream = generators[purpose]
                fresh = (seeds.Counter if isinstance(stream, seeds.Counter) else seeds.generator)(
                    seed, purpose, self.rank, epoch)  # bss2's membrane noise is a counter stream
                stream.set_state(fresh.get_state())

    def step(self, compute: Callable[[Tensor], dict[str, float]], batch: Tensor, weights: dict[str, Tensor],
             keys: tuple[str, ...]) -> dict[str, float]:
        """compute(shard) runs the forward and backward of this worker's shard of `batch` (its loss a mean
        over the shard's samples, gradients left in .grad) and returns sums over the shard (keys); after
        it, every worker holds the gradient of the whole batch's mean loss and the batch's sums."""
        if self.size == 1:
            return compute(batch)
        mine = self.shard(batch)
        figures, failure = dict.fromkeys(keys, 0.0), None
        for w in weights.values():
            w.grad = None
        if len(mine):
            try:
                figures = compute(mine)
            except Exception as exc:  # noqa: BLE001 - every worker learns of it in the all-reduce below
                failure = exc
        # Each worker's loss is a mean over its shard: weighted by its share of the batch, the sum over
        # workers is the gradient of the mean over the batch (the spike regularizer is a mean too).
        share = len(mine) / len(batch)
        parts = [torch.zeros(w.numel(), dtype=torch.float64) if w.grad is None or failure is not None
                 else w.grad.reshape(-1).double() * share for w in weights.values()]
        parts.append(torch.tensor([float(figures[k]) for k in keys] + [float(failure is not None)],
                                  dtype=torch.float64))
        total = torch.cat(parts)
        self._collective(dist.all_reduce, total)
        if total[-1] > 0:
            self._raise_agreed(failure)
        offset = 0
        for w in weights.values():
            w.grad = total[offset:offset + w.numel()].view_as(w).to(w.dtype)
            offset += w.numel()
        return dict(zip(keys, total[offset:offset + len(keys)].tolist()))

    @contextmanager
    def agreement(self) -> Iterator[None]:
        """Every worker runs the block; if any raises, all raise (rank 0 the failures, the others
        WorkerStopped), so none is left waiting in a collective. Collectives inside: from_writer only."""
        if self.size == 1:
            yield
            return
        failure = None
        try:
            yield
        except Exception as exc:  # noqa: BLE001 - exchanged below
            failure = exc
        reports: list[Any] = [None] * self.size
        self._collective(dist.all_gather_object, reports, _report(failure))
        if any(report is not None for report in reports):
            raise self._failure(reports) from None

    def from_writer(self, read: Callable[..., Any], *args: Any) -> Any:
        """read(*args) on rank 0 (which has the files, or evaluates the test set), its value sent to every
        worker; if it raises, rank 0 raises that and the others WorkerStopped."""
        if self.size == 1:
            return read(*args)
        box: list[Any] = [(False, None)]
        if self.writes:
            try:
                box = [(True, read(*args))]
            except Exception:
                self._collective(dist.broadcast_object_list, box, 0)
                raise
        self._collective(dist.broadcast_object_list, box, 0)
        if not box[0][0]:
            raise WorkerStopped
        return box[0][1]

    def broadcast_(self, tensors: dict[str, Tensor]) -> None:
        """Rank 0's tensors into every worker's, in place (the start of every run, as DDP does)."""
        if self.size == 1:
            return
        for tensor in tensors.values():
            self._collective(dist.broadcast, tensor.detach(), 0)

    # --- failures ------------------------------------------------------------------------------
    def _raise_agreed(self, failure: BaseException | None, reports: list[Any] | None = None) -> None:
        if reports is None:
            reports = [None] * self.size
            self._collective(dist.all_gather_object, reports, _report(failure))
        raise self._failure(reports) from None

    def _failure(self, reports: list[Any]) -> SnncError:
        """Rank 0: the failures reported, each message once, named by worker when the workers did not all
        fail alike (one that stopped for another's failure, "stopped", failed alike)."""
        if not self.writes:
            return WorkerStopped()
        by_text: dict[str, tuple[list[int], list[Diagnostic], dict[str, str]]] = {}
        for rank, report in enumerate(reports):
            if isinstance(report, tuple):
                diagnostics, sources = report
                text = "\n".join(d.render(sources) for d in diagnostics)
                by_text.setdefault(text, ([], diagnostics, sources))[0].append(rank)
        diagnostics, sources = [], {}
        named = len(by_text) > 1 or any(report is None for report in reports)
        for ranks, found, their_sources in by_text.values():
            sources.update(their_sources)
            if named:
                who = f"worker{'s' * (len(ranks) > 1)} {', '.join(map(str, ranks))} of {self.size}"
                found = [replace(d, message=f"{who}: {d.message}") for d in found]
            diagnostics += found
        return SnncError(diagnostics or [error("E491", "a worker stopped")], sources)

    def _collective(self, operation: Callable[..., Any], *args: Any) -> None:
        """A collective; a worker that left (its sockets closed) ends this one with a message, not a hang."""
        try:
            operation(*args)
        except RuntimeError as exc:  # gloo: "Connection closed by peer", a timeout
            if self.spawned:
                raise WorkerStopped from None  # rank 0 started this worker and reports
            stopped = self._stopped_children(wait=3.0)  # its sockets close before its exit code is known
            reason = (f"worker {self.rank} of {self.size}: the group broke off: {str(exc).splitlines()[0]}"
                      if not stopped else "; ".join(stopped))
            raise SnncError([error("E491", reason)]) from None

    def _stopped_children(self, wait: float) -> list[str]:
        """The workers started here that ended badly (waiting up to `wait` s for one to end)."""
        deadline = time.monotonic() + wait
        while self.children and time.monotonic() < deadline and all(c.exitcode is None for c in self.children):
            time.sleep(0.05)
        return [f"worker {rank} of {self.size} stopped ({exit_status(child.exitcode)})"
                for rank, child in enumerate(self.children, 1) if child.exitcode not in (None, 0)]

    def close(self, failed: bool) -> None:
        """The end of the run: workers started here are joined (stopped first when it failed)."""
        started = [child for child in self.children if child.pid is not None]
        for child in started:
            if failed and child.is_alive():
                child.terminate()
        for child in started:
            child.join(timeout=60)
            if child.is_alive():
                child.kill()
                child.join()
        if dist.is_initialized():
            dist.destroy_process_group()
        stopped = self._stopped_children(wait=0.0)
        if stopped and not failed:
            raise SnncError([error("E491", "; ".join(stopped))])


def exit_status(code: int) -> str:
    return f"killed by signal {-code}" if code < 0 else f"exit code {code}"


SINGLE = Group()


def _report(failure: BaseException | None) -> Any:
    """What a worker tells the others about its failure (picklable): None, "stopped" (another worker's
    failure, reported by that one) or (diagnostics, sources)."""
    if failure is None:
        return None
    if isinstance(failure, WorkerStopped):
        return "stopped"
    if isinstance(failure, SnncError):
        return failure.diagnostics, failure.sources
    return [error("E491", f"internal error: {type(failure).__name__}: {failure} (a bug in snnc: rerun with "
                  "--workers 1 --debug for the traceback)")], {}
