"""Data-parallel training (snnc.runtime.distributed, launch): N workers on shards of every global batch
train the same weights as one process; resume; a failing worker stops all of them, reported once."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest
import torch

import snnc
from snnc.cli import run as cli
from snnc.diagnostics import SnncError, UsageError, error
from snnc.runtime import seeds
from snnc.runtime.distributed import SINGLE, Group
from snnc.runtime.emulators import fast_threads
from snnc.runtime.launch import Launch, data_parallel, launch_environment

from .conftest import SMALL_DIGITS

# The spike regularizer active on every sample that spikes (per_sample 0), odd batches: shards of
# 13 and 12 samples, the last batch of each epoch 15 (8 and 7).
SHARDED = SMALL_DIGITS.replace("batch 32", "batch 25").replace("per_sample = 20, strength = 1e-3",
                                                               "per_sample = 0, strength = 0.01")
QUICK = dict(train_samples=90, test_samples=40, epochs=2)
TOLERANCE = 1e-6  # float32 weights below 1 in magnitude: the gradients' summation order differs (docs)
LAUNCH = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


class Stop(Exception):
    pass


def stop_after_first(row):
    if row["epoch"] == 1:
        raise Stop


@pytest.fixture
def sharded_file(tmp_path):
    path = tmp_path / "sharded.snn"
    path.write_text(SHARDED)
    return path


@pytest.fixture(autouse=True)
def _no_launcher(monkeypatch):
    for key in LAUNCH:  # a test run under torchrun must not join its group
        monkeypatch.delenv(key, raising=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def max_difference(a: dict, b: dict) -> float:
    return max(float((a[k] - b[k]).abs().max()) for k in a)


# --- the group's pieces, without processes ----------------------------------------------------------
def test_shards_are_contiguous_and_cover_the_batch():
    batch = torch.arange(100, 125)
    shards = [Group(rank, 2).shard(batch) for rank in range(2)]
    assert shards[0].tolist() == list(range(100, 113)) and shards[1].tolist() == list(range(113, 125))
    assert [len(Group(rank, 4).shard(torch.arange(3))) for rank in range(4)] == [1, 1, 1, 0]  # one may be empty
    assert SINGLE.shard(batch) is batch


def test_each_worker_draws_its_own_noise_and_encoding_keyed_by_rank_and_epoch():
    def streams(rank, epoch):
        generators = {p: torch.Generator().manual_seed(99) for p in ("shuffle", "encode", "noise")}
        Group(rank, 2).reseed(generators, 5, epoch)
        return {p: torch.rand(4, generator=g) for p, g in generators.items()}

    rank0, rank1, later = streams(0, 0), streams(1, 0), streams(0, 1)
    for purpose in ("encode", "noise"):
        assert torch.equal(rank0[purpose], torch.rand(4, generator=seeds.generator(5, purpose, 0, 0)))
        assert not torch.equal(rank0[purpose], rank1[purpose]) and not torch.equal(rank0[purpose], later[purpose])
    assert torch.equal(rank0["shuffle"], rank1["shuffle"])  # one data order for all workers
    single = {p: torch.Generator().manual_seed(99) for p in ("encode", "noise")}
    SINGLE.reseed(single, 5, 3)  # one process keeps its streams (and its results) as before
    fresh = torch.Generator().manual_seed(99)
    assert torch.equal(torch.rand(4, generator=single["noise"]), torch.rand(4, generator=fresh))


def test_launcher_environment():
    assert launch_environment({"PATH": "/bin", "MASTER_ADDR": "host"}) is None  # no rank: not a worker
    full = {"RANK": "1", "WORLD_SIZE": "4", "MASTER_ADDR": "node0", "MASTER_PORT": "29500", "LOCAL_WORLD_SIZE": "2"}
    assert launch_environment(full) == Launch(rank=1, size=4, local_size=2, address="node0", port=29500)
    for broken, message in [({"RANK": "0"}, "WORLD_SIZE, MASTER_ADDR, MASTER_PORT are not set"),
                            ({**full, "MASTER_PORT": ""}, "MASTER_PORT is not set"),
                            ({**full, "RANK": "two"}, "RANK='two' in the environment is not an integer"),
                            ({**full, "RANK": "4"}, "RANK=4 and WORLD_SIZE=4"),
                            ({**full, "MASTER_PORT": "70000"}, "MASTER_PORT=70000 in the environment is not a port")]:
        with pytest.raises(UsageError, match=message):
            launch_environment(broken)


# --- two processes ------------------------------------------------------------------------------------
@data_parallel
def gradient_of(kind: str, group: Group = SINGLE):
    """One step over the batch 0..4 with loss = mean(i * sum(w)): the gradient is mean(i) = 2 per weight.
    `kind` "fail": worker 1 raises in its step; "die": worker 1's process ends without a word."""
    weights = {"w": torch.zeros(3, requires_grad=True)}

    def compute(idx):
        if kind == "fail" and group.rank == 1:
            raise SnncError([error("E420", "sample 3 is not a number")])
        if kind == "die" and group.rank == 1:
            os._exit(9)
        (idx.float().mean() * weights["w"].sum()).backward()
        return {"samples": len(idx), "sum": float(idx.sum())}

    figures = group.step(compute, torch.arange(5), weights, ("samples", "sum"))
    return figures, weights["w"].grad.tolist(), group.size


def test_the_all_reduced_gradient_is_the_whole_batch_s_and_failures_stop_every_worker():
    # shards [0, 1, 2] and [3, 4]: local gradients 1 and 3.5, weighted 3/5 and 2/5
    assert gradient_of("ok", workers=2) == ({"samples": 5.0, "sum": 10.0}, [2.0, 2.0, 2.0], 2)
    assert gradient_of("ok") == ({"samples": 5, "sum": 10.0}, [2.0, 2.0, 2.0], 1)
    with pytest.raises(SnncError, match=r"^error\[E420\]: worker 1 of 2: sample 3 is not a number$"):
        gradient_of("fail", workers=2)
    with pytest.raises(SnncError, match=r"worker 1 of 2 stopped \(exit code 9\)"):
        gradient_of("die", workers=2)
    with pytest.raises(UsageError, match="--workers must be at least 1, not 0"):
        gradient_of("ok", workers=0)


def test_two_workers_train_the_weights_of_one_process(sharded_file):
    one = snnc.train(sharded_file, **QUICK)
    two = snnc.train(sharded_file, workers=2, **QUICK)
    assert max_difference(one.weights, two.weights) < TOLERANCE
    assert max(float(w.abs().max()) for w in one.weights.values()) < 1  # the tolerance's premise
    for a, b in zip(one.metrics["epochs"], two.metrics["epochs"]):
        assert b["loss"] == pytest.approx(a["loss"], rel=1e-6)  # the regularizer's mean included
        for key in ("train_accuracy", "test_accuracy", "spikes_per_sample", "test_spikes_per_sample"):
            assert b[key] == pytest.approx(a[key], rel=1e-9), key
    assert two.metrics["workers"] == 2 and one.metrics["workers"] == 1


def test_a_run_of_two_workers_resumes_on_one(sharded_file, tmp_path):
    one = snnc.train(sharded_file, **QUICK)
    with pytest.raises(Stop):  # re-sharded: on reference, the weights of one process all along
        snnc.train(sharded_file, out=tmp_path / "cut", workers=2, on_epoch=stop_after_first, **QUICK)
    resumed = snnc.train(sharded_file, out=tmp_path / "cut", resume=True, **QUICK)
    assert max_difference(one.weights, resumed.weights) < TOLERANCE


@pytest.mark.slow
def test_two_workers_on_bss2_are_reproducible_and_resume_bit_exactly(small_digits_file, tmp_path):
    options = dict(target="bss2", chip_seed=1, workers=2, train_samples=64, test_samples=32, epochs=2)
    whole = snnc.train(small_digits_file, out=tmp_path / "whole", **options)
    assert {"program.json", "weights.npz", "report.json", "metrics.json", "metrics.csv", "loss.png", "accuracy.png",
            "raster.png", "membrane.png", "checkpoint"} <= {p.name for p in (tmp_path / "whole").iterdir()}
    with pytest.raises(Stop):
        snnc.train(small_digits_file, out=tmp_path / "cut", on_epoch=stop_after_first, **options)
    assert not (tmp_path / "cut" / "program.json").exists()
    resumed = snnc.train(small_digits_file, out=tmp_path / "cut", resume=True, **options)
    for name, w in whole.weights.items():
        assert torch.equal(w, resumed.weights[name])  # per-worker noise from (seed, rank, epoch): bit-exact
    ran = snnc.run(tmp_path / "whole")  # rank 0 evaluated the test set as `snnc run` does: the same accuracy
    assert ran.accuracy == whole.metrics["test_accuracy"] and not ran.differences


def run_snnc(args, env=None):
    environment = {k: v for k, v in os.environ.items() if k not in LAUNCH}
    return subprocess.Popen([sys.executable, "-m", "snnc", "train", *args], env={**environment, **(env or {})},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_bad_data_on_every_worker_is_reported_once(small_digits_file, tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_text("not a zip archive")
    process = run_snnc([str(small_digits_file), "--workers", "2", "--data", str(bad), "-o", str(tmp_path / "out")])
    _, err = process.communicate(timeout=300)
    assert process.returncode == 1
    assert err.count("is not a readable .npz") == 1 and "worker 1" not in err and "Traceback" not in err


def test_one_worker_s_bad_data_under_torchrun_stops_both_with_one_message(small_digits_file, tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_text("not a zip archive")
    group = {"WORLD_SIZE": "2", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(free_port())}
    common = [str(small_digits_file), "--train-samples", "32", "--test-samples", "16", "-o", str(tmp_path / "out")]
    rank0 = run_snnc(common, {**group, "RANK": "0", "LOCAL_RANK": "0"})
    rank1 = run_snnc([*common, "--data", str(bad)], {**group, "RANK": "1", "LOCAL_RANK": "1"})
    (_, err0), (_, err1) = rank0.communicate(timeout=300), rank1.communicate(timeout=300)
    assert (rank0.returncode, rank1.returncode) == (1, 1)
    assert err0.startswith(f"error[E420]: worker 1 of 2: data file '{bad}' is not a readable .npz")
    assert err0.count("error[") == 1 and err1 == ""  # rank 0 reports; "Traceback" in neither
    assert not (tmp_path / "out" / "program.json").exists()


def test_usage_errors(small_digits_file, monkeypatch, capsys):
    assert cli(["train", str(small_digits_file), "--workers", "0"]) == 2
    assert cli(["train", str(small_digits_file), "--workers", "-1"]) == 2
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert cli(["train", str(small_digits_file)]) == 2
    assert "MASTER_ADDR, MASTER_PORT are not set: torchrun sets" in capsys.readouterr().err
    monkeypatch.setenv("MASTER_ADDR", "127.0.0.1")
    monkeypatch.setenv("MASTER_PORT", "29500")
    assert cli(["train", str(small_digits_file), "--workers", "3"]) == 2
    assert "--workers 3 disagrees with the launcher's WORLD_SIZE=2" in capsys.readouterr().err


def test_arguments_the_workers_cannot_receive_are_a_usage_error(small_digits_file):
    class Samples(torch.utils.data.Dataset):  # a local class: not picklable
        def __len__(self):
            return 8

        def __getitem__(self, i):
            return torch.rand(8, 8), i % 2

    threads = fast_threads.THREADS
    with pytest.raises(UsageError, match="workers=2 sends the arguments to the other processes, but they cannot"):
        snnc.train(small_digits_file, data=Samples(), workers=2, epochs=1)
    assert fast_threads.THREADS == threads  # this process's threads restored (they decide float sums' order)


@pytest.mark.parametrize("in_group", [False, True])
def test_the_command_line_ends_a_process_that_trained_in_a_group_without_teardown(in_group, monkeypatch):
    from snnc import cli as command_line
    from snnc.runtime import launch

    ended = []
    monkeypatch.setattr(command_line, "run", lambda: 1)
    monkeypatch.setattr(launch, "took_part_in_group", in_group)
    monkeypatch.setattr(launch, "end_process", lambda code: ended.append(code) or sys.exit(code))
    with pytest.raises(SystemExit) as stop:
        command_line.main()
    assert stop.value.code == 1 and ended == ([1] if in_group else [])


def test_opening_a_group_of_two_marks_the_process(monkeypatch):
    from snnc.runtime import launch

    monkeypatch.setattr(launch, "took_part_in_group", False)
    with launch.open_group(1, print, (), {}):
        pass
    assert not launch.took_part_in_group  # one process: no group, the interpreter ends as usual
    monkeypatch.setattr(launch, "_start_local", lambda *a: SINGLE)
    with launch.open_group(2, print, (), {}):
        pass
    assert launch.took_part_in_group


def test_a_finished_two_worker_run_exits_cleanly(small_digits_file, tmp_path):
    process = run_snnc([str(small_digits_file), "--workers", "2", "--train-samples", "64", "--test-samples", "32",
                        "--epochs", "1", "-o", str(tmp_path / "out")])
    _, err = process.communicate(timeout=300)
    assert process.returncode == 0 and (tmp_path / "out" / "program.json").exists()
    # end_process runs multiprocessing's exit clean-up before os._exit: no semaphore left to the tracker
    assert "leaked semaphore" not in err and "terminate called" not in err and "Traceback" not in err
