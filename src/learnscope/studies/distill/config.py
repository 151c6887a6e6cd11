"""The ``distill`` section of params.yaml: networks trained on random depth-r decision trees,
then distilled back into trees by probing their hidden layers (Boix-Adsera 2024)."""

from __future__ import annotations

import dataclasses
from functools import cached_property

from learnscope.config import check_seeds
from learnscope.distill.ands import check_key_range
from learnscope.errors import ConfigError, require
from learnscope.models.base import ModelConfig
from learnscope.runspec import ComputeConfig, RunSpec, TrainConfig, check_recipe
from learnscope.tasks.trees import MAX_DEPTH, RandomTree


@dataclasses.dataclass(frozen=True, kw_only=True)
class DistillStudyConfig:
    """Distillation by probing: does a network that learned a random tree hold its ANDs linearly?

    Every depth r x tree x seed is one run: a network (``model``, ``width``) trained online on
    the random depth-r tree of ``n_bits`` variables drawn from ``data_seed`` = the tree's entry
    of ``trees``. The runs of one tree differ only in their seed and train as one batched
    model. The study's sources job probes every run's final network (``distill.probing``) at
    every beam width of ``ks``.

    Attributes:
        depths: tree depths r (1 ≤ r; the paper: 2 and 3).
        n_bits: the input dimension d (the paper: 100).
        trees: the trees' data_seeds, one random tree each per depth.
        seeds: network seeds per tree, each in [0, 2**32 - 1].
        n_train: the fixed sample on which the train curves are evaluated (training draws
            fresh inputs every step: ``train.online``); n_test: test inputs.
        model, width, train: the network and its recipe.
        ks: the beam widths k (probes kept per depth), ascending.
        k_paper: the width at which the paper reports recovery (10); the claims also read max(ks).
        n_fit: fresh uniform inputs on which the probes are fitted (and the DP counts the
            network's labels); n_val: fresh inputs on which they are scored.
        ridge: the probes' ridge λ (relative to n_fit).
        layers: the hidden layers probed, 0-based (``representations.hidden_layers`` order),
            concatenated; empty (the default): every hidden layer.
        seed: seed of the fit and validation inputs (the same for every run).
    """

    depths: tuple[int, ...] = (2, 3)
    n_bits: int = 100
    trees: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6, 7)
    seeds: tuple[int, ...] = (0, 1)
    n_train: int = 512
    n_test: int = 4096
    model: ModelConfig
    width: int = 256
    train: TrainConfig
    ks: tuple[int, ...] = (1, 2, 5, 10, 20, 50)
    k_paper: int = 10
    n_fit: int = 4096
    n_val: int = 4096
    ridge: float = 1.0e-3
    layers: tuple[int, ...] = ()
    seed: int = 0

    coords = ("depth", "tree", "seed")

    def check(self, path: str) -> None:
        for key in ("depths", "trees", "seeds", "ks"):
            values = getattr(self, key)
            require(len(values) >= 1, f"{path}.{key}", "must list at least one value")
            require(len(set(values)) == len(values), f"{path}.{key}", "has repeated values")
        check_seeds(self.seeds, f"{path}.seeds")
        check_seeds(self.trees, f"{path}.trees")
        check_seeds((self.seed,), f"{path}.seed")
        require(list(self.ks) == sorted(self.ks), f"{path}.ks", f"= {list(self.ks)} must be ascending")
        require(self.ks[0] >= 1, f"{path}.ks[0]", f"= {self.ks[0]} must be >= 1")
        require(self.k_paper in self.ks, f"{path}.k_paper", f"= {self.k_paper} must be one of ks {list(self.ks)}")
        for i, depth in enumerate(self.depths):
            require(1 <= depth <= min(MAX_DEPTH, self.n_bits), f"{path}.depths[{i}]",
                    f"= {depth} must be in [1, min({MAX_DEPTH}, n_bits = {self.n_bits})]")
            try:
                check_key_range(self.n_bits, depth)
            except ValueError as error:
                raise ConfigError(f"{path}.depths[{i}] = {depth}: {error}") from None
            self.task(depth, self.trees[0]).check(path)  # names n_bits, n_train, n_test
        require(self.width >= 1, f"{path}.width", f"= {self.width} must be >= 1")
        for key in ("n_fit", "n_val"):
            require(getattr(self, key) >= 16, f"{path}.{key}", f"= {getattr(self, key)} must be >= 16")
        require(self.ridge > 0, f"{path}.ridge", f"= {self.ridge} must be > 0")
        require(len(set(self.layers)) == len(self.layers), f"{path}.layers", "has repeated values")
        n_hidden = getattr(self.model, "depth", None)  # an mlp's hidden layers
        for i, layer in enumerate(self.layers):
            require(0 <= layer < (n_hidden or 1 << 30), f"{path}.layers[{i}]",
                    f"= {layer} must be a hidden layer index in [0, {n_hidden})")
        require(self.train.online, f"{path}.train.online", "must be true: training draws fresh inputs")
        check_recipe(self.model, self.train, path)

    def task(self, depth: int, tree: int) -> RandomTree:
        return RandomTree(n_bits=self.n_bits, depth=depth, n_train=self.n_train, n_test=self.n_test, data_seed=tree)

    @cached_property
    def tasks(self) -> dict[str, RandomTree]:
        """Task label (``r<depth>_tree<seed>``) -> the task."""
        return {task_label(depth, tree): self.task(depth, tree) for depth in self.depths for tree in self.trees}

    @property
    def n_runs(self) -> int:
        return len(self.depths) * len(self.trees) * len(self.seeds)

    def param_keys(self, coords: tuple) -> dict[str, str]:
        """The keys (under this section) that set the run at ``coords`` (``learnscope.limits``)."""
        return {"task": "", "inputs": "n_bits", "model": "model", "width": "width", "train": "train",
                "examples": "n_test" if self.n_test > self.n_train else "n_train", "members": "seeds"}

    def runs(self, study: str, compute: ComputeConfig) -> dict[tuple, RunSpec]:
        """(depth, tree, seed) -> the run."""
        return {(depth, tree, seed): RunSpec(study=study, task_name=task_label(depth, tree), task=self.tasks[task_label(depth, tree)],
                                             model=self.model, width=self.width, seed=seed, train=self.train,
                                             compute=compute)
                for depth in self.depths for tree in self.trees for seed in self.seeds}


def task_label(depth: int, tree: int) -> str:
    return f"r{depth}_tree{tree}"
