"""The snnc emulator against snnTorch and a plain PyTorch time loop on the same latency-coded network
(256 inputs -> hidden LIF -> 10 LI, max-membrane readout), built three times with the same weights and
the same discretization, timed interleaved in one process (median of repeats).

- snnc: the reference emulator's `observe` (inference) and a training step in the loop (emulator forward,
  twin backward through `in_the_loop`, cross-entropy, Adam step, `legalize_`).
- plain PyTorch: core.simulate's update equations written as a per-step loop, `z @ W` per step; training
  by autograd with the twin's SuperSpike surrogate and detached reset (the same gradient as the twin).
- snnTorch: `snn.Synaptic` layers. Our update V_t = a_mem V_{t-1} + k_syn I_{t-1}, I_t = a_syn I_{t-1} + x_t
  is snnTorch's syn_t = alpha syn_{t-1} + x'_t, mem_t = beta mem_{t-1} + syn_t with alpha = a_syn,
  beta = a_mem and x'_t = k_syn x_{t-1} (weights times k_syn, inputs one step later): syn_t = k_syn I_{t-1}
  and mem_t = V_t. reset_mechanism="zero" with reset_delay=False is our reset to v_reset = 0; the
  network has no refractory period (snnTorch has none). snnTorch fires on mem > thr, we on V >= v_th
  (equal unless V hits the threshold exactly); k_syn (x) is rounded differently from (k_syn x), so
  membranes agree to float32 rounding. Its gradient differs by design (its reset is not detached);
  training compares time only.

`--recurrent` adds the hidden -> hidden projection of dsl_examples/latency_digits.snn (sparse, p = 0.1,
its init, delay 1 ms = 2 steps; the example's 1 ms refractory period is left out, as above) and times that
network after the feed-forward goal row, in the same run. The plain loop adds z_{t-2} @ W_rec to the
current of step t (as the core). snnTorch runs it as `snn.RSynaptic` (all_to_all, its recurrent
nn.Linear holding k_syn W_rec^T, a dense matrix with the mask's zeros, bias 0), as closely to our
semantics as it allows: (1) RSynaptic feeds back its `spk` state one step later (our delay 0), so the
benchmark passes the spikes of two steps before as that state (a delay line of two steps around the
layer, which keeps its recurrent Linear); (2) snnTorch 1.0.0's RSynaptic ignores reset_delay=False (its
forward resets local variables, not the state it returns; the same bug was fixed in snn.Synaptic by
snnTorch PR #363), so the membrane is reset after each call as snn.Synaptic resets it itself; (3) the mask
is applied to its recurrent weights after each optimizer step, as snnc's legalize_ does.

Agreement (printed): hidden spike counts per sample equal across the three, max |score| difference, and
the gradient of snnc's twin against autograd through the plain loop; with --recurrent also on louder
weights (the recurrence matters there) and with the baselines' delay one step off (counts must differ).

    .venv/bin/python benchmarks/emulator_vs_snntorch.py [--batch 1 64 1024] [--steps 50 200]
        [--hidden 246 1024] [--repeats 5] [--recurrent] [--json build/bench.json]

The issue's own configuration (T = 100, hidden 246, batch 256) runs first unless --no-headline; with
--recurrent, the feed-forward goal row and then the recurrent network on the goal configuration (and on
the grid where --steps, --hidden or --batch are given). Where a baseline's autograd graph of the whole
batch would not fit in memory, its training step accumulates the gradient over micro-batches (marked in
the table). The last line is `speedup_vs_snntorch: X.Yx`, the geometric mean over all rows (inference
and training). Without snnTorch installed (`pip install --no-deps snntorch`, the `bench` extra) its
column is skipped.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

import snnc
from snnc.runtime import tune_memory
from snnc.runtime.emulators import core, fast_threads
from snnc.runtime.emulators.base import Stimulus, emulator_for
from snnc.runtime.in_the_loop import in_the_loop
from snnc.runtime.training import LOGIT_SCALE
from snnc.runtime.twin import SuperSpike

try:
    import snntorch
except ImportError:
    snntorch = None

DT_MS = 0.5
TAU_MS = 6.0
INPUTS = 256
OUTPUTS = 10
BETA = SuperSpike().beta
# The network the performance goal names (T, hidden, batch): 256-246-10, T = 100 steps, batch 256.
HEADLINE = (100, 246, 256)
RECURRENT = "hidden->hidden"


def recurrent_projection() -> str:
    """The hidden -> hidden projection of dsl_examples/latency_digits.snn (connectivity, init, delay), read
    from the example so the benchmark follows it."""
    example = Path(__file__).resolve().parents[1] / "dsl_examples" / "latency_digits.snn"
    [line] = [ln.split("#")[0].strip() for ln in example.read_text().splitlines()
              if ln.strip().startswith("proj hidden -> hidden")]
    return line


def network(steps: int, hidden: int, recurrent: bool = False, loud: bool = False) -> str:
    """The benchmark's network; `loud`: stronger weights (mapping_check), the recurrence's sparsity and
    delay kept."""
    duration = steps * DT_MS
    projection = recurrent_projection()
    if loud:
        projection = re.sub(r"init = normal\([^)]*\)", "init = normal(0.05, 0.4)", projection)
    recurrence = f"\n    {projection}" if recurrent else ""
    pixels = "normal(0.03, 0.1)" if loud else "normal(0, 0.1)"
    return f"""network bench {{
    timestep {DT_MS} ms
    duration {duration} ms
    input  pixels[16, 16] : latency(t_max = {duration * 2 / 3:.3f} ms)
    pop    hidden[{hidden}] : LIF(tau_mem = {TAU_MS} ms, tau_syn = {TAU_MS} ms, v_th = 1.0, v_reset = 0.0)
    pop    out[{OUTPUTS}] : LI(tau_mem = {TAU_MS} ms, tau_syn = {TAU_MS} ms)
    proj pixels -> hidden : dense(init = {pixels}){recurrence}
    proj hidden -> out : dense(init = normal(0, 0.1))
    output out : max_membrane
}}"""


def digits_batch(program, batch: int) -> tuple[torch.Tensor, torch.Tensor]:
    """`batch` digits resized to the 256 inputs (the training split, repeated as needed), and labels."""
    from snnc.runtime.data import load_data

    data = load_data("digits", program.ir.inputs()[0])
    idx = torch.arange(batch) % len(data.x_train)
    return data.x_train[idx].reshape(batch, -1), data.y_train[idx]


class Setup:
    """One configuration: the snnc program and emulator, the weights, a batch and its spike raster."""

    def __init__(self, steps: int, hidden: int, batch: int, recurrent: bool = False, loud: bool = False):
        self.steps, self.hidden, self.batch, self.recurrent = steps, hidden, batch, recurrent
        self.program = snnc.compile("bench.snn", text=network(steps, hidden, recurrent, loud), target="reference",
                                    seed=0)
        self.emulator = emulator_for(self.program)
        self.names = ["pixels->hidden", "hidden->out"] + ([RECURRENT] if recurrent else [])
        if recurrent:  # the deployed recurrent weights: masked (the compiled weights already are)
            mask = self.program.ir.edge_attrs(RECURRENT).get("mask")
            self.mask = torch.ones(hidden, hidden) if mask is None else torch.as_tensor(mask, dtype=torch.float32)
            self.delay = self.emulator.plan.incoming("hidden")[-1].delay_steps
            assert [e.name for e in self.emulator.plan.incoming("hidden")][-1] == RECURRENT
        self.twin = self.emulator.make_twin()
        self.weights = self.emulator.initial_weights()
        x, self.labels = digits_batch(self.program, batch)
        from snnc.runtime.encoders import encode

        self.stimulus = encode(self.program.ir, x)
        self.raster = self.stimulus.events["pixels"]  # (T, B, 256)
        p = self.emulator.nominal["hidden"]
        c = core.Coefficients.of(p, self.program.ir.header.timestep)
        self.a_mem, self.a_syn, self.k_syn = float(c.a_mem[0]), float(c.a_syn[0]), float(c.k_syn[0])


# --- the three implementations --------------------------------------------------------------------------
class Snnc:
    name = "snnc"

    def __init__(self, s: Setup):
        self.s = s
        self.w = {k: v.clone().requires_grad_(True) for k, v in s.weights.items()}
        self.opt = torch.optim.Adam(list(self.w.values()), lr=1e-3)

    def infer(self):
        obs = self.s.emulator.observe(self.s.stimulus, self.w, membranes="output")  # as `snnc run` does
        return obs.scores, obs.activity  # spikes per sample: the hidden layer's (the output does not spike)

    def loss(self):
        stim = Stimulus(self.s.batch, self.s.steps, dict(self.s.stimulus.events))
        scores, _ = in_the_loop(self.s.emulator, self.s.twin, stim, self.w)
        return torch.nn.functional.cross_entropy(LOGIT_SCALE * scores, self.s.labels)

    def grads(self) -> list[torch.Tensor]:
        return list(torch.autograd.grad(self.loss(), [self.w[name] for name in self.s.names]))

    def train(self):
        loss = self.loss()
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        self.s.emulator.legalize_(self.w)


class _Spike(torch.autograd.Function):
    """Heaviside forward, SuperSpike backward (the twin's surrogate; unit = v_th - v_leak = 1)."""

    @staticmethod
    def forward(ctx, u):
        ctx.save_for_backward(u)
        return (u >= 0).to(u.dtype)

    @staticmethod
    def backward(ctx, grad):
        (u,) = ctx.saved_tensors
        return grad / (1.0 + BETA * u.abs()) ** 2


class PlainTorch:
    """core.simulate's equations (v_leak = v_reset = 0, v_th = 1) as a per-step PyTorch loop; with the
    recurrence, z_{t - delay} @ W_rec enters the current of step t."""

    name = "torch"

    def __init__(self, s: Setup):
        self.s = s
        self.w = [s.weights[name].clone().requires_grad_(True) for name in s.names]
        self.opt = torch.optim.Adam(self.w, lr=1e-3)

    def run(self, raster: torch.Tensor | None = None):
        s = self.s
        raster = s.raster if raster is None else raster
        batch = raster.shape[1]
        w1, w2 = self.w[:2]
        w_rec = self.w[2] * s.mask if s.recurrent else None
        v1 = raster.new_zeros(batch, s.hidden)
        i1 = torch.zeros_like(v1)
        v2 = raster.new_zeros(batch, OUTPUTS)
        i2 = torch.zeros_like(v2)
        trace, count, spikes = [], torch.zeros(batch), []
        for t in range(s.steps):
            v1 = s.a_mem * v1 + s.k_syn * i1
            z = _Spike.apply(v1 - 1.0)
            v1 = v1 - z.detach() * v1
            v2 = s.a_mem * v2 + s.k_syn * i2
            trace.append(v2)
            i1 = s.a_syn * i1 + raster[t] @ w1
            if w_rec is not None:
                spikes.append(z)
                if t >= s.delay:
                    i1 = i1 + spikes[t - s.delay] @ w_rec
            i2 = s.a_syn * i2 + z @ w2
            count = count + z.detach().sum(1)
        return torch.stack(trace).amax(0), count  # amax: ties share the gradient, as in the readout

    def infer(self):
        with torch.no_grad():
            return self.run()

    def grads(self) -> list[torch.Tensor]:
        grads = [torch.zeros_like(w) for w in self.w]
        for loss in micro_batch_losses(self):
            for g, part in zip(grads, torch.autograd.grad(loss, self.w)):
                g += part
        return grads

    def train(self):
        accumulated_step(self, self.opt)


def micro_batch_losses(impl):
    """A baseline's batch loss as the losses of its micro-batches (micro_batches), each weighted by its
    share of the batch, so their gradients add up to the whole batch's."""
    s = impl.s
    for lo, hi in micro_batches(s, impl.name):
        scores, _ = impl.run(s.raster[:, lo:hi])
        yield torch.nn.functional.cross_entropy(LOGIT_SCALE * scores, s.labels[lo:hi]) * (hi - lo) / s.batch


def accumulated_step(impl, opt: torch.optim.Optimizer) -> None:
    """One optimizer step of a baseline on the whole batch; where autograd's graph of the whole batch
    would not fit in memory, its gradient is accumulated over equal micro-batches (the same gradient)."""
    opt.zero_grad(set_to_none=True)
    for loss in micro_batch_losses(impl):
        loss.backward()
    opt.step()


# Bytes autograd keeps per (step, sample, hidden neuron) in a training step: measured with ru_maxrss at
# T = 200, hidden 1024, batch 128 (snnTorch 55, the plain loop 40, snnc 9), rounded up.
GRAPH_BYTES = {"snntorch": 64, "torch": 48}


def micro_batches(s: Setup, name: str) -> list[tuple[int, int]]:
    """[lo, hi) ranges of the batch whose graphs fit in a third of the available memory."""
    need = GRAPH_BYTES[name] * s.steps * s.hidden * s.batch
    parts = 1
    while need / parts > available_memory() / 3 and s.batch % (parts * 2) == 0:
        parts *= 2
    size = s.batch // parts
    return [(k * size, (k + 1) * size) for k in range(parts)]


def available_memory() -> int:
    """MemAvailable of /proc/meminfo in bytes (a large number where there is none)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 1 << 50


class SnnTorch:
    """snn.Synaptic layers matched to our discretization (module docstring); with the recurrence, the hidden
    layer is an snn.RSynaptic."""

    name = "snntorch"

    def __init__(self, s: Setup):
        import snntorch as snn
        from snntorch import surrogate

        self.s = s
        self.fc1 = torch.nn.Linear(INPUTS, s.hidden, bias=False)
        self.fc2 = torch.nn.Linear(s.hidden, OUTPUTS, bias=False)
        with torch.no_grad():  # x' = k_syn x: the weights times k_syn
            self.fc1.weight.copy_((s.k_syn * s.weights["pixels->hidden"]).T)
            self.fc2.weight.copy_((s.k_syn * s.weights["hidden->out"]).T)
        grad = surrogate.fast_sigmoid(slope=BETA)
        if s.recurrent:
            self.lif1 = snn.RSynaptic(alpha=s.a_syn, beta=s.a_mem, threshold=1.0, spike_grad=grad,
                                      all_to_all=True, linear_features=s.hidden, reset_mechanism="zero",
                                      reset_delay=False)
            with torch.no_grad():
                self.lif1.recurrent.weight.copy_((s.k_syn * s.weights[RECURRENT] * s.mask).T)
                self.lif1.recurrent.bias.zero_()
        else:
            self.lif1 = snn.Synaptic(alpha=s.a_syn, beta=s.a_mem, threshold=1.0, spike_grad=grad,
                                     reset_mechanism="zero", reset_delay=False)
        self.lif2 = snn.Synaptic(alpha=s.a_syn, beta=s.a_mem, threshold=1.0, spike_grad=grad, reset_mechanism="none")
        self.parameters = list(self.fc1.parameters()) + list(self.fc2.parameters()) + list(self.lif1.parameters())
        self.opt = torch.optim.Adam(self.parameters, lr=1e-3)

    def run(self, raster: torch.Tensor | None = None):
        s = self.s
        raster = s.raster if raster is None else raster
        syn2, mem2 = self.lif2.reset_mem()
        spk1 = raster.new_zeros(raster.shape[1], s.hidden)
        syn1, mem1 = torch.zeros_like(spk1), torch.zeros_like(spk1)
        x_prev = torch.zeros_like(raster[0])
        trace, count, spikes = [], torch.zeros(raster.shape[1]), []
        for t in range(s.steps):  # inputs one step later: syn_t = k_syn I_{t-1}
            spk1_prev = spk1
            if s.recurrent:  # its spk state: the spikes of step t - 1 - delay (module docstring)
                fed_back = spikes[t - 1 - s.delay] if t - 1 - s.delay >= 0 else torch.zeros_like(spk1)
                spk1, syn1, mem1 = self.lif1(self.fc1(x_prev), fed_back, syn1, mem1)
                mem1 = mem1 - spk1 * mem1  # the reset RSynaptic 1.0.0 leaves out (as snn.Synaptic resets)
                spikes.append(spk1)
            else:
                spk1, syn1, mem1 = self.lif1(self.fc1(x_prev), syn1, mem1)
            _, syn2, mem2 = self.lif2(self.fc2(spk1_prev), syn2, mem2)
            trace.append(mem2)
            count = count + spk1.detach().sum(1)
            x_prev = raster[t]
        return torch.stack(trace).amax(0), count

    def infer(self):
        with torch.no_grad():
            return self.run()

    def train(self):
        accumulated_step(self, self.opt)
        if self.s.recurrent:  # absent synapses stay absent (snnc: legalize_)
            with torch.no_grad():
                self.lif1.recurrent.weight.mul_(self.s.mask.T)


# --- checks and timing ---------------------------------------------------------------------------------
def agreement(s: Setup, impls: list) -> dict[str, float]:
    """Spike counts and scores of every implementation against snnc's; snnc's twin gradient against
    autograd through the plain loop."""
    scores, counts = impls[0].infer()
    out = {}
    for impl in impls[1:]:
        other_scores, other_counts = impl.infer()
        out[f"{impl.name}_spike_count_mismatches"] = int((other_counts != counts).sum())
        out[f"{impl.name}_max_score_diff"] = float((other_scores - scores).abs().max())
    grads = Snnc(s).grads(), PlainTorch(s).grads()
    out["grad_max_rel_diff_vs_torch"] = max(float((a - b).abs().max() / b.abs().max().clamp(min=1e-30))
                                            for a, b in zip(*grads))
    return out


def mapping_check() -> str:
    """The recurrent mapping of the baselines checked where the recurrence matters: the goal row's network
    with louder weights on 32 samples (agreement, as above), and again with the baselines' delay one step
    off (which must change the spike counts)."""
    s = Setup(HEADLINE[0], HEADLINE[1], 32, recurrent=True, loud=True)
    impls = [Snnc(s), PlainTorch(s)] + ([SnnTorch(s)] if snntorch is not None else [])
    spikes = float(impls[0].infer()[1].mean())
    agree = agreement(s, impls)
    s.delay += 1
    off = agreement(s, [impls[0], PlainTorch(s)] + ([SnnTorch(s)] if snntorch is not None else []))
    mismatches = {k: int(v) for k, v in off.items() if k.endswith("spike_count_mismatches")}
    return (f"rec mapping check (32 samples, louder weights: {spikes:,.0f} hidden spikes per sample): "
            + ", ".join(f"{k}={v:.2g}" for k, v in agree.items())
            + f"; with the baselines' delay one step off: {mismatches} of 32")


def timed(fn, min_seconds: float) -> float:
    """Seconds per call of fn: calls repeated until min_seconds have passed (at least one)."""
    calls, start = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return elapsed / calls


def measure(s: Setup, impls: list, mode: str, repeats: int, min_seconds: float,
            torch_threads: list[int]) -> tuple[dict[str, float], dict[str, int]]:
    """Samples per second of each implementation, median over `repeats` rounds, all interleaved; the
    PyTorch baselines under each of `torch_threads` intra-op threads, keeping their fastest setting (snnc
    runs its kernels on its own threads and torch on 1). Returns the rates and the baselines' threads."""
    runs = [(impl, 1 if impl.name == "snnc" else threads) for impl in impls
            for threads in (torch_threads if impl.name != "snnc" else [1])]
    for impl, threads in runs:  # warm-up (numba compiles on first use; caches after)
        torch.set_num_threads(threads)
        getattr(impl, mode)()
    times: dict[tuple[str, int], list[float]] = {(impl.name, threads): [] for impl, threads in runs}
    for _ in range(repeats):
        for impl, threads in runs:
            torch.set_num_threads(threads)
            times[impl.name, threads].append(timed(getattr(impl, mode), min_seconds))
    torch.set_num_threads(1)
    rates: dict[str, float] = {}
    best: dict[str, int] = {}
    for (name, threads), ts in times.items():
        rate = s.batch / statistics.median(ts)
        if rate > rates.get(name, 0.0):
            rates[name], best[name] = rate, threads
    return rates, best


def write_json_atomically(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    os.fchmod(fd, 0o644)  # mkstemp makes it private
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=1)
    os.replace(tmp, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, nargs="+", help="default: 1 64 1024 (with --recurrent: the goal row)")
    parser.add_argument("--steps", type=int, nargs="+", help="default: 50 200 (with --recurrent: the goal row)")
    parser.add_argument("--hidden", type=int, nargs="+", help="default: 246 1024 (with --recurrent: the goal row)")
    parser.add_argument("--modes", nargs="+", default=["infer", "train"], choices=["infer", "train"])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--min-seconds", type=float, default=0.2, help="per timed measurement")
    parser.add_argument("--torch-threads", type=int, nargs="+", default=[1, 2],
                        help="intra-op threads to time the PyTorch baselines with; the fastest counts")
    parser.add_argument("--threads", type=int, default=0, help="threads of snnc's kernels (default: all cores)")
    parser.add_argument("--recurrent", action="store_true",
                        help="the recurrent network of latency_digits.snn (after the feed-forward goal row)")
    parser.add_argument("--no-headline", action="store_true",
                        help=f"leave out the issue's configuration (T, hidden, batch) = {HEADLINE}, run first")
    parser.add_argument("--json", type=Path, help="also write the results here (atomically)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    tune_memory()  # as `snnc train` and `snnc run` do: outputs reuse freed memory (docs/runtime.md)
    if args.threads:
        fast_threads.set_threads(args.threads)
    cores = len(os.sched_getaffinity(0))
    load = os.getloadavg()
    print(f"machine: {cores} CPU cores, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}; torch "
          f"{torch.__version__}; snnc kernels on {fast_threads.THREADS} threads, baselines with the faster of "
          f"{args.torch_threads} torch threads; median of {args.repeats} interleaved repeats")
    if snntorch is None:
        print("snntorch is not installed (pip install --no-deps snntorch): its column is skipped", file=sys.stderr)
    rows = run_rows(args, configurations(args))
    result = {"machine": {"cpu_cores": cores, "load_average": load, "torch_threads": args.torch_threads,
                          "snnc_threads": fast_threads.THREADS}, "repeats": args.repeats, "rows": rows}
    summarize(rows, args.modes, result)
    if args.json:
        write_json_atomically(args.json, result)


def configurations(args) -> list[tuple[str, int, int, int]]:
    """(network, T, hidden, batch) to run, in order: the goal row first; with --recurrent the feed-forward
    goal row, then the recurrent network on the goal row and the grid given."""
    given = args.steps or args.hidden or args.batch
    grid = [(s, h, b) for s in args.steps or [50, 200] for h in args.hidden or [246, 1024]
            for b in args.batch or [1, 64, 1024]]
    if args.recurrent:
        grid = grid if given else []
        head = [] if args.no_headline else [HEADLINE]
        return [("ff", *c) for c in head] + [("rec", *c) for c in head + [c for c in grid if c not in head]]
    if not args.no_headline and HEADLINE not in grid:
        grid.insert(0, HEADLINE)
    return [("ff", *c) for c in grid]


def run_rows(args, configs: list[tuple[str, int, int, int]]) -> list[dict]:
    """Agreement and timing of every configuration; prints the table (and the agreement after it)."""
    rows, notes = [], []
    print("| net | mode | T | hidden | batch | snnc /s | snnTorch /s | PyTorch /s | x snnTorch | x PyTorch |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for net, steps, hidden, batch in configs:
        s = Setup(steps, hidden, batch, recurrent=net == "rec")
        impls = [Snnc(s), PlainTorch(s)] + ([SnnTorch(s)] if snntorch is not None else [])
        agree = agreement(s, impls)
        notes.append(f"{net} T={steps} hidden={hidden} batch={batch}: " + ", ".join(
            f"{k}={v:.2g}" for k, v in agree.items()))
        for mode in args.modes:
            rate, threads = measure(s, impls, mode, args.repeats, args.min_seconds, args.torch_threads)
            parts = {i.name: len(micro_batches(s, i.name)) for i in impls[1:]} if mode == "train" else {}
            row = {"network": net, "mode": mode, "steps": steps, "hidden": hidden, "batch": batch,
                   "samples_per_second": rate, "torch_threads": threads, "agreement": agree,
                   "micro_batches": parts, "speedup_vs_torch": rate["snnc"] / rate["torch"]}
            if "snntorch" in rate:
                row["speedup_vs_snntorch"] = rate["snnc"] / rate["snntorch"]
            rows.append(row)

            def cell(name, rate=rate, threads=threads, parts=parts):
                if name not in rate:
                    return "-"
                split = f", {parts[name]} parts" if parts.get(name, 1) > 1 else ""
                return f"{rate[name]:,.0f} ({threads[name]}t{split})"

            xs = f"{row['speedup_vs_snntorch']:.1f}x" if "snntorch" in rate else "-"
            print(f"| {net} | {mode} | {steps} | {hidden} | {batch} | {rate['snnc']:,.0f} | {cell('snntorch')} | "
                  f"{cell('torch')} | {xs} | {row['speedup_vs_torch']:.1f}x |", flush=True)
    print("(net: ff the feed-forward network, rec with latency_digits' recurrent projection; Nt: the baseline's "
          "faster number of torch threads; N parts: its training step accumulated the gradient over N "
          "micro-batches, as its graph of the whole batch would not fit in memory)")
    print("agreement (samples whose hidden spike count differs from snnc's, max |score difference|, snnc's "
          "twin gradient vs autograd of the PyTorch loop, max relative difference):")
    if any(net == "rec" for net, *_ in configs):
        notes.append(mapping_check())
    for note in notes:
        print("  " + note)
    return rows


def summarize(rows: list[dict], modes: list[str], result: dict) -> None:
    """Geometric means and the goal rows' speedups, printed and added to `result`."""
    for key in ("speedup_vs_torch", "speedup_vs_snntorch"):
        for mode in modes:
            values = [r[key] for r in rows if key in r and r["mode"] == mode]
            if values:
                result[f"{key}_{mode}_geomean"] = math.exp(sum(map(math.log, values)) / len(values))
                print(f"{key} ({mode}, geometric mean): {result[f'{key}_{mode}_geomean']:.1f}x")
    for r in rows:
        if (r["steps"], r["hidden"], r["batch"]) == HEADLINE and "speedup_vs_snntorch" in r:
            prefix = "headline" if r["network"] == "ff" else "recurrent_headline"
            result[f"{prefix}_{r['mode']}_speedup_vs_snntorch"] = r["speedup_vs_snntorch"]
            print(f"{prefix.replace('_', ' ')} (T={HEADLINE[0]}, hidden {HEADLINE[1]}, batch {HEADLINE[2]}), "
                  f"{r['mode']}: {r['speedup_vs_snntorch']:.1f}x snnTorch")
    overall = [r["speedup_vs_snntorch"] for r in rows if "speedup_vs_snntorch" in r]
    if overall:
        print(f"speedup_vs_snntorch: {math.exp(sum(map(math.log, overall)) / len(overall)):.1f}x")
    else:
        print("speedup_vs_snntorch: n/a (snntorch not installed)")


if __name__ == "__main__":
    main()
