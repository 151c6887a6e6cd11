"""The ``gdln`` section of params.yaml: a gated deep linear network on the routing task,
trained full-batch from several init scales x seeds (Saxe, Sodhani & Lewallen, ICML 2022)."""

from __future__ import annotations

import dataclasses
from functools import cached_property

from learnscope.config import check_seeds
from learnscope.errors import require
from learnscope.models.base import ModelConfig
from learnscope.models.gdln import GatedDLNConfig
from learnscope.runspec import ComputeConfig, RunSpec, TrainConfig, check_recipe
from learnscope.tasks.base import Task

TASK_NAME = "routing"


def scale_tag(init_scale: float) -> str:
    """The run tag of an init scale, e.g. ``init0.2``."""
    return f"init{init_scale:g}"


@dataclasses.dataclass(frozen=True, kw_only=True)
class GdlnStudyConfig:
    """Gated deep linear networks: the neural race reduction and systematic generalisation.

    Every init scale (``model.init_scale``, the reference compared with the reduction, and
    each of ``init_scales``) x seed is one run, with the same task and recipe; they all train
    as one batched model (the init scale is an init-only field of the model).

    Attributes:
        seeds: seeds of every init scale, each in [0, 2**32 - 1].
        task: a ``routing`` task (some pathway pairs held out).
        model: a ``gdln`` model with as many pathways as the task.
        width: the hidden width of the shared layers.
        train: the recipe (full-batch gradient descent: ``optimizer: sgd, full_batch: true``,
            the setting the reduction describes).
        init_scales: the init-scale sweep: held-out error of untrained pairs vs init scale.
    """

    seeds: tuple[int, ...]
    task: Task
    model: ModelConfig
    width: int
    train: TrainConfig
    init_scales: tuple[float, ...] = ()

    def check(self, path: str) -> None:
        require(len(self.seeds) >= 1, f"{path}.seeds", "must list at least one seed")
        require(len(set(self.seeds)) == len(self.seeds), f"{path}.seeds", "has repeated seeds")
        check_seeds(self.seeds, f"{path}.seeds")
        require(self.width >= 1, f"{path}.width", f"= {self.width} must be >= 1")
        require(hasattr(self.task, "trained_pairs"), f"{path}.task.family",
                f"must be routing, not {type(self.task).__name__}")
        require(isinstance(self.model, GatedDLNConfig), f"{path}.model.name",
                "must be gdln (the gated deep linear network)")
        require(self.model.pathways == self.task.pathways, f"{path}.model.pathways",
                f"= {self.model.pathways} must equal task.pathways = {self.task.pathways}")
        require(not self.task.trained_pairs().all(), f"{path}.task.offsets",
                "train every pathway pair; hold some out to measure systematic generalisation")
        require(self.train.optimizer == "sgd" and self.train.momentum == 0 and self.train.weight_decay == 0
                and self.train.full_batch, f"{path}.train",
                "must be plain full-batch gradient descent (optimizer: sgd, momentum 0, weight_decay 0, "
                "full_batch: true): the reduction describes that")
        for i, scale in enumerate(self.init_scales):
            require(scale > 0, f"{path}.init_scales[{i}]", f"= {scale} must be > 0")
        require(len(set(self.init_scales)) == len(self.init_scales), f"{path}.init_scales", "has repeated values")
        check_recipe(self.model, self.train, path)

    @property
    def tasks(self) -> dict[str, Task]:
        return {TASK_NAME: self.task}

    @cached_property
    def scales(self) -> tuple[float, ...]:
        """Every init scale trained, ascending: the reference and the sweep."""
        return tuple(sorted(set(self.init_scales) | {self.model.init_scale}))

    coords = ("init_scale", "seed")

    @property
    def n_runs(self) -> int:
        """``len(runs(...))``, counted without building them."""
        return len(self.scales) * len(self.seeds)

    def param_keys(self, coords: tuple) -> dict[str, str]:
        """The keys (under this section) that set the run at ``coords`` (``learnscope.limits``);
        every scale and seed is one member of the single training group."""
        members = "init_scales" if len(self.scales) > len(self.seeds) else "seeds"
        return {"task": "task", "model": "model", "width": "width", "train": "train", "members": members}

    def runs(self, study: str, compute: ComputeConfig) -> dict[tuple, RunSpec]:
        """(init_scale, seed) -> the run."""
        return {(scale, seed): RunSpec(study=study, task_name=TASK_NAME, task=self.task,
                                       model=dataclasses.replace(self.model, init_scale=scale), width=self.width,
                                       seed=seed, train=self.train, compute=compute, tag=scale_tag(scale))
                for scale in self.scales for seed in self.seeds}
