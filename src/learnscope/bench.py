"""The benchmark suite (``make bench``): is learnscope's own code fast where it matters?

Each headline number is a ratio of two timings taken side by side in this process:
``ensemble_vs_loop`` (16 seeds trained by ``learnscope.train.train_group`` vs a plain
PyTorch loop over them), ``ensemble_gflops_frac`` (its FLOP rate ÷ an fp32 GEMM's),
``agop_vs_loop`` and ``agop_vs_fwd_bwd`` (the vectorised ``agop`` vs a per-sample autograd
loop, and vs one forward and backward pass), ``snapshot_overhead_frac`` (40 snapshots
instead of 2 in ``train``), ``gdln_vs_pair_loop`` (the gated network's seeds trained as one
batched model vs the reference notebook's loop over pathway pairs, ``learnscope.bench_gdln``),
``similarity_vs_pairwise`` (every distance matrix over representations and λ at once vs a loop
over pairs calling the per-pair functions, ``learnscope.bench_similarity``),
``probing_vs_per_probe`` (the probing distiller's probes fitted as one batch vs each on its own
by least squares, ``learnscope.bench_probing``), ``rfm_agop_vs_autograd`` (the Recursive
Feature Machine's AGOP in closed form vs one autograd gradient per input, ``learnscope.bench_rfm``),
``layer_agop_vs_member_loop`` (every hidden layer's AGOP of an ensemble at once vs a loop over
members and layers, ``learnscope.bench_layer_agop``).

Timing (``best_times``): ``time.perf_counter``, one warm-up call, then the best of
``repeats`` calls, all under ``setup_compute`` with ``os.cpu_count()`` threads, baselines
and learnscope alike.
The JSON goes to ``$BENCH_OUT`` (default ``bench.json``); no test asserts a timing.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import platform
import time
from typing import Callable

import torch
from torch import Tensor, nn

from learnscope import data
from learnscope.bench_gdln import GdlnBenchSizes, bench_gdln
from learnscope.bench_layer_agop import LayerAgopBenchSizes, bench_layer_agop
from learnscope.bench_probing import ProbingBenchSizes, bench_probing
from learnscope.bench_rfm import RfmBenchSizes, bench_rfm
from learnscope.bench_similarity import SimilarityBenchSizes, bench_similarity
from learnscope.features.agop import agop
from learnscope.models.mlp import MLPConfig
from learnscope.runspec import ComputeConfig, RunSpec, TrainConfig
from learnscope.tasks.boolean import SparseParity
from learnscope.train import setup_compute, train, train_group

COMPUTE = ComputeConfig(device="cpu", threads=os.cpu_count() or 1)
# Headline key -> (comparison, target).
TARGETS = {"ensemble_vs_loop": (">=", 3.0), "ensemble_gflops_frac": (">=", 0.35),
           "agop_vs_loop": (">=", 30.0), "agop_vs_fwd_bwd": ("<=", 3.0),
           "snapshot_overhead_frac": ("<=", 0.05), "gdln_vs_pair_loop": (">=", 3.0),
           "similarity_vs_pairwise": (">=", 5.0), "probing_vs_per_probe": (">=", 20.0),
           "rfm_agop_vs_autograd": (">=", 5.0), "layer_agop_vs_member_loop": (">=", 1.0)}


@dataclasses.dataclass(frozen=True, kw_only=True)
class BenchSizes:
    """Problem sizes; the defaults are the benchmark's, tests pass tiny ones.

    Attributes:
        n_runs, d, width, batch_size, steps, lr: the seed ensemble (SparseParity of ``d``
            bits, k = 3, ``n_train`` training points, ``n_test`` test points, Adam).
        gemm_n: side of the square fp32 GEMM that gives the machine's matmul rate.
        agop_d, agop_width, agop_n: the AGOP's 2-layer MLP and number of inputs.
        agop_n_loop: samples the per-sample loop is timed on (scaled linearly to agop_n).
        repeats: best-of count for short measurements; ``train_repeats`` for the ensemble
            trainings, ``snapshot_repeats`` for the single-run snapshot comparison.
        gdln_steps: full-batch steps of the gated-network comparison.
        similarity: the representation-distance comparison's sizes.
        probing: the probing distiller's comparison's sizes; rfm: the RFM AGOP comparison's;
        layer_agop: the per-layer AGOP comparison's.
    """

    n_runs: int = 16
    d: int = 32
    width: int = 256
    batch_size: int = 128
    steps: int = 500
    lr: float = 1e-3
    n_train: int = 2000
    n_test: int = 500
    gemm_n: int = 2048
    agop_d: int = 100
    agop_width: int = 1024
    agop_n: int = 10_000
    agop_n_loop: int = 500
    repeats: int = 5
    train_repeats: int = 2
    snapshot_repeats: int = 15
    gdln_steps: int = 100
    similarity: SimilarityBenchSizes = SimilarityBenchSizes()
    probing: ProbingBenchSizes = ProbingBenchSizes()
    rfm: RfmBenchSizes = RfmBenchSizes()
    layer_agop: LayerAgopBenchSizes = LayerAgopBenchSizes()


def best_times(fns: dict[str, Callable[[], object]], repeats: int,
               interleave: bool = False) -> dict[str, float]:
    """Seconds per call of each fn: one warm-up, then the best of ``repeats`` calls.

    Args:
        fns: The contenders, by name.
        repeats: Timed calls of each.
        interleave: Take turns call by call, so that a drift in the machine's speed hits
            near-equal contenders alike. By default each fn is timed in its own block:
            glibc hands large freed buffers back to the OS, so a fn run right after one
            that allocated big tensors pays page faults it would not pay in steady state.
    """
    setup_compute(COMPUTE)
    order = list(fns) * repeats if interleave else [name for name in fns for _ in range(repeats)]
    best = {}
    for name in order:
        if name not in best:
            fns[name]()  # warm-up
            best[name] = math.inf
        start = time.perf_counter()
        fns[name]()
        best[name] = min(best[name], time.perf_counter() - start)
    return best


def mlp_train_flops(s: BenchSizes) -> float:
    """FLOPs of training the ensemble: per step per run the forward costs 2·B·(d·w + w·1)
    (two matmuls; biases, ReLU and Adam ignored) and the backward ≈ 2× the forward."""
    forward = 2 * s.batch_size * (s.d * s.width + s.width * 1)
    return 3 * forward * s.steps * s.n_runs


def matmul_gflops(n: int, repeats: int) -> float:
    """The machine's fp32 matmul rate in GFLOP/s: an (n, n) @ (n, n) GEMM, 2n³ FLOPs."""
    gen = torch.Generator().manual_seed(0)
    a, b = torch.randn(n, n, generator=gen), torch.randn(n, n, generator=gen)
    return 2 * n**3 / best_times({"gemm": lambda: a @ b}, repeats)["gemm"] / 1e9


def parity_tensors(s: BenchSizes) -> dict[str, Tensor]:
    """x_train, y_train, x_test, y_test of the benchmark's SparseParity task on the CPU."""
    task = parity_specs(s, 1, 2)[0].task
    return data.load_tensors(data.dataset_to_xarray(task, task.make_dataset()), torch.device("cpu"))


def parity_specs(s: BenchSizes, n_runs: int, n_snapshots: int) -> list[RunSpec]:
    """Seeds 0..n_runs-1 of the benchmark run; eval only at the start and end (eval_every=steps)."""
    task = SparseParity(n_bits=s.d, k=3, n_train=s.n_train, n_test=s.n_test)
    recipe = TrainConfig(optimizer="adam", lr=s.lr, batch_size=s.batch_size, steps=s.steps,
                         n_snapshots=n_snapshots, eval_every=s.steps)
    return [RunSpec(study="bench", task_name="parity", task=task, model=MLPConfig(), width=s.width,
                    seed=seed, train=recipe, compute=COMPUTE) for seed in range(n_runs)]


def train_loop_baseline(tensors: dict[str, Tensor], s: BenchSizes) -> None:
    """The plain-PyTorch baseline: the runs one after another, Adam on MSE, minibatches
    drawn with replacement from the same fixed training set as ours."""
    x, y = tensors["x_train"], tensors["y_train"]
    for seed in range(s.n_runs):
        with torch.random.fork_rng():  # nn.Linear initialises from the global generator
            torch.manual_seed(seed)
            model = nn.Sequential(nn.Linear(s.d, s.width), nn.ReLU(), nn.Linear(s.width, 1))
        optimizer = torch.optim.Adam(model.parameters(), lr=s.lr)
        g_batch = torch.Generator().manual_seed(seed)
        for _ in range(s.steps):
            idx = torch.randint(x.shape[0], (s.batch_size,), generator=g_batch)
            loss = ((model(x[idx])[:, 0] - y[idx]) ** 2).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()


def bench_ensemble(s: BenchSizes, tensors: dict[str, Tensor], gemm_gflops: float) -> tuple[dict, dict]:
    """``ensemble_vs_loop`` and ``ensemble_gflops_frac``."""
    specs = parity_specs(s, s.n_runs, n_snapshots=2)
    t = best_times({"loop": lambda: train_loop_baseline(tensors, s),
                    "ensemble": lambda: train_group(specs, tensors, "binary")}, s.train_repeats)
    rates = {name: mlp_train_flops(s) / seconds / 1e9 for name, seconds in t.items()}
    values = {"ensemble_vs_loop": t["loop"] / t["ensemble"], "ensemble_gflops_frac": rates["ensemble"] / gemm_gflops}
    note = (f"{s.n_runs} runs x {s.steps} steps: loop {t['loop']:.3f} s ({rates['loop']:.1f} GFLOP/s), "
            f"ensemble {t['ensemble']:.3f} s ({rates['ensemble']:.1f} GFLOP/s)")
    return values, {"times_s": {f"train_{k}": v for k, v in t.items()},
                    "gflops": {f"train_{k}": v for k, v in rates.items()}, "notes": {"ensemble": note}}


def agop_loop(fn: Callable[[Tensor], Tensor], x: Tensor) -> Tensor:
    """Reference AGOP (d, d) of ``fn``: (m, d) -> (m, 1) over x (n, d): one
    ``autograd.grad`` per sample, (1/n) Σ gᵀg."""
    total = torch.zeros(x.shape[1], x.shape[1], dtype=x.dtype)  # (d, d)
    for x_i in x:
        x_i = x_i[None].detach().requires_grad_(True)  # (1, d)
        (g,) = torch.autograd.grad(fn(x_i).sum(), x_i)  # (1, d)
        total += g.T @ g
    return total / x.shape[0]


def agop_model_and_inputs(s: BenchSizes) -> tuple[nn.Module, Tensor]:
    """A 2-layer ReLU MLP at initialisation (timing does not depend on the weights) and
    ``agop_n`` uniform ±1 inputs."""
    gen = torch.Generator().manual_seed(0)
    model = MLPConfig().build(s.agop_d, 1, s.agop_width, gen)
    x = (2 * torch.randint(0, 2, (s.agop_n, s.agop_d), generator=gen) - 1).float()  # (n, d)
    return model, x


def bench_agop(s: BenchSizes) -> tuple[dict, dict]:
    """``agop_vs_loop`` (the loop timed on ``agop_n_loop`` samples, scaled linearly) and
    ``agop_vs_fwd_bwd`` (one forward and backward, to the weights, of the mean squared output)."""
    model, x = agop_model_and_inputs(s)
    n_loop = min(s.agop_n_loop, s.agop_n)

    def fwd_bwd() -> None:
        model.zero_grad(set_to_none=True)
        model(x).square().mean().backward()

    t = best_times({"vectorised": lambda: agop(model, x), "fwd_bwd": fwd_bwd,
                    "loop_subsample": lambda: agop_loop(model, x[:n_loop])}, s.repeats)
    loop_scaled = t["loop_subsample"] * s.agop_n / n_loop
    note = (f"n={s.agop_n}: vectorised {t['vectorised']:.3f} s, fwd+bwd {t['fwd_bwd']:.3f} s, loop "
            f"{t['loop_subsample']:.3f} s on {n_loop} samples, scaled x{s.agop_n / n_loop:g} "
            f"to {loop_scaled:.2f} s")
    times = {"agop_vectorised": t["vectorised"], "agop_loop_subsample": t["loop_subsample"],
             "agop_loop_scaled": loop_scaled, "agop_fwd_bwd": t["fwd_bwd"]}
    values = {"agop_vs_loop": loop_scaled / t["vectorised"],
              "agop_vs_fwd_bwd": t["vectorised"] / t["fwd_bwd"]}
    return values, {"times_s": times, "notes": {"agop": note}}


def bench_snapshots(s: BenchSizes, tensors: dict[str, Tensor]) -> tuple[dict, dict]:
    """``snapshot_overhead_frac`` of ``train`` (one run, 40 vs 2 snapshots), and the same
    for ``train_group`` on ``n_runs`` seeds (in the detail)."""
    (spec40,), (spec2,) = parity_specs(s, 1, 40), parity_specs(s, 1, 2)
    t = best_times({"snap40": lambda: train(spec40, tensors, "binary"),
                    "snap2": lambda: train(spec2, tensors, "binary")}, s.snapshot_repeats, interleave=True)
    overhead = (t["snap40"] - t["snap2"]) / t["snap2"]
    times = {"train_single_snap40": t["snap40"], "train_single_snap2": t["snap2"]}
    note = f"single run: 40 snapshots {t['snap40']:.3f} s, 2 snapshots {t['snap2']:.3f} s"
    groups = {n: parity_specs(s, s.n_runs, n) for n in (40, 2)}
    tg = best_times({n: lambda n=n: train_group(groups[n], tensors, "binary") for n in groups},
                    s.train_repeats, interleave=True)
    extra = {"snapshot_overhead_frac_single": overhead, "snapshot_overhead_frac_ensemble": (tg[40] - tg[2]) / tg[2]}
    times |= {"train_ensemble_snap40": tg[40], "train_ensemble_snap2": tg[2]}
    note += (f"; ensemble of {s.n_runs}: 40 snapshots {tg[40]:.3f} s, 2 snapshots {tg[2]:.3f} s "
             f"(overhead {extra['snapshot_overhead_frac_ensemble']:+.3f})")
    return {"snapshot_overhead_frac": overhead}, {"times_s": times, "notes": {"snapshots": note}, **extra}


def run_benchmarks(s: BenchSizes = BenchSizes()) -> dict:
    """Run every benchmark; the headline ratios at top level, raw numbers under ``detail``."""
    load = os.getloadavg()[0]
    setup_compute(COMPUTE)
    gemm = matmul_gflops(s.gemm_n, s.repeats)
    tensors = parity_tensors(s)
    detail = {"times_s": {}, "gflops": {"gemm": gemm}, "notes": {}, "sizes": dataclasses.asdict(s)}
    values = {}
    gdln = bench_gdln(best_times, COMPUTE, s.train_repeats, GdlnBenchSizes(steps=s.gdln_steps))
    similarity = bench_similarity(best_times, s.repeats, s.similarity)
    probes = bench_probing(best_times, s.repeats, s.probing)
    rfm = bench_rfm(best_times, s.repeats, s.rfm)
    layer_agop = bench_layer_agop(best_times, s.repeats, s.layer_agop)
    for part_values, part in (bench_ensemble(s, tensors, gemm), bench_agop(s), bench_snapshots(s, tensors), gdln,
                              similarity, probes, rfm, layer_agop):
        values |= part_values
        detail |= {k: detail[k] | v if k in ("times_s", "gflops", "notes") else v for k, v in part.items()}
    detail |= {"torch": torch.__version__, "threads": torch.get_num_threads(), "cpu_count": os.cpu_count(),
               "platform": platform.platform(), "processor": platform.processor() or platform.machine(),
               "python": platform.python_version(), "load_avg_1min_at_start": load}
    return {key: values[key] for key in TARGETS} | {"detail": detail}


def format_table(result: dict) -> str:
    """The headline rows (value, target, pass/fail) followed by the raw times and rates."""
    lines = [f"{'benchmark':<24} {'value':>8}  {'target':<8} result"]
    for key, (op, target) in TARGETS.items():
        value = result[key]
        ok = value is not None and (value >= target if op == ">=" else value <= target)
        verdict = "skipped" if value is None else "PASS" if ok else "FAIL"
        shown = "null" if value is None else f"{value:.3f}"
        lines.append(f"{key:<24} {shown:>8}  {op} {target:<5} {verdict}")
    d = result["detail"]
    lines += ["", *(f"{k}: {v}" for k, v in d["notes"].items()),
              f"gemm n={d['sizes']['gemm_n']}: {d['gflops']['gemm']:.1f} GFLOP/s",
              f"torch {d['torch']}, {d['threads']} threads, {d['cpu_count']} CPUs, {d['processor']}, "
              f"{d['platform']}, load {d['load_avg_1min_at_start']:.2f} at start"]
    return "\n".join(lines)


def main() -> None:
    """``python -m learnscope.bench``: run, print the table, write ``$BENCH_OUT``."""
    result = run_benchmarks()
    print(format_table(result))
    out = os.environ.get("BENCH_OUT", "bench.json")
    with open(out, "w") as f:
        json.dump(result, f, indent=2)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
