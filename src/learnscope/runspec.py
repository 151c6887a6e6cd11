"""What one training run needs: its compute, its training recipe and its ``RunSpec``.

A ``RunSpec`` carries everything a run needs, so a rule's ``params:`` (tracked by
Snakemake) is exactly the run's configuration; ``learnscope.params`` builds them from
params.yaml.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import numpy as np
import torch

from learnscope.config import from_json, load_only, to_json
from learnscope.errors import require
from learnscope.errors import ConfigError
from learnscope.models.base import ModelConfig
from learnscope.tasks.base import Task


@dataclasses.dataclass(frozen=True, kw_only=True)
class ComputeConfig:
    """Where and how computations run.

    The ``max_*`` bounds are what ``learnscope.limits`` checks the params' estimated
    resources against before any job starts (its docstring gives the formulas); the
    defaults suit one workstation and the default params use a small fraction of each.
    Raise them on a GPU node or a cluster. They are no part of a run's identity
    (``config.load_only``): changing one reruns no job.

    Attributes:
        device: ``auto`` (CUDA when present, else CPU), ``cpu`` or ``cuda``. ``cuda`` is
            refused where params are checked on a machine without CUDA: a cluster head node
            without GPUs that submits the jobs should say ``auto``, which picks CUDA on the
            GPU node where a job runs.
        threads: torch intra-op threads per job (1 to 1024); byte-identity holds for a
            fixed value.
        max_memory_gb: memory (GiB) one job may need: a training group's data, weights,
            optimizer moments, snapshots and activations, or a distillation's inputs.
        max_disk_gb: disk (GiB) all results may take: checkpoints, features and datasets.
        max_steps_total: optimizer steps summed over training groups (a group's runs step
            together): the sequential work.
        max_pflop: floating-point work of all training and evaluation, in PFLOP (10^15).
        max_runs: runs of all studies (each run is a few jobs).
    """

    device: Literal["auto", "cpu", "cuda"] = "auto"
    threads: int = 1
    max_memory_gb: float = load_only(16.0)
    max_disk_gb: float = load_only(50.0)
    max_steps_total: int = load_only(100_000_000)
    max_pflop: float = load_only(10.0)
    max_runs: int = load_only(10_000)

    def check(self, path: str) -> None:
        require(1 <= self.threads <= 1024, f"{path}.threads", f"= {self.threads} must be in [1, 1024]")
        for key in ("max_memory_gb", "max_disk_gb", "max_steps_total", "max_pflop", "max_runs"):
            require(getattr(self, key) > 0, f"{path}.{key}", f"= {getattr(self, key)} must be > 0")
        require(self.device != "cuda" or torch.cuda.is_available(), f"{path}.device",
                "= 'cuda' but this machine has no CUDA device; use auto (CUDA where the job runs, "
                "if it has one) or cpu")

    def torch_device(self) -> torch.device:
        if self.device == "cuda" and not torch.cuda.is_available():
            raise ConfigError("params.yaml: compute.device asks for CUDA but no CUDA device is available; "
                              "use auto or cpu")
        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        return torch.device(self.device)


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrainConfig:
    """One training recipe.

    Attributes:
        optimizer: ``sgd`` (with ``momentum``), ``adam`` or ``adamw`` (Adam with decoupled
            weight decay, Loshchilov & Hutter 2019, as torch.optim.AdamW).
        lr: learning rate.
        momentum: SGD momentum in [0, 1) (must be 0 with Adam and AdamW).
        betas: Adam's and AdamW's moment decay rates (beta1, beta2).
        weight_decay: L2 weight decay: coupled (added to the gradient, as torch's SGD and
            Adam) for ``sgd`` and ``adam``, decoupled (p -= lr * weight_decay * p) for ``adamw``.
        neuron_penalty: λ of the per-neuron norm penalty λ Σ_j ‖θ_j‖^ν added to the loss,
            θ_j = (incoming weights, outgoing weights) of hidden neuron j and ν the neuron's
            homogeneity degree (``MLPConfig.neuron_degree``: 3 for a quadratic activation,
            the L_{2,3} penalty of Morwani et al. 2024). 0 = none. The curves' losses are
            the data loss alone.
        batch_size: minibatch size; minibatches are drawn with replacement.
        full_batch: every step uses the whole training set (``batch_size`` is ignored).
        steps: optimizer steps.
        n_snapshots: checkpoints kept, including step 0 and ``steps``.
        snapshot_spacing: ``log`` (log-spaced snapshot steps: the same relative resolution
            early and late) or ``linear`` (evenly spaced, for dynamics read on a linear
            epoch axis).
        eval_every: train/test loss and accuracy are recorded every this many steps.
        eval_log_points: if > 0, record them instead at this many log-spaced steps (plus
            0 and the last): the same relative resolution early and late in training.
        online: draw fresh samples from the task every step (samples seen = steps x
            batch_size) instead of minibatches of the fixed training set.
        on_divergence: what happens when a run diverges (``max_loss_ratio``): ``fail`` (the
            job stops, naming the run, the step, the loss and the rule) or ``stop`` (for
            learning-rate grids: that run stops training at that step; its weights stay
            those of its last snapshot before that step, its curves and features are NaN
            from that step on, and its files carry the step in the ``diverged_at_step`` attr).
        max_loss_ratio: a run diverges at step t when its training or evaluation loss is
            NaN/inf or exceeds max_loss_ratio x (its training loss at step 0 + 1), or its
            gradients or weights are NaN/inf (``learnscope.divergence``). The default 1.0e4
            is far above the 3.7 that the default runs reach at most.
    """

    optimizer: Literal["sgd", "adam", "adamw"] = "adam"
    lr: float
    momentum: float = 0.0
    betas: tuple[float, float] = (0.9, 0.999)
    weight_decay: float = 0.0
    neuron_penalty: float = 0.0
    batch_size: int = 64
    full_batch: bool = False
    steps: int
    n_snapshots: int = 40
    snapshot_spacing: Literal["log", "linear"] = "log"
    eval_every: int = 50
    eval_log_points: int = 0
    online: bool = False
    on_divergence: Literal["fail", "stop"] = "fail"
    max_loss_ratio: float = 1.0e4

    def check(self, path: str) -> None:
        require(self.lr > 0, f"{path}.lr", f"= {self.lr} must be > 0")
        require(self.max_loss_ratio > 1, f"{path}.max_loss_ratio", f"= {self.max_loss_ratio} must be > 1")
        require(self.steps >= 1, f"{path}.steps", f"= {self.steps} must be >= 1")
        require(self.batch_size >= 1, f"{path}.batch_size", "must be >= 1")
        require(self.n_snapshots >= 2, f"{path}.n_snapshots", "must be >= 2 (step 0 and the end)")
        require(self.eval_every >= 1, f"{path}.eval_every", "must be >= 1")
        require(self.eval_log_points >= 0, f"{path}.eval_log_points", "must be >= 0")
        require(self.weight_decay >= 0, f"{path}.weight_decay", "must be >= 0")
        require(self.neuron_penalty >= 0, f"{path}.neuron_penalty", "must be >= 0")
        require(all(0 <= b < 1 for b in self.betas), f"{path}.betas", f"= {list(self.betas)} must be in [0, 1)")
        require(not (self.full_batch and self.online), f"{path}.full_batch", "and online exclude each other")
        require(self.optimizer == "sgd" or self.momentum == 0, f"{path}.momentum",
                f"applies to sgd only; set it to 0.0 with {self.optimizer}")
        require(0 <= self.momentum < 1, f"{path}.momentum", f"= {self.momentum} must be in [0, 1)")

    @property
    def snapshot_steps(self) -> np.ndarray:
        """``n_snapshots`` log- or evenly spaced steps with 0 and ``steps`` included; fewer if
        ``steps`` is small."""
        if self.snapshot_spacing == "linear":
            return np.unique(np.round(np.linspace(0, self.steps, self.n_snapshots)).astype(np.int64))
        return log_steps(self.steps, self.n_snapshots)

    @property
    def eval_steps(self) -> np.ndarray:
        """Every ``eval_every`` steps and the last, or ``eval_log_points`` log-spaced steps
        (the features stage measures every snapshot)."""
        if self.eval_log_points:
            return log_steps(self.steps, self.eval_log_points + 1)
        return np.unique(np.append(np.arange(0, self.steps + 1, self.eval_every), self.steps))


def check_recipe(model: ModelConfig, train: TrainConfig, path: str) -> None:
    """Raise ConfigError naming ``{path}.train.neuron_penalty`` when the penalty cannot apply."""
    require(not train.neuron_penalty or model.neuron_degree is not None, f"{path}.train.neuron_penalty",
            f"= {train.neuron_penalty} needs homogeneous neurons: model mlp with depth 1, bias false and "
            "activation relu, quadratic or cubic")


def log_steps(steps: int, n: int) -> np.ndarray:
    """Step 0 and n - 1 log-spaced steps from 1 to ``steps``, rounded (fewer where they coincide)."""
    logspaced = np.geomspace(1, steps, n - 1) if n > 2 else []
    return np.unique(np.concatenate([[0], np.round(logspaced), [steps]]).astype(np.int64))


@dataclasses.dataclass(frozen=True, kw_only=True)
class RunSpec:
    """Everything one training run needs; ``name`` is its folder under results/runs/."""

    study: str
    task_name: str
    task: Task
    model: ModelConfig
    width: int
    seed: int
    train: TrainConfig
    compute: ComputeConfig
    tag: str = ""

    @property
    def name(self) -> str:
        return run_name(self.study, self.task_name, self.width, self.seed, self.tag)

    @property
    def group(self) -> str:
        """Runs of one group train as one batched model: the name without tag and seed."""
        return f"{self.study}-{self.task_name}-w{self.width}"

    def to_json(self) -> str:
        return to_json(self)

    @classmethod
    def from_json(cls, text: str) -> "RunSpec":
        return from_json(cls, text, "run spec")


def run_name(study: str, task_name: str, width: int, seed: int, tag: str = "") -> str:
    """``<study>-<task>-w<width>[-<tag>]-s<seed>``; the tag tells runs of a group apart
    beyond their seed (the leap study's ``c0.5``)."""
    return f"{study}-{task_name}-w{width}{'-' + tag if tag else ''}-s{seed}"
