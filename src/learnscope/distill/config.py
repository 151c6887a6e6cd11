"""The ``trees`` section of params.yaml: how trained networks are distilled into trees."""

from __future__ import annotations

import dataclasses

from learnscope.config import check_seed
from learnscope.errors import require

MAX_DEPTH = 64  # a tree of depth 64 already separates any fitting set a job can hold


@dataclasses.dataclass(frozen=True, kw_only=True)
class DistillConfig:
    """Distillation of trained networks into decision trees.

    Attributes:
        max_depth: trees are fitted at every depth 1..max_depth (at most 64).
        n_fit: fresh inputs (drawn from the task) labelled by the network to fit trees on;
            fixed-data tasks use their training inputs instead.
        n_eval: fresh inputs to measure fidelity and accuracy on; fixed-data tasks use
            their test inputs.
        seed: seed of the fresh inputs (the same for every run of a task), in [0, 2**32 - 1].
    """

    max_depth: int = 4
    n_fit: int = 8192
    n_eval: int = 4096
    seed: int = 0

    def check(self, path: str) -> None:
        require(1 <= self.max_depth <= MAX_DEPTH, f"{path}.max_depth",
                f"= {self.max_depth} must be in [1, {MAX_DEPTH}] (a tree is fitted at every depth up to it)")
        check_seed(self.seed, f"{path}.seed")
        require(self.n_fit >= 2, f"{path}.n_fit", "must be >= 2")
        require(self.n_eval >= 1, f"{path}.n_eval", "must be >= 1")
