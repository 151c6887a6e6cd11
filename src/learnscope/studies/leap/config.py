"""The ``leap`` section of params.yaml: targets x dimension x learning-rate factor x seed,
trained online (Abbe, Boix-Adsera, Misiakiewicz, COLT 2023)."""

from __future__ import annotations

import dataclasses
import math
from functools import cached_property
from typing import Literal

import numpy as np

from learnscope.config import check_seeds
from learnscope.errors import require
from learnscope.models.base import ModelConfig
from learnscope.runspec import ComputeConfig, RunSpec, TrainConfig
from learnscope.tasks.base import Task

MAX_SAMPLES = 10**15  # samples per run (budget x d^budget_power); compute.max_steps_total bounds the sum


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
        seeds: seeds per point, each in [0, 2**32 - 1].
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
        check_seeds(self.seeds, f"{path}.seeds")
        for i, d in enumerate(self.dims):
            require(d >= 1, f"{path}.dims[{i}]", f"= {d} must be >= 1")
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
                log_samples = math.log10(target.budget) + target.budget_power * math.log10(d)
                require(log_samples <= math.log10(MAX_SAMPLES), f"{path}.targets.{name}.budget",
                        f"= {target.budget} x d^{target.budget_power} is ~10^{log_samples:.0f} samples for "
                        f"d = {d}; at most 10^15 per run")

    @cached_property
    def tasks(self) -> dict[str, Task]:
        """One multi_index task per (target, d), named ``<target>_d<d>``."""
        from learnscope.tasks.boolean import MultiIndex
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

    coords = ("target", "d", "c", "seed")

    @property
    def n_runs(self) -> int:
        """``len(runs(...))``, counted without building them."""
        return sum(len(self.grid(target)) for target in self.targets) * len(self.dims) * len(self.seeds)

    def param_keys(self, coords: tuple) -> dict[str, str]:
        """The keys (under this section) that set the run at ``coords`` (``learnscope.limits``):
        d sets the inputs, the target's budget the steps, its c grid and the seeds the members."""
        target, d = coords[:2]
        grid = f"targets.{target}.c" if self.targets[target].c else "c"
        return {"task": f"targets.{target}", "inputs": f"dims[{self.dims.index(d)}]", "model": "model",
                "width": "width", "train": "train", "steps": f"targets.{target}.budget",
                "evals": "train.n_evals", "examples": "n_test" if self.n_test > self.n_train else "n_train",
                "members": grid if len(self.grid(target)) > len(self.seeds) else "seeds"}

    def runs(self, study: str, compute: ComputeConfig) -> dict[tuple, RunSpec]:
        """(target, d, c, seed) -> the run (only the c of each target's own grid)."""
        return {(target, d, c, seed): RunSpec(study=study, task_name=task_label(target, d),
                                              task=self.tasks[task_label(target, d)], model=self.model,
                                              width=self.width, seed=seed, train=self.recipe(target, d, c),
                                              compute=compute, tag=c_tag(c))
                for target in self.targets for d in self.dims for c in self.grid(target) for seed in self.seeds}


def task_label(target: str, d: int) -> str:
    return f"{target}_d{d}"


def c_tag(c: float) -> str:
    """The run-name tag of a learning-rate factor: ``c0.5``, ``c1``."""
    return f"c{c:g}"
