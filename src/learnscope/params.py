"""The sections of params.yaml, and the runs they imply.

A *study* is a set of runs. ``parity`` (``StudyConfig``) is task x width x seed, sharing a
model and a training recipe; ``leap`` (``LeapStudyConfig``) is target x dimension x
learning-rate factor x seed, trained online; ``algebra`` (``AlgebraStudyConfig``) is a set
of named experiments (each a task, model and recipe) x seed. Each run is a ``learnscope.runspec.RunSpec``.
"""

from __future__ import annotations

import dataclasses
import os
import typing
from functools import cached_property
from typing import Any, Callable, Literal

import numpy as np
import yaml

from learnscope.config import build, require
from learnscope.errors import ConfigError
from learnscope.models import ModelConfig
from learnscope.runspec import ComputeConfig, RunSpec, TrainConfig, check_recipe, run_name
from learnscope.tasks.base import Task


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
        check_recipe(self.model, self.train, path)

    def runs(self, study: str, compute: ComputeConfig) -> list[RunSpec]:
        return [RunSpec(study=study, task_name=task_name, task=task, model=self.model, width=width, seed=seed,
                        train=self.train, compute=compute)
                for task_name, task in self.tasks.items() for width in self.widths for seed in self.seeds]


@dataclasses.dataclass(frozen=True, kw_only=True)
class LeapTarget:
    """One target of the leap study: a sum of monomials on {-1, +1}^d, and its sample budget.

    Attributes:
        monomials: 0-based index tuples, e.g. ``[[0], [0, 1], [0, 1, 2]]`` (the staircase).
        budget: each run sees ``budget x d^budget_power`` fresh samples (rounded up to whole
            batches). A run that has not reached the threshold by then counts as never
            reached (null), so a budget too small shows as missing points, never as a
            wrong slope.
        budget_power: see ``budget``.
        c: this target's learning-rate factors, replacing the study's ``c`` grid (empty:
            the study's).
    """

    monomials: tuple[tuple[int, ...], ...]
    budget: float
    budget_power: float = 1.0
    c: tuple[float, ...] = ()

    def check(self, path: str) -> None:
        require(len(self.monomials) >= 1, f"{path}.monomials", "must list at least one monomial")
        require(len(set(self.c)) == len(self.c), f"{path}.c", "has repeated values")
        for i, c in enumerate(self.c):
            require(c > 0, f"{path}.c[{i}]", f"= {c} must be > 0")
        require(self.budget > 0, f"{path}.budget", f"= {self.budget} must be > 0")
        require(self.budget_power >= 0, f"{path}.budget_power", f"= {self.budget_power} must be >= 0")

    def samples(self, d: int) -> int:
        return int(np.ceil(self.budget * float(d) ** self.budget_power))


@dataclasses.dataclass(frozen=True, kw_only=True)
class LeapTrainConfig:
    """Online SGD for the leap study: lr = c x batch_size / d for each c of the grid.

    Attributes:
        optimizer: ``sgd`` (the theory's) or ``adam``.
        batch_size: fresh samples per step; keep it <= d / 4.
        n_snapshots: checkpoints kept, log-spaced including step 0 and the last.
        n_evals: test-loss evaluations per run, log-spaced (they resolve the number of
            samples to reach the threshold to a factor budget^(1 / n_evals)).
        on_divergence: ``stop`` (default here: a run of the c grid that diverges counts
            as never reached) or ``fail`` (see ``TrainConfig``).
    """

    optimizer: Literal["sgd", "adam"] = "sgd"
    batch_size: int = 8
    n_snapshots: int = 30
    n_evals: int = 200
    on_divergence: Literal["fail", "stop"] = "stop"

    def check(self, path: str) -> None:
        require(self.batch_size >= 1, f"{path}.batch_size", "must be >= 1")
        require(self.n_snapshots >= 2, f"{path}.n_snapshots", "must be >= 2 (step 0 and the end)")
        require(self.n_evals >= 1, f"{path}.n_evals", "must be >= 1")


@dataclasses.dataclass(frozen=True, kw_only=True)
class LeapStudyConfig:
    """Leap complexity (Abbe, Boix-Adsera, Misiakiewicz, COLT 2023): every target x d x c x seed.

    Each (target, d) is one task (``multi_index`` with n_bits = d) and one training group:
    its c grid and seeds train as one batched model. A run is learned when its test loss
    falls to ``threshold`` x its initial test loss; the study takes, per (target, d, seed),
    the fewest samples over the c grid.

    Attributes:
        seeds: seeds per point.
        dims: input dimensions d.
        c: learning-rate factors; run lr = c x batch_size / d (times the width for a
            mean-field model, see ``MLPConfig``); a target may set its own.
        threshold: the loss fraction that counts as learned.
        width: hidden units m.
        n_train: size of the fixed sample on which the train curves are evaluated
            (training itself draws fresh samples).
        n_test: size of the fixed test set (test loss and Fourier coefficients).
        targets: name -> ``LeapTarget``.
    """

    seeds: tuple[int, ...]
    dims: tuple[int, ...]
    c: tuple[float, ...]
    threshold: float = 0.1
    width: int = 512
    n_train: int = 256
    n_test: int = 2048
    targets: dict[str, LeapTarget]
    model: ModelConfig
    train: LeapTrainConfig = LeapTrainConfig()

    def check(self, path: str) -> None:
        for key in ("seeds", "dims", "c"):
            values = getattr(self, key)
            require(len(values) >= 1, f"{path}.{key}", "must list at least one value")
            require(len(set(values)) == len(values), f"{path}.{key}", "has repeated values")
        for i, c in enumerate(self.c):
            require(c > 0, f"{path}.c[{i}]", f"= {c} must be > 0")
        require(0 < self.threshold < 1, f"{path}.threshold", f"= {self.threshold} must be in (0, 1)")
        require(self.width >= 1, f"{path}.width", f"= {self.width} must be >= 1")
        require(len(self.targets) >= 1, f"{path}.targets", "must define at least one target")
        for name, target in self.targets.items():
            require(name.isidentifier(), f"{path}.targets.{name}", "must be a name of letters, digits, _")
            for d in self.dims:
                bad = [i for m in target.monomials for i in m if not 0 <= i < d]
                require(not bad, f"{path}.targets.{name}.monomials",
                        f"uses index {bad[:1]} outside [0, d) for d = {d} in {path}.dims")
        for d in self.dims:
            require(d >= 1, f"{path}.dims", f"has d = {d}; dimensions must be >= 1")

    @cached_property
    def tasks(self) -> dict[str, Task]:
        """One multi_index task per (target, d), named ``<target>_d<d>``."""
        from learnscope.tasks import MultiIndex
        return {task_label(name, d): MultiIndex(n_bits=d, monomials=target.monomials, n_train=self.n_train,
                                                 n_test=self.n_test)
                for name, target in self.targets.items() for d in self.dims}

    def grid(self, target: str) -> tuple[float, ...]:
        """The learning-rate factors of ``target``: its own ``c``, else the study's."""
        return self.targets[target].c or self.c

    @property
    def all_c(self) -> tuple[float, ...]:
        return tuple(sorted({c for target in self.targets for c in self.grid(target)}))

    def recipe(self, target: str, d: int, c: float) -> TrainConfig:
        steps = -(-self.targets[target].samples(d) // self.train.batch_size)
        return TrainConfig(optimizer=self.train.optimizer, lr=c * self.train.batch_size / d,
                           batch_size=self.train.batch_size, steps=steps, n_snapshots=self.train.n_snapshots,
                           eval_log_points=self.train.n_evals, online=True,
                           on_divergence=self.train.on_divergence)

    def runs(self, study: str, compute: ComputeConfig) -> list[RunSpec]:
        return [RunSpec(study=study, task_name=task_label(target, d), task=self.tasks[task_label(target, d)],
                        model=self.model, width=self.width, seed=seed, train=self.recipe(target, d, c),
                        compute=compute, tag=c_tag(c))
                for target in self.targets for d in self.dims for c in self.grid(target) for seed in self.seeds]

    def run_name(self, study: str, target: str, d: int, c: float, seed: int) -> str:
        return run_name(study, task_label(target, d), self.width, seed, c_tag(c))


def task_label(target: str, d: int) -> str:
    return f"{target}_d{d}"


def c_tag(c: float) -> str:
    """The run-name tag of a learning-rate factor: ``c0.5``, ``c1``."""
    return f"c{c:g}"


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
        seeds: seeds of every experiment.
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

    def runs(self, study: str, compute: ComputeConfig) -> list[RunSpec]:
        return [RunSpec(study=study, task_name=role, task=exp.task, model=exp.model, width=exp.width, seed=seed,
                        train=exp.train, compute=compute)
                for role, exp in self.experiments.items() for seed in self.seeds]


STUDIES = ("parity", "leap", "algebra")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Params:
    """The whole of params.yaml: shared sections, then one section per study."""

    compute: ComputeConfig = ComputeConfig()
    features: FeaturesConfig = FeaturesConfig()
    distill: DistillConfig = DistillConfig()
    parity: StudyConfig | None = None
    leap: LeapStudyConfig | None = None
    algebra: AlgebraStudyConfig | None = None

    def check(self, path: str) -> None:
        require(bool(self.studies), "sections", f"define no study; give at least one of {', '.join(STUDIES)}")

    @property
    def studies(self) -> dict[str, StudyConfig | LeapStudyConfig | AlgebraStudyConfig]:
        """The studies present in params.yaml (a section left out is not run)."""
        return {name: getattr(self, name) for name in STUDIES if getattr(self, name) is not None}

    @cached_property
    def runs(self) -> dict[str, RunSpec]:
        """Every run of every study, by name, in a stable order."""
        return {spec.name: spec for study, cfg in self.studies.items() for spec in cfg.runs(study, self.compute)}

    @cached_property
    def groups(self) -> dict[str, list[str]]:
        return group_runs(self.runs)


def study_config_type(study: str) -> type:
    """The config class of a study's section (``StudyConfig``, ``LeapStudyConfig``...)."""
    return next(t for t in typing.get_args(typing.get_type_hints(Params)[study]) if t is not type(None))


def group_runs(runs: dict[str, RunSpec]) -> dict[str, list[str]]:
    """Runs that differ only in their seed and tag (e.g. a learning-rate grid), by group
    name (``RunSpec.group``).

    Each group trains as one batched model in one job; its members' files are the same
    as if trained alone.
    """
    groups: dict[str, list[str]] = {}
    for name, spec in runs.items():
        groups.setdefault(spec.group, []).append(name)
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
