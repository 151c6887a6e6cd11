"""Hidden representations of trained networks on probe inputs, read from their checkpoints
(the inputs of ``learnscope.similarity``; the ``similarity`` study stores them).

A network's hidden representations are the inputs of the linear layers its forward pass
calls, except the layer fed the network's input: for an ``mlp`` the post-activation values
of every hidden layer, for an ``embed_mlp`` its hidden ReLU layer (the readout's input).
They are taken from the network's own forward pass (forward hooks), so the readout applied
to the last one gives the network's output. Networks are rebuilt from checkpoints.nc
(``features.extract.load_model``): no code is loaded from a file.

Probe sets: one fixed set of inputs per input space (``input_space``), so that every run on
that space is measured on the same inputs: uniform points of {−1, +1}^d for the Boolean
tasks (``n`` of them), every pair (a, b) of a composition table of order m when m² ≤ n,
otherwise ``n`` distinct pairs, drawn without replacement and sorted.
"""

from __future__ import annotations

import numpy as np
import torch
import xarray as xr

from learnscope.features.extract import load_model
from learnscope.models.embed import EmbedMLPConfig
from learnscope.models.mlp import MLPConfig
from learnscope.runspec import RunSpec
from learnscope.tasks.algebra import _CompositionTable
from learnscope.tasks.base import Task
from learnscope.tasks.boolean import HypercubeTask, uniform_hypercube

# Model configs whose hidden layers are the inputs of their linear layers (exact types: a
# subclass such as mlp_xxt computes other features first).
READABLE_MODELS = (MLPConfig, EmbedMLPConfig)
PROBE_STREAM = 7  # the probe sets' stream of the similarity seed, apart from every task's streams


def input_space(task: Task) -> str | None:
    """The name of ``task``'s input space (runs on one space share a probe set), or None when
    no probe set is defined for it: ``hypercube_<d>``, ``pairs_<m>`` (one-hot pairs of order m)."""
    if isinstance(task, HypercubeTask):
        return f"hypercube_{task.n_inputs}"
    if isinstance(task, _CompositionTable):
        return f"pairs_{task.order}"
    return None


def probe_inputs(task: Task, n: int, seed: int) -> np.ndarray:
    """float32 (n', d) probe inputs of ``task``'s input space (module docstring); the same for
    every task on that space, a function of (space, n, seed) only."""
    space = input_space(task)
    if space is None:
        raise ValueError(f"no probe set for {type(task).__name__} inputs (known: Boolean hypercube tasks, "
                         "composition tables)")
    salt = [int(b) for b in space.encode()]
    generator = torch.Generator().manual_seed(
        int(np.random.SeedSequence([seed, PROBE_STREAM, *salt]).generate_state(1, dtype=np.uint64)[0]) & (2**63 - 1))
    if isinstance(task, HypercubeTask):
        return uniform_hypercube(n, task.n_inputs, generator).numpy()
    a, b = task.pairs()
    chosen = np.arange(len(a)) if len(a) <= n else np.sort(torch.randperm(len(a), generator=generator)[:n].numpy())
    return task.encode(a[chosen], b[chosen])


def snapshot_positions(steps: np.ndarray, n: int) -> list[int]:
    """Up to ``n`` positions along a run's snapshot ``steps`` (sorted): the last always, every
    snapshot in the second half of training (step ≥ last / 2; evenly by position if they
    are more than n), and the rest evenly by position over the earlier snapshots."""
    steps = np.asarray(steps)
    late = np.flatnonzero(steps >= steps[-1] / 2)
    if len(late) >= n:
        return sorted({int(late[i]) for i in np.round(np.linspace(0, len(late) - 1, n)).astype(int)})
    early = np.flatnonzero(steps < steps[-1] / 2)
    count = min(n - len(late), len(early))
    picked = early[np.round(np.linspace(0, len(early) - 1, count)).astype(int)] if count else []
    return sorted({*map(int, picked), *map(int, late)})


@torch.no_grad()
def hidden_layers(model: torch.nn.Module, x: torch.Tensor) -> list[torch.Tensor]:
    """The inputs of the linear layers ``model``'s forward pass calls on x (n, d_in), in call
    order, except those fed x itself: [(n, width_l), ...]."""
    seen: list[torch.Tensor] = []
    hooks = [m.register_forward_hook(lambda module, args, out: seen.append(args[0]))
             for m in model.modules() if isinstance(m, torch.nn.Linear)]
    try:
        model(x)
    finally:
        for hook in hooks:
            hook.remove()
    return [h for h in seen if h is not x]


def representations(spec: RunSpec, checkpoints: xr.Dataset, probe: np.ndarray,
                    snapshots: list[int] | None = None) -> xr.Dataset:
    """Every hidden layer of the run at each chosen snapshot, on ``probe`` inputs (n, d_in).

    Args:
        spec: a run of an ``mlp`` or ``embed_mlp`` (its model builds the network the
            checkpoints hold).
        checkpoints: its checkpoints.nc.
        probe: float inputs of the run's input space.
        snapshots: positions along ``step`` (default: all).

    Returns:
        ``hidden_<l>`` (step, sample, unit_<l>) float32 per hidden layer l (the network
        computes in float32), attr ``run``.

    Raises:
        ValueError: the run's model has no hidden layers to read, or the probe has the wrong width.
    """
    if type(spec.model) not in READABLE_MODELS:
        raise ValueError(f"{spec.name}: representations are read from plain MLPs and embedding MLPs "
                         f"(models mlp, embed_mlp), not {type(spec.model).__name__}")
    if probe.ndim != 2 or probe.shape[1] != spec.task.n_inputs:
        raise ValueError(f"{spec.name}: probe inputs must be (n, {spec.task.n_inputs}); got {probe.shape}")
    index = list(range(checkpoints.sizes["step"])) if snapshots is None else list(snapshots)
    x = torch.as_tensor(probe, dtype=torch.float32)
    layers = [hidden_layers(load_model(spec, checkpoints, i, torch.device("cpu")), x) for i in index]
    variables = {f"hidden_{l}": (("step", "sample", f"unit_{l}"),
                                 np.stack([snap[l].numpy() for snap in layers]).astype(np.float32),
                                 {"long_name": f"values of hidden layer {l} on the probe inputs"})
                 for l in range(len(layers[0]))}
    return xr.Dataset(variables, coords={"step": ("step", checkpoints["step"].values[index])},
                      attrs={"run": spec.name})
