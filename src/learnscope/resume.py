"""Training state of an unfinished group of runs, saved as netCDF (never a pickle).

Holds what the analysis snapshots do not: optimizer moments, every member's minibatch
generator state and the step, plus the snapshots and curves recorded so far. Written
atomically and fsync'd (``learnscope.atomic``), with the ``learnscope_format`` and
``content_sha256`` attrs of every learnscope file. A resume file that cannot be trusted
(unreadable, another format, a checksum mismatch, other params, missing variables or
tensors, tensors of the wrong shape or dtype) is deleted with a warning naming it and the
reason, and the runs start from step 0: a corrupted resume file costs time, never correctness.

Layout: training may save at every step, and netCDF's cost is per variable, so the
tensors are packed, not one variable each. Every tensor of one dtype (model weights,
optimizer moments, generator states, every snapshot's weights) is flattened (C order) and
concatenated into the 1-D variable ``packed_<dtype>`` (dim ``packed_<dtype>_element``:
``packed_float32``, ``packed_uint8``, ...). The JSON attr ``tensor_index`` lists, in
order, each tensor as ``[group, key, dtype, shape, offset]``: group ``model``, ``opt``
(key ``<param index>/<moment>``), ``generator`` (key: member) or ``snapshot <k>`` (the
k-th of the ``snapshot_steps`` attr; keys of the model's state dict); ``offset`` is its
first element in ``packed_<dtype>``, and one dtype's tensors tile its variable exactly.
``curves`` (curve_row, curve_col) holds one row per evaluation: step, then the (E, 4)
values. Attrs ``step``, ``recorded``, ``diverged`` and ``spec_json`` hold the rest.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
import math
import re
from pathlib import Path

import numpy as np
import torch
import xarray as xr

from learnscope import atomic, store
from learnscope.checksum import CHECKSUM_ATTR, content_sha256, verify_checksum
from learnscope.errors import StoreError

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


INDEX_ATTR = "tensor_index"
PACKED = "packed_"  # + dtype name: the 1-D variable holding every tensor of that dtype


def _pack(groups: dict[str, dict[str, torch.Tensor]]) -> tuple[dict[str, tuple], list[list]]:
    """One 1-D ``packed_<dtype>`` variable per dtype and the index of its tensors (module docstring)."""
    flat: dict[str, list[np.ndarray]] = {}
    ends: dict[str, int] = {}
    index = []
    for group, tensors in groups.items():
        for key, t in tensors.items():
            a = t.detach().cpu().reshape(-1).numpy()
            dtype = a.dtype.name
            index.append([group, key, dtype, list(t.shape), ends.get(dtype, 0)])
            flat.setdefault(dtype, []).append(a)
            ends[dtype] = ends.get(dtype, 0) + a.size
    variables = {PACKED + dtype: ((f"{PACKED}{dtype}_element",), np.concatenate(arrays))
                 for dtype, arrays in flat.items()}
    return variables, index


def save_state(path: Path, spec_json: str, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
               generators: list[torch.Generator], state: GroupState) -> None:
    """Write the resume file atomically and fsync'd, sealed with its format and checksum."""
    opt = optimizer.state_dict()["state"]
    moments = {f"{i}/{k}": v for i, s in opt.items() for k, v in s.items() if torch.is_tensor(v)}
    groups = {"model": model.state_dict(), "opt": moments,
              "generator": {str(i): g.get_state() for i, g in enumerate(generators)},
              **{f"snapshot {k}": weights for k, (_, weights) in enumerate(state.snapshots)}}
    variables, index = _pack(groups)
    if state.curves:
        rows = np.stack([np.concatenate([[step], values.ravel()]) for step, values in state.curves])
        variables["curves"] = (("curve_row", "curve_col"), rows.astype(np.float64))
    attrs = {"spec_json": spec_json, "step": state.step, "recorded": json.dumps(sorted(state.recorded)),
             "snapshot_steps": json.dumps([s for s, _ in state.snapshots]),
             "diverged": json.dumps(sorted(state.diverged.items())), INDEX_ATTR: json.dumps(index),
             "learnscope_format": store.FORMAT}
    ds = xr.Dataset(variables, attrs=attrs)
    ds.attrs[CHECKSUM_ATTR] = content_sha256(ds)
    atomic.write_netcdf(ds, path, {}, "resume")


def load_state(path: Path, spec_json: str, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
               generators: list[torch.Generator]) -> GroupState:
    """Restore model, optimizer and generators in place; return the state recorded so far.

    Any failure to use the file (see the module docstring) logs a warning naming it and the
    reason, deletes it, puts model, optimizer and generators back as they were and returns
    a fresh GroupState: training starts from step 0, as if there had been no file.
    """
    before = ({k: v.clone() for k, v in model.state_dict().items()}, copy.deepcopy(optimizer.state_dict()),
              [g.get_state() for g in generators])
    try:
        return _restore(_open(path, spec_json), model, optimizer, generators)
    except Exception as e:  # noqa: BLE001 - whatever is wrong with it, the file cannot be trusted
        model.load_state_dict(before[0])
        optimizer.load_state_dict(before[1])
        for g, g_state in zip(generators, before[2]):
            g.set_state(g_state)
        _discard(path, _reason(path, e))
        return GroupState()


def _reason(path: Path, e: Exception) -> str:
    """What is wrong with the file: a StoreError's message without its path and its advice
    to delete the file (``_discard`` does that), or the exception's type and text."""
    if not isinstance(e, StoreError):
        return f"{type(e).__name__}: {e}"
    return re.sub(r"[;:] delete it and rerun `make run`$", "", str(e).removeprefix(f"{path}: "))


def _open(path: Path, spec_json: str) -> xr.Dataset:
    """The resume file's verified contents; StoreError naming ``path`` and what is wrong."""
    ds = atomic.read_netcdf(path)
    store.check_format(ds, path)
    verify_checksum(ds, path)
    if ds.attrs.get("spec_json") != spec_json:
        raise StoreError(f"{path}: written for other params than these runs'")
    return ds


def _discard(path: Path, reason: str) -> None:
    """Delete the unusable file and say so; StoreError if it cannot be deleted (a folder)."""
    try:
        path.unlink(missing_ok=True)
    except OSError as e:
        raise StoreError(f"{path}: unusable resume file ({reason}) that cannot be deleted "
                         f"({e.strerror or e}); delete it and rerun") from None
    log.warning("%s: unusable resume file (%s); deleted, training starts from step 0", path, reason)


def _restore(ds: xr.Dataset, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
             generators: list[torch.Generator]) -> GroupState:
    """Load ``ds`` into model, optimizer and generators after checking every tensor's key
    and shape against them (ValueError naming the tensor otherwise)."""
    device = next(model.parameters()).device
    groups, snapshot_steps = _unpack(ds), json.loads(ds.attrs["snapshot_steps"])
    unknown = set(groups) - {"model", "opt", "generator", *(f"snapshot {k}" for k in range(len(snapshot_steps)))}
    if unknown:
        raise ValueError(f"tensor groups {sorted(unknown)} are not part of a resume file")
    model.load_state_dict(_matching(groups.get("model", {}), model.state_dict(), "model"))
    params = [p for group in optimizer.param_groups for p in group["params"]]  # state_dict's indices
    opt = optimizer.state_dict()
    for key, value in groups.get("opt", {}).items():
        i, name = key.split("/")
        want = () if name == "step" else tuple(params[int(i)].shape)
        if tuple(value.shape) != want:
            raise ValueError(f"optimizer tensor {key} has shape {tuple(value.shape)}, expected {want}")
        opt["state"].setdefault(int(i), {})[name] = value if name == "step" else value.to(device)
    optimizer.load_state_dict(opt)
    g_states = _matching(groups.get("generator", {}), {str(i): g.get_state() for i, g in enumerate(generators)},
                         "generator")
    for i, g in enumerate(generators):
        g.set_state(g_states[str(i)])
    on_cpu = {k: v.cpu() for k, v in model.state_dict().items()}  # snapshots are kept on the CPU
    snapshots = [(int(s), _matching(groups.get(f"snapshot {k}", {}), on_cpu, f"snapshot {s}"))
                 for k, s in enumerate(snapshot_steps)]
    n_members = len(generators)
    curves = [(int(row[0]), row[1:].reshape(n_members, -1)) for row in ds["curves"].values] if "curves" in ds else []
    return GroupState(step=int(ds.attrs["step"]), recorded=set(json.loads(ds.attrs["recorded"])),
                      curves=curves, snapshots=snapshots,
                      diverged={int(e): int(s) for e, s in json.loads(ds.attrs.get("diverged", "[]"))})


def _unpack(ds: xr.Dataset) -> dict[str, dict[str, torch.Tensor]]:
    """Every tensor of the ``tensor_index`` attr, by group and key. ValueError unless index and
    variables fit exactly: each tensor right after the previous one of its dtype inside an
    existing ``packed_<dtype>`` of that dtype, no key twice, every packed variable covered."""
    if INDEX_ATTR not in ds.attrs:
        raise ValueError(f"no '{INDEX_ATTR}' attr: written by older code, in another layout")
    arrays = {name: ds[name].values for name in ds.data_vars}
    groups: dict[str, dict[str, torch.Tensor]] = {}
    ends: dict[str, int] = {}
    for group, key, dtype, shape, offset in json.loads(ds.attrs[INDEX_ATTR]):
        name = f"{PACKED}{dtype}"
        if name not in arrays or arrays[name].ndim != 1 or arrays[name].dtype.name != dtype:
            raise ValueError(f"{group} tensor {key} is in {name}, which is missing or not 1-D {dtype}")
        if key in groups.get(group, {}):
            raise ValueError(f"{group} tensor {key} appears twice")
        if not isinstance(shape, list) or not all(type(n) is int and n >= 0 for n in shape):
            raise ValueError(f"{group} tensor {key} has shape {shape}, not a list of sizes")
        size = math.prod(shape)
        if offset != ends.get(name, 0) or offset + size > arrays[name].size:
            raise ValueError(f"{group} tensor {key} at {offset}:{offset + size} does not follow the previous "
                             f"one ({ends.get(name, 0)}) within {name} ({arrays[name].size} elements)")
        groups.setdefault(group, {})[key] = torch.from_numpy(arrays[name][offset:offset + size].reshape(shape).copy())
        ends[name] = offset + size
    for name, a in arrays.items():
        if name != "curves" and ends.get(name) != a.size:
            raise ValueError(f"variable {name} is neither curves nor exactly covered by the '{INDEX_ATTR}' attr")
    return groups


def _matching(tensors: dict[str, torch.Tensor], like: dict[str, torch.Tensor], what: str) -> dict[str, torch.Tensor]:
    """``tensors``, after checking they have exactly ``like``'s keys, shapes and dtypes."""
    if tensors.keys() != like.keys():
        raise ValueError(f"{what} tensors {sorted(tensors)} are not the expected {sorted(like)}")
    for key, t in tensors.items():
        if t.shape != like[key].shape or t.dtype != like[key].dtype:
            raise ValueError(f"{what} tensor {key} is {t.dtype}{tuple(t.shape)}, expected "
                             f"{like[key].dtype}{tuple(like[key].shape)}")
    return tensors
