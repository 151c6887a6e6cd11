"""The features stage: measurements at every checkpoint snapshot of every run of a group.

Every run gets, per snapshot: train/test loss and accuracy, the first layer's weight mass
per input coordinate, and per weight matrix the singular values and stable rank of
W_t − W_0. Its study's measures (``Study.measures``, looked up in ``features.MEASURES``:
``agop``, ``fourier``, ``group``, ``gdln``) add their own; a measure that does not apply to
a run (``group`` on a non-group task) is skipped. The file's ``measures`` attr lists what
was measured, and ``learnscope.store`` checks each measure's variables (``Measure.schema``).
"""

from __future__ import annotations

import logging

import numpy as np
import torch
import xarray as xr

from learnscope import data, metrics, store
from learnscope.config import to_json
from learnscope.features import MEASURES
from learnscope.features.layout import features_to_xarray
from learnscope.features.spectra import (batched_singular_values, coordinate_mass,
                                         stable_ranks_from_singular_values)
from learnscope.features.config import FeaturesConfig
from learnscope.runspec import RunSpec
from learnscope.train import setup_compute

log = logging.getLogger(__name__)


def snapshot_state(checkpoints: xr.Dataset, index: int) -> dict[str, torch.Tensor]:
    """The state dict of snapshot ``index`` (position along ``step``), keyed by torch names."""
    return {var.attrs["torch_name"]: torch.from_numpy(var.values[index].copy())
            for var in checkpoints.data_vars.values()}


def load_model(spec: RunSpec, checkpoints: xr.Dataset, index: int, device: torch.device) -> torch.nn.Module:
    """The run's network with the weights of snapshot ``index`` (no code is loaded from the file)."""
    model = spec.model.build(spec.task.n_inputs, spec.task.n_outputs, spec.width, torch.Generator())
    model.load_state_dict(snapshot_state(checkpoints, index))
    return model.to(device).eval()


def load_ensemble(spec: RunSpec, states: list[dict[str, torch.Tensor]], device: torch.device):
    """One batched model whose members carry ``states`` (e.g. every snapshot of every run)."""
    model = spec.model.build_ensemble(spec.task.n_inputs, spec.task.n_outputs, spec.width,
                                      [torch.Generator() for _ in states])
    model.load_state_dict({name: torch.stack([s[single] for s in states])
                           for name, single in model.member_names().items()})
    return model.to(device).eval()


def batched_measures(spec: RunSpec, states: list[dict[str, torch.Tensor]], tensors: dict[str, torch.Tensor],
                     kind: str, cfg: FeaturesConfig, measures: tuple = (), max_elements: int = 1 << 26) -> dict:
    """Train and test (loss, accuracy) (M, 2) of M networks given by ``states``, and each
    measure's batched arrays (``Measure.batched``), stacked over the M networks.

    The networks form ensembles of as many members as fit ``max_elements`` hidden values
    at once; a member's numbers do not depend on the block it lands in.
    """
    device = tensors["x_train"].device
    rows = max(tensors["x_train"].shape[0], tensors["x_test"].shape[0])
    block = max(1, max_elements // (rows * max(spec.width, spec.task.n_outputs)))
    parts: dict[str, list] = {"train": [], "test": []}
    for start in range(0, len(states), block):
        model = load_ensemble(spec, states[start:start + block], device)
        with torch.no_grad():
            outputs = {"train": model(tensors["x_train"]), "test": model(tensors["x_test"])}  # (E, n, c)
        parts["train"].append(metrics.member_loss_and_accuracy(kind, outputs["train"], tensors["y_train"]))
        parts["test"].append(metrics.member_loss_and_accuracy(kind, outputs["test"], tensors["y_test"]))
        for measure in measures:
            for key, value in measure.batched(model, spec, tensors, outputs, cfg).items():
                parts.setdefault(key, []).append(value)
    return {"train": np.concatenate(parts["train"]), "test": np.concatenate(parts["test"]),
            **{k: torch.cat(v).numpy() for k, v in parts.items() if k not in ("train", "test")}}


def measure_group(specs: list[RunSpec], cfg: FeaturesConfig, dataset: xr.Dataset,
                  checkpoints: list[xr.Dataset], device: torch.device,
                  measures: tuple[str, ...] = ("agop",)) -> list[dict[str, np.ndarray]]:
    """Every measurement at every snapshot of every run of a group, stacked along step.

    All (run, snapshot) networks are measured as ensembles (``batched_measures``): batched
    passes give the losses, accuracies and each measure's batched part; singular values are
    one batched SVD per layer. ``measures`` names the study's measures (``features.MEASURES``);
    a measure that does not apply to the group's runs (``Measure.applies``) is skipped.
    """
    kind, tensors = dataset.attrs["kind"], data.load_tensors(dataset, device)
    n_steps = checkpoints[0].sizes["step"]
    states = [snapshot_state(ck, i) for ck in checkpoints for i in range(n_steps)]  # run-major
    active = [m for m in (MEASURES[name] for name in measures) if m.applies(specs[0])]
    batched = batched_measures(specs[0], states, tensors, kind, cfg, tuple(active))
    tr, te = batched["train"], batched["test"]
    matrices = [k for k, v in states[0].items() if v.ndim == 2]
    svs = {}
    for k in matrices:
        w = torch.stack([s[k] for s in states]).double().view(len(checkpoints), n_steps, *states[0][k].shape)
        svs[k] = batched_singular_values(w - w[:, :1]).view(len(states), -1)  # W_t - W_0 per run
    out = []
    for r in range(len(checkpoints)):
        rows = slice(r * n_steps, (r + 1) * n_steps)
        m = {"train_loss": tr[rows, 0], "train_acc": tr[rows, 1], "test_loss": te[rows, 0],
             "test_acc": te[rows, 1], "coord_mass": _input_mass(states[rows], matrices, specs[r].task.n_inputs),
             "dw_stable_rank": _stable_ranks(svs, matrices, rows, n_steps), "_matrices": matrices,
             "_measures": tuple(m.name for m in active)}
        m |= {f"sv:{k}": svs[k][rows].numpy() for k in matrices}
        for measure in active:
            own = {k: v[rows] for k, v in batched.items() if k not in ("train", "test")}
            m |= measure.per_run(specs[r], states[rows], own)
        out.append(_mask_after_divergence(m, checkpoints[r]))
    log.info("%s: measured %d runs x %d snapshots", specs[0].name, len(checkpoints), n_steps)
    return out


def _stable_ranks(svs: dict, matrices: list[str], rows: slice, n_steps: int) -> np.ndarray:
    """(snapshot, layer) stable rank of W_t − W_0 of each weight matrix (no columns if none)."""
    if not matrices:
        return np.zeros((n_steps, 0))
    return torch.stack([stable_ranks_from_singular_values(svs[k][rows]) for k in matrices], dim=1).numpy()


def _input_mass(states: list[dict[str, torch.Tensor]], matrices: list[str], n_inputs: int) -> np.ndarray:
    """(snapshot, n_inputs) first-layer weight mass per input coordinate; NaN for a model
    whose first matrix does not act on the inputs (an embedding table, or stacked
    per-pathway layers)."""
    first = matrices[0] if matrices else ""
    if not first.endswith("weight") or states[0][first].shape[1] != n_inputs:
        return np.full((len(states), n_inputs), np.nan)
    return np.stack([coordinate_mass(s[first].double()).numpy() for s in states])


def _mask_after_divergence(m: dict, checkpoints: xr.Dataset) -> dict:
    """NaN from the step a stopped run diverged at (``train.on_divergence: stop``): its
    snapshots there only repeat the weights it was frozen at."""
    at = int(checkpoints.attrs.get("diverged_at_step", -1))
    if at < 0:
        return m
    late = checkpoints["step"].values >= at
    return {k: v if k.startswith("_") else np.where(late.reshape((-1,) + (1,) * (np.ndim(v) - 1)), np.nan, v)
            for k, v in m.items()}


def features_group_run(specs: list[RunSpec], cfg: FeaturesConfig, dataset_path: str,
                       checkpoints_paths: list[str], features_paths: list[str], inputs: list[str],
                       measures: tuple[str, ...] = ("agop",)) -> None:
    """The features stage for a group of runs (one run is a group of one)."""
    device = setup_compute(specs[0].compute)
    dataset = store.read(dataset_path, "dataset")
    checkpoints = [store.read(path, "checkpoints") for path in checkpoints_paths]
    measured = measure_group(specs, cfg, dataset, checkpoints, device, measures)
    for spec, m, ck, own, path in zip(specs, measured, checkpoints, checkpoints_paths, features_paths):
        store.write(features_to_xarray(spec, m, ck), path, "features",
                    to_json({"run": spec, "features": cfg, "measures": list(measures)}),
                    store.own_inputs(inputs, own, checkpoints_paths))
