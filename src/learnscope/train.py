"""The train stage: a group of runs trained as one batched model, with log-spaced
checkpoints, curves and resume.

Runs that differ only in their seed share shapes, data and recipe, so they train together
(``train_group``): one ``baddbmm`` per layer for all members instead of a Python loop over
runs. A run's randomness comes from two generators seeded from its own seed only (``init``
for the weights, ``batch`` for the minibatch indices), so its files do not depend on which
other runs share its group. Minibatches are drawn with replacement from the training set.

Resume: every ``resume_interval_s`` seconds of training (default 30, or the environment
variable ``LEARNSCOPE_RESUME_EVERY_S``; checked at every step) the full training state
(weights, optimizer moments, generator states, step, snapshots and curves so far) is
written to ``store.resume_path(group)``, outside the rule's outputs; a restarted group
continues from it and produces the same bytes as an uninterrupted one. A kill therefore
loses at most the last interval's steps (all of them if it comes before the first save).
The file is deleted at the end.

Divergence (``learnscope.divergence``): a member diverges at step t when its training or
evaluation loss is NaN/inf or exceeds ``train.max_loss_ratio`` x (its training loss at step
0 + 1), or its gradients (checked every step) or weights (at every snapshot) are NaN/inf.
``train.on_divergence: fail`` raises DivergenceError naming the run, the step, the loss and
the rule; ``stop`` rewinds that member to its last snapshot before t and holds it there
while the others train on, unchanged.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import time
from pathlib import Path

import numpy as np
import torch

from learnscope import data, faults, metrics, store
from learnscope.divergence import DivergenceGuard, finite_gradients, finite_weights
from learnscope.optim import MemberAdam, MemberSGD
from learnscope.progress import Progress, run_labels
from learnscope.resume import GroupState, TrainState, load_state, save_state
from learnscope.run_files import checkpoints_to_xarray, curves_to_xarray
from learnscope.runspec import ComputeConfig, RunSpec, TrainConfig

log = logging.getLogger(__name__)
RESUME_ENV = "LEARNSCOPE_RESUME_EVERY_S"

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


def make_optimizer(cfg: TrainConfig, params, lrs: torch.Tensor) -> torch.optim.Optimizer:
    """The recipe's optimizer over stacked ensemble parameters, one learning rate per member."""
    if cfg.optimizer in ("adam", "adamw"):
        return MemberAdam(params, lr=lrs, betas=cfg.betas, weight_decay=cfg.weight_decay,
                          decoupled=cfg.optimizer == "adamw")
    return MemberSGD(params, lr=lrs, momentum=cfg.momentum, weight_decay=cfg.weight_decay)


class OnlineSampler:
    """Fresh samples every step (``train.online``): samples seen = steps x batch_size.

    Member e's samples for steps [kK, (k+1)K) come from a generator seeded by (its seed, k)
    alone, K = ``chunk`` steps at a time: no state to resume, and nothing shared between
    members.
    """

    def __init__(self, specs: list[RunSpec], device: torch.device, chunk: int = 256):
        self.specs, self.device, self.chunk, self._cached = specs, device, chunk, (-1, None, None)

    def batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:  # (E, B, d), (E, B)
        k, batch_size = step // self.chunk, self.specs[0].train.batch_size
        if self._cached[0] != k:
            draws = [s.task.sample(self.chunk * batch_size, torch.Generator().manual_seed(
                seed_for(s.seed, f"online/{k}"))) for s in self.specs]
            self._cached = (k, torch.stack([x for x, _ in draws]).to(self.device),
                            torch.stack([y for _, y in draws]).to(self.device))
        rows = slice((step % self.chunk) * batch_size, (step % self.chunk + 1) * batch_size)
        return self._cached[1][:, rows], self._cached[2][:, rows]


@torch.no_grad()
def evaluate(model: torch.nn.Module, kind: str, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """(loss, accuracy) of a single network on the whole of (x, y)."""
    out = model(x)
    return float(metrics.loss(kind, out, y)), metrics.accuracy(kind, metrics.predict_labels(kind, out), y)


@torch.no_grad()
def evaluate_members(model: torch.nn.Module, kind: str, x: torch.Tensor, y: torch.Tensor) -> np.ndarray:
    """(E, 2) loss and accuracy of every ensemble member on the whole of the shared (x, y)."""
    return metrics.member_loss_and_accuracy(kind, model(x), y)


def group_name(specs: list[RunSpec]) -> str:
    """The name of a group of runs (``RunSpec.group``)."""
    return specs[0].group


def _shape_key(spec: RunSpec) -> RunSpec:
    model = dataclasses.replace(spec.model, **{f: None for f in spec.model.init_only_fields})
    return dataclasses.replace(spec, seed=0, tag="", model=model, train=dataclasses.replace(spec.train, lr=1.0))


def check_group(specs: list[RunSpec]) -> None:
    """Members of a group may differ only in their seed, tag, learning rate and the model's
    init-only fields (``ModelConfig.init_only_fields``, e.g. an init scale)."""
    key = _shape_key(specs[0])
    for spec in specs[1:]:
        if _shape_key(spec) != key:
            raise ValueError(f"run {spec.name} differs from {specs[0].name} in more than its seed, tag, lr "
                             "and init-only model fields")
    if len({(s.seed, s.train.lr, s.model) for s in specs}) != len(specs):
        raise ValueError(f"group {group_name(specs)} has repeated runs (same seed, lr and model)")


def resume_interval() -> float:
    """Seconds between resume saves: ``LEARNSCOPE_RESUME_EVERY_S`` or 30."""
    return float(os.environ.get(RESUME_ENV, "30"))


def train_group(specs: list[RunSpec], tensors: dict[str, torch.Tensor], kind: str,
                resume: Path | None = None, resume_interval_s: float | None = None) -> list[TrainState]:
    """Train runs that differ only in their seed, learning rate and init-only model fields as
    one batched model (one run: a group of one).

    Member e is initialised from its own ``init`` generator, draws its own minibatches
    from its own ``batch`` generator (or fresh samples, ``train.online``) and steps with
    its own learning rate, so its results never depend on the other members.
    """
    check_group(specs)
    spec, cfg = specs[0], specs[0].train
    device = setup_compute(spec.compute)
    g_init = [torch.Generator().manual_seed(seed_for(s.seed, "init")) for s in specs]
    g_batch = [torch.Generator().manual_seed(seed_for(s.seed, "batch")) for s in specs]
    model = spec.model.build_group([s.model for s in specs], spec.task.n_inputs, spec.task.n_outputs, spec.width,
                                   g_init).to(device)
    lrs = torch.tensor([s.train.lr for s in specs]) * spec.model.lr_scale(spec.width)
    optimizer = make_optimizer(cfg, model.parameters(), lrs)
    online = OnlineSampler(specs, device) if cfg.online else None
    state, spec_json = GroupState(), json.dumps([s.to_json() for s in specs])
    if resume is not None and resume.exists():
        state = load_state(resume, spec_json, model, optimizer, g_batch)
        if state.step:
            log.info("%s: resuming from step %d (%s)", group_name(specs), state.step, resume)
    guard = DivergenceGuard(specs, state, device)
    guard.freeze(model, optimizer, [])  # members stopped before a resume stay still
    snapshot_steps, eval_steps = set(cfg.snapshot_steps.tolist()), set(cfg.eval_steps.tolist())
    x, y, n = tensors["x_train"], tensors["y_train"], tensors["x_train"].shape[0]
    interval = resume_interval() if resume_interval_s is None else resume_interval_s
    last_save = time.monotonic()
    progress = Progress(group_name(specs), cfg.steps, run_labels(specs), start=state.step)
    for step in range(state.step, cfg.steps + 1):
        if step not in state.recorded:
            _record(guard, model, optimizer, kind, tensors, step, step in eval_steps, step in snapshot_steps, state)
            if resume is not None and step < cfg.steps and time.monotonic() - last_save >= interval:
                save_state(resume, spec_json, model, optimizer, g_batch, state)
                last_save = time.monotonic()
        faults.point("train.step")
        if step == cfg.steps:
            break
        if online is not None:
            xb, yb = online.batch(step)
        elif cfg.full_batch:  # shared inputs: the ensemble broadcasts them to every member
            xb, yb = x, y
        else:
            idx = torch.stack([torch.randint(n, (cfg.batch_size,), generator=g) for g in g_batch]).to(device)
            xb, yb = x[idx], y[idx]
        losses = metrics.loss(kind, model(xb), yb)  # (E,)
        if cfg.neuron_penalty:
            losses = losses + neuron_penalty(model, spec.model.neuron_degree, cfg.neuron_penalty)
        optimizer.zero_grad(set_to_none=True)
        losses.sum().backward()  # the sum keeps every member's gradient its own
        new = guard.check(step, {"training loss": losses.detach()}, {"gradients": finite_gradients(model)})
        if state.diverged:
            guard.freeze(model, optimizer, new)
        optimizer.step()
        state.step = step + 1
        progress.update(step, losses.detach())
    progress.close()
    return split_group_state(model, state)


def train(spec: RunSpec, tensors: dict[str, torch.Tensor], kind: str, resume: Path | None = None,
          resume_interval_s: float | None = None) -> TrainState:
    """Train one run (a group of one)."""
    return train_group([spec], tensors, kind, resume, resume_interval_s)[0]


def neuron_penalty(model, degree: int | None, strength: float) -> torch.Tensor:
    """(E,) λ Σ_j ‖θ_j‖^ν per member (``TrainConfig.neuron_penalty``; ν = ``degree``)."""
    if degree is None:
        raise ValueError("train.neuron_penalty needs a model with homogeneous neurons (MLPConfig.neuron_degree)")
    return strength * model.neuron_sq_norms().pow(degree / 2).sum(-1)


def _record(guard: DivergenceGuard, model, optimizer, kind, tensors, step, do_eval, do_snapshot,
            state: GroupState) -> None:
    """Evaluate and/or snapshot every member at ``step``; a member whose evaluation loss or
    weights break the divergence rule is stopped (rewound) before its snapshot is taken."""
    state.step = step
    state.recorded.add(step)
    if do_eval:
        tr = evaluate_members(model, kind, tensors["x_train"], tensors["y_train"])
        te = evaluate_members(model, kind, tensors["x_test"], tensors["y_test"])
        new = guard.check(step, {"evaluation loss": torch.from_numpy(tr[:, 0]),
                                 "test loss": torch.from_numpy(te[:, 0])})
        if new:
            guard.freeze(model, optimizer, new)
        state.curves.append((step, np.concatenate([tr, te], axis=1)))  # (E, 4): run_files.CURVE_COLUMNS
    if do_snapshot:
        new = guard.check(step, {}, {"weights": finite_weights(model)})
        if new:
            guard.freeze(model, optimizer, new)
        state.snapshots.append((step, {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}))


def split_group_state(model, state: GroupState) -> list[TrainState]:
    """One TrainState per member: its curves and its snapshots keyed by single-network names."""
    def row(step, values, e):  # a stopped member's curves are NaN from its divergence on
        return (step, *(map(float, values[e]) if step < state.diverged.get(e, step + 1) else [np.nan] * 4))

    return [TrainState(step=state.step, recorded=set(state.recorded),
                       curves=[row(step, values, e) for step, values in state.curves],
                       snapshots=[(step, model.split_state(stacked, e)) for step, stacked in state.snapshots],
                       diverged_at=state.diverged.get(e))
            for e in range(model.n_members)]


def train_group_run(specs: list[RunSpec], dataset_path: str, checkpoints_paths: list[str],
                    curves_paths: list[str], inputs: list[str]) -> None:
    """The train stage for a group: read the dataset, train (resuming if a resume file
    exists), write every member's checkpoints.nc and curves.nc."""
    ds = store.read(dataset_path, "dataset", expect={"params_json": specs[0].task})
    device = setup_compute(specs[0].compute)
    resume = Path(store.resume_path(group_name(specs)))
    states = train_group(specs, data.load_tensors(ds, device), ds.attrs["kind"], resume)
    for spec, state, checkpoints_path, curves_path in zip(specs, states, checkpoints_paths, curves_paths):
        params_json = spec.to_json()
        store.write(checkpoints_to_xarray(spec, state), checkpoints_path, "checkpoints", params_json, inputs)
        store.write(curves_to_xarray(spec, state, ds.attrs["kind"]), curves_path, "curves", params_json, inputs)
    resume.unlink(missing_ok=True)

