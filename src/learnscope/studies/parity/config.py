"""The ``parity`` section of params.yaml: every task x width x seed, one model and one recipe."""

from __future__ import annotations

import dataclasses

from learnscope.config import check_seeds
from learnscope.errors import require
from learnscope.models.base import ModelConfig
from learnscope.runspec import ComputeConfig, RunSpec, TrainConfig, check_recipe
from learnscope.tasks.base import Task


@dataclasses.dataclass(frozen=True, kw_only=True)
class ParityConfig:
    """The parity study's runs: every task x width x seed, one model and one training recipe.

    Attributes:
        seeds: seeds of every (task, width), each in [0, 2**32 - 1].
        widths: hidden widths.
        tasks: name -> task; the first is the study's main task (its headline metrics).
        model: the network (every width).
        train: the recipe.
    """

    coords = ("task", "width", "seed")

    seeds: tuple[int, ...]
    widths: tuple[int, ...]
    tasks: dict[str, Task]
    model: ModelConfig
    train: TrainConfig

    def check(self, path: str) -> None:
        require(len(self.seeds) >= 1, f"{path}.seeds", "must list at least one seed")
        require(len(set(self.seeds)) == len(self.seeds), f"{path}.seeds", "has repeated seeds")
        check_seeds(self.seeds, f"{path}.seeds")
        require(len(self.widths) >= 1, f"{path}.widths", "must list at least one width")
        for i, w in enumerate(self.widths):
            require(w >= 1, f"{path}.widths[{i}]", f"= {w} must be >= 1")
        require(len(self.tasks) >= 1, f"{path}.tasks", "must define at least one task")
        for name in self.tasks:
            require(name.isidentifier(), f"{path}.tasks.{name}", "must be a name of letters, digits, _")
        check_recipe(self.model, self.train, path)

    @property
    def n_runs(self) -> int:
        """``len(runs(...))``, counted without building them."""
        return len(self.tasks) * len(self.widths) * len(self.seeds)

    def param_keys(self, coords: tuple) -> dict[str, str]:
        """The keys (under this section) that set the run at ``coords``: its task, model, width
        and recipe, and the list its training group's members come from (``learnscope.limits``)."""
        task, width, _ = coords
        return {"task": f"tasks.{task}", "model": "model", "width": f"widths[{self.widths.index(width)}]",
                "train": "train", "members": "seeds"}

    def runs(self, study: str, compute: ComputeConfig) -> dict[tuple, RunSpec]:
        """(task, width, seed) -> the run."""
        return {(task_name, width, seed): RunSpec(study=study, task_name=task_name, task=task, model=self.model,
                                                  width=width, seed=seed, train=self.train, compute=compute)
                for task_name, task in self.tasks.items() for width in self.widths for seed in self.seeds}
