"""The nfa study's sources job: a Recursive Feature Machine fitted to every task's dataset
(``learnscope.rfm``), one file per task (``store.rfm_path``): the metric M of every fitted
predictor (iteration 0 has M = I: plain Laplace kernel ridge regression), its test MSE and
test accuracy, and the task's support.

Targets: a binary or regression task's labels as they are; a multiclass task's as one-hot
vectors (one kernel predictor per class, the AGOP summed over the classes), predicted by the
largest output. The fit is deterministic (float64, no random choice): no seed.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import torch
import xarray as xr

from learnscope import store
from learnscope.config import to_json
from learnscope.metrics import member_loss_and_accuracy
from learnscope.studies.nfa.config import NfaConfig

log = logging.getLogger(__name__)


def targets(dataset: xr.Dataset, split: str) -> np.ndarray:
    """(n,) or (n, classes) float64 regression targets of a split's labels."""
    y = dataset[f"y_{split}"].values
    if dataset.attrs["kind"] == "multiclass":
        return np.eye(int(dataset.attrs["n_outputs"]))[y]
    return y.astype(np.float64)


def fit_rfm(cfg: NfaConfig, task: str, dataset: xr.Dataset) -> xr.Dataset:
    """The RFM of ``cfg.rfm`` fitted to one task's training split and scored on its test split."""
    start = time.perf_counter()
    rfm = cfg.rfm.build().fit(dataset["x_train"].values, targets(dataset, "train"),
                              dataset["x_test"].values, targets(dataset, "test"))
    kind, y_test = dataset.attrs["kind"], torch.as_tensor(dataset["y_test"].values)
    acc = [float(member_loss_and_accuracy(kind, torch.from_numpy(h["test_predictions"])[None], y_test)[0, 1])
           for h in rfm.history_]
    log.info("%s: RFM test MSE %s, accuracy %.4f (%d inputs, %.1f s)", task,
             " -> ".join(f"{h['test_mse']:.4g}" for h in rfm.history_), acc[-1], len(dataset["x_train"]),
             time.perf_counter() - start)
    n_in = dataset.sizes["input"]
    return xr.Dataset(
        {"metric": (("iteration", "in_a", "in_b"), np.stack([h["M"] for h in rfm.history_]),
                    {"long_name": "the RFM's metric M of the predictor fitted at this iteration (0: M = I)"}),
         "test_mse": (("iteration",), np.array([h["test_mse"] for h in rfm.history_]),
                      {"long_name": "test mean squared error (over samples and outputs)"}),
         "test_acc": (("iteration",), np.array(acc), {"long_name": "test accuracy (the task kind's rule)",
                                                     "units": "1"}),
         "support": (("input",), dataset["support"].values,
                     {"long_name": "1 where the target depends on the coordinate", "units": "1"})},
        coords={"iteration": np.arange(len(rfm.history_)), "input": np.arange(n_in),
                "in_a": np.arange(n_in), "in_b": np.arange(n_in)},
        attrs={"task_name": task, "kind": kind, "bandwidth": cfg.rfm.bandwidth, "ridge": cfg.rfm.ridge,
               "description": dataset.attrs["description"]})


def write_rfms(study: str, cfg: NfaConfig, out_paths: list[str]) -> None:
    """One RFM file per task of ``cfg.tasks`` (``store.rfm_path``), each of its dataset; the
    job's ``out_paths`` must be exactly those files (in any order: Snakemake may sort them)."""
    expected = {task: store.rfm_path(study, task) for task in cfg.tasks}
    if sorted(map(str, out_paths)) != sorted(expected.values()):
        raise ValueError(f"the {study} sources job writes {sorted(expected.values())}, was asked for {sorted(out_paths)}")
    for task, out_path in expected.items():
        dataset_path = store.dataset_path(study, task)
        dataset = store.read(dataset_path, "dataset", expect={"params_json": cfg.tasks[task]})
        store.write(fit_rfm(cfg, task, dataset), out_path, "rfm", to_json(cfg.rfm), [dataset_path])
