"""The ``algebra`` section of params.yaml: named experiments (a task, a model, a width and
a recipe each) x seed (Morwani et al. 2024; Nanda et al. 2023; Chughtai et al. 2023; Power
et al. 2022)."""

from __future__ import annotations

import dataclasses
from typing import Callable

from learnscope.config import check_seeds
from learnscope.errors import require
from learnscope.models.base import ModelConfig
from learnscope.runspec import ComputeConfig, RunSpec, TrainConfig, check_recipe
from learnscope.tasks.base import Task


@dataclasses.dataclass(frozen=True, kw_only=True)
class AlgebraExperiment:
    """One experiment of the algebra study: a task, a model of one width and a training
    recipe, trained once per seed of the study (one batched group)."""

    task: Task
    model: ModelConfig
    width: int
    train: TrainConfig

    def check(self, path: str) -> None:
        require(self.width >= 1, f"{path}.width", f"= {self.width} must be >= 1")
        check_recipe(self.model, self.train, path)


def _is_table(task: Task) -> bool:
    return hasattr(task, "finite_group")


# What each experiment of the algebra study must be, as (test, what it must be).
ALGEBRA_ROLES: dict[str, tuple[Callable[[Task], bool], str]] = {
    "margin": (lambda t: getattr(t, "p", 0) % 2 == 1 and getattr(t, "train_fraction", 0) == 1.0,
               "modular_addition with an odd p and train_fraction 1.0 (the maximum margin is over all pairs)"),
    "contrast": (lambda t: getattr(t, "p", 0) % 2 == 1 and getattr(t, "train_fraction", 0) == 1.0,
                 "modular_addition with an odd p and train_fraction 1.0, like margin"),
    "irreps": (_is_table, "a group_composition or modular_addition task"),
    "parity": (lambda t: hasattr(t, "k"), "a sparse_parity task"),
    "grokking": (lambda t: _is_table(t) and t.train_fraction < 1.0,
                 "a group_composition or modular_addition task with train_fraction < 1.0 (pairs held out)"),
}


@dataclasses.dataclass(frozen=True, kw_only=True)
class AlgebraStudyConfig:
    """Algebraic tasks (Morwani et al. 2024; Nanda et al. 2023; Chughtai et al. 2023;
    Power et al. 2022): five experiments, each optional, each trained for every seed.

    Attributes:
        seeds: seeds of every experiment, each in [0, 2**32 - 1].
        active_fraction: a neuron (or embedding unit) counts as active when its norm is at
            least this fraction of the largest in its network; per-neuron statistics are
            over active units.
        accuracy_threshold: the accuracy that counts as reached (grokking delay).
        margin: modular addition, the quadratic network with the L_{2,3} penalty
            (``train.neuron_penalty``): single-frequency neurons, all frequencies used,
            normalised margin approaching the maximum.
        contrast: the same with plain L2 weight decay instead.
        irreps: a non-abelian group's table: neurons' energy per irrep.
        parity: sparse parity with homogeneous neurons and the norm penalty: first-layer
            weight on the relevant bits.
        grokking: pairs held out, an embedding MLP with AdamW: test accuracy rising long
            after training accuracy.
    """

    seeds: tuple[int, ...]
    active_fraction: float = 0.1
    accuracy_threshold: float = 0.99
    margin: AlgebraExperiment | None = None
    contrast: AlgebraExperiment | None = None
    irreps: AlgebraExperiment | None = None
    parity: AlgebraExperiment | None = None
    grokking: AlgebraExperiment | None = None

    def check(self, path: str) -> None:
        require(len(self.seeds) >= 1, f"{path}.seeds", "must list at least one seed")
        require(len(set(self.seeds)) == len(self.seeds), f"{path}.seeds", "has repeated seeds")
        check_seeds(self.seeds, f"{path}.seeds")
        require(0 < self.active_fraction < 1, f"{path}.active_fraction", f"= {self.active_fraction} must be in (0, 1)")
        require(0 < self.accuracy_threshold <= 1, f"{path}.accuracy_threshold",
                f"= {self.accuracy_threshold} must be in (0, 1]")
        require(bool(self.experiments), path, f"defines no experiment; give at least one of {', '.join(ALGEBRA_ROLES)}")
        for role, exp in self.experiments.items():
            test, what = ALGEBRA_ROLES[role]
            require(test(exp.task), f"{path}.{role}.task", f"must be {what}")

    @property
    def experiments(self) -> dict[str, AlgebraExperiment]:
        """The experiments present, by role."""
        return {role: getattr(self, role) for role in ALGEBRA_ROLES if getattr(self, role) is not None}

    @property
    def tasks(self) -> dict[str, Task]:
        """Each experiment's task, named by its role (data/algebra/<role>.nc)."""
        return {role: exp.task for role, exp in self.experiments.items()}

    coords = ("role", "seed")

    @property
    def n_runs(self) -> int:
        """``len(runs(...))``, counted without building them."""
        return len(self.experiments) * len(self.seeds)

    def param_keys(self, coords: tuple) -> dict[str, str]:
        """The keys (under this section) that set the run at ``coords`` (``learnscope.limits``)."""
        role = coords[0]
        return {"task": f"{role}.task", "model": f"{role}.model", "width": f"{role}.width",
                "train": f"{role}.train", "members": "seeds"}

    def runs(self, study: str, compute: ComputeConfig) -> dict[tuple, RunSpec]:
        """(role, seed) -> the run of that experiment."""
        return {(role, seed): RunSpec(study=study, task_name=role, task=exp.task, model=exp.model, width=exp.width,
                                      seed=seed, train=exp.train, compute=compute)
                for role, exp in self.experiments.items() for seed in self.seeds}
