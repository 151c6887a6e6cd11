"""The train stage: one run, with log-spaced checkpoints, curves and resume.

A run's randomness comes from two generators seeded from its own seed only (``init`` for
the weights, ``batch`` for the minibatch indices), so adding runs elsewhere never changes
it. Minibatches are drawn with replacement from the fixed training set.

Resume: at snapshot steps (at most every ``resume_interval_s`` seconds) the full training
state (weights, optimizer moments, generator state, step, snapshots and curves so far) is
written to ``store.resume_path(run)``, outside the rule's outputs; a restarted run continues
from it and produces the same bytes as an uninterrupted one. The file is deleted at the end.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import time
from pathlib import Path

import numpy as np
import torch
import xarray as xr
from tqdm import tqdm

from learnscope import data, metrics, store
from learnscope.errors import DivergenceError
from learnscope.params import ComputeConfig, RunSpec, TrainConfig
from learnscope.resume import TrainState, load_state, save_state

log = logging.getLogger(__name__)

# Columns of TrainState.curves after the step, in the order _record appends them.
CURVE_COLUMNS = ("train_loss", "train_acc", "test_loss", "test_acc")


def seed_for(seed: int, stream: str) -> int:
    """An independent 63-bit seed for one named use (``init``, ``batch``...) of a run's seed."""
    digest = hashlib.sha256(f"{seed}/{stream}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & (2**63 - 1)


def setup_compute(compute: ComputeConfig) -> torch.device:
    """Deterministic kernels, the configured thread count, and the device to use."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # deterministic cuBLAS
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(compute.threads)
    return compute.torch_device()


def make_optimizer(cfg: TrainConfig, params) -> torch.optim.Optimizer:
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)


@torch.no_grad()
def evaluate(model: torch.nn.Module, kind: str, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """(loss, accuracy) of ``model`` on the whole of (x, y)."""
    out = model(x)
    return float(metrics.loss(kind, out, y)), metrics.accuracy(kind, metrics.predict_labels(kind, out), y)


def train(spec: RunSpec, tensors: dict[str, torch.Tensor], kind: str, resume: Path | None = None,
          resume_interval_s: float = 30.0) -> TrainState:
    """Train one run; returns its snapshots and curves (``TrainState``)."""
    device = setup_compute(spec.compute)
    cfg = spec.train
    g_init = torch.Generator().manual_seed(seed_for(spec.seed, "init"))
    g_batch = torch.Generator().manual_seed(seed_for(spec.seed, "batch"))
    model = spec.model.build(spec.task.n_inputs, spec.task.n_outputs, spec.width, g_init).to(device)
    optimizer = make_optimizer(cfg, model.parameters())
    state = TrainState()
    if resume is not None and resume.exists():
        state = load_state(resume, spec.to_json(), model, optimizer, g_batch)
        if state.step:
            log.info("%s: resuming from step %d (%s)", spec.name, state.step, resume)
    snapshot_steps, eval_steps = set(cfg.snapshot_steps.tolist()), set(cfg.eval_steps.tolist())
    x, y, n = tensors["x_train"], tensors["y_train"], tensors["x_train"].shape[0]
    last_save = time.monotonic()
    for step in tqdm(range(state.step, cfg.steps + 1), desc=spec.name, disable=None, mininterval=1.0,
                     initial=state.step, total=cfg.steps + 1):
        if step >= state.step and step not in state.recorded:
            _record(spec.name, model, kind, tensors, step, step in eval_steps, step in snapshot_steps, state)
            if step in snapshot_steps and resume is not None and step < cfg.steps \
                    and time.monotonic() - last_save >= resume_interval_s:
                save_state(resume, spec.to_json(), model, optimizer, g_batch, state)
                last_save = time.monotonic()
        if step == cfg.steps:
            break
        idx = torch.randint(n, (cfg.batch_size,), generator=g_batch).to(device)
        loss = metrics.loss(kind, model(x[idx]), y[idx])
        if not math.isfinite(loss.item()):
            raise DivergenceError(f"run {spec.name}: training loss is {loss.item()} at step {step}; "
                                  f"lower train.lr or the init scale")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        state.step = step + 1
        if step % max(1, cfg.steps // 10) == 0:
            log.info("%s: step %d/%d loss %.4g", spec.name, step, cfg.steps, loss.item())
    return state


def _record(run: str, model, kind, tensors, step, do_eval, do_snapshot, state: TrainState) -> None:
    state.step = step
    state.recorded.add(step)
    if do_eval:
        tr = evaluate(model, kind, tensors["x_train"], tensors["y_train"])
        te = evaluate(model, kind, tensors["x_test"], tensors["y_test"])
        if not all(map(math.isfinite, tr + te)):
            raise DivergenceError(f"run {run}: loss is not finite at step {step} "
                                  f"(train {tr[0]}, test {te[0]}); lower train.lr or the init scale")
        state.curves.append((step, *tr, *te))
    if do_snapshot:
        state.snapshots.append((step, {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}))


# ---- files ------------------------------------------------------------------------------
def weight_var(torch_name: str) -> tuple[str, callable]:
    """``layers.0.weight`` -> (``l0_weight``, dims (l0_out, l0_in)); other names stay generic."""
    parts = torch_name.split(".")
    if len(parts) == 3 and parts[0] == "layers" and parts[1].isdigit():
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
                      attrs={"run": spec.name})


def curves_to_xarray(spec: RunSpec, state: TrainState, kind: str) -> xr.Dataset:
    rows = np.array(state.curves, dtype=np.float64)
    loss_name = "cross-entropy" if kind == "multiclass" else "mean squared error"
    acc_rule = {"binary": "sign agreement", "multiclass": "argmax agreement",
                "regression": f"|prediction - label| < {metrics.REGRESSION_TOLERANCE}"}[kind]
    ds = xr.Dataset(coords={"step": ("step", rows[:, 0].astype(np.int64), {"long_name": "optimizer step"})},
                    attrs={"run": spec.name})
    for j, name in enumerate(CURVE_COLUMNS, start=1):
        split, what = name.split("_")
        long_name = f"{split} {loss_name}" if what == "loss" else f"{split} accuracy ({acc_rule})"
        ds[name] = ("step", rows[:, j], {"long_name": long_name, "units": "1"})
    return ds


def train_run(spec: RunSpec, dataset_path: str, checkpoints_path: str, curves_path: str,
              inputs: list[str]) -> None:
    """The train stage: read the dataset, train (resuming if a resume file exists), write files."""
    ds = store.read(dataset_path, "dataset")
    device = setup_compute(spec.compute)
    resume = Path(store.resume_path(spec.name))
    state = train(spec, data.load_tensors(ds, device), ds.attrs["kind"], resume)
    params_json = spec.to_json()
    store.write(checkpoints_to_xarray(spec, state), checkpoints_path, "checkpoints", params_json, inputs)
    store.write(curves_to_xarray(spec, state, ds.attrs["kind"]), curves_path, "curves", params_json, inputs)
    resume.unlink(missing_ok=True)
