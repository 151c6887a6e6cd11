"""Benchmark of the gated deep linear network (part of ``make bench``, see ``learnscope.bench``).

``gdln_vs_pair_loop``: full-batch training of the gdln study's seeds by
``learnscope.train.train_group`` (one batched pass over every example of every trained
pathway pair, all seeds at once) vs the way the reference notebook trains: one network at a
time, a Python loop over the trained pairs computing W_out[j] W_shared W_in[i] X and its
loss, then one backward pass and an SGD step.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import torch

from learnscope import data
from learnscope.models.gdln import GatedDLNConfig
from learnscope.runspec import ComputeConfig, RunSpec, TrainConfig
from learnscope.tasks.routing import Routing
from learnscope.train import seed_for, train_group


@dataclasses.dataclass(frozen=True, kw_only=True)
class GdlnBenchSizes:
    """The gdln study's default network (7 pathways, 28 trained pairs, width 64, 3 seeds)."""

    n_runs: int = 3
    pathways: int = 7
    width: int = 64
    steps: int = 100
    lr: float = 0.08


def gdln_specs(s: GdlnBenchSizes, compute: ComputeConfig) -> list[RunSpec]:
    task = Routing(pathways=s.pathways, offsets=(-1, 0, 1, 2)[:min(4, s.pathways - 1)])
    train = TrainConfig(optimizer="sgd", lr=s.lr, full_batch=True, steps=s.steps, n_snapshots=2, eval_every=s.steps)
    return [RunSpec(study="bench", task_name="routing", task=task, model=GatedDLNConfig(pathways=s.pathways),
                    width=s.width, seed=seed, train=train, compute=compute) for seed in range(s.n_runs)]


def pair_loop_baseline(specs: list[RunSpec]) -> list[torch.nn.Module]:
    """The notebook's way: each network alone, a loop over its trained pairs every step."""
    task = specs[0].task
    x, y = torch.eye(task.items), torch.as_tensor(task.item_targets(), dtype=torch.float32)
    pairs = [(j, i) for j, i in zip(*task.trained_pairs().nonzero())]
    nets = []
    for spec in specs:
        net = spec.model.build(task.n_inputs, task.n_outputs, spec.width,
                               torch.Generator().manual_seed(seed_for(spec.seed, "init")))
        for _ in range(spec.train.steps):
            loss = 0.0
            for j, i in pairs:
                out = x @ net.W_in[i].T @ net.W_shared[0].T @ net.W_out[j].T  # (P, N)
                loss = loss + (out - y).square().sum(-1).mean() / len(pairs)
            net.zero_grad()
            loss.backward()
            with torch.no_grad():
                for p in net.parameters():
                    p -= spec.train.lr * p.grad
        nets.append(net)
    return nets


def bench_gdln(best_times: Callable, compute: ComputeConfig, repeats: int,
               s: GdlnBenchSizes = GdlnBenchSizes()) -> tuple[dict, dict]:
    """``gdln_vs_pair_loop`` and its times (``best_times`` from ``learnscope.bench``)."""
    specs = gdln_specs(s, compute)
    tensors = data.load_tensors(data.dataset_to_xarray(specs[0].task, specs[0].task.make_dataset()),
                                torch.device("cpu"))
    t = best_times({"pair_loop": lambda: pair_loop_baseline(specs),
                    "ensemble": lambda: train_group(specs, tensors, "vector")}, repeats)
    note = (f"gdln, {s.n_runs} seeds x {s.steps} full-batch steps, {s.pathways} pathways, width {s.width}: "
            f"pair loop {t['pair_loop']:.3f} s, ensemble {t['ensemble']:.3f} s")
    return ({"gdln_vs_pair_loop": t["pair_loop"] / t["ensemble"]},
            {"times_s": {f"gdln_{k}": v for k, v in t.items()}, "notes": {"gdln": note}})
