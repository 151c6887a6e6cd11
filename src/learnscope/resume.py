"""Training state of an unfinished group of runs, saved as netCDF (never a pickle).

Holds what the analysis snapshots do not: optimizer moments, every member's minibatch
generator state and the step, plus the snapshots and curves recorded so far.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from pathlib import Path

import numpy as np
import torch
import xarray as xr

log = logging.getLogger(__name__)


@dataclasses.dataclass
class TrainState:
    """What one run produced. ``curves`` rows: (step, train loss, train acc, test loss, test acc)."""

    step: int = 0
    recorded: set[int] = dataclasses.field(default_factory=set)
    curves: list[tuple] = dataclasses.field(default_factory=list)
    snapshots: list[tuple[int, dict[str, torch.Tensor]]] = dataclasses.field(default_factory=list)
    diverged_at: int | None = None


@dataclasses.dataclass
class GroupState:
    """What a group of E runs trained together has produced so far.

    ``step`` is the next step whose update is pending; ``curves`` rows are (step, (E, 4)
    array of train loss, train acc, test loss, test acc); snapshots hold the ensemble's
    stacked state dict (E leading); ``diverged`` maps a stopped member to the step at which
    it diverged (``train.on_divergence: stop``).
    """

    step: int = 0
    recorded: set[int] = dataclasses.field(default_factory=set)
    curves: list[tuple[int, np.ndarray]] = dataclasses.field(default_factory=list)
    snapshots: list[tuple[int, dict[str, torch.Tensor]]] = dataclasses.field(default_factory=list)
    diverged: dict[int, int] = dataclasses.field(default_factory=dict)


def _tensor_vars(prefix: str, tensors: dict[str, torch.Tensor]) -> dict[str, tuple]:
    out = {}
    for i, (name, t) in enumerate(tensors.items()):
        a = t.detach().cpu().numpy()
        out[f"{prefix}{i}"] = (tuple(f"{prefix}{i}_d{j}" for j in range(a.ndim)), a, {"key": name})
    return out


def save_state(path: Path, spec_json: str, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
               generators: list[torch.Generator], state: GroupState) -> None:
    """Write the resume file atomically."""
    opt = optimizer.state_dict()["state"]
    moments = {f"{i}/{k}": v for i, s in opt.items() for k, v in s.items() if torch.is_tensor(v)}
    variables = {**_tensor_vars("model", model.state_dict()), **_tensor_vars("opt", moments),
                 **_tensor_vars("generator", {str(i): g.get_state() for i, g in enumerate(generators)})}
    if state.curves:
        rows = np.stack([np.concatenate([[step], values.ravel()]) for step, values in state.curves])
        variables["curves"] = (("curve_row", "curve_col"), rows.astype(np.float64))
    for k, (_, weights) in enumerate(state.snapshots):
        variables.update(_tensor_vars(f"snap{k}_", weights))
    attrs = {"spec_json": spec_json, "step": state.step, "recorded": json.dumps(sorted(state.recorded)),
             "snapshot_steps": json.dumps([s for s, _ in state.snapshots]),
             "diverged": json.dumps(sorted(state.diverged.items()))}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    xr.Dataset(variables, attrs=attrs).to_netcdf(tmp, engine="netcdf4")
    os.replace(tmp, path)


def _read_tensors(ds: xr.Dataset, prefix: str) -> dict[str, torch.Tensor]:
    names = [v for v in ds.data_vars if v.startswith(prefix) and v[len(prefix):].isdigit()]
    names.sort(key=lambda v: int(v[len(prefix):]))
    return {ds[v].attrs["key"]: torch.from_numpy(ds[v].values.copy()) for v in names}


def _open(path: Path, spec_json: str) -> xr.Dataset | None:
    """The resume file's contents, or None (file deleted) if unreadable or for other params."""
    try:
        with xr.open_dataset(path, engine="netcdf4") as ds:
            ds = ds.load()
    except (OSError, ValueError) as e:
        log.warning("%s: unreadable resume file (%s); starting from step 0", path, e)
        path.unlink()
        return None
    if ds.attrs.get("spec_json") != spec_json:
        log.warning("%s: written for other params; starting from step 0", path)
        path.unlink()
        return None
    return ds


def load_state(path: Path, spec_json: str, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
               generators: list[torch.Generator]) -> GroupState:
    """Restore model, optimizer and generators in place; return the state recorded so far.

    A resume file written for other params (the runs' specs changed since it was killed)
    or that cannot be read is deleted with a warning, and training starts from step 0.
    """
    ds = _open(path, spec_json)
    if ds is None:
        return GroupState()
    device = next(model.parameters()).device
    model.load_state_dict(_read_tensors(ds, "model"))
    opt = optimizer.state_dict()
    for key, value in _read_tensors(ds, "opt").items():
        i, name = key.split("/")
        opt["state"].setdefault(int(i), {})[name] = value if name == "step" else value.to(device)
    optimizer.load_state_dict(opt)
    generator_states = _read_tensors(ds, "generator")
    for i, g in enumerate(generators):
        g.set_state(generator_states[str(i)])
    snapshots = [(s, _read_tensors(ds, f"snap{k}_")) for k, s in enumerate(json.loads(ds.attrs["snapshot_steps"]))]
    n_members = len(generators)
    curves = [(int(row[0]), row[1:].reshape(n_members, -1)) for row in ds["curves"].values] if "curves" in ds else []
    return GroupState(step=int(ds.attrs["step"]), recorded=set(json.loads(ds.attrs["recorded"])),
                      curves=curves, snapshots=snapshots,
                      diverged={int(e): int(s) for e, s in json.loads(ds.attrs.get("diverged", "[]"))})
