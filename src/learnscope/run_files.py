"""The files a training run writes: checkpoints.nc (weights at every snapshot) and
curves.nc (train/test loss and accuracy at every evaluation)."""

from __future__ import annotations

import numpy as np
import xarray as xr

from learnscope.kinds import task_kind
from learnscope.resume import TrainState
from learnscope.runspec import RunSpec

# Columns of TrainState.curves after the step, in the order the trainer records them.
CURVE_COLUMNS = ("train_loss", "train_acc", "test_loss", "test_acc")


def weight_var(torch_name: str) -> tuple[str, callable]:
    """``layers.0.weight`` -> (``l0_weight``, dims (l0_out, l0_in)) (an MLP layer's weight and
    bias share its dims); other names stay generic: ``layers.0.W_Q`` -> (``layers_0_W_Q``,
    dims (layers_0_W_Q_d0, ...)), one set of dims per tensor."""
    parts = torch_name.split(".")
    if len(parts) == 3 and parts[0] == "layers" and parts[1].isdigit() and parts[2] in ("weight", "bias"):
        prefix = f"l{parts[1]}"
        return f"{prefix}_{parts[2]}", lambda ndim: (f"{prefix}_out", f"{prefix}_in")[:ndim]
    var = torch_name.replace(".", "_")
    return var, lambda ndim: tuple(f"{var}_d{j}" for j in range(ndim))


def checkpoints_to_xarray(spec: RunSpec, state: TrainState) -> xr.Dataset:
    """One float32 variable per parameter tensor with dims (step, ...), attr ``torch_name``."""
    steps = np.array([s for s, _ in state.snapshots], dtype=np.int64)
    variables = {}
    for torch_name in state.snapshots[0][1]:
        var, dims = weight_var(torch_name)
        stacked = np.stack([w[torch_name].numpy() for _, w in state.snapshots]).astype(np.float32)
        variables[var] = (("step",) + dims(stacked.ndim - 1), stacked,
                          {"long_name": f"parameter {torch_name}", "torch_name": torch_name})
    return xr.Dataset(variables, coords={"step": ("step", steps, {"long_name": "optimizer step"})},
                      attrs={"run": spec.name, **_divergence_attr(state)})


def _divergence_attr(state: TrainState) -> dict[str, int]:
    """``diverged_at_step``: the step a stopped run diverged at (-1: it did not)."""
    return {"diverged_at_step": -1 if state.diverged_at is None else int(state.diverged_at)}


def kept_snapshots(checkpoints: xr.Dataset) -> np.ndarray:
    """(step,) bool: the snapshots a run reached before its ``diverged_at_step`` (all of them
    if it did not diverge); a stopped run's later snapshots repeat the last of these."""
    at, steps = int(checkpoints.attrs.get("diverged_at_step", -1)), checkpoints["step"].values
    return steps < at if at >= 0 else np.ones(len(steps), dtype=bool)


def curves_to_xarray(spec: RunSpec, state: TrainState, kind: str) -> xr.Dataset:
    rows = np.array(state.curves, dtype=np.float64)
    loss_name, acc_rule = task_kind(kind).loss_name, task_kind(kind).accuracy_rule
    ds = xr.Dataset(coords={"step": ("step", rows[:, 0].astype(np.int64), {"long_name": "optimizer step"})},
                    attrs={"run": spec.name, **_divergence_attr(state)})
    for j, name in enumerate(CURVE_COLUMNS, start=1):
        split, what = name.split("_")
        long_name = f"{split} {loss_name}" if what == "loss" else f"{split} accuracy ({acc_rule})"
        ds[name] = ("step", rows[:, j], {"long_name": long_name, "units": "1"})
    return ds
