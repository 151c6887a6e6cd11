"""The sections of params.yaml, and the runs they imply.

A *study* (e.g. ``parity``) is a set of runs: task x width x seed, sharing a model and a
training recipe. A *run* trains one network; ``RunSpec`` carries everything that run needs,
so a rule's ``params:`` (tracked by Snakemake) is exactly the run's configuration.
"""

from __future__ import annotations

import dataclasses
import os
from functools import cached_property
from typing import Any, Literal

import numpy as np
import torch
import yaml

from learnscope.config import build, from_json, require, to_json
from learnscope.errors import ConfigError
from learnscope.models import ModelConfig
from learnscope.tasks.base import Task


@dataclasses.dataclass(frozen=True, kw_only=True)
class ComputeConfig:
    """Where and how computations run.

    Attributes:
        device: ``auto`` (CUDA when present, else CPU), ``cpu`` or ``cuda``.
        threads: torch intra-op threads per job; byte-identity holds for a fixed value.
    """

    device: Literal["auto", "cpu", "cuda"] = "auto"
    threads: int = 1

    def check(self, path: str) -> None:
        require(self.threads >= 1, f"{path}.threads", f"= {self.threads} must be >= 1")

    def torch_device(self) -> torch.device:
        if self.device == "cuda" and not torch.cuda.is_available():
            raise ConfigError("params.yaml: compute.device asks for CUDA but no CUDA device is available; "
                              "use auto or cpu")
        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        return torch.device(self.device)


@dataclasses.dataclass(frozen=True, kw_only=True)
class FeaturesConfig:
    """Per-snapshot measurements.

    Attributes:
        agop_samples: the AGOP averages over the first ``agop_samples`` training inputs
            (all of them if fewer).
    """

    agop_samples: int = 2048

    def check(self, path: str) -> None:
        require(self.agop_samples >= 1, f"{path}.agop_samples", "must be >= 1")


@dataclasses.dataclass(frozen=True, kw_only=True)
class DistillConfig:
    """Distillation of trained networks into decision trees.

    Attributes:
        max_depth: trees are fitted at every depth 1..max_depth.
        n_fit: fresh inputs (drawn from the task) labelled by the network to fit trees on;
            fixed-data tasks use their training inputs instead.
        n_eval: fresh inputs to measure fidelity and accuracy on; fixed-data tasks use
            their test inputs.
        seed: seed of the fresh inputs (the same for every run of a task).
    """

    max_depth: int = 4
    n_fit: int = 8192
    n_eval: int = 4096
    seed: int = 0

    def check(self, path: str) -> None:
        require(self.max_depth >= 1, f"{path}.max_depth", f"= {self.max_depth} must be >= 1")
        require(self.n_fit >= 2, f"{path}.n_fit", "must be >= 2")
        require(self.n_eval >= 1, f"{path}.n_eval", "must be >= 1")


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrainConfig:
    """One training recipe.

    Attributes:
        optimizer: ``sgd`` (with ``momentum``) or ``adam``.
        lr: learning rate.
        momentum: SGD momentum (ignored by Adam; must then be 0).
        weight_decay: L2 weight decay (coupled, as in torch's SGD and Adam).
        batch_size: minibatch size; minibatches are drawn with replacement.
        steps: optimizer steps.
        n_snapshots: checkpoints kept, at log-spaced steps including 0 and ``steps``.
        eval_every: train/test loss and accuracy are recorded every this many steps.
        online: draw fresh samples from the task every step (samples seen = steps x
            batch_size) instead of minibatches of the fixed training set.
    """

    optimizer: Literal["sgd", "adam"] = "adam"
    lr: float
    momentum: float = 0.0
    weight_decay: float = 0.0
    batch_size: int = 64
    steps: int
    n_snapshots: int = 40
    eval_every: int = 50
    online: bool = False

    def check(self, path: str) -> None:
        require(self.lr > 0, f"{path}.lr", f"= {self.lr} must be > 0")
        require(self.steps >= 1, f"{path}.steps", f"= {self.steps} must be >= 1")
        require(self.batch_size >= 1, f"{path}.batch_size", "must be >= 1")
        require(self.n_snapshots >= 2, f"{path}.n_snapshots", "must be >= 2 (step 0 and the end)")
        require(self.eval_every >= 1, f"{path}.eval_every", "must be >= 1")
        require(self.weight_decay >= 0, f"{path}.weight_decay", "must be >= 0")
        require(self.optimizer == "sgd" or self.momentum == 0, f"{path}.momentum",
                "applies to sgd only; set it to 0.0 with adam")

    @property
    def snapshot_steps(self) -> np.ndarray:
        """Log-spaced steps with 0 and ``steps`` included; fewer if ``steps`` is small."""
        logspaced = np.geomspace(1, self.steps, self.n_snapshots - 1) if self.n_snapshots > 2 else []
        return np.unique(np.concatenate([[0], np.round(logspaced), [self.steps]]).astype(np.int64))

    @property
    def eval_steps(self) -> np.ndarray:
        """Every ``eval_every`` steps and the last (the features stage measures every snapshot)."""
        return np.unique(np.append(np.arange(0, self.steps + 1, self.eval_every), self.steps))


@dataclasses.dataclass(frozen=True, kw_only=True)
class StudyConfig:
    """A study's runs: every task x width x seed, one model and one training recipe."""

    seeds: tuple[int, ...]
    widths: tuple[int, ...]
    tasks: dict[str, Task]
    model: ModelConfig
    train: TrainConfig

    def check(self, path: str) -> None:
        require(len(self.seeds) >= 1, f"{path}.seeds", "must list at least one seed")
        require(len(set(self.seeds)) == len(self.seeds), f"{path}.seeds", "has repeated seeds")
        require(len(self.widths) >= 1, f"{path}.widths", "must list at least one width")
        for i, w in enumerate(self.widths):
            require(w >= 1, f"{path}.widths[{i}]", f"= {w} must be >= 1")
        require(len(self.tasks) >= 1, f"{path}.tasks", "must define at least one task")
        for name in self.tasks:
            require(name.isidentifier(), f"{path}.tasks.{name}", "must be a name of letters, digits, _")


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

    @property
    def name(self) -> str:
        return run_name(self.study, self.task_name, self.width, self.seed)

    def to_json(self) -> str:
        return to_json(self)

    @classmethod
    def from_json(cls, text: str) -> "RunSpec":
        return from_json(cls, text, "run spec")


def run_name(study: str, task_name: str, width: int, seed: int) -> str:
    return f"{study}-{task_name}-w{width}-s{seed}"


STUDIES = ("parity",)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Params:
    """The whole of params.yaml: shared sections, then one section per study."""

    compute: ComputeConfig = ComputeConfig()
    features: FeaturesConfig = FeaturesConfig()
    distill: DistillConfig = DistillConfig()
    parity: StudyConfig

    @property
    def studies(self) -> dict[str, StudyConfig]:
        return {name: getattr(self, name) for name in STUDIES}

    @cached_property
    def runs(self) -> dict[str, RunSpec]:
        """Every run of every study, by name, in a stable order."""
        runs = {}
        for study, cfg in self.studies.items():
            for task_name, task in cfg.tasks.items():
                for width in cfg.widths:
                    for seed in cfg.seeds:
                        spec = RunSpec(study=study, task_name=task_name, task=task, model=cfg.model,
                                       width=width, seed=seed, train=cfg.train, compute=self.compute)
                        runs[spec.name] = spec
        return runs

    @cached_property
    def groups(self) -> dict[str, list[str]]:
        return group_runs(self.runs)


def group_runs(runs: dict[str, RunSpec]) -> dict[str, list[str]]:
    """Runs that differ only in their seed, by group name (the run name without ``-s<seed>``).

    Each group trains as one batched model in one job; its members' files are the same
    as if trained alone.
    """
    groups: dict[str, list[str]] = {}
    for name, spec in runs.items():
        groups.setdefault(name.rsplit("-s", 1)[0], []).append(name)
    return groups


def load_params(data: Any, source: str = "params.yaml") -> Params:
    """Validate params: a mapping as read from params.yaml, or the path of such a file.

    Raises:
        ConfigError: one line, ``"params.yaml: <dotted key> <what is wrong and allowed>"``.
    """
    if isinstance(data, (str, os.PathLike)):
        source = str(data)
        try:
            with open(data) as f:
                data = yaml.safe_load(f)
        except (OSError, yaml.YAMLError) as e:
            raise ConfigError(f"{source}: cannot read: {e}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: must be a mapping of sections")
    try:
        return build(Params, data, "")
    except ConfigError as e:
        raise ConfigError(f"{source}: {e}") from None
