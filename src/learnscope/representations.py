"""Hidden representations of trained MLPs on probe inputs, read from their checkpoints (the
inputs of ``learnscope.similarity``; the similarity study of issue 15 will store them).

For a run of model ``mlp`` and each of its snapshots, the post-activation values of every
hidden layer on a fixed probe set, computed by the network's own layers (``MLP.layers`` and
``MLP.activation``, exactly as its forward pass), so the readout applied to the last hidden
layer gives the network's output.
"""

from __future__ import annotations

import numpy as np
import torch
import xarray as xr

from learnscope.features.extract import load_model
from learnscope.models.mlp import MLP, MLPConfig
from learnscope.runspec import RunSpec


@torch.no_grad()
def hidden_layers(model: MLP, x: torch.Tensor) -> list[torch.Tensor]:
    """Post-activation values of each hidden layer of ``model`` on x (n, d_in): [(n, width), ...]."""
    out = []
    for layer in model.layers[:-1]:
        x = model.activation(layer(x))
        out.append(x)
    return out


def representations(spec: RunSpec, checkpoints: xr.Dataset, probe: np.ndarray,
                    snapshots: list[int] | None = None) -> xr.Dataset:
    """Every hidden layer of the run at each snapshot, on ``probe`` inputs (n, d_in).

    Args:
        spec: an ``mlp`` run (its model builds the network the checkpoints hold).
        checkpoints: its checkpoints.nc.
        probe: float inputs of the run's input space.
        snapshots: positions along ``step`` (default: all).

    Returns:
        ``hidden_<l>`` (step, sample, unit_<l>) float64 per hidden layer l, attr ``run``.

    Raises:
        ValueError: the run's model is not a plain MLP, or the probe has the wrong width.
    """
    if type(spec.model) is not MLPConfig:
        raise ValueError(f"{spec.name}: representations are read from plain MLPs (model mlp), "
                         f"not {type(spec.model).__name__}")
    if probe.ndim != 2 or probe.shape[1] != spec.task.n_inputs:
        raise ValueError(f"{spec.name}: probe inputs must be (n, {spec.task.n_inputs}); got {probe.shape}")
    index = list(range(checkpoints.sizes["step"])) if snapshots is None else list(snapshots)
    x = torch.as_tensor(probe, dtype=torch.float32)
    layers = [hidden_layers(load_model(spec, checkpoints, i, torch.device("cpu")), x) for i in index]
    variables = {f"hidden_{l}": (("step", "sample", f"unit_{l}"),
                                 np.stack([snap[l].double().numpy() for snap in layers]),
                                 {"long_name": f"post-activation values of hidden layer {l} on the probe inputs"})
                 for l in range(len(layers[0]))}
    return xr.Dataset(variables, coords={"step": ("step", checkpoints["step"].values[index])},
                      attrs={"run": spec.name})
