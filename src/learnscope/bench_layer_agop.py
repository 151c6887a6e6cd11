"""Benchmark of the per-layer AGOP of the features stage's ``layer_nfa`` measure (part of
``make bench``, see ``learnscope.bench``).

``layer_agop_vs_member_loop``: every hidden layer's AGOP for every member of an ensemble of MLPs
(the nfa study's digits group: 3 seeds x 20 snapshots) by ``features.agop.ensemble_layer_agops``
(one backward pass per output for all members and layers) vs a loop over members and layers,
each calling the vectorised single-network ``features.agop.agop`` on the rest of the network
from that layer's input. The loop is timed on ``n_loop`` members and scaled linearly.

Both do the same floating-point work (per output, one backward pass through every layer and
one (in, in) outer-product sum per layer), which at these widths keeps the cores busy either
way: measured here, the batched form is only 1.1-1.3x the loop (at one output and d = 20 as
at ten outputs and d = 64). Its target is therefore a guard, not a speed-up: never slower.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import torch
from torch import Tensor

from learnscope.features.agop import agop, ensemble_layer_agops
from learnscope.models.mlp import MLP, MLPConfig


@dataclasses.dataclass(frozen=True, kw_only=True)
class LayerAgopBenchSizes:
    """``members`` MLPs of ``depth`` hidden ReLU layers of ``width`` on d inputs with
    ``outputs`` outputs, AGOPs over n inputs: the nfa study's digits group (64 pixels, 10
    classes, 1,000 training images, 3 seeds x 20 snapshots)."""

    members: int = 60
    d: int = 64
    width: int = 256
    depth: int = 2
    outputs: int = 10
    n: int = 1000
    n_loop: int = 4


def layer_input(mlp: MLP, x: Tensor, layer: int) -> Tensor:
    """The input of linear layer ``layer`` of one MLP (the previous hidden layer's activations)."""
    with torch.no_grad():
        for linear in mlp.layers[:layer]:
            x = mlp.activation(linear(x))
    return x


def layer_tail(mlp: MLP, layer: int) -> Callable[[Tensor], Tensor]:
    """The network from the input of linear layer ``layer`` to the output."""
    def tail(h: Tensor) -> Tensor:
        for i, linear in enumerate(mlp.layers[layer:], start=layer):
            h = linear(h)
            if i < len(mlp.layers) - 1:
                h = mlp.activation(h)
        return h * mlp.output_scale
    return tail


def member_loop(members: list[MLP], x: Tensor) -> list[list[Tensor]]:
    """The baseline: per member, per hidden layer, ``agop`` of the rest of the network."""
    return [[agop(layer_tail(mlp, layer), layer_input(mlp, x, layer)) for layer in range(len(mlp.layers) - 1)]
            for mlp in members]


def networks(s: LayerAgopBenchSizes) -> tuple[list[MLP], torch.nn.Module, Tensor]:
    cfg = MLPConfig(depth=s.depth)
    members = [cfg.build(s.d, s.outputs, s.width, torch.Generator().manual_seed(i)) for i in range(s.members)]
    ensemble = cfg.build_ensemble(s.d, s.outputs, s.width, [torch.Generator().manual_seed(i) for i in range(s.members)])
    return members, ensemble, torch.rand(s.n, s.d, generator=torch.Generator().manual_seed(0))


def bench_layer_agop(best_times: Callable, repeats: int, s: LayerAgopBenchSizes = LayerAgopBenchSizes()) -> tuple[dict, dict]:
    """``layer_agop_vs_member_loop`` and its times (``best_times`` from ``learnscope.bench``)."""
    members, ensemble, x = networks(s)
    t = best_times({"loop": lambda: member_loop(members[: s.n_loop], x),
                    "batched": lambda: ensemble_layer_agops(ensemble, x)}, repeats)
    loop_total = t["loop"] * s.members / s.n_loop
    note = (f"layer AGOPs of {s.members} MLPs ({s.depth} x {s.width}, {s.outputs} outputs) over {s.n} inputs: "
            f"member loop {t['loop'] / s.n_loop:.3f} s per member (x {s.members} = {loop_total:.2f} s), "
            f"batched {t['batched']:.3f} s")
    return ({"layer_agop_vs_member_loop": loop_total / t["batched"]},
            {"times_s": {"layer_agop_member_loop": t["loop"], "layer_agop_batched": t["batched"]},
             "notes": {"layer_agop": note}})
