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
from learnscope.features.failures import named_failures
from learnscope.run_files import kept_snapshots
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

    A run stopped by ``train.on_divergence: stop`` is measured only at its snapshots before
    its ``diverged_at_step`` and is NaN from there on (``_mask_after_divergence``). A numerical
    failure raises MeasureError naming the run and the step (``features.failures``).
    """
    kind, tensors = dataset.attrs["kind"], data.load_tensors(dataset, device)
    n_kept = [int(kept_snapshots(ck).sum()) for ck in checkpoints]
    states = [snapshot_state(ck, i) for ck, n in zip(checkpoints, n_kept) for i in range(n)]  # run-major
    labels = [(spec.name, int(step)) for spec, ck, n in zip(specs, checkpoints, n_kept)
              for step in ck["step"].values[:n]]
    starts = np.cumsum([0, *n_kept])
    active = [m for m in (MEASURES[name] for name in measures) if m.applies(specs[0])]
    batched = named_failures("the batched pass (losses and measures)", labels, lambda idx: batched_measures(
        specs[0], [states[i] for i in idx], tensors, kind, cfg, tuple(active)))
    matrices = [k for k, v in states[0].items() if v.ndim == 2]
    w0_at = np.repeat(starts[:-1], n_kept)  # position of each snapshot's step-0 snapshot
    svs = {k: named_failures(f"singular values of W_t - W_0 of {k}", labels, lambda idx, k=k: batched_singular_values(
        torch.stack([states[i][k].double() - states[w0_at[i]][k].double() for i in idx]))) for k in matrices}
    out = []
    for r, spec in enumerate(specs):
        rows = slice(starts[r], starts[r + 1])
        m = {"train_loss": batched["train"][rows, 0], "train_acc": batched["train"][rows, 1],
             "test_loss": batched["test"][rows, 0], "test_acc": batched["test"][rows, 1],
             "coord_mass": _input_mass(states[rows], matrices, spec.task.n_inputs),
             "dw_stable_rank": _stable_ranks(svs, matrices, rows, n_kept[r]), "_matrices": matrices,
             "_measures": tuple(m.name for m in active)}
        m |= {f"sv:{k}": svs[k][rows].numpy() for k in matrices}
        own = {k: v[rows] for k, v in batched.items() if k not in ("train", "test")}
        for measure in active:
            m |= named_failures(f"measure {measure.name}", labels[rows], lambda idx, measure=measure: measure.per_run(
                spec, states[rows][:len(idx)], {k: v[:len(idx)] for k, v in own.items()}), causal=True)
        out.append(_mask_after_divergence(m, checkpoints[r]))
    log.info("%s: measured %d runs, %d snapshots", specs[0].name, len(checkpoints), len(states))
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
    """One run's measurements (step-major arrays over its kept snapshots, or over all of
    them) on all its snapshots: NaN from the step a stopped run diverged at
    (``train.on_divergence: stop``), whose snapshots only repeat the weights it stopped with."""
    kept = kept_snapshots(checkpoints)
    if kept.all():
        return m
    n = int(kept.sum())

    def padded(v):
        v = np.asarray(v)
        out = np.full(kept.shape + v.shape[1:], np.nan, dtype=np.result_type(v.dtype, np.float32))
        out[:n] = v[:n]
        return out

    return {k: v if k.startswith("_") else padded(v) for k, v in m.items()}


def features_group_run(specs: list[RunSpec], cfg: FeaturesConfig, dataset_path: str,
                       checkpoints_paths: list[str], features_paths: list[str], inputs: list[str],
                       measures: tuple[str, ...] = ("agop",)) -> None:
    """The features stage for a group of runs (one run is a group of one)."""
    device = setup_compute(specs[0].compute)
    dataset = store.read(dataset_path, "dataset", expect={"params_json": specs[0].task})
    checkpoints = [store.read(path, "checkpoints", expect={"run": spec.name, "params_json": spec})
                   for spec, path in zip(specs, checkpoints_paths)]
    measured = measure_group(specs, cfg, dataset, checkpoints, device, measures)
    for spec, m, ck, own, path in zip(specs, measured, checkpoints, checkpoints_paths, features_paths):
        store.write(features_to_xarray(spec, m, ck), path, "features",
                    to_json({"run": spec, "features": cfg, "measures": list(measures)}),
                    store.own_inputs(inputs, own, checkpoints_paths))
