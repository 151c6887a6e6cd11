"""Training state of an unfinished run, saved as netCDF (never a pickle) for exact resume.

Holds what the analysis snapshots do not: optimizer moments, the minibatch generator's
state and the step, plus the snapshots and curves recorded so far.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import logging

import numpy as np
import torch
import xarray as xr

log = logging.getLogger(__name__)


@dataclasses.dataclass
class TrainState:
    """What a run has produced so far. ``step`` is the next step whose update is pending."""

    step: int = 0
    recorded: set[int] = dataclasses.field(default_factory=set)  # steps already evaluated/snapshotted
    curves: list[tuple] = dataclasses.field(default_factory=list)  # (step, train loss, acc, test loss, acc)
    snapshots: list[tuple[int, dict[str, torch.Tensor]]] = dataclasses.field(default_factory=list)


def _tensor_vars(prefix: str, tensors: dict[str, torch.Tensor]) -> dict[str, tuple]:
    out = {}
    for i, (name, t) in enumerate(tensors.items()):
        a = t.detach().cpu().numpy()
        out[f"{prefix}{i}"] = (tuple(f"{prefix}{i}_d{j}" for j in range(a.ndim)), a, {"key": name})
    return out


def save_state(path: Path, spec_json: str, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
               generator: torch.Generator, state: TrainState) -> None:
    """Write the resume file atomically."""
    opt = optimizer.state_dict()["state"]
    moments = {f"{i}/{k}": v for i, s in opt.items() for k, v in s.items() if torch.is_tensor(v)}
    variables = {**_tensor_vars("model", model.state_dict()), **_tensor_vars("opt", moments),
                 "generator": (("generator_byte",), generator.get_state().numpy())}
    if state.curves:
        variables["curves"] = (("curve_row", "curve_col"), np.array(state.curves, dtype=np.float64))
    for k, (step, weights) in enumerate(state.snapshots):
        variables.update(_tensor_vars(f"snap{k}_", weights))
    attrs = {"spec_json": spec_json, "step": state.step, "recorded": json.dumps(sorted(state.recorded)),
             "snapshot_steps": json.dumps([s for s, _ in state.snapshots])}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    xr.Dataset(variables, attrs=attrs).to_netcdf(tmp, engine="netcdf4")
    os.replace(tmp, path)


def _read_tensors(ds: xr.Dataset, prefix: str) -> dict[str, torch.Tensor]:
    names = [v for v in ds.data_vars if v.startswith(prefix) and v[len(prefix):].isdigit()]
    names.sort(key=lambda v: int(v[len(prefix):]))
    return {ds[v].attrs["key"]: torch.from_numpy(ds[v].values.copy()) for v in names}


def load_state(path: Path, spec_json: str, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
               generator: torch.Generator) -> TrainState:
    """Restore model, optimizer and generator in place; return the state recorded so far.

    A resume file written for other params (the run's spec changed since it was killed) or
    that cannot be read is deleted with a warning, and training starts from step 0.
    """
    try:
        with xr.open_dataset(path, engine="netcdf4") as ds:
            ds = ds.load()
    except (OSError, ValueError) as e:
        log.warning("%s: unreadable resume file (%s); starting from step 0", path, e)
        path.unlink()
        return TrainState()
    if ds.attrs.get("spec_json") != spec_json:
        log.warning("%s: written for other params; starting from step 0", path)
        path.unlink()
        return TrainState()
    device = next(model.parameters()).device
    model.load_state_dict(_read_tensors(ds, "model"))
    opt = optimizer.state_dict()
    for key, value in _read_tensors(ds, "opt").items():
        i, name = key.split("/")
        value = value if name == "step" else value.to(device)
        opt["state"].setdefault(int(i), {})[name] = value
    optimizer.load_state_dict(opt)
    generator.set_state(torch.from_numpy(ds["generator"].values.copy()))
    snapshot_steps = json.loads(ds.attrs["snapshot_steps"])
    snapshots = [(s, _read_tensors(ds, f"snap{k}_")) for k, s in enumerate(snapshot_steps)]
    curves = [tuple(row) for row in ds["curves"].values.tolist()] if "curves" in ds else []
    curves = [(int(r[0]), *r[1:]) for r in curves]
    return TrainState(step=int(ds.attrs["step"]), recorded=set(json.loads(ds.attrs["recorded"])),
                      curves=curves, snapshots=snapshots)
