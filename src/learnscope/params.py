"""The sections of params.yaml, and the runs they imply.

A *study* is a set of runs. ``parity`` (``StudyConfig``) is task x width x seed, sharing a
model and a training recipe; ``leap`` (``LeapStudyConfig``) is target x dimension x
learning-rate factor x seed, trained online; ``algebra`` (``AlgebraStudyConfig``) is a set
of named experiments (each a task, model and recipe) x seed; ``gdln`` (``GdlnStudyConfig``)
is init scale x seed of one gated network on one routing task. Each run is a
``learnscope.runspec.RunSpec``. The leap, algebra and gdln sections live in ``leap_params``,
``algebra_params`` and ``gdln_params``.
"""

from __future__ import annotations

import dataclasses
import os
import typing
from functools import cached_property
from typing import Any

import yaml

from learnscope.algebra_params import AlgebraStudyConfig
from learnscope.config import build, require
from learnscope.errors import ConfigError
from learnscope.gdln_params import GdlnStudyConfig
from learnscope.leap_params import LeapStudyConfig
from learnscope.models import ModelConfig
from learnscope.runspec import ComputeConfig, RunSpec, TrainConfig, check_recipe
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


STUDIES = ("parity", "leap", "algebra", "gdln")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Params:
    """The whole of params.yaml: shared sections, then one section per study."""

    compute: ComputeConfig = ComputeConfig()
    features: FeaturesConfig = FeaturesConfig()
    distill: DistillConfig = DistillConfig()
    parity: StudyConfig | None = None
    leap: LeapStudyConfig | None = None
    algebra: AlgebraStudyConfig | None = None
    gdln: GdlnStudyConfig | None = None

    def check(self, path: str) -> None:
        require(bool(self.studies), "sections", f"define no study; give at least one of {', '.join(STUDIES)}")

    @property
    def studies(self) -> dict[str, StudyConfig | LeapStudyConfig | AlgebraStudyConfig | GdlnStudyConfig]:
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
